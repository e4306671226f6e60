"""The liftnn command on real and tiny datasets."""

from __future__ import annotations

import json
from pathlib import Path

from liftnn.cli import main


def test_compress_json_verifies_and_lifts(data_dir: Path, capsys) -> None:  # noqa: ANN001
    rc = main(["compress", str(data_dir / "molecules/tudataset/MUTAG"), "--json", "--layers", "2"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    runs = {r["report"]["scope"]: r for r in out["runs"]}
    assert set(runs) == {"sample", "dataset"}
    assert all(r["verify"]["ok"] for r in runs.values())
    assert runs["dataset"]["report"]["nodes_after"] < runs["sample"]["report"]["nodes_after"]
    assert out["graph"]["samples"] == 188


def test_compress_text_table_with_timing(data_dir: Path, capsys) -> None:  # noqa: ANN001
    rc = main(["compress", str(data_dir / "molecules/tudataset/PTC_MR"), "--scope", "dataset", "--timing",
               "--method", "value", "--digits", "12", "--preset", "paper"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "method=value scope=dataset" in text and "verify OK" in text and "forward+backward" in text


def test_info_and_errors(tmp_path: Path, capsys) -> None:  # noqa: ANN001
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
