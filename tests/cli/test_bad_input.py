"""Bad input through the ``liftnn`` command: exit code 2 and one line naming the flag, or the
file and line; never a traceback, never exit 0 with a meaningless result."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from liftnn.cli import main

MOLECULES = "+ car(1), car(2), ar_bond(1, 2), ar_bond(2, 1)\n- o2(5), c3(7), 2_bond(5, 7), 2_bond(7, 5)\n" * 3


def run(capsys, argv: list[str]) -> tuple[int, str]:
    """Exit code and stderr of ``liftnn argv`` (argparse's own exit included)."""
    try:
        rc = main(argv)
    except SystemExit as stop:
        rc = stop.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


# --------------------------------------------------------------------------- numeric flags

FLAGS = [
    (["train", "--folds", "1"], "--folds", "must be 0 \\(one 80/20 split\\) or >= 2"),
    (["train", "--folds", "-2"], "--folds", "must be 0 .* or >= 2 folds, got -2"),
    (["train", "--folds", "two"], "--folds", "'two' is not an integer"),
    (["train", "--val-fraction", "1.5"], "--val-fraction", "must lie in \\[0, 1\\), got 1.5"),
    (["train", "--val-fraction", "-0.1"], "--val-fraction", "must lie in \\[0, 1\\)"),
    (["train", "--val-fraction", "nan"], "--val-fraction", "nan is not a finite number"),
    (["train", "--patience", "-1"], "--patience", "must be >= 0, got -1"),
    (["train", "--lr", "inf"], "--lr", "inf is not a finite number"),
    (["train", "--lr", "0"], "--lr", "must be a finite number > 0"),
    (["train", "--lr", "-0.1"], "--lr", "must be a finite number > 0"),
    (["train", "--epochs", "0"], "--epochs", "must be >= 1, got 0"),
    (["train", "--batch-size", "-1"], "--batch-size", "must be >= 0"),
    (["train", "--layers", "0"], "--layers", "must be >= 1, got 0"),
    (["info", "--layers", "0"], "--layers", "must be >= 1"),
    (["info", "--dim", "0"], "--dim", "must be >= 1"),
    (["info", "--seed", "-1"], "--seed", "must be >= 0"),
    (["compress", "--trials", "-1"], "--trials", "must be >= 0 \\(0 skips the check\\), got -1"),
    (["compress", "--inits", "0"], "--inits", "must be >= 1"),
    (["compress", "--digits", "0"], "--digits", "must lie in 1..17, got 0"),
    (["compress", "--digits", "18"], "--digits", "must lie in 1..17, got 18"),
    (["compress", "--digits", "1e3"], "--digits", "'1e3' is not an integer"),
    (["compress", "--method", "fast"], "--method", "invalid choice: 'fast'"),
    (["train", "--loss", "hinge"], "--loss", "invalid choice: 'hinge'"),
]


@pytest.mark.parametrize(("argv", "flag", "why"), FLAGS, ids=[" ".join(a) for a, _, _ in FLAGS])
def test_bad_flag_values_name_the_flag(capsys, argv: list[str], flag: str, why: str) -> None:
    rc, err = run(capsys, [argv[0], "MUTAG", *argv[1:]])
    assert rc == 2
    assert re.search(rf"liftnn {argv[0]}: error: argument {flag}: {why}", err), err


# --------------------------------------------------------------------------- files and values


def one_error(rc: int, err: str, where: str) -> None:
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("liftnn: error: "), err
    assert re.search(where, lines[0]), lines[0]


@pytest.fixture
def molecules(tmp_path: Path) -> Path:
    path = tmp_path / "mols.txt"
    path.write_text(MOLECULES)
    return path


def test_bad_line_truncated_and_fake_gzip(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.txt").write_text("+ car(1)\n+ car(1), ar_bond(1, 2)\n")
    one_error(*run(capsys, ["info", str(tmp_path / "bad.txt")]), r"bad.txt:2: bond \(1, 2\)")
    data = gzip.compress(MOLECULES.encode() * 50)
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    one_error(*run(capsys, ["compress", str(tmp_path / "cut.txt.gz")]), r"cut.txt.gz: not a readable gzip file")
    (tmp_path / "fake.txt.gz").write_text(MOLECULES)
    one_error(*run(capsys, ["train", str(tmp_path / "fake.txt.gz")]), r"fake.txt.gz: not a readable gzip file")


def test_undecodable_bytes_and_directories(tmp_path: Path, capsys) -> None:
    (tmp_path / "latin.txt").write_bytes(MOLECULES.encode() + b"+ c\xe9(1)\n")
    one_error(*run(capsys, ["info", str(tmp_path / "latin.txt")]), r"latin.txt:7: byte b'\\xe9'")
    one_error(*run(capsys, ["info", str(tmp_path / "missing.txt")]), r"no such dataset: .*missing.txt")
    (tmp_path / "empty_dir").mkdir()
    one_error(*run(capsys, ["info", str(tmp_path / "empty_dir")]), r"empty_dir: no empty_dir_A.txt")


def test_tu_labels_missing_for_a_graph(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "T"
    folder.mkdir()
    for name, text in (("A", "1, 2\n2, 1\n"), ("graph_indicator", "1\n1\n2\n"), ("graph_labels", "1\n"),
                       ("node_labels", "0\n0\n1\n")):
        (folder / f"T_{name}.txt").write_text(text)
    one_error(*run(capsys, ["info", str(folder)]), r"T_graph_labels.txt: 1 graph labels for 2 graphs")
    (folder / "T_graph_labels.txt").write_text("1\n0\n")
    (folder / "T_graph_indicator.txt").write_text("1\n1\n3\n")
    one_error(*run(capsys, ["info", str(folder)]), r"T_graph_indicator.txt:3: graph id jumps from 1 to 3")


def test_smiles_and_sdf(tmp_path: Path, capsys) -> None:
    (tmp_path / "m.csv").write_text("smiles,label\nCCO,1\n,0\n")
    one_error(*run(capsys, ["info", str(tmp_path / "m.csv")]), r"m.csv:3: the 'smiles' cell is empty")
    (tmp_path / "e.sdf").write_text("")
    one_error(*run(capsys, ["info", str(tmp_path / "e.sdf")]), r"e.sdf: the file is empty")


def test_kb_test_triple_with_an_unseen_entity(tmp_path: Path, capsys) -> None:
    (tmp_path / "train.txt").write_text("a\tr\tb\nb\tr\tc\n")
    (tmp_path / "test.txt").write_text("a\tr\tc\nq\tr\ta\n")
    one_error(*run(capsys, ["train", str(tmp_path), "--epochs", "1"]), r"test.txt:2: entity 'q' does not occur")


def test_model_never_falls_back(tmp_path: Path, molecules: Path, capsys) -> None:
    one_error(*run(capsys, ["info", str(molecules), "--model", str(tmp_path / "nope.txt")]),
              r"--model .*nope.txt: no such template file")
    one_error(*run(capsys, ["info", str(molecules), "--model", str(tmp_path)]),
              r"--model .*: is a directory, not a template file")
    folder = tmp_path / "nl"
    folder.mkdir()
    (folder / "examples.txt").write_text("atom(a).\n")
    (folder / "queries.txt").write_text("1.0 predict.\n")
    (folder / "template.txt").write_text("predict :- atom(X).\n")
    one_error(*run(capsys, ["info", str(folder), "--model", str(folder / "other.txt")]),
              r"--model .*other.txt: no such template file")
    one_error(*run(capsys, ["info", str(folder), "--model", str(tmp_path)]), r"--model .*: is a directory")


@pytest.mark.ci_may_skip  # on a machine with CUDA devices, "cuda" exists
@pytest.mark.parametrize(("device", "why"), [("tpu9", "not a torch device"), ("cuda:7", "CUDA device"),
                                             ("cuda", "CUDA device"), ("gpu", "not a torch device")])
def test_devices_that_do_not_exist(molecules: Path, capsys, device: str, why: str) -> None:
    import torch

    if device == "cuda:7" and torch.cuda.device_count() > 7 or device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has that device")
    rc, err = run(capsys, ["train", str(molecules), "--device", device, "--epochs", "1"])
    one_error(rc, err, rf"--device {device}: .*{why}")


def test_cross_entropy_on_binary_targets(molecules: Path, capsys) -> None:
    one_error(*run(capsys, ["train", str(molecules), "--loss", "ce", "--epochs", "1"]),
              r"loss 'ce' \(--loss ce\) needs one output column per class")


def test_training_on_one_class(tmp_path: Path, capsys) -> None:
    (tmp_path / "pos.txt").write_text(MOLECULES.replace("-", "+"))
    one_error(*run(capsys, ["train", str(tmp_path / "pos.txt"), "--epochs", "1"]),
              r"all 6 samples have the target 1: there is nothing to learn")


def test_zero_trials_report_no_check(molecules: Path, capsys) -> None:
    assert main(["compress", str(molecules), "--trials", "0", "--scope", "dataset"]) == 0
    out = capsys.readouterr().out
    assert "verify" not in out  # no check ran, so none is reported as passed


def test_clash_warning_is_one_clean_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.txt"
    path.write_text("".join(f"+ car({i}), c{2 + i % 3}({i + 50}), 1_bond({i}, {i + 50}), 1_bond({i + 50}, {i})\n"
                            for i in range(12)))
    rc = main(["compress", str(path), "--method", "value", "--digits", "1", "--scope", "dataset", "--trials", "2"])
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.strip()]
    assert warnings and all(line.startswith("liftnn: warning: value lifting merged") for line in warnings), warnings
    assert re.search(r"node \d+ into node \d+", warnings[0]) and "liftnn.verify" in warnings[0]
    assert rc == 1 and "verify FAILED" in captured.out  # 1 digit merges different values; verify says so


def test_checkpoint_target_is_checked_before_training(tmp_path: Path, molecules: Path, capsys) -> None:
    train = ["train", str(molecules), "--epochs", "1"]
    one_error(*run(capsys, [*train, "--checkpoint", str(tmp_path / "no" / "m.pt")]),
              r"--checkpoint .*m.pt: the folder .*no does not exist")
    one_error(*run(capsys, [*train, "--checkpoint", str(tmp_path)]), r"--checkpoint .*: is a folder")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    (tmp_path / "link.txt").hardlink_to(notes)
    for target in (notes, tmp_path / "link.txt"):
        one_error(*run(capsys, [*train, "--checkpoint", str(target)]),
                  r"--checkpoint .*: exists and is not a liftnn checkpoint; not replacing it")
    assert notes.read_text() == "hello\n"
    assert main([*train, "--checkpoint", str(tmp_path / "link.txt"), "--force", "--json"]) == 0
    assert notes.read_text() == "hello\n"  # replaced by a new file: the other name of the old one is untouched
