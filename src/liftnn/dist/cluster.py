"""A Dask distributed cluster: a local one of ``N`` worker processes, or an existing one by address."""

from __future__ import annotations

import logging
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _require() -> Any:  # noqa: ANN401
    try:
        import distributed
    except ImportError:
        raise ImportError("sharded lifting and data-parallel training need Dask distributed: "
                          "pip install 'liftnn[dist]'") from None
    return distributed


@contextmanager
def connect(workers: int = 2, address: str | None = None, memory_limit: str | int = 0) -> Iterator[Any]:
    """A ``distributed.Client``: joined to the scheduler at ``address``, or to a fresh local
    cluster of ``workers`` single-threaded worker processes (closed on exit), each restarted
    by its nanny past ``memory_limit`` (e.g. ``"6GiB"``; 0: no limit)."""
    distributed = _require()
    if address is not None:
        with distributed.Client(address, timeout="30s") as client:
            yield client
        return
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=memory_limit, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(workers, timeout=120)
        yield client


def worker_addresses(client: Any) -> list[str]:  # noqa: ANN401
    """The addresses of the cluster's workers, sorted (asked from the scheduler, after waiting
    up to a minute for at least one)."""
    client.wait_for_workers(1, timeout=60)
    return sorted(client.nthreads())


def peak_rss() -> int:
    """Peak resident memory of this process since it started, in bytes: Linux's ``VmHWM``
    (``ru_maxrss`` elsewhere, which on Linux keeps the high-water mark of the parent that
    spawned the process)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def worker_name() -> str:
    """The address of the Dask worker running the calling task (``"local"`` outside one)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"
