"""Resolve a dataset argument: a path, or the name of a dataset an installed package ships."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .graphs import GraphSet
from .nci import read_nci_gi50
from .tu import read_tu

#: name -> (package that ships it, folder inside the package, install hint)
BUNDLED = {
    "MUTAG": ("grakel", "tests/data/MUTAG", "pip install 'liftnn[data]'"),
}


def bundled_path(name: str) -> Path:
    """Folder of a bundled dataset inside its installed package."""
    package, inner, hint = BUNDLED[name.upper()]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"dataset {name} ships with the package {package!r}, which is not installed ({hint})")
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    if not path.exists():
        raise FileNotFoundError(f"dataset {name}: {path} is missing from the installed {package!r}")
    return path


def load_graphs(dataset: str | Path) -> GraphSet:
    """A :class:`GraphSet` from a TU folder, an NCI-GI50 file or a bundled name (``MUTAG``)."""
    if isinstance(dataset, str) and dataset.upper() in BUNDLED and not Path(dataset).exists():
        return read_tu(bundled_path(dataset), dataset.upper())
    path = Path(dataset)
    if path.is_dir():
        return read_tu(path)
    if path.is_file():
        return read_nci_gi50(path)
    known = ", ".join(BUNDLED)
    raise FileNotFoundError(f"no such dataset: {dataset} (a TU folder, an NCI-GI50 file, or one of: {known})")
