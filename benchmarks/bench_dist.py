"""Sharded build + lift and data-parallel training on local Dask clusters of 1 and 2 workers.

Workloads: the multi-task set of all 70 NCI-GI50 screens (3,830 molecules, 70 masked
targets; GCN, 2 layers, dim 10) on 1 and 2 workers, and with ``--stress`` the 213,612
screenings (one sample each, cell line as a sample fact) on 2 workers in many shards. Each
configuration starts its own cluster, so every worker's peak memory is its own. Per worker:
the resident memory after start-up (baseline) and at its peak; the merged graph's content
keys are compared across configurations (the result must be identical). Then, in one
process, how the dataset-lifted graph grows with the number of molecules (for the projection
in docs/scaling.md).

    python benchmarks/bench_dist.py                   # multi-task set, 1 and 2 workers, + training, growth
    python benchmarks/bench_dist.py --stress --shards 64
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from liftnn import compress
from liftnn.bench import write_results
from liftnn.dist import Shard, TrainSpec, content_keys, data_parallel_train, resolve, sharded_compress
from liftnn.dist.cluster import connect, peak_rss
from liftnn.dist.merge import merge_keyed
from liftnn.dist.shard import lift_shard, shard_ranges

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
ALL = 213_612  # screenings in GI50_ALL


def _digest(keys: np.ndarray) -> str:
    """Digest of the merged graph's key multiset: equal iff the node classes are equal."""
    return hashlib.sha256(np.sort(keys.view([("a", np.uint64), ("b", np.uint64)]).ravel()).tobytes()).hexdigest()[:16]


def free_gib() -> float:
    """The machine's available memory (``MemAvailable``), GiB."""
    with open("/proc/meminfo") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("MemAvailable:")) / 2**20


def run(dataset: str, workers: int, shards: int | None, steps: int, samples: int | None = None,
        memory_limit: str = "6GiB") -> dict:
    """One configuration on its own local cluster: scan on the workers, sharded build + lift, the
    merge tree on the workers, and optionally ``steps`` data-parallel training steps."""
    with connect(workers, memory_limit=memory_limit) as client:
        baseline = client.run(peak_rss)
        t0 = time.perf_counter()
        work = resolve(dataset, client=client)
        scan_s = time.perf_counter() - t0
        if samples is not None and samples < work.num_samples:
            work = replace(work, name=f"{work.name} (first {samples})", num_samples=samples,
                           targets=work.targets[:samples])
        row: dict = {"workload": dataset if samples is None else f"{dataset}[:{work.num_samples}]",
                     "samples": work.num_samples, "workers": workers, "scan_s": scan_s}
        t0 = time.perf_counter()
        merged, report = sharded_compress(work, client, shards, sample_scope=True)
        row["wall_s"] = time.perf_counter() - t0
        peaks = client.run(peak_rss)  # each worker's high-water mark over the scan, its shards and its merges
        stats = report.shards
        by_worker = {w: [s for s in stats if s.worker == w] for w in sorted(peaks)}
        row.update(
            shards=len(stats), nodes=report.nodes_before, edges=report.edges_before,
            nodes_sample_scope=sum(s.nodes_sample_scope for s in stats), nodes_shards=report.nodes_shards,
            nodes_after=report.nodes_after, edges_after=report.edges_after, ratio=report.ratio,
            merges=len(report.merges), merge_levels=max((m.level for m in report.merges), default=0),
            merge_s=report.merge_seconds, shuffle_mib=report.shuffle_bytes / MIB,
            merged_mib=report.merged_bytes / MIB, keys=_digest(content_keys(merged)),
            baseline_mib=[baseline[w] / MIB for w in by_worker], peak_mib=[peaks[w] / MIB for w in by_worker],
            caller_peak_mib=peak_rss() / MIB,
            samples_per_s_per_worker=[sum(s.samples for s in ss) / max(sum(s.build_seconds + s.lift_seconds
                                                                           for s in ss), 1e-9)
                                      for ss in by_worker.values()],
            build_lift_s_per_worker=[sum(s.build_seconds + s.lift_seconds for s in ss) for ss in by_worker.values()],
        )
        del merged
        if steps:
            result = data_parallel_train(work, client, TrainSpec(steps=steps, lr=0.01))
            row.update(train_steps_per_s=result.steps_per_second, train_loss=[result.losses[0], result.losses[-1]],
                       train_peak_mib=[r["peak_rss_bytes"] / MIB for r in result.ranks])
    return row


