"""liftnn: lift structured neural models so they train faster, computing the same function."""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from .. import compress, init_params, verify
from ..data import load_graphs
from ..engine.timing import forward_backward_seconds
from ..models import message_passing_graph


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
    return parser


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="a TU folder, an NCI-GI50 file, or a bundled name (MUTAG)")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--act", default="sigmoid")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _graph(args: argparse.Namespace):  # noqa: ANN202
    data = load_graphs(args.dataset)
    t0 = time.perf_counter()
    graph = message_passing_graph(data, layers=args.layers, dim=args.dim, act=args.act)
    return data, graph, time.perf_counter() - t0


def cmd_info(args: argparse.Namespace) -> dict:
    data, graph, seconds = _graph(args)
    return {"dataset": data.stats(), "graph": graph.summary(), "build_seconds": seconds}


def cmd_compress(args: argparse.Namespace) -> dict:
    data, graph, build_seconds = _graph(args)
    scopes = ["sample", "dataset"] if args.scope == "both" else [args.scope]
    result: dict = {"dataset": data.stats(), "graph": graph.summary(), "build_seconds": build_seconds, "runs": []}
    params = init_params(graph, seed=0)
    target = torch.tensor(data.y, dtype=torch.float32)[:, None]
    if args.timing:
        result["unlifted_seconds"] = forward_backward_seconds(graph, params, target)
    for scope in scopes:
        lifted, report = compress(graph, method=args.method, digits=args.digits, inits=args.inits,
                                  scope=scope, prune=not args.no_prune)
        run = {"report": report.as_dict(), "text": str(report)}
        if args.trials:
            check = verify(graph, lifted, trials=args.trials, raise_on_error=False)
            run["verify"] = {"ok": check.ok, "max_output_error": check.max_output_error,
                             "max_gradient_error": check.max_gradient_error, "text": str(check)}
        if args.timing:
            run["lifted_seconds"] = forward_backward_seconds(lifted, params, target)
            run["speedup"] = result["unlifted_seconds"] / run["lifted_seconds"]
        result["runs"].append(run)
    return result


def _print(result: dict) -> None:
    ds = result["dataset"]
    print(f"{ds['name']}: {ds['graphs']} graphs, {ds['nodes']} nodes, {ds['edges']} edges")
    gs = result["graph"]
    print(f"computation graph: {gs['nodes']:,} nodes, {gs['edges']:,} edges, depth {gs['depth']} "
          f"(built in {result['build_seconds']:.2f} s)")
    for run in result.get("runs", []):
        print()
        print(run["text"])
        if "verify" in run:
            print(run["verify"]["text"])
        if "speedup" in run:
            print(f"forward+backward: unlifted {result['unlifted_seconds'] * 1e3:.1f} ms, "
                  f"lifted {run['lifted_seconds'] * 1e3:.1f} ms ({run['speedup']:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = {"info": cmd_info, "compress": cmd_compress}[args.command](args)
    except (ValueError, FileNotFoundError) as err:
        print(f"liftnn: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, default=float))
    else:
        _print(result)
    failed = any(not run.get("verify", {"ok": True})["ok"] for run in result.get("runs", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
