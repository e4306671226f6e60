"""Resolve a dataset argument: a path, or the name of a dataset an installed package ships.

=========  ====================  ============================================
name       shipped by            what
=========  ====================  ============================================
MUTAG      ``grakel``            188 molecules, TUDataset format
NATIONS    ``pykeen``            knowledge base, 14 entities, 55 relations
KINSHIPS   ``pykeen``            knowledge base, 104 entities, 25 relations
UMLS       ``pykeen``            knowledge base, 135 entities, 46 relations
NCI200     ``rdkit``             200 NCI molecules (SDF, unlabelled)
=========  ====================  ============================================

``pip install 'liftnn[data]'`` installs the shipping packages.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .graphs import GraphSet
from .kb import KnowledgeBase, read_triples
from .nci import read_nci_gi50
from .tu import read_tu


@dataclass(frozen=True)
class Bundled:
    """A dataset inside an installed package."""

    package: str
    folder: str
    kind: str  # "tu", "kb" or "sdf"

    def path(self, name: str) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"dataset {name} ships with the package {self.package!r}, which is not "
                                    "installed (pip install 'liftnn[data]')")
        path = Path(next(iter(spec.submodule_search_locations))) / self.folder
        if not path.exists():
            raise FileNotFoundError(f"dataset {name}: {path} is missing from the installed {self.package!r}")
        return path


BUNDLED = {
    "MUTAG": Bundled("grakel", "tests/data/MUTAG", "tu"),
    "NATIONS": Bundled("pykeen", "datasets/nations", "kb"),
    "KINSHIPS": Bundled("pykeen", "datasets/kinships", "kb"),
    "UMLS": Bundled("pykeen", "datasets/umls", "kb"),
    "NCI200": Bundled("rdkit", "Data/NCI/first_200.props.sdf", "sdf"),
}


def bundled_path(name: str) -> Path:
    """Where a bundled dataset lies in its installed package."""
    return BUNDLED[name.upper()].path(name.upper())


def load(dataset: str | Path) -> GraphSet | KnowledgeBase:
    """A graph set or a knowledge base from a path or a bundled name.

    Paths: a TUDataset folder, a folder with ``train.txt`` triples, an NCI-GI50
    line file, a ``.csv`` of SMILES (columns ``smiles``, ``label``) or an ``.sdf``.
    """
    key = str(dataset).upper()
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
        return read_triples(path) if (path / "train.txt").exists() else read_tu(path)
    if path.is_file():
        if path.suffix == ".csv":
            from .chem import read_smiles

            return read_smiles(path)
        if path.suffix in (".sdf", ".sd"):
            from .chem import read_sdf

            return read_sdf(path)
        return read_nci_gi50(path)
    raise FileNotFoundError(f"no such dataset: {dataset} (a TU or triples folder, an NCI-GI50, SMILES or SDF "
                            f"file, or one of: {', '.join(BUNDLED)})")


def load_graphs(dataset: str | Path) -> GraphSet:
    """Like :func:`load`, for graph datasets only."""
    data = load(dataset)
    if not isinstance(data, GraphSet):
        raise ValueError(f"{dataset} is a knowledge base, not a set of graphs")
    return data
