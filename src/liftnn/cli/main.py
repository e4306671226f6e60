"""liftnn: lift structured neural models so they train faster, computing the same function.

This module only parses arguments (standard library only, so ``--help`` and argument
errors are instant); each command's work is in :mod:`liftnn.cli.commands`, imported
once the arguments are known. A new command: a ``_<name>_parser`` function here, a
``cmd_<name>`` function there, and an entry in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .errors import run_command
from .flags import folds, fraction, int_at_least, int_between, positive_float

PRESETS = ("default", "paper")
MODELS = "gcn, gcn_bonds, sage, gin, graphlets (graphs), kbe (knowledge bases), mp (direct message passing)"
DATASET_HELP = (
    "a bundled or downloadable name (see `liftnn datasets`), a TUDataset folder (or a PyG TUDataset root with "
    "raw/), a PyG file (torch.save of a list of Data or an InMemoryDataset), a triples folder, a NeuraLogic "
    "folder (examples.txt, queries.txt, template.txt), an NCI-GI50 line file, a SMILES .csv or an .sdf file; "
    "formats: docs/formats.md"
)


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help=DATASET_HELP)
    p.add_argument("--preset", choices=PRESETS, default="default",
                   help="default: a GIN-style model with bond types (gine: ReLU, sum aggregation, 3 layers, "
                        "width 32, BCE, 200 epochs at lr 0.01) that learns well; paper: the lifting paper's settings "
                        "(2-layer GCN, sigmoid, width 10, MSE, 100 epochs at lr 0.01). Flags below override it")
    p.add_argument("--model", default=None, help=f"a zoo name ({MODELS}) or a template file (default: the preset's)")
    p.add_argument("--layers", type=int_at_least(1), default=None,
                   help="message-passing layers (default: the model's own)")
    p.add_argument("--dim", type=int_at_least(1), default=None, help="width of every embedding and hidden layer "
                                                         "(default: 32, paper preset 10)")
    p.add_argument("--act", default=None, help="activation of the hidden layers: relu, sigmoid, tanh, ... "
                                               "(default: relu, paper preset sigmoid)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="seed of weights, splits and batch order (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--allow-underivable", action="store_true",
                   help="a query that the template cannot derive outputs 0 instead of being an error")


def _cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int_at_least(1), default=None,
                   help="run on a local Dask cluster of N worker processes: the samples are sharded, each shard "
                        "built and lifted on a worker (compress: merged by content key; train: data-parallel, "
                        "gradients all-reduced); needs liftnn[dist], see docs/scaling.md")
    p.add_argument("--address", default=None,
                   help="join the running Dask cluster whose scheduler is at this address (tcp://host:8786) "
                        "instead of starting one")


def _info_parser(sub: argparse._SubParsersAction) -> None:
    _model_args(sub.add_parser("info", help="dataset and computation-graph statistics"))


def _compress_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compress", help="lift a model's computation graph, verify it, time it")
    _model_args(p)
    p.add_argument("--method", choices=["exact", "value"], default="exact",
                   help="exact: structural, lossless for any weights; value: the paper's evaluate-and-round")
    p.add_argument("--digits", type=int_between(1, 17), default=12,
                   help="significant digits (value method; default 12)")
    p.add_argument("--inits", type=int_at_least(1), default=1, help="random weight draws (value method; default 1)")
    p.add_argument("--scope", choices=["sample", "dataset", "both"], default="both",
                   help="lift within each sample, across the whole dataset, or report both (default)")
    p.add_argument("--no-prune", action="store_true", help="keep identity nodes")
    p.add_argument("--trials", type=int_at_least(0, " (0 skips the check)"), default=2,
                   help="verification weight draws (0: skip; default 2)")
    p.add_argument("--timing", action="store_true", help="time forward+backward, unlifted vs lifted")
    _cluster_args(p)
    p.add_argument("--shards", type=int_at_least(1), default=None,
                   help="with --workers/--address: shards of samples (default: one per worker)")


def _train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train (optionally cross-validated) on lifted graphs; save a checkpoint")
    _model_args(p)
    p.add_argument("--epochs", type=int_at_least(1), default=None,
                   help="maximum epochs (default: 200, paper preset 100)")
    p.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: 0.01)")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="default adam")
    p.add_argument("--loss", choices=["mse", "bce", "ce"], default=None,
                   help="mse (the paper's), bce (binary cross-entropy), ce (cross-entropy over classes); "
                        "default: bce, paper preset mse")
    p.add_argument("--batch-size", type=int_at_least(0), default=0,
                   help="0: full batch (default), 1: per-sample steps, k: mini-batches of k samples")
    p.add_argument("--folds", type=folds, default=0, help="k-fold cross-validation (0: one stratified 80/20 split)")
    p.add_argument("--patience", type=int_at_least(0), default=None,
                   help="early stopping: stop after P epochs without a better validation loss (default 0: off)")
    p.add_argument("--val-fraction", type=fraction, default=None,
                   help="share of the training samples held out for early stopping (default: 0.1 with "
                        "--patience, else 0)")
    p.add_argument("--no-lift", action="store_true", help="train on the unlifted graph (same results, slower)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="default float32")
    p.add_argument("--device", default="cpu",
                   help="torch device to train on: cpu (default), cuda, cuda:1, mps; an error if it is absent")
    p.add_argument("--engine", choices=["auto", "torch", "native"], default="auto",
                   help="native: compiled steps on the CPU, whole epochs in one call (fastest in every measured "
                        "regime); torch: tensor ops with autograd (any device, registered functions, multi-task "
                        "targets); auto (default): native where it can run, else torch; the result says which ran")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="save the trained model here (checked before training; with --folds, a model trained "
                        "on all samples after cross-validation); load it with `liftnn predict` or liftnn.load")
    p.add_argument("--force", action="store_true", help="let --checkpoint replace a file that is not a checkpoint")
    _cluster_args(p)


def _predict_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict with a saved checkpoint on a dataset")
    p.add_argument("checkpoint", help="a file written by `liftnn train --checkpoint`")
    p.add_argument("dataset", help=DATASET_HELP + "; for knowledge bases: a file of head<TAB>relation<TAB>tail "
                                   "triples to score, or a triples folder (its test.txt)")
    p.add_argument("--out", metavar="FILE", help="write the predictions as CSV (one row per sample)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _datasets_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list the datasets known by name; fetch downloadable ones")
    p.add_argument("--fetch", metavar="NAME", action="append", default=[],
                   help="download NAME into the cache now and check its SHA-256 sums (repeatable)")
    p.add_argument("--cache", metavar="DIR", help="download folder (default: $LIFTNN_CACHE or ~/.cache/liftnn)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def csv_list(text: str) -> list[str]:
    """A comma-separated list flag value."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run the experiments of the benchmarks folder")
    p.add_argument("experiment", nargs="?", default="quick",
                   choices=["quick", "table1", "lifting", "digits", "accuracy", "all"],
                   help="quick (default): a small smoke run of every experiment on the data installed packages ship")
    p.add_argument("--out", default="benchmarks/results", help="results folder (default benchmarks/results)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--models", type=csv_list, default=None,
                   help="table1: models to measure, e.g. gcn,gin (default: gcn,sage,gin)")
    p.add_argument("--regimes", type=csv_list, default=None,
                   help="table1: per-sample, mini-batch-32 and/or full (default: all three)")
    p.add_argument("--frameworks", type=csv_list, default=None,
                   help="table1: liftnn, liftnn_torch, pyg, pyg_stock, jax, neuralogic (default: all available)")
    p.add_argument("--repeats", type=int_at_least(1), default=None,
                   help="table1: timed epochs per cell after one warm-up (default 10; quick 2)")
    p.add_argument("--memory", action="store_true",
                   help="table1: also measure peak memory of per-sample GIN training per framework")


#: command name -> parser builder; its work is ``liftnn.cli.commands.cmd_<name>``.
COMMANDS = {
    "info": _info_parser,
    "compress": _compress_parser,
    "train": _train_parser,
    "predict": _predict_parser,
    "datasets": _datasets_parser,
    "bench": _bench_parser,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liftnn", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    on_cluster = getattr(args, "workers", None) or getattr(args, "address", None)
    commands = importlib.import_module("liftnn.dist.cli" if on_cluster else ".commands", __package__)
    output = importlib.import_module(".output", __package__)
    result, code = run_command(lambda: getattr(commands, f"cmd_{args.command}")(args))
    if result is None:
        return code
    if args.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        output.show(args.command, result)
    failed = any(not run.get("verify", {"ok": True})["ok"] for run in result.get("runs", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
