"""Shared fixtures and the CI rules.

* The real datasets live in ``../shared/data`` (or ``$LIFTNN_DATA``).
* With ``CI`` set (``CI=true``, as ``.ci/run`` and CI services do) the ``ci`` Hypothesis
  profile is loaded, and every skipped test or test module is reported as a *failure*: a
  missing oracle (PyNeuraLogic, Java, PyTorch Geometric) or missing data must not let CI
  pass by checking less. A test whose skip depends only on the machine (e.g. on which
  devices exist) opts out with ``@pytest.mark.ci_may_skip``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
import torch
from hypothesis import settings

CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

# Both profiles start from Hypothesis's plain defaults: Hypothesis loads its own "ci" profile
# whenever a CI variable exists at all (even CI=false), so inheriting the current default would
# derandomize local runs too.
settings.register_profile("ci", settings.get_profile("default"), derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", settings.get_profile("default"), deadline=None)
settings.load_profile("ci" if CI else "dev")

torch.set_num_threads(1)

DATA = Path(os.environ.get("LIFTNN_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ci_may_skip: the test may skip under CI (its skip depends on the machine)")


def pytest_report_header() -> str:
    rules = "CI: skips are failures" if CI else "not CI: skips are allowed"
    return f"{rules}; hypothesis profile {'ci' if CI else 'dev'} (derandomize={settings.default.derandomize})"


def _skip_reason(longrepr: object) -> str:
    """The message of a skip report (a ``(file, line, message)`` tuple or text)."""
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, None, None]:
    """Under CI, a skipped test is a failed test (unless marked ``ci_may_skip``)."""
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("ci_may_skip") is None:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (a skip must not pass CI): {_skip_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    """Under CI, a skipped test module (``pytest.skip(allow_module_level=True)``,
    ``pytest.importorskip``) is a collection error."""
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI (a skip must not pass CI): {_skip_reason(report.longrepr)}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip(f"real datasets not found at {DATA} (set LIFTNN_DATA)")
    return DATA


@pytest.fixture(scope="session")
def mda_path(data_dir: Path) -> Path:
    return data_dir / "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
