"""The work of each ``liftnn`` command: ``cmd_<name>(args) -> dict`` (printed by
:mod:`liftnn.cli.output`, or as JSON with ``--json``).

Each command imports what it needs, so light ones (``liftnn datasets``) never import torch."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from ..pipeline import ModelSpec


def check_device(name: str) -> torch.device:
    """``torch.device(name)``, or ``ValueError`` naming ``--device`` when it is malformed or absent here."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {name}: not a torch device (cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"--device {name}: no CUDA device on this machine (this torch build: "
                             f"{torch.__version__}); use --device cpu")
        if device.index is not None and device.index >= count:
            raise ValueError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {name}: MPS is not available on this machine; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"--device {name}: unsupported device type {device.type!r} (cpu, cuda, mps)")
    return device


def model_spec(args: argparse.Namespace) -> ModelSpec:
    from ..pipeline import ModelSpec

    return ModelSpec(args.model, args.layers, args.dim, args.act, seed=args.seed, preset=args.preset,
                     allow_underivable=args.allow_underivable)


def _quiet(args: argparse.Namespace) -> bool:
    return args.json or not sys.stderr.isatty()


def cmd_info(args: argparse.Namespace) -> dict:
    from ..pipeline import load_problem

    loaded = load_problem(args.dataset, model_spec(args))
    return {**loaded.stats, "graph": loaded.problem.graph.summary()}


def cmd_compress(args: argparse.Namespace) -> dict:
    import torch
    from tqdm import tqdm

    from .. import compress, verify
    from ..engine.timing import forward_backward_seconds
    from ..pipeline import load_problem

    loaded = load_problem(args.dataset, model_spec(args))
    problem = loaded.problem
    graph = problem.graph
    scopes = ["sample", "dataset"] if args.scope == "both" else [args.scope]
    result: dict = {**loaded.stats, "graph": graph.summary(), "runs": []}
    params = problem.init(args.seed, torch.float32, None)
    target = torch.nan_to_num(torch.tensor(problem.targets, dtype=torch.float32)).reshape(problem.num_samples, -1)
    if args.timing:
        result["unlifted_seconds"] = forward_backward_seconds(graph, params, target)
    for scope in tqdm(scopes, desc="lifting", disable=_quiet(args), leave=False):
        lifted, report = compress(
            graph, method=args.method, digits=args.digits, inits=args.inits, scope=scope, prune=not args.no_prune
        )
        run = {"report": report.as_dict(), "text": str(report)}
        if args.trials:
            check = verify(graph, lifted, trials=args.trials, raise_on_error=False)
            run["verify"] = {
                "ok": check.ok,
                "max_output_error": check.max_output_error,
                "max_gradient_error": check.max_gradient_error,
                "text": str(check),
            }
        if args.timing:
            run["lifted_seconds"] = forward_backward_seconds(lifted, params, target)
            run["speedup"] = result["unlifted_seconds"] / run["lifted_seconds"]
        result["runs"].append(run)
    return result


def cmd_train(args: argparse.Namespace) -> dict:
    from tqdm import tqdm

    from ..api import fit

    check_device(args.device)
    settings = {k: getattr(args, k) for k in ("epochs", "lr", "optimizer", "loss", "batch_size", "patience",
                                              "val_fraction", "dtype", "device", "engine")}
    settings["lift"] = not args.no_lift
    bar = tqdm(desc="training", disable=_quiet(args), leave=False)

    def progress(fold: int, epoch: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(fold=fold, loss=f"{loss:.4f}")

    try:
        result = fit(args.dataset, model_spec(args), folds=args.folds, checkpoint=args.checkpoint, force=args.force,
                     progress=progress, **{k: v for k, v in settings.items() if v is not None})
    finally:
        bar.close()
    return result.as_dict()


def cmd_predict(args: argparse.Namespace) -> dict:
    from ..api import load

    model = load(args.checkpoint)
    table = model.predict_table(args.dataset)
    if args.out:
        table.write_csv(args.out)
    return {"checkpoint": args.checkpoint, "dataset": str(args.dataset), "out": args.out,
            "columns": table.columns, "rows": table.rows}


def cmd_datasets(args: argparse.Namespace) -> dict:
    from ..data.download import cache_dir, fetch
    from ..data.registry import catalogue

    fetched = [str(fetch(name, args.cache)) for name in args.fetch]
    return {"datasets": catalogue(), "fetched": fetched, "cache": str(cache_dir(args.cache))}


def cmd_bench(args: argparse.Namespace) -> dict:
    from ..bench import run_experiment

    options = {k: getattr(args, k) for k in ("models", "regimes", "frameworks", "repeats", "memory")
               if getattr(args, k, None)}
    return run_experiment(args.experiment, args.out, **options)
