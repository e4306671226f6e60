"""Lifting and engine benchmark on GNN-shaped graphs of real molecules.

For each dataset and depth: nodes/edges before and after exact lifting at sample and
dataset scope, checked against the plain-dictionary implementation of the same algorithm
(the run stops if the sizes differ); lifting seconds; and forward+backward seconds of the
unlifted vs lifted graphs.

Protocol: one untimed warm-up, then ``--repeats`` (>= 10) timed repeats, reported as the
median and interquartile range (q1-q3). Every lifting repeat runs on a fresh copy of the
graph with no cached levels, pointers or plans (made outside the timed call), so it includes
the topological sort. The cells of one row are interleaved (sample, dataset, sample, ... for
lifting; unlifted, sample, dataset, unlifted, ... for forward+backward) so that drift of the
machine hits them alike. The JSON file records the command, commit, versions and machine.

    python benchmarks/bench_core.py                       # MDA_MB_231_ATCC from ../shared/data
    python benchmarks/bench_core.py --data PATH --layers 2 5 --repeats 15
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import liftnn
from liftnn.bench import write_results
from liftnn.data import load_graphs
from liftnn.graph import Graph
from liftnn.models import message_passing_graph

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
sys.path.insert(0, str(ROOT / "tests"))
SCOPES = ("sample", "dataset")
MIN_REPEATS = 10

#: A timed cell: ``setup()`` (untimed) makes the argument of ``run(arg)`` (timed).
Cell = tuple[Callable[[], Any], Callable[[Any], object]]


def spread(times: list[float]) -> dict[str, Any]:
    """Median and interquartile range of repeated timings (seconds), with the raw times."""
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1), "n": len(times),
            "times": [float(t) for t in times]}


def interleaved(cells: dict[str, Cell], repeats: int) -> dict[str, dict[str, Any]]:
    """One untimed warm-up call per cell, then ``repeats`` rounds timing each cell once, in turn."""
    for setup, run in cells.values():
        run(setup())
    times: dict[str, list[float]] = {name: [] for name in cells}
    for _ in range(repeats):
        for name, (setup, run) in cells.items():
            arg = setup()
            t0 = time.perf_counter()
            run(arg)
            times[name].append(time.perf_counter() - t0)
    return {name: spread(t) for name, t in times.items()}


def fresh(graph: Graph) -> Graph:
    """A copy of ``graph`` without cached derived data (levels, CSR pointers, plans)."""
    copy = dataclasses.replace(graph, _cache={})  # the constructor validates and computes levels...
    copy._cache.clear()  # ...which the timed call must compute again
    return copy


def fwd_bwd(graph: Graph, params: dict[str, torch.Tensor], target: torch.Tensor) -> Cell:
    """One MSE forward + backward pass (gradients cleared untimed)."""

    def clear() -> None:
        for p in params.values():
            p.grad = None

    return clear, lambda _: torch.nn.functional.mse_loss(liftnn.evaluate(graph, params), target).backward()


def run(data_path: str, layers: int, dim: int, repeats: int, naive: bool) -> dict[str, Any]:
    """One table row: sizes (checked against the dictionary algorithm) and timings."""
    from reference import reference_exact_sizes

    data = load_graphs(data_path)
    t0 = time.perf_counter()
    graph = message_passing_graph(data, layers=layers, dim=dim)
    row: dict[str, Any] = {"dataset": data.name, "molecules": data.num_graphs, "layers": layers, "dim": dim,
                           "build_s": time.perf_counter() - t0, "nodes": graph.num_nodes, "edges": graph.num_edges,
                           "scopes": {}}
    lifted = {}
    for scope in SCOPES:
        lifted[scope], report = liftnn.compress(fresh(graph), scope=scope)
        sizes = (lifted[scope].num_nodes, lifted[scope].num_edges)
        row["scopes"][scope] = {"nodes": sizes[0], "edges": sizes[1], "ratio": report.ratio}
        if naive:
            t0 = time.perf_counter()
            reference = reference_exact_sizes(graph, scope, prune=True)
            row["scopes"][scope]["naive_lift_s"] = time.perf_counter() - t0
            if reference != sizes:
                raise SystemExit(f"{data.name}, {layers} layers, {scope} scope: liftnn keeps {sizes} nodes/edges, "
                                 f"the dictionary algorithm {reference}")
            row["scopes"][scope]["naive_nodes_edges_equal"] = True
    lift_times = interleaved({s: (lambda: fresh(graph), lambda g, s=s: liftnn.compress(g, scope=s)) for s in SCOPES},
                             repeats)
    params = liftnn.init_params(graph, seed=0)
    target = torch.tensor(data.y, dtype=torch.float32)[:, None]
    graphs = {"unlifted": graph, **lifted}
    fb = interleaved({name: fwd_bwd(g, params, target) for name, g in graphs.items()}, repeats)
    row["fwd_bwd_unlifted_s"] = fb["unlifted"]
    for scope in SCOPES:
        cell = row["scopes"][scope]
        cell["lift_s"] = lift_times[scope]
        cell["nodes_per_s"] = graph.num_nodes / lift_times[scope]["median"]
        cell["fwd_bwd_s"] = fb[scope]
        cell["speedup"] = fb["unlifted"]["median"] / fb[scope]["median"]
    return row


def _ms(cell: dict[str, Any]) -> str:
    """``median (q1-q3)`` in milliseconds."""
    return f"{cell['median'] * 1e3:.1f} ({cell['q1'] * 1e3:.1f}-{cell['q3'] * 1e3:.1f})"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table: medians with their interquartile ranges in parentheses."""
    lines = [
        "| data | L | nodes | edges | scope | nodes after | edges after | ratio | lift ms (IQR) | naive s "
        "| nodes/s | fwd+bwd unlifted ms (IQR) | lifted ms (IQR) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for scope in SCOPES:
            s = r["scopes"][scope]
            naive = f"{s['naive_lift_s']:.2f}" if "naive_lift_s" in s else "-"
            lines.append(
                f"| {r['dataset']} | {r['layers']} | {r['nodes']:,} | {r['edges']:,} | {scope} | {s['nodes']:,} "
                f"| {s['edges']:,} | {s['ratio']:.2f}x | {_ms(s['lift_s'])} | {naive} | {s['nodes_per_s']:,.0f} "
                f"| {_ms(r['fwd_bwd_unlifted_s'])} | {_ms(s['fwd_bwd_s'])} | {s['speedup']:.1f}x |"
            )
    n = rows[0]["fwd_bwd_unlifted_s"]["n"] if rows else 0
    lines.append(f"\nMedians of {n} timed repeats after one warm-up (interquartile range in parentheses).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT))
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=MIN_REPEATS, help=f"timed repeats (>= {MIN_REPEATS})")
    parser.add_argument("--no-naive", action="store_true", help="skip the dictionary baseline and its size check")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/core"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    if args.repeats < MIN_REPEATS:
        parser.error(f"--repeats must be >= {MIN_REPEATS} (a median and quartiles need them), got {args.repeats}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [run(args.data, layers, args.dim, args.repeats, not args.no_naive) for layers in args.layers]
    table = markdown(rows)
    print(table)
    write_results(Path(args.out), "core", table, rows)


if __name__ == "__main__":
    main()
