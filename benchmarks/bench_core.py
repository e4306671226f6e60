"""Lifting and engine benchmark on GNN-shaped graphs of real molecules.

For each dataset and depth: nodes/edges before and after exact lifting at
sample and dataset scope, lifting seconds (vectorised vs a plain-dictionary
implementation of the same algorithm), and forward+backward seconds of the
unlifted vs lifted graphs, all medians of repeats measured side by side.

    python benchmarks/bench_core.py                       # MDA_MB_231_ATCC from ../shared/data
    python benchmarks/bench_core.py --data PATH --layers 2 5 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

import liftnn
from liftnn.bench import write_results
from liftnn.data import load_graphs
from liftnn.engine.timing import forward_backward_seconds, timed
from liftnn.models import message_passing_graph

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
sys.path.insert(0, str(ROOT / "tests"))


def run(data_path: str, layers: int, dim: int, repeats: int, naive: bool) -> dict:
    from reference import reference_exact_sizes

    data = load_graphs(data_path)
    t0 = time.perf_counter()
    graph = message_passing_graph(data, layers=layers, dim=dim)
    row = {"dataset": data.name, "molecules": data.num_graphs, "layers": layers, "dim": dim,
           "build_s": time.perf_counter() - t0, "nodes": graph.num_nodes, "edges": graph.num_edges}
    params = liftnn.init_params(graph, seed=0)
    target = torch.tensor(data.y, dtype=torch.float32)[:, None]
    row["fwd_bwd_unlifted_s"] = forward_backward_seconds(graph, params, target, repeats)
    for scope in ("sample", "dataset"):
        lifted, report = liftnn.compress(graph, scope=scope)
        lift_s = timed(lambda s=scope: liftnn.compress(graph, scope=s), repeats)[1]
        fb = forward_backward_seconds(lifted, params, target, repeats)
        row.setdefault("scopes", {})[scope] = {
            "nodes": lifted.num_nodes, "edges": lifted.num_edges, "ratio": report.ratio,
            "lift_s": lift_s, "nodes_per_s": graph.num_nodes / lift_s,
            "fwd_bwd_s": fb, "speedup": row["fwd_bwd_unlifted_s"] / fb,
        }
        if naive:
            row["scopes"][scope]["naive_lift_s"] = timed(lambda s=scope: reference_exact_sizes(graph, s), 1)[1]
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "| data | L | nodes | edges | scope | nodes after | edges after | ratio | lift s | naive s "
        "| nodes/s | fwd+bwd unlifted ms | lifted ms | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for scope in ("sample", "dataset"):
            s = r["scopes"][scope]
            naive = f"{s['naive_lift_s']:.2f}" if "naive_lift_s" in s else "-"
            lines.append(
                f"| {r['dataset']} | {r['layers']} | {r['nodes']:,} | {r['edges']:,} | {scope} | {s['nodes']:,} "
                f"| {s['edges']:,} | {s['ratio']:.2f}x | {s['lift_s']:.2f} | {naive} | {s['nodes_per_s']:,.0f} "
                f"| {r['fwd_bwd_unlifted_s'] * 1e3:.1f} | {s['fwd_bwd_s'] * 1e3:.1f} | {s['speedup']:.1f}x |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT))
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true", help="skip the dictionary baseline")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/core"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [run(args.data, layers, args.dim, args.repeats, not args.no_naive) for layers in args.layers]
    table = markdown(rows)
    print(table)
    out = Path(args.out)
    write_results(out, "core", table, rows)


if __name__ == "__main__":
    main()
