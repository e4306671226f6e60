"""liftnn: lift structured neural models so they train faster, computing the same function."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from .. import compress, verify
from ..engine.timing import forward_backward_seconds
from ..pipeline import ZOO, ModelSpec, load_problem
from ..train import TrainConfig, cross_validate, fit, kbc_ranking, summarize, train_val_split


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liftnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="dataset and computation-graph statistics")
    _model_args(info)

    comp = sub.add_parser("compress", help="lift a model's computation graph, verify it, time it")
    _model_args(comp)
    comp.add_argument("--method", choices=["exact", "value"], default="exact")
    comp.add_argument("--digits", type=int, default=12, help="significant digits (value method)")
    comp.add_argument("--inits", type=int, default=1, help="random weight draws (value method)")
    comp.add_argument("--scope", choices=["sample", "dataset", "both"], default="both")
    comp.add_argument("--no-prune", action="store_true", help="keep identity nodes")
    comp.add_argument("--trials", type=int, default=2, help="verification weight draws (0: skip)")
    comp.add_argument("--timing", action="store_true", help="time forward+backward, unlifted vs lifted")

    tr = sub.add_parser("train", help="train (optionally cross-validated) on lifted graphs")
    _model_args(tr)
    tr.add_argument("--epochs", type=int, default=100)
    tr.add_argument("--lr", type=float, default=0.01)
    tr.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    tr.add_argument("--loss", choices=["mse", "bce", "ce"], default="mse")
    tr.add_argument("--batch-size", type=int, default=0, help="0: full batch, 1: per-sample steps, k: mini-batches")
    tr.add_argument("--folds", type=int, default=0, help="k-fold cross-validation (0: one 80/20 split)")
    tr.add_argument("--patience", type=int, default=0, help="early stopping on a validation split (0: off)")
    tr.add_argument("--val-fraction", type=float, default=0.0)
    tr.add_argument("--no-lift", action="store_true", help="train on the unlifted graph")
    tr.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--checkpoint", help="write weights, configuration and template here")

    bench = sub.add_parser("bench", help="run the experiments of the benchmarks folder")
    bench.add_argument(
        "experiment", nargs="?", default="quick", choices=["quick", "table1", "lifting", "digits", "accuracy", "all"]
    )
    bench.add_argument("--out", default="benchmarks/results")
    bench.add_argument("--json", action="store_true")
    return parser


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dataset",
        help="a TU, triples or NeuraLogic folder, an NCI-GI50/SMILES/SDF file, or a bundled "
        "name (MUTAG, NATIONS, KINSHIPS, UMLS, NCI200)",
    )
    p.add_argument(
        "--model",
        default=None,
        help=f"a zoo name ({', '.join(ZOO)}) or a template file (default: gcn for graphs, kbe for knowledge bases)",
    )
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--act", default="sigmoid")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _load(args: argparse.Namespace):  # noqa: ANN202
    return load_problem(args.dataset, ModelSpec(args.model, args.layers, args.dim, args.act, seed=args.seed))


def cmd_info(args: argparse.Namespace) -> dict:
    loaded = _load(args)
    return {**loaded.stats, "graph": loaded.problem.graph.summary()}


def cmd_compress(args: argparse.Namespace) -> dict:
    loaded = _load(args)
    problem = loaded.problem
    graph = problem.graph
    scopes = ["sample", "dataset"] if args.scope == "both" else [args.scope]
    result: dict = {**loaded.stats, "graph": graph.summary(), "runs": []}
    params = problem.init(args.seed, torch.float32, None)
    target = torch.tensor(problem.targets, dtype=torch.float32)[:, None]
    if args.timing:
        result["unlifted_seconds"] = forward_backward_seconds(graph, params, target)
    for scope in tqdm(scopes, desc="lifting", disable=args.json or not sys.stderr.isatty(), leave=False):
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
    loaded = _load(args)
    problem = loaded.problem
    config = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        optimizer=args.optimizer,
        loss=args.loss,
        batch_size=args.batch_size,
        lift=not args.no_lift,
        patience=args.patience,
        seed=args.seed,
        dtype=args.dtype,
        device=args.device,
        checkpoint=args.checkpoint,
    )
    result: dict = {**loaded.stats, "graph": problem.graph.summary(), "config": config.__dict__}
    folds = max(args.folds, 1)
    bar = tqdm(total=folds * args.epochs, desc="training", disable=args.json or not sys.stderr.isatty(), leave=False)

    def progress(fold: int, epoch: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(fold=fold, loss=f"{loss:.4f}")

    t0 = time.perf_counter()
    if args.folds >= 2:
        histories = cross_validate(problem, config, args.folds, args.val_fraction, progress)
    else:
        rows = np.arange(problem.num_samples)
        train, test = train_val_split(rows, problem.targets, 0.2, args.seed)
        train, val = train_val_split(train, problem.targets, args.val_fraction, args.seed + 1)
        params, hist = fit(
            problem, train, config, val_rows=val, test_rows=test, progress=lambda e, loss: progress(0, e, loss)
        )
        histories = [hist]
        if loaded.kb is not None and "test" in loaded.kb.splits:
            result["kbc"] = kbc_ranking(loaded.kb, loaded.template, params, "test")
    bar.close()
    result["folds"] = [
        {
            "train": h.train,
            "test": h.test,
            "epochs": len(h.epoch_loss),
            "best_epoch": h.best_epoch,
            "build_seconds": h.build_seconds,
            "seconds_per_epoch": h.seconds_per_epoch,
            "nodes": h.nodes,
            "final_loss": h.epoch_loss[-1] if h.epoch_loss else None,
        }
        for h in histories
    ]
    result["summary"] = summarize(histories)
    result["seconds"] = time.perf_counter() - t0
    return result


def cmd_bench(args: argparse.Namespace) -> dict:
    from ..bench import run_experiment

    return run_experiment(args.experiment, args.out)


def _print(command: str, result: dict) -> None:
    ds = result.get("dataset", {})
    if ds:
        print(", ".join(f"{k}={v}" for k, v in ds.items()))
    gs = result.get("graph")
    if gs:
        print(
            f"computation graph: {gs['nodes']:,} nodes, {gs['edges']:,} edges, {gs['samples']} samples, "
            f"depth {gs['depth']} (built in {result.get('build_seconds', 0):.2f} s)"
        )
    for run in result.get("runs", []):
        print()
        print(run["text"])
        if "verify" in run:
            print(run["verify"]["text"])
        if "speedup" in run:
            print(
                f"forward+backward: unlifted {result['unlifted_seconds'] * 1e3:.1f} ms, "
                f"lifted {run['lifted_seconds'] * 1e3:.1f} ms ({run['speedup']:.1f}x)"
            )
    if command == "train":
        print()
        print("fold  train_acc  test_acc  test_auroc  test_loss  epochs  s/epoch  nodes(train/unlifted)")
        for i, f in enumerate(result["folds"]):
            print(
                f"{i:>4}  {f['train'].get('accuracy', float('nan')):9.3f}"
                f"  {f['test'].get('accuracy', float('nan')):8.3f}"
                f"  {f['test'].get('auroc', float('nan')):10.3f}  {f['test'].get('loss', float('nan')):9.4f}"
                f"  {f['epochs']:6d}  {f['seconds_per_epoch']:7.4f}  {f['nodes']['train']}/{f['nodes']['unlifted']}"
            )
        s = result["summary"]
        if "kbc" in result:
            ranks = ", ".join(f"{k} {v:.3f}" for k, v in result["kbc"].items())
            print(f"knowledge-base completion (test triples, filtered): {ranks}")
        print(
            f"test accuracy {s['test_accuracy']['mean']:.3f} ± {s['test_accuracy']['std']:.3f}, "
            f"train accuracy {s['train_accuracy']['mean']:.3f} ± {s['train_accuracy']['std']:.3f}, "
            f"{s['seconds_per_epoch']['mean'] * 1e3:.1f} ms/epoch, total {result['seconds']:.1f} s"
        )
    if command == "bench":
        print(result.get("text", json.dumps(result, indent=2, default=float)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = {"info": cmd_info, "compress": cmd_compress, "train": cmd_train, "bench": cmd_bench}[args.command](
            args
        )
    except (ValueError, FileNotFoundError, ImportError) as err:
        print(f"liftnn: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        _print(args.command, result)
    failed = any(not run.get("verify", {"ok": True})["ok"] for run in result.get("runs", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
