"""Plain-text output of the ``liftnn`` commands (``--json`` prints their dicts instead)."""

from __future__ import annotations

import json


def _dataset_and_graph(result: dict) -> None:
    schema = result.get("schema")
    if schema:
        print(f"inferred schema: bond relation {schema['bond_relation']}, "
              f"atom types {', '.join(schema['atom_types'])}; "
              f"bond types {', '.join(schema['bond_types']) or '(none)'}; query {schema['query']}"
              + (f"; ignored {', '.join(schema['ignored'])}" if schema["ignored"] else ""))
    ds = result.get("dataset", {})
    if ds:
        print(", ".join(f"{k}={v}" for k, v in ds.items()))
    gs = result.get("graph")
    if gs:
        print(
            f"computation graph: {gs['nodes']:,} nodes, {gs['edges']:,} edges, {gs['samples']} samples, "
            f"depth {gs['depth']} (built in {result.get('build_seconds', 0):.2f} s)"
        )


def _runs(result: dict) -> None:
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


def _train(result: dict) -> None:
    nan = float("nan")
    print()
    print("fold  train_acc  test_acc  test_auroc  test_loss  epochs  s/epoch  nodes(train/unlifted)")
    for i, f in enumerate(result["folds"]):
        print(
            f"{i:>4}  {f['train'].get('accuracy', nan):9.3f}  {f['test'].get('accuracy', nan):8.3f}"
            f"  {f['test'].get('auroc', nan):10.3f}  {f['test'].get('loss', nan):9.4f}"
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
    if result.get("checkpoint"):
        print(f"model saved to {result['checkpoint']}")


def _predict(result: dict) -> None:
    if result.get("out"):
        print(f"{len(result['rows'])} predictions written to {result['out']}")
        return
    print(",".join(result["columns"]))
    for row in result["rows"]:
        print(",".join(str(v) for v in row))


def _datasets(result: dict) -> None:
    for path in result.get("fetched", []):
        print(f"fetched and verified: {path}")
    rows = [("name", "task", "size", "source", "bundled")]
    rows += [(d["name"], d["task"], d["size"], d["source"], d["bundled"]) for d in result["datasets"]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print(f"\ndownloads go to {result['cache']}")


def show(command: str, result: dict) -> None:
    """Print ``result`` of ``command`` for people."""
    if command in ("info", "compress", "train"):
        _dataset_and_graph(result)
        _runs(result)
    if command == "train":
        _train(result)
    elif command == "predict":
        _predict(result)
    elif command == "datasets":
        _datasets(result)
    elif command == "bench":
        print(result.get("text", json.dumps(result, indent=2, default=float)))
