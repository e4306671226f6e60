"""One local 2-worker Dask cluster for all tests of liftnn.dist that need one."""

from __future__ import annotations

import pytest

from liftnn.dist.cluster import connect


@pytest.fixture(scope="session")
def client():
    with connect(workers=2) as c:
        yield c
