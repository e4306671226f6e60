"""The liftnn command on real and tiny datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liftnn.cli import main


def test_compress_json_verifies_and_lifts(data_dir: Path, capsys) -> None:
    rc = main(["compress", str(data_dir / "molecules/tudataset/MUTAG"), "--json", "--layers", "2"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    runs = {r["report"]["scope"]: r for r in out["runs"]}
    assert set(runs) == {"sample", "dataset"}
    assert all(r["verify"]["ok"] for r in runs.values())
    assert runs["dataset"]["report"]["nodes_after"] < runs["sample"]["report"]["nodes_after"]
    assert out["graph"]["samples"] == 188


def test_compress_text_table_with_timing(data_dir: Path, capsys) -> None:
    rc = main(["compress", str(data_dir / "molecules/tudataset/PTC_MR"), "--scope", "dataset", "--timing",
               "--method", "value", "--digits", "12", "--preset", "paper"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "method=value scope=dataset" in text and "verify OK" in text and "forward+backward" in text


def test_info_and_errors(tmp_path: Path, capsys) -> None:
    assert main(["compress", str(tmp_path / "missing")]) == 2
    assert "no such dataset" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("+ car(1), ar_bond(1, 2)\n")
    assert main(["info", str(bad)]) == 2
    assert "bad.txt:1" in capsys.readouterr().err
    good = tmp_path / "good.txt"
    good.write_text("+ car(1), car(2), ar_bond(1, 2), ar_bond(2, 1)\n")
    assert main(["info", str(good), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dataset"]["graphs"] == 1 and info["graph"]["samples"] == 1


def test_help_and_argument_errors_do_not_import_torch() -> None:
    import subprocess
    import sys
    import time

    code = ("import sys\nfrom liftnn.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['train', '--epochs', 'x', 'MUTAG']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('torch' in sys.modules)")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert time.perf_counter() - t0 < 5  # a second or less on an idle machine; torch alone takes 3-6 s
    assert "--device" in out.stdout and "--epochs" in out.stdout


def test_every_flag_has_help() -> None:
    from liftnn.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help, f"liftnn {name} {action.option_strings or action.dest} has no help text"


def test_device_that_does_not_exist_is_one_clean_error(capsys) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["train", "MUTAG", "--epochs", "1", "--device", "cuda"]) == 2
    assert "--device cuda: no CUDA device on this machine" in capsys.readouterr().err
    assert main(["train", "MUTAG", "--epochs", "1", "--device", "gpu7"]) == 2
    assert "--device gpu7: not a torch device" in capsys.readouterr().err


def test_datasets_listing_and_unlabelled_sets(capsys) -> None:
    assert main(["datasets"]) == 0
    text = capsys.readouterr().out
    assert "MUTAG" in text and "PTC_MR" in text and "none (unlabelled)" in text and "downloads go to" in text
    assert main(["train", "NCI200", "--epochs", "1"]) == 2
    assert "NCI200 has no labels" in capsys.readouterr().err
