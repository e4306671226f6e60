"""Where a benchmark number came from: command, code version, libraries and machine.

Every results file written by :func:`liftnn.bench.write_results` carries this block, so a
figure can be traced to the command line, the git commit and the hardware that produced it.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

LIBRARIES = ("liftnn", "torch", "torch_geometric", "numba", "neuralogic", "jax", "numpy")
REPO = Path(__file__).resolve().parents[3]


def _run(cmd: list[str]) -> subprocess.CompletedProcess | None:
    """Run a short command quietly; ``None`` when it cannot be started."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, cwd=REPO)
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit() -> dict[str, object] | None:
    """The checked-out commit and whether the working tree differs from it (``None`` outside git)."""
    head = _run(["git", "rev-parse", "HEAD"])
    if head is None or head.returncode != 0:
        return None
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return {"commit": head.stdout.strip(), "dirty": bool(status and status.stdout.strip())}


def library_versions() -> dict[str, str | None]:
    """Installed distribution versions (``None`` when a library is absent); nothing is imported."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def java_version() -> str | None:
    """First line of ``java -version`` (it prints to stderr), ``None`` when Java is not on ``PATH``."""
    done = _run(["java", "-version"])
    if done is None or done.returncode != 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else None


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (Linux), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def threads() -> dict[str, object]:
    """Torch intra-/inter-op thread counts and the thread variables of the environment."""
    info: dict[str, object] = {}
    if "torch" in sys.modules or importlib.util.find_spec("torch") is not None:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        info[var] = os.environ.get(var)
    return info


def provenance() -> dict[str, object]:
    """Command line, git commit, library and Java versions, threads, machine and UTC date."""
    return {
        "argv": list(sys.argv),
        "git": git_commit(),
        "python": platform.python_version(),
        "libraries": library_versions(),
        "java": java_version(),
        "threads": threads(),
        "machine": {
            "cores": os.cpu_count(),
            "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "cpu_model": cpu_model(),
            "platform": platform.platform(),
        },
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
