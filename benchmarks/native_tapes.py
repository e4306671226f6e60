"""The native engine's schedule and layout: node by node or in segments, on batch-major or shared tapes.

Training puts every batch's nodes in level order and runs them in segments
(:mod:`liftnn.engine.native_dense`): nodes ``act(W · x + b)`` of one class on one level as small
matrix products across nodes (two in a row where nothing else reads the first: a chain), unweighted
sums straight into their values, the rest node by node.
It runs each batch on a batch-major copy of the dataset-lifted tape
(:mod:`liftnn.engine.native_batches`) unless the copy would grow the tape too much. This script
times four variants side by side in one process, on the same session, weights and batch order:
node by node (``dense_min=None``, tape order) or in segments, each on batch-major copies or on
the shared tape. It interleaves them (one epoch each, in turn, after one warm-up) and reports
medians and interquartile ranges, forward-only epochs, nanoseconds per lifted node per step, and
which variant training takes (``layout="auto"``).

    python benchmarks/native_tapes.py                           # gcn, sage, gin; per-sample, 32, full
    python benchmarks/native_tapes.py --models gin --batch-sizes 32 --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from liftnn.bench.results import write_results
from liftnn.bench.table1 import MODELS, _problem, molecules
from liftnn.engine.native import FORWARD, Batches, run
from liftnn.engine.native_dense import CHAIN, DENSE, DENSE_MIN, INNER, SUMS
from liftnn.train import TrainConfig
from liftnn.train.loop import Session

VARIANTS = ("nodes, batch-major", "nodes, shared", "segments, batch-major", "segments, shared")


def _variant(session: Session, name: str, dense_min: int) -> Batches:
    """The session's batches in the variant ``name`` (segments from ``dense_min`` nodes)."""
    engine, index = session.runner.engine, session.runner.batches.index
    rows = [index.rows[a:b] for a, b in zip(index.optr[:-1], index.optr[1:], strict=True)]
    schedule, layout = name.split(", ")
    kept = engine.dense_min
    engine.dense_min = dense_min if schedule == "segments" else None
    try:
        return engine.batches(rows, layout)
    finally:
        engine.dense_min = kept


def _forward_seconds(session: Session, batches: Batches) -> float:
    engine, theta = session.runner.engine, session.runner.theta
    task = engine._task(FORWARD, np.arange(batches.index.nptr.size - 1))
    t0 = time.perf_counter()
    run(batches.arrays, batches.index, theta, engine._idle, batches.work, task)
    return time.perf_counter() - t0


def measure(model: str, batch_size: int, repeats: int, dense_min: int) -> dict:
    problem, _ = _problem(molecules(), model, MODELS[model])
    session = Session(problem, np.arange(problem.num_samples), TrainConfig(lr=0.01, batch_size=batch_size,
                                                                           engine="native"))
    session.runner.engine.dense_min = dense_min
    variants = {name: _variant(session, name, dense_min) for name in VARIANTS}
    trained = session.runner.batches = _variant(session, "segments, auto", dense_min)
    auto = "segments, " + ("shared" if trained.arrays is session.runner.engine.arrays else "batch-major")
    epoch = {k: [] for k in variants}
    forward = {k: [] for k in variants}
    for rep in range(repeats + 1):
        for name, batches in variants.items():
            session.runner.batches = batches
            t0 = time.perf_counter()
            session.epoch()
            if rep:
                epoch[name].append(time.perf_counter() - t0)
                forward[name].append(_forward_seconds(session, batches))
    session.runner.batches = trained
    nodes = int(trained.index.nodes.size)
    kinds = trained.index.skind
    seg_nodes = np.diff(trained.index.sstart)

    def q(ts: list[float]) -> dict:
        q1, med, q3 = np.percentile(ts, [25, 50, 75])
        return {"median": float(med), "q1": float(q1), "q3": float(q3)}

    med = {k: statistics.median(v) for k, v in epoch.items()}
    return {"model": model, "batch_size": batch_size, "nodes_per_epoch": nodes,
            "growth": nodes / max(int(session.runner.engine.whole.index.nodes.size), 1),
            "dense_nodes": int(seg_nodes[np.isin(kinds, (DENSE, CHAIN, INNER))].sum()),
            "chain_nodes": int(seg_nodes[np.isin(kinds, (CHAIN, INNER))].sum()),
            "sum_nodes": int(seg_nodes[kinds == SUMS].sum()),
            "epoch_s": {k: q(v) for k, v in epoch.items()}, "forward_s": {k: q(v) for k, v in forward.items()},
            "speedup_vs_nodes": min(med["nodes, batch-major"], med["nodes, shared"]) / med[auto],
            "ns_per_node": med[auto] / nodes * 1e9, "auto": auto, "dense_min": dense_min}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="gcn,sage,gin")
    ap.add_argument("--batch-sizes", default="1,32,0", help="0 is full batch")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--dense-min", type=int, default=DENSE_MIN, help="segments: dense from this many nodes of a "
                    f"class on a level (default {DENSE_MIN}, training's)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "native_tapes")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = [measure(m, int(b), args.repeats, args.dense_min) for m in args.models.split(",")
            for b in args.batch_sizes.split(",")]
    lines = [f"`{' '.join(['python', *sys.argv])}`: seconds per training epoch (median, q1-q3 of {args.repeats}), "
             "node by node or in segments, on batch-major copies or the shared tape, interleaved in one process; "
             f"segments dense from {args.dense_min} nodes of a class on a level; "
             "*speed-up*: training's variant (*auto*) against the better node-by-node one.", "",
             "| model | batch | nodes/epoch (x tape) | in dense / sum segments | "
             + " | ".join(f"{k} s" for k in VARIANTS) + " | auto | speed-up | ns per node per step |",
             "|---" * (7 + len(VARIANTS)) + "|"]
    for r in rows:
        e = r["epoch_s"]
        cells = " | ".join(f"{e[k]['median']:.4f} ({e[k]['q1']:.4f}-{e[k]['q3']:.4f})" for k in VARIANTS)
        lines.append(f"| {r['model']} | {r['batch_size'] or 'full'} | {r['nodes_per_epoch']:,} ({r['growth']:.1f}x) "
                     f"| {r['dense_nodes']:,} / {r['sum_nodes']:,} | {cells} | {r['auto']} "
                     f"| {r['speedup_vs_nodes']:.2f}x | {r['ns_per_node']:.0f} |")
    text = "\n".join(lines)
    write_results(args.out, "native_tapes", text, rows)
    print(text)


if __name__ == "__main__":
    main()
