"""Where the benchmarks find their data and how they write their results."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .provenance import provenance


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
    """``out/name.md`` (the Markdown) and ``out/name.json`` (the numbers with a ``provenance`` block).

    A dict payload gains a top-level ``provenance`` key; any other payload (a list of rows)
    is stored as ``{"provenance": ..., "rows": payload}``.
    """
    out.mkdir(parents=True, exist_ok=True)
    record = {"provenance": provenance()}
    record.update(payload if isinstance(payload, dict) else {"rows": payload})
    (out / f"{name}.md").write_text(text + "\n")
    (out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
