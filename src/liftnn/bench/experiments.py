"""The experiment registry behind ``liftnn bench``.

Each experiment module has ``run(out: Path, quick: bool) -> dict`` writing Markdown,
JSON and (where it has a figure) PNG files under ``out`` and returning a dict with a
``text`` entry (the Markdown table).
"""

from __future__ import annotations

import importlib
from pathlib import Path

EXPERIMENTS = {
    "table1": "liftnn.bench.table1",  # epoch times vs PyTorch Geometric
    "lifting": "liftnn.bench.lifting",  # lifting ratios over all NCI-GI50 sets
    "digits": "liftnn.bench.digits",  # compression and clashes vs digits and inits
    "accuracy": "liftnn.bench.accuracy",  # cross-validated accuracy, lifted vs unlifted
}


def _quick(name: str, out: Path) -> dict:
    """``name``'s smoke run, on the datasets installed packages ship where the shared data folder is absent."""
    return importlib.import_module(EXPERIMENTS[name]).run(out, quick=True)


def run_experiment(name: str, out: str | Path, **options: object) -> dict:
    """Run one experiment (``quick``: a small smoke version of all of them). ``options`` (Table 1's cell
    selectors: ``models``, ``regimes``, ``frameworks``, ``repeats``, ``memory``) go to ``table1``."""
    out = Path(out)
    if options and name != "table1":
        raise ValueError(f"--{next(iter(options))} applies to `liftnn bench table1` only")
    if name == "table1":
        return importlib.import_module(EXPERIMENTS[name]).run(out / name, quick=False, **options)
    if name == "quick":  # a smoke run, written beside (never over) the full results
        results = {n: _quick(n, out / "quick" / n) for n in EXPERIMENTS}
        return {"experiments": results, "text": "\n\n".join(r["text"] for r in results.values())}
    names = list(EXPERIMENTS) if name == "all" else [name]
    results = {n: importlib.import_module(EXPERIMENTS[n]).run(out / n, quick=False) for n in names}
    return {"experiments": results, "text": "\n\n".join(r["text"] for r in results.values())}
