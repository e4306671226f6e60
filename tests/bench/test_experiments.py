"""Smoke runs of the experiment modules: files written, numbers sane."""

from __future__ import annotations

import json
from pathlib import Path

from liftnn.bench import lifting


def test_lifting_experiment_quick(data_dir: Path, tmp_path: Path) -> None:
    result = lifting.run(tmp_path / "lifting", quick=True)
    rows = json.loads((tmp_path / "lifting/lifting.json").read_text())
    assert (tmp_path / "lifting/lifting.md").read_text().startswith(result["text"][:20])
    assert rows["sets"] and all(r["dataset"]["ratio"] > r["sample"]["ratio"] > 1 for r in rows["sets"])
