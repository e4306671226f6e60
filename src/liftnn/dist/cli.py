"""``liftnn compress|train DATASET --workers N [--address A]``: the commands on a Dask cluster."""

from __future__ import annotations

import argparse
import math
from typing import Any

from .cluster import connect
from .shard import DistReport, sharded_compress
from .train import TrainSpec, data_parallel_train
from .work import resolve

MIB = 2**20


def _refuse(args: argparse.Namespace, flags: dict[str, object]) -> None:
    """One clear error for a flag the distributed command does not support (``flags``: name -> its inert value)."""
    for flag, inert in flags.items():
        if getattr(args, flag.lstrip("-").replace("-", "_"), inert) not in (inert, None):
            raise ValueError(f"{flag} is not supported with --workers/--address (docs/scaling.md)")


def report_text(report: DistReport) -> str:
    """The sizes at sample, shard and global scope, time, shuffle and memory of a sharded lift."""
    lines = [str(report)]
    per_sample = [s.nodes_sample_scope for s in report.shards]
    if all(n is not None for n in per_sample):
        lines.append(f"sample scope: {sum(per_sample):,} nodes ({report.nodes_before / max(sum(per_sample), 1):.1f}x)")
    lines.append(f"shard scope: {report.nodes_shards:,} nodes ({report.nodes_before / report.nodes_shards:.1f}x); "
                 f"global (merged by key): {report.nodes_after:,} nodes ({report.ratio:.1f}x)")
    levels = max((m.level for m in report.merges), default=0)
    lines.append(f"merge tree on the workers: {len(report.merges)} merge(s) in {levels} level(s), "
                 f"{report.merge_seconds:.2f} worker-s, {report.shuffle_bytes / MIB:.1f} MiB in, "
                 f"merged graph {report.merged_bytes / MIB:.1f} MiB")
    for w in sorted({s.worker for s in report.shards}):
        mine = [s for s in report.shards if s.worker == w]
        build, lift = sum(s.build_seconds for s in mine), sum(s.lift_seconds for s in mine)
        lines.append(f"worker {w}: {len(mine)} shard(s), {sum(s.samples for s in mine):,} samples, "
                     f"build {build:.1f} s + lift {lift:.1f} s, "
                     f"peak memory {max(s.peak_rss_bytes for s in mine) / MIB:.0f} MiB")
    return "\n".join(lines)


def cmd_compress(args: argparse.Namespace) -> dict[str, Any]:
    """Sharded build and exact lift at dataset scope, merged by content key."""
    from ..cli.commands import model_spec

    _refuse(args, {"--method": "exact", "--no-prune": False, "--timing": False})
    with connect(args.workers or 1, args.address) as client:
        work = resolve(args.dataset, model_spec(args), client=client)
        _, report = sharded_compress(work, client, args.shards, sample_scope=args.scope in ("sample", "both"))
    return {"dataset": {"name": work.name, "samples": work.num_samples}, "distributed": report.as_dict(),
            "runs": [{"text": report_text(report)}]}


def cmd_train(args: argparse.Namespace) -> dict[str, Any] | None:
    """Data-parallel training: one rank per worker on its shard's lifted graph, gradients all-reduced.
    Prints its own text (returns ``None``) unless ``--json``."""
    from ..cli.commands import model_spec
    from ..pipeline import preset

    _refuse(args, {"--folds": 0, "--checkpoint": None, "--patience": None, "--val-fraction": None,
                   "--no-lift": False, "--device": "cpu"})
    defaults = preset(args.preset)
    epochs = args.epochs or defaults.epochs
    with connect(args.workers or 1, args.address) as client:
        work = resolve(args.dataset, model_spec(args), client=client)
        per_epoch = 1 if args.batch_size == 0 else math.ceil(work.num_samples / args.batch_size)
        spec = TrainSpec(steps=epochs * per_epoch, lr=args.lr or defaults.lr, optimizer=args.optimizer,
                         loss=args.loss or defaults.loss, dtype=args.dtype, seed=args.seed,
                         batch_size=args.batch_size)
        result = data_parallel_train(work, client, spec)
    out = {"dataset": {"name": work.name, "samples": work.num_samples}, "train": vars(spec), "epochs": epochs,
           "losses": result.losses, "seconds": result.seconds, "steps_per_second": result.steps_per_second,
           "ranks": result.ranks}
    if args.json:
        return out
    print(f"{work.name}: {work.num_samples:,} samples, {len(result.ranks)} rank(s), {spec.steps} steps "
          f"({epochs} epochs) of {spec.optimizer} on {spec.loss}, {result.steps_per_second:.2f} steps/s")
    for r in result.ranks:
        print(f"rank {r['rank']} on {r['worker']}: {r['samples']:,} samples, {r['nodes']:,} -> {r['nodes_lifted']:,} "
              f"nodes, build+lift {r['build_seconds']:.1f} s, peak memory {r['peak_rss_bytes'] / MIB:.0f} MiB")
    print(f"loss {result.losses[0]:.6f} -> {result.losses[-1]:.6f}")
    return None
