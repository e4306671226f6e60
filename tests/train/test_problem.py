"""A learning problem's targets: a missing one names the query's file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from liftnn.cli import main
from liftnn.pipeline import ModelSpec, load_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "molecules"


def _without_target(tmp_path: Path, line: int) -> Path:
    """The example molecules with the target of query ``line`` (1-based) removed."""
    folder = tmp_path / "molecules"
    shutil.copytree(EXAMPLES, folder)
    lines = (folder / "queries.txt").read_text().splitlines()
    lines[line - 1] = "predict."
    (folder / "queries.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_a_query_without_target_names_its_file_and_line(tmp_path: Path) -> None:
    folder = _without_target(tmp_path, 3)
    with pytest.raises(ValueError, match=re.escape(f"{folder / 'queries.txt'}:3: the query (sample 2) has no "
                                                   "(finite) target")):
        load_problem(folder, ModelSpec())


def test_the_command_says_it_in_one_line(tmp_path: Path, capsys) -> None:
    folder = _without_target(tmp_path, 2)
    assert main(["train", str(folder), "--epochs", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(r"liftnn: error: .*queries\.txt:2: the query \(sample 1\) has no", lines[0])


def test_targets_with_all_queries_labelled_load() -> None:
    problem = load_problem(EXAMPLES, ModelSpec()).problem
    assert np.isfinite(problem.targets).all() and len(problem.sources) == problem.num_samples
    assert all(re.search(r"queries\.txt:\d+$", s) for s in problem.sources)
