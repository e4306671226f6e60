"""Shared fixtures: the real datasets live in ../shared/data (or $LIFTNN_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

torch.set_num_threads(1)

DATA = Path(os.environ.get("LIFTNN_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.exists():
        pytest.skip(f"real datasets not found at {DATA} (set LIFTNN_DATA)")
    return DATA


@pytest.fixture(scope="session")
def mda_path(data_dir: Path) -> Path:
    return data_dir / "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
