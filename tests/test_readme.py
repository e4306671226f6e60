"""Every code block of README.md runs, so the README cannot drift from the code.

Convention:

* ```` ```python ```` blocks run as they are, each in a fresh namespace, in a working
  folder that holds the repository's ``examples/`` and a PyG ``TUDataset`` root with
  MUTAG's raw files (so ``TUDataset(root="data/TUDataset", name="MUTAG")`` needs no
  network); the presets are cut to 2 epochs so that a block takes seconds.
* ```` ```bash ```` blocks: every line that starts with ``liftnn`` runs through the
  command's ``main`` with ``--epochs 2`` added to ``train``; ``pip install`` set-up
  lines, ``python`` lines and ``liftnn bench`` (minutes to hours) do not run.
* A block right after the line ``<!-- no-test -->`` does not run; blocks without a
  language (command synopses, layouts) are not code.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from liftnn import pipeline
from liftnn.cli import main
from liftnn.data.registry import bundled_path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- no-test -->\n)?```(\w+)\n(.*?)```", re.S)


def blocks(lang: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [m.group(3) for m in BLOCK.finditer(text) if m.group(2) == lang and not m.group(1)]


def commands() -> list[list[str]]:
    out = []
    for block in blocks("bash"):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv[:1] == ["liftnn"] and argv[1:2] != ["bench"]:
                out.append(argv[1:] + (["--epochs", "2"] if argv[1] == "train" else []))
    return out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(bundled_path("MUTAG"), tmp_path / "data/TUDataset/MUTAG/raw")
    monkeypatch.chdir(tmp_path)
    quick = {k: replace(p, epochs=2) for k, p in pipeline.PRESETS.items()}
    monkeypatch.setattr(pipeline, "PRESETS", quick)
    return tmp_path


def test_the_readme_has_code_to_run() -> None:
    assert len(blocks("python")) >= 4 and len(commands()) >= 4


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.strip().splitlines()[0][:40])
def test_python_block_runs(code: str, workdir: Path) -> None:
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("argv", commands(), ids=" ".join)
def test_command_runs(argv: list[str], workdir: Path, capsys) -> None:
    if argv[0] == "predict":  # predicting needs the checkpoint the README's train line writes
        assert main(["train", "MUTAG", "--epochs", "2", "--checkpoint", argv[1]]) == 0
    assert main(argv) == 0, capsys.readouterr().err
