"""Molecules from SMILES (CSV) or SDF files through RDKit (``pip install 'liftnn[chem]'``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .graphs import GraphSet
from .text import fail, read_text


def _rdkit():
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
            fail(loc, None, "RDKit cannot parse this molecule")
        if mol.GetNumAtoms() == 0:
            fail(loc, None, "the molecule has no atoms")
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
    """A CSV file with a SMILES column and a numeric label column; errors name the file and line."""
    chem = _rdkit()
    path = Path(path)
    text = read_text(path, "SMILES file")
    mols, labels, where = [], [], []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for col in (smiles, label):
        if reader.fieldnames is None or col not in reader.fieldnames:
            fail(path, 1, f"no column {col!r} (columns: {reader.fieldnames}); the first line must name the columns")
    try:
        for row in reader:
            lineno = reader.line_num
            if None in row or any(row[c] is None for c in (smiles, label)):
                fail(path, lineno, f"expected {len(reader.fieldnames)} columns ({', '.join(reader.fieldnames)}), "
                     "the row has another number")
            try:
                value = float(row[label])
            except ValueError:
                fail(path, lineno, f"label {row[label]!r} is not a number")
            if value != value or value in (float("inf"), float("-inf")):
                fail(path, lineno, f"label {row[label]!r} is not a finite number")
            if not row[smiles].strip():
                fail(path, lineno, f"the {smiles!r} cell is empty: give a SMILES string or remove the row")
            labels.append(value)
            mols.append(chem.MolFromSmiles(row[smiles].strip()))
            where.append(f"{path}:{lineno}")
    except csv.Error as err:
        fail(path, reader.line_num, f"malformed CSV: {err}")
    if not mols:
        fail(path, None, "the dataset is empty (no rows after the header)")
    return molecules_to_graphs(mols, labels, path.name, where)


def _record_lines(text: str) -> list[int]:
    """The first line of every SDF record (records end with a ``$$$$`` line)."""
    starts, line = [1], 1
    for line, content in enumerate(text.splitlines(), start=1):
        if content.startswith("$$$$"):
            starts.append(line + 1)
    return starts


def read_sdf(path: str | Path, label: str | None = None) -> GraphSet:
    """An SDF file; ``label`` names a numeric property (default: all labels 0).
    Errors name the file and the first line of the molecule's record."""
    chem = _rdkit()
    path = Path(path)
    text = read_text(path, "SDF file")
    if not text.strip():
        fail(path, None, "the file is empty: no molecules")
    starts = _record_lines(text)
    supplier = chem.SDMolSupplier()
    supplier.SetData(text, removeHs=True)
    mols, labels, where = [], [], []
    for i in range(len(supplier)):
        loc = f"{path}:{starts[min(i, len(starts) - 1)]}"
        mol = supplier[i]
        where.append(f"{loc}: molecule {i + 1}")
        mols.append(mol)
        value = 0.0
        if label is not None and mol is not None:
            if not mol.HasProp(label):
                fail(path, starts[min(i, len(starts) - 1)], f"molecule {i + 1} has no property {label!r}")
            try:
                value = float(mol.GetProp(label))
            except ValueError:
                fail(path, starts[min(i, len(starts) - 1)],
                     f"molecule {i + 1}: property {label!r} = {mol.GetProp(label)!r} is not a number")
        labels.append(value)
    if not mols:
        fail(path, None, "no molecules (is it an SDF file?)")
    return molecules_to_graphs(mols, labels, path.name, where)
