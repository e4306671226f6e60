"""Table 1's protocol: selected cells only, every framework's median and spread, provenance, one JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from liftnn.bench import table1


def test_selected_cells_report_spread_ratios_and_provenance(data_dir: Path, tmp_path: Path) -> None:
    result = table1.run(tmp_path, quick=True, models=["gcn"], regimes=["mini-batch-32", "full"],
                        frameworks=["liftnn", "liftnn_native", "liftnn_torch", "pyg", "pyg_stock"], repeats=3)
    rows = result["rows"]
    assert [(r["model"], r["regime"]) for r in rows] == [("gcn", "mini-batch-32"), ("gcn", "full")]
    for r in rows:
        assert r["engine"] in ("native", "torch")
        for name in ("liftnn", "liftnn_native", "liftnn_torch", "pyg", "pyg_stock"):
            s = r[f"{name}_spread"]
            assert s["n"] == 3 and 0 < s["q1"] <= s["median"] <= s["q3"]
            assert r[f"{name}_setup_s"] > 0
        v = r["vs_pyg"]
        assert v["low"] <= v["median"] <= v["high"]
    record = json.loads((tmp_path / "table1.json").read_text())
    assert {"argv", "git", "libraries", "java", "threads", "machine", "date"} <= set(record["provenance"])
    assert len(record["rows"]) == 2


def test_unknown_cells_are_named() -> None:
    with pytest.raises(ValueError, match="unknown regime 'mini-batch-31'"):
        table1.run(Path("unused"), regimes=["mini-batch-31"])
    with pytest.raises(ValueError, match="unknown framework 'dgl'"):
        table1.run(Path("unused"), frameworks=["dgl"])


def test_cli_prints_one_json_object_with_one_row_per_cell(data_dir: Path, tmp_path: Path) -> None:
    cli = "import sys; from liftnn.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", cli, "bench", "table1", "--models", "gcn", "--regimes",
                           "full", "--frameworks", "liftnn,pyg", "--repeats", "1", "--json", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    cells = out["experiments"]["table1"]["rows"] if "experiments" in out else out["rows"]
    assert len(cells) == 1 and {"model", "regime", "liftnn_s", "pyg_s", "engine", "liftnn_setup_s"} <= set(cells[0])
