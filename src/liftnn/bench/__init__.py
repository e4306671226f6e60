"""The paper's experiments, reproduced and extended (``liftnn bench``).

Each experiment module has ``run(out: Path, quick: bool) -> dict`` writing Markdown,
JSON and (where it has a figure) PNG files under ``out`` and returning a dict with a
``text`` entry (the Markdown table).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path


def data_dir() -> Path:
    """``$LIFTNN_DATA``, else ``../shared/data`` beside the repository (or the working directory)."""
    if "LIFTNN_DATA" in os.environ:
        return Path(os.environ["LIFTNN_DATA"])
    repo = Path(__file__).resolve().parents[3]
    for base in (repo, Path.cwd()):
        if (base.parent / "shared/data").exists():
            return base.parent / "shared/data"
    raise FileNotFoundError("datasets not found: set LIFTNN_DATA to the shared data folder")


def write_results(out: Path, name: str, text: str, payload: object) -> None:
    """``out/name.md`` (the Markdown) and ``out/name.json`` (the numbers)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(text + "\n")
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")


EXPERIMENTS = {
    "table1": "liftnn.bench.table1",  # epoch times vs PyTorch Geometric
    "lifting": "liftnn.bench.lifting",  # lifting ratios over all NCI-GI50 sets
    "digits": "liftnn.bench.digits",  # compression and clashes vs digits and inits
    "accuracy": "liftnn.bench.accuracy",  # cross-validated accuracy, lifted vs unlifted
}


def run_experiment(name: str, out: str | Path) -> dict:
    """Run one experiment (``quick``: a small smoke version of all of them)."""
    out = Path(out)
    if name == "quick":  # a smoke run, written beside (never over) the full results
        results = {n: importlib.import_module(m).run(out / "quick" / n, quick=True) for n, m in EXPERIMENTS.items()}
        return {"experiments": results, "text": "\n\n".join(r["text"] for r in results.values())}
    names = list(EXPERIMENTS) if name == "all" else [name]
    results = {n: importlib.import_module(EXPERIMENTS[n]).run(out / n, quick=False) for n in names}
    return {"experiments": results, "text": "\n\n".join(r["text"] for r in results.values())}