def growth(sizes: list[int]) -> list[dict]:
    """Single-process dataset-lifted size of the first ``n`` molecules of the multi-task set, by level."""
    work = resolve("GI50_TASKS")
    rows = []
    for n in sizes:
        n = min(n, work.num_samples)
        graph = work.build(np.arange(n))
        lifted, _ = compress(graph, scope="dataset")
        shard = Shard(lifted, content_keys(lifted))
        rows.append({"molecules": n, "nodes": graph.num_nodes, "lifted": lifted.num_nodes,
                     "edges_lifted": lifted.num_edges, "by_level": np.bincount(lifted.levels()).tolist(),
                     "shard_mib": shard.nbytes / MIB})
        print(rows[-1], flush=True)
    return rows


def tree_volume(counts: list[int]) -> list[dict]:
    """The merge tree's shuffle on the multi-task set in ``S`` shards (one process, the same
    pairwise order as on a cluster): bytes entering the merges, level by level."""
    work = resolve("GI50_TASKS")
    rows = []
    for count in counts:
        shards = [lift_shard(work.template, work.shard(ids))[0] for ids in shard_ranges(work.num_samples, count)]
        lifted = sum(sh.graph.num_nodes for sh in shards)
        levels = []
        while len(shards) > 1:
            pairs = list(zip(shards[0::2], shards[1::2], strict=False))
            levels.append(sum(a.nbytes + b.nbytes for a, b in pairs))
            shards = [merge_keyed([a, b]) for a, b in pairs] + shards[len(shards) - len(shards) % 2:]
        rows.append({"shards": count, "shard_lifted": lifted, "merged": shards[0].graph.num_nodes,
                     "merged_mib": shards[0].nbytes / MIB, "level_mib": [b / MIB for b in levels],
                     "shuffle_mib": sum(levels) / MIB})
        print(rows[-1], flush=True)
    return rows


def tree_markdown(rows: list[dict]) -> str:
    lines = ["| shards | shard-lifted nodes | merged nodes | merged MiB | levels | MiB into each level | shuffle MiB "
             "| shuffle / merged |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['shards']} | {r['shard_lifted']:,} | {r['merged']:,} | {r['merged_mib']:.2f} "
              f"| {len(r['level_mib'])} | {' / '.join(f'{b:.1f}' for b in r['level_mib'])} "
              f"| {r['shuffle_mib']:.1f} | {r['shuffle_mib'] / r['merged_mib']:.1f}x |" for r in rows]
    return "\n".join(lines)


