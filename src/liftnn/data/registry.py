"""Resolve a dataset argument: a path, or a name (``liftnn datasets`` lists them).

=========  =====================  ==========================================  ===============================
name       task                   size                                        source
=========  =====================  ==========================================  ===============================
MUTAG      graph classification   188 molecules                               shipped by ``grakel``
NATIONS    link prediction        14 entities, 55 relations, 1,992 triples    shipped by ``pykeen``
KINSHIPS   link prediction        104 entities, 25 relations, 10,686 triples  shipped by ``pykeen``
UMLS       link prediction        135 entities, 46 relations, 6,529 triples   shipped by ``pykeen``
NCI200     none (unlabelled)      200 molecules (SDF)                         shipped by ``rdkit``
PTC_MR     graph classification   344 molecules                               downloaded (TUDataset)
NCI1       graph classification   4,110 molecules                             downloaded (TUDataset)
NCI109     graph classification   4,127 molecules                             downloaded (TUDataset)
=========  =====================  ==========================================  ===============================

``pip install 'liftnn[data]'`` installs the shipping packages. Downloaded sets are
fetched on first use into the cache (:func:`liftnn.data.download.cache_dir`) and
checked against known SHA-256 sums. NCI200 has no labels: it can be lifted
(``info``, ``compress``) but not trained on.

Paths: a TUDataset folder (or a PyG ``TUDataset`` root whose ``raw/`` holds the TU
files), a folder with ``train.txt`` triples, a PyG file (``torch.save`` of a list of
``Data``, or ``InMemoryDataset.save``), an NCI-GI50 line file, a ``.csv`` of SMILES
(columns ``smiles``, ``label``) or an ``.sdf``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .download import fetch
from .graphs import GraphSet
from .nci import read_nci_gi50
from .tu import read_tu

if TYPE_CHECKING:  # the triples reader imports the template machinery (and torch): only when a KB is read
    from .kb import KnowledgeBase


@dataclass(frozen=True)
class Bundled:
    """A dataset inside an installed package."""

    package: str
    folder: str
    kind: str  # "tu", "kb" or "sdf"
    task: str = "graph classification"
    size: str = ""

    def path(self, name: str) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"dataset {name} ships with the package {self.package!r}, which is not "
                                    "installed (pip install 'liftnn[data]')")
        path = Path(next(iter(spec.submodule_search_locations))) / self.folder
        if not path.exists():
            raise FileNotFoundError(f"dataset {name}: {path} is missing from the installed {self.package!r}")
        return path


KB = "link prediction"
UNLABELLED = "none (unlabelled)"
BUNDLED = {
    "MUTAG": Bundled("grakel", "tests/data/MUTAG", "tu", size="188 molecules"),
    "NATIONS": Bundled("pykeen", "datasets/nations", "kb", KB, "14 entities, 55 relations, 1,992 triples"),
    "KINSHIPS": Bundled("pykeen", "datasets/kinships", "kb", KB, "104 entities, 25 relations, 10,686 triples"),
    "UMLS": Bundled("pykeen", "datasets/umls", "kb", KB, "135 entities, 46 relations, 6,529 triples"),
    "NCI200": Bundled("rdkit", "Data/NCI/first_200.props.sdf", "sdf", UNLABELLED, "200 molecules (SDF)"),
}
#: TUDataset sets fetched on demand (name -> size); the URL and checksums live in :mod:`.download`.
DOWNLOADABLE = {"PTC_MR": "344 molecules", "NCI1": "4,110 molecules", "NCI109": "4,127 molecules"}


def catalogue() -> list[dict[str, str]]:
    """Every dataset known by name: ``name``, ``task``, ``size``, ``source``, ``bundled``
    (``yes``: an installed package has it; ``no``: the package is missing; ``download``:
    fetched on first use; ``cached``: already fetched)."""
    from .download import cache_dir, is_cached

    rows = []
    for name, b in BUNDLED.items():
        installed = importlib.util.find_spec(b.package) is not None
        rows.append({"name": name, "task": b.task, "size": b.size, "source": f"package {b.package}",
                     "bundled": "yes" if installed else f"no (pip install {b.package})"})
    for name, size in DOWNLOADABLE.items():
        rows.append({"name": name, "task": "graph classification", "size": size, "source": "TUDataset (download)",
                     "bundled": "cached" if is_cached(name, cache_dir()) else "download"})
    return rows


def require_labels(dataset: object) -> None:
    """``ValueError`` when ``dataset`` names a bundled set without labels (it cannot be trained on)."""
    key = str(dataset).upper()
    if key in BUNDLED and BUNDLED[key].task == UNLABELLED and not Path(str(dataset)).exists():
        raise ValueError(f"{key} has no labels: it can be lifted (liftnn info / compress) but not trained on; "
                         "see `liftnn datasets` for labelled sets")


def bundled_path(name: str) -> Path:
    """Where a bundled dataset lies in its installed package."""
    return BUNDLED[name.upper()].path(name.upper())


def load(dataset: str | Path) -> GraphSet | KnowledgeBase:
    """A graph set or a knowledge base from a path or a bundled name.

    Paths: a TUDataset folder, a folder with ``train.txt`` triples, an NCI-GI50
    line file, a ``.csv`` of SMILES (columns ``smiles``, ``label``) or an ``.sdf``.
    """
    from .kb import read_triples

    key = str(dataset).upper()
    if key in DOWNLOADABLE and not Path(dataset).exists():
        return read_tu(fetch(key), key)
    if key in BUNDLED and not Path(dataset).exists():
        b = BUNDLED[key]
        path = b.path(key)
        if b.kind == "tu":
            return read_tu(path, key)
        if b.kind == "kb":
            return read_triples(path, key.lower())
        from .chem import read_sdf

        return read_sdf(path)
    path = Path(dataset)
    if path.is_dir():
        if (path / "train.txt").exists():
            return read_triples(path)
        raw = path / "raw"
        if raw.is_dir() and not any(path.glob("*_A.txt")):  # a PyG TUDataset root: <root>/<name>/raw/<name>_A.txt
            names = [p.name[: -len("_A.txt")] for p in raw.glob("*_A.txt")]
            if len(names) != 1:
                raise FileNotFoundError(f"{raw}: expected the files of one TU dataset (NAME_A.txt, ...), found "
                                        f"{names or 'none'}")
            return read_tu(raw, names[0])
        return read_tu(path)
    if path.is_file():
        if path.suffix in (".pt", ".pth"):
            from .pyg import read_pyg_file

            return read_pyg_file(path)
        if path.suffix == ".csv":
            from .chem import read_smiles

            return read_smiles(path)
        if path.suffix in (".sdf", ".sd"):
            from .chem import read_sdf

            return read_sdf(path)
        return read_nci_gi50(path)
    raise FileNotFoundError(f"no such dataset: {dataset} (a TU, PyG or triples folder, a PyG .pt, NCI-GI50, "
                            f"SMILES or SDF file, or one of: {', '.join([*BUNDLED, *DOWNLOADABLE])})")


def load_graphs(dataset: str | Path) -> GraphSet:
    """Like :func:`load`, for graph datasets only."""
    data = load(dataset)
    if not isinstance(data, GraphSet):
        raise ValueError(f"{dataset} is a knowledge base, not a set of graphs")
    return data
