"""The command as a new user meets it, in fresh processes: start-up cost, listings, warnings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

LIFTNN = [sys.executable, "-c", "import sys\nfrom liftnn.cli import main\nsys.exit(main())"]  # the `liftnn` script


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_datasets_listing_does_not_import_torch() -> None:
    code = ("import sys\nfrom liftnn.cli import main\nrc = main(['datasets', '--json'])\n"
            "print('torch' in sys.modules, rc)")
    out = _run([sys.executable, "-c", code])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False 0"
    assert '"name": "MUTAG"' in out.stdout and '"name": "NCI1"' in out.stdout


def test_help_answers_at_once() -> None:
    t0 = time.perf_counter()
    out = _run([*LIFTNN, "--help"])
    seconds = time.perf_counter() - t0
    assert out.returncode == 0 and "datasets" in out.stdout
    assert seconds < 3, seconds  # ~0.1 s on an idle machine; importing torch alone takes 3-6 s


def test_value_clash_warning_is_one_clean_line(tmp_path: Path) -> None:
    path = tmp_path / "m.txt"
    path.write_text("".join(f"+ car({i}), c{2 + i % 3}({i + 50}), 1_bond({i}, {i + 50}), 1_bond({i + 50}, {i})\n"
                            for i in range(12)))
    out = _run([*LIFTNN, "compress", str(path), "--method", "value", "--digits", "1", "--scope", "dataset",
                "--trials", "1"], env={**os.environ, "PYTHONWARNINGS": "default"})
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr  # no source line ("warnings.warn(...)"), no file:line prefix
    assert lines[0].startswith("liftnn: warning: value lifting merged 2 node(s) that exact lifting keeps apart")
    assert "lifting.py" not in out.stderr and "ValueClashWarning" not in out.stderr


def test_bench_quick_runs_on_a_fresh_machine(tmp_path: Path) -> None:
    """No shared data folder: ``LIFTNN_DATA`` names an empty one, and the working directory has no
    ``../shared``; the smoke run uses only what installed packages ship."""
    empty, cwd = tmp_path / "no-data", tmp_path / "work" / "fresh"
    empty.mkdir()
    cwd.mkdir(parents=True)
    env = {**os.environ, "LIFTNN_DATA": str(empty)}
    out = _run([*LIFTNN, "bench", "quick", "--out", str(tmp_path / "out"), "--json"], cwd=cwd, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)["experiments"]
    table1 = result["table1"]["rows"]  # on the MUTAG molecules instead of the NCI-GI50 set
    assert {r["molecules"] for r in table1} == {188} and all(r["liftnn_s"] > 0 and r["pyg_s"] > 0 for r in table1)
    for name in ("lifting", "digits", "accuracy", "table1"):
        assert result[name]["quick"] and (tmp_path / "out" / "quick" / name / f"{name}.json").is_file()
    assert result["lifting"]["sets"][0]["set"] == "MUTAG"
    assert all(c["max_test_accuracy_diff"] < 1e-6 for c in result["accuracy"]["cases"])  # lossless lifting
    assert not any(empty.iterdir()) and not (tmp_path / "work" / "shared").exists()