def growth_markdown(rows: list[dict]) -> str:
    lines = ["| molecules | nodes | lifted nodes | per molecule | lifted edges | lifted nodes by level "
             "| lifted shard MiB |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['molecules']:,} | {r['nodes']:,} | {r['lifted']:,} | {r['lifted'] / r['molecules']:.2f} "
              f"| {r['edges_lifted']:,} | {' / '.join(map(str, r['by_level']))} | {r['shard_mib']:.2f} |" for r in rows]
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    lines = [
        "| workload | workers | shards | samples | nodes | sample-lifted | shard-lifted | merged nodes | merged edges "
        "| ratio | scan s | wall s | merges (levels) | merge s | shuffle MiB | merged MiB "
        "| worker RSS start / peak MiB | caller peak MiB | samples/s per worker | train steps/s | key digest |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rss = ", ".join(f"{b:.0f} / {p:.0f}" for b, p in zip(r["baseline_mib"], r["peak_mib"], strict=True))
        rate = ", ".join(f"{x:,.0f}" for x in r["samples_per_s_per_worker"])
        steps = f"{r['train_steps_per_s']:.2f}" if "train_steps_per_s" in r else "-"
        lines.append(
            f"| {r['workload']} | {r['workers']} | {r['shards']} | {r['samples']:,} | {r['nodes']:,} "
            f"| {r['nodes_sample_scope']:,} | {r['nodes_shards']:,} | {r['nodes_after']:,} | {r['edges_after']:,} "
            f"| {r['ratio']:.1f}x | {r['scan_s']:.1f} | {r['wall_s']:.1f} | {r['merges']} ({r['merge_levels']}) "
            f"| {r['merge_s']:.2f} | {r['shuffle_mib']:.1f} | {r['merged_mib']:.1f} | {rss} "
            f"| {r['caller_peak_mib']:.0f} | {rate} | {steps} | `{r['keys']}` |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2],
                    help="worker counts of the multi-task runs (none: skip them)")
    ap.add_argument("--steps", type=int, default=20, help="data-parallel training steps (0: none)")
    ap.add_argument("--stress", action="store_true", help="also the 213,612 screenings on --stress-workers")
    ap.add_argument("--stress-workers", type=int, default=2, help="workers of the stress runs")
    ap.add_argument("--shards", type=int, default=64, help="shards of the stress run over all screenings "
                    "(a prefix of n screenings gets n / 213,612 of them, at least 4)")
    ap.add_argument("--stress-samples", type=int, nargs="*", default=[],
                    help="the first N screenings, one stress run per N (default: all 213,612)")
    ap.add_argument("--growth", type=int, nargs="*", default=[250, 500, 1000, 2000, 3830],
                    help="molecule counts of the single-process growth table (none: skip)")
    ap.add_argument("--tree", type=int, nargs="*", default=[],
                    help="shard counts of the merge-tree shuffle table (multi-task set, one process)")
    ap.add_argument("--memory-limit", default="6GiB", help="a worker is stopped past this resident memory")
    ap.add_argument("--min-free-gib", type=float, default=12.0,
                    help="a run starts only while the machine has this much memory available")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/dist")
    ap.add_argument("--name", default="dist", help="results file name (default dist)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    configs = [("GI50_TASKS", w, None, args.steps, None) for w in args.workers]
    if args.stress:
        configs += [("GI50_ALL", args.stress_workers, max(4, round(args.shards * (n or ALL) / ALL)), 0, n)
                    for n in args.stress_samples or [None]]
    rows: list[dict] = []
    sizes: list[dict] = []
    notes: list[str] = []
    for dataset, workers, shards, steps, n in configs:
        if free_gib() < args.min_free_gib:
            notes.append(f"stopped before {dataset} {n or 'all'}: {free_gib():.1f} GiB available, "
                         f"below --min-free-gib {args.min_free_gib}")
            break
        rows.append(run(dataset, workers, shards, steps, n, args.memory_limit))
        print(rows[-1], flush=True)
        write_results(args.out, args.name, markdown(rows), {"runs": rows, "growth": sizes, "notes": notes})
    if args.growth:
        sizes = growth(args.growth)
    trees = tree_volume(args.tree) if args.tree else []
    text = f"`python benchmarks/bench_dist.py {' '.join(sys.argv[1:])}`\n\n" + markdown(rows)
    text += ("\n\nGrowth (one process, dataset scope):\n\n" + growth_markdown(sizes) if sizes else "")
    text += "\n\nMerge tree (one process, multi-task set):\n\n" + tree_markdown(trees) if trees else ""
    text += "".join(f"\n\n{note}" for note in notes)
    print(text)
    write_results(args.out, args.name, text, {"runs": rows, "growth": sizes, "tree": trees, "notes": notes})


if __name__ == "__main__":
    main()
