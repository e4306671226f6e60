"""Molecules from SMILES (CSV) or SDF files through RDKit (``pip install 'liftnn[chem]'``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .graphs import GraphSet


def _rdkit():  # noqa: ANN202
    try:
        from rdkit import Chem, RDLogger
    except ImportError:
        raise ImportError("reading SMILES/SDF needs RDKit: pip install 'liftnn[chem]'") from None
    RDLogger.DisableLog("rdApp.*")
    return Chem


def molecules_to_graphs(mols: list, labels: list[float], name: str, where: list[str]) -> GraphSet:
    """Atoms typed by element (lower case, ``_ar`` when aromatic), bonds by type, both directions."""
    node_types: dict[str, int] = {}
    edge_types: dict[str, int] = {}
    ntype, graph, src, dst, etype = [], [], [], [], []
    for g, (mol, loc) in enumerate(zip(mols, where, strict=True)):
        if mol is None:
            raise ValueError(f"{loc}: RDKit cannot parse this molecule")
        base = len(ntype)
        for atom in mol.GetAtoms():
            t = atom.GetSymbol().lower() + ("_ar" if atom.GetIsAromatic() else "")
            ntype.append(node_types.setdefault(t, len(node_types)))
            graph.append(g)
        for bond in mol.GetBonds():
            t = str(bond.GetBondType()).lower()
            k = edge_types.setdefault(t, len(edge_types))
            a, b = base + bond.GetBeginAtomIdx(), base + bond.GetEndAtomIdx()
            src += [a, b]
            dst += [b, a]
            etype += [k, k]
    return GraphSet(np.asarray(ntype, np.int64), np.asarray(graph, np.int64), np.asarray([src, dst], np.int64),
                    np.asarray(etype, np.int64), np.asarray(labels, np.float64), tuple(node_types),
                    tuple(edge_types), name)


def read_smiles(path: str | Path, smiles: str = "smiles", label: str = "label") -> GraphSet:
    """A CSV file with a SMILES column and a numeric label column."""
    chem = _rdkit()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such SMILES file: {path}")
    mols, labels, where = [], [], []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        for col in (smiles, label):
            if reader.fieldnames is None or col not in reader.fieldnames:
                raise ValueError(f"{path}:1: no column {col!r} (columns: {reader.fieldnames})")
        for lineno, row in enumerate(reader, start=2):
            try:
                labels.append(float(row[label]))
            except (TypeError, ValueError):
                raise ValueError(f"{path}:{lineno}: label {row[label]!r} is not a number") from None
            mols.append(chem.MolFromSmiles(row[smiles] or ""))
            where.append(f"{path}:{lineno}")
    if not mols:
        raise ValueError(f"{path}: the dataset is empty")
    return molecules_to_graphs(mols, labels, path.name, where)


def read_sdf(path: str | Path, label: str | None = None) -> GraphSet:
    """An SDF file; ``label`` names a numeric property (default: all labels 0)."""
    chem = _rdkit()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such SDF file: {path}")
    mols, labels, where = [], [], []
    for i, mol in enumerate(chem.SDMolSupplier(str(path), removeHs=True)):
        where.append(f"{path}: molecule {i + 1}")
        mols.append(mol)
        value = 0.0
        if label is not None and mol is not None:
            if not mol.HasProp(label):
                raise ValueError(f"{path}: molecule {i + 1} has no property {label!r}")
            value = float(mol.GetProp(label))
        labels.append(value)
    if not mols:
        raise ValueError(f"{path}: the dataset is empty")
    return molecules_to_graphs(mols, labels, path.name, where)
