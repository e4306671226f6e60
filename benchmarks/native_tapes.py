"""The native engine's batch layout: batch-major tapes against batches on the shared tape.

Training runs each batch on a batch-major copy of the dataset-lifted tape
(:mod:`liftnn.engine.native_batches`): the batch's nodes, runs and edges in one contiguous
stretch. The alternative is the same batches as lists of nodes of the one shared tape, which
is what training used before. Both compute the same steps. This script times the two side
by side in one process, on the same session, weights and batch order. It interleaves them
(one epoch each, in turn, after one warm-up) and reports medians and interquartile ranges, and
which layout ``layout="auto"`` (training's choice) takes.
It also gives forward-only epochs and nanoseconds per lifted node, which is where the time goes.

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
from liftnn.train import TrainConfig
from liftnn.train.loop import Session


def _layout(session: Session, layout: str) -> Batches:
    """The session's batches in one layout."""
    index = session.runner.batches.index
    rows = [index.rows[a:b] for a, b in zip(index.optr[:-1], index.optr[1:], strict=True)]
    return session.runner.engine.batches(rows, layout)


def _forward_seconds(session: Session, batches: Batches) -> float:
    engine, theta = session.runner.engine, session.runner.theta
    task = engine._task(FORWARD, np.arange(batches.index.nptr.size - 1))
    t0 = time.perf_counter()
    run(batches.arrays, batches.index, theta, engine._idle, batches.work, task)
    return time.perf_counter() - t0


def measure(model: str, batch_size: int, repeats: int) -> dict:
    problem, _ = _problem(molecules(), model, MODELS[model])
    session = Session(problem, np.arange(problem.num_samples), TrainConfig(lr=0.01, batch_size=batch_size,
                                                                           engine="native"))
    auto = "shared" if session.runner.batches.arrays is session.runner.engine.arrays else "batch-major"
    layouts = {name: _layout(session, name) for name in ("batch-major", "shared")}
    epoch = {k: [] for k in layouts}
    forward = {k: [] for k in layouts}
    for rep in range(repeats + 1):
        for name, batches in layouts.items():
            session.runner.batches = batches
            t0 = time.perf_counter()
            session.epoch()
            if rep:
                epoch[name].append(time.perf_counter() - t0)
                forward[name].append(_forward_seconds(session, batches))
    nodes = int(layouts["batch-major"].index.nodes.size)

    def q(ts: list[float]) -> dict:
        q1, med, q3 = np.percentile(ts, [25, 50, 75])
        return {"median": float(med), "q1": float(q1), "q3": float(q3)}

    return {"model": model, "batch_size": batch_size, "nodes_per_epoch": nodes,
            "tape_nodes": {k: int(v.arrays.kind.size) for k, v in layouts.items()},
            "epoch_s": {k: q(v) for k, v in epoch.items()}, "forward_s": {k: q(v) for k, v in forward.items()},
            "speedup": statistics.median(epoch["shared"]) / statistics.median(epoch["batch-major"]),
            "ns_per_node": {k: statistics.median(v) / nodes * 1e9 for k, v in epoch.items()}, "auto": auto,
            "growth": nodes / max(int(session.runner.engine.whole.index.nodes.size), 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="gcn,sage,gin")
    ap.add_argument("--batch-sizes", default="1,32,0", help="0 is full batch")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "native_tapes")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = [measure(m, int(b), args.repeats) for m in args.models.split(",") for b in args.batch_sizes.split(",")]
    lines = [f"`{' '.join(['python', *sys.argv])}`: seconds per training epoch (median, q1-q3 of {args.repeats}), "
             "batch-major tapes against batches on the shared tape, interleaved in one process.", "",
             "| model | batch | nodes/epoch (x tape) | batch-major s | shared s | speed-up "
             "| forward s (batch-major / shared) | ns per node per step | auto |", "|---" * 9 + "|"]
    for r in rows:
        e, f = r["epoch_s"], r["forward_s"]
        lines.append(f"| {r['model']} | {r['batch_size'] or 'full'} | {r['nodes_per_epoch']:,} ({r['growth']:.1f}x) "
                     f"| {e['batch-major']['median']:.4f} ({e['batch-major']['q1']:.4f}-{e['batch-major']['q3']:.4f}) "
                     f"| {e['shared']['median']:.4f} ({e['shared']['q1']:.4f}-{e['shared']['q3']:.4f}) "
                     f"| {r['speedup']:.2f}x | {f['batch-major']['median']:.4f} / {f['shared']['median']:.4f} "
                     f"| {r['ns_per_node']['batch-major']:.0f} | {r['auto']} |")
    text = "\n".join(lines)
    write_results(args.out, "native_tapes", text, rows)
    print(text)


if __name__ == "__main__":
    main()
