"""The CI rules of ``tests/conftest.py``, checked in a fresh pytest process: with ``CI`` set the
``ci`` Hypothesis profile is active and every skip (test or module) fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PROBE = '''
import pytest
from hypothesis import settings


def test_profile():
    print("derandomize =", settings.default.derandomize)


def test_skip():
    pytest.skip("the oracle is missing")


@pytest.mark.ci_may_skip
def test_machine_dependent_skip():
    pytest.skip("this machine lacks the device")
'''


def _pytest(tmp_path: Path, ci: str, *args: str) -> subprocess.CompletedProcess:
    """pytest with this suite's conftest on the probe files in ``tmp_path``, under ``CI=ci``."""
    env = {**os.environ, "CI": ci, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-rs", "-s", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "test_module_skip.py").write_text(
        'import pytest\npytest.skip("needs Java", allow_module_level=True)\n')
    return tmp_path


def test_without_ci_skips_are_allowed_and_the_dev_profile_is_loaded(probe: Path) -> None:
    run = _pytest(probe, "false")
    assert run.returncode == 0, run.stdout
    assert "derandomize = False" in run.stdout
    assert "1 passed, 3 skipped" in run.stdout


def test_under_ci_every_skip_fails_and_the_ci_profile_is_loaded(probe: Path) -> None:
    run = _pytest(probe, "true", "--continue-on-collection-errors")
    assert run.returncode == 1, run.stdout
    assert "derandomize = True" in run.stdout
    assert "skipped under CI" in run.stdout and "the oracle is missing" in run.stdout
    assert "module skipped under CI" in run.stdout and "needs Java" in run.stdout
    assert "1 failed, 1 passed, 1 skipped, 1 error" in run.stdout  # the ci_may_skip test still skips


def test_every_third_party_import_of_the_tests_is_declared() -> None:
    """Each module the tests import is the standard library, the tests' own, liftnn, or comes
    from a distribution named in the project's dependencies or its ``test`` extra."""
    import ast
    import importlib.metadata

    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
        import tomli as tomllib

    project = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    requirements += importlib.metadata.requires("pytest") or []  # what the declared test runner brings
    declared = {req.name.lower().replace("_", "-") for req in map(Requirement, requirements)
                if "extra" not in str(req.marker or "")}
    local = {p.stem for p in TESTS.rglob("*.py")} | {p.name for p in TESTS.iterdir() if p.is_dir()} | {"liftnn"}
    imported = set()
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - local
    owners = importlib.metadata.packages_distributions()
    undeclared = {m: owners.get(m) for m in third_party
                  if not {d.lower().replace("_", "-") for d in owners.get(m, [m])} & declared}
    assert not undeclared, f"test imports not declared in pyproject's test extra: {undeclared}"
    assert {"sklearn", "hypothesis", "neuralogic", "torch_geometric"} <= third_party
