"""NCI-GI50 molecule files: one molecule per line.

A line is a ``+``/``-`` label followed by comma-separated ground facts: atom
types on integer atom ids (``car(29)``) and bonds listed in both directions
(``1_bond(14, 13)``, ``ar_bond(...)``). Plain or gzip-compressed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .graphs import GraphSet
from .text import fail, read_lines

_FACT = re.compile(r"\s*([A-Za-z0-9_]+)\(\s*([^()]*?)\s*\)\s*(?:,|$)")


def node_types_of(types: dict[str, int], t: int) -> str:
    return next(name for name, i in types.items() if i == t)


def read_nci_gi50(path: str | Path) -> GraphSet:
    """Read an NCI-GI50 file into a :class:`GraphSet` (atoms typed, bonds typed).

    Errors (:class:`~liftnn.data.text.DatasetError`) name the file and line of a malformed
    entry; a truncated or non-gzip ``.gz`` and undecodable bytes are errors too.
    """
    path = Path(path)
    return parse_nci_lines(path, enumerate(read_lines(path), start=1), {}, {})


def parse_nci_lines(path: Path, lines: Iterable[tuple[int, str]], node_types: dict[str, int],
                    edge_types: dict[str, int]) -> GraphSet:
    """Parse numbered lines ``(line number, text)`` of the NCI-GI50 file ``path`` (blank lines
    skipped). Type names are numbered in ``node_types`` / ``edge_types``, which may come
    pre-filled (new names are added, first appearance first)."""
    ntype: list[int] = []
    ngraph: list[int] = []
    edges: list[tuple[int, int, int]] = []
    labels: list[float] = []
    for lineno, line in lines:
        line = line.strip()
        if not line:
            continue
        if line[0] not in "+-":
            fail(path, lineno, "a line must start with the label '+' or '-'")
        body = line[1:].strip().rstrip(",")
        matches = list(_FACT.finditer(body))
        if not matches or sum(len(m.group(0)) for m in matches) != len(body):
            fail(path, lineno, "malformed fact list: expected facts like car(1), ar_bond(1, 2) separated by commas")
        atoms: dict[str, int] = {}
        bonds: list[tuple[str, str, int]] = []
        for m in matches:
            pred, args = m.group(1), [a.strip() for a in m.group(2).split(",")]
            if len(args) == 1 and args[0]:
                if args[0] in atoms:
                    first = node_types_of(node_types, ntype[atoms[args[0]]])
                    fail(path, lineno, f"atom {args[0]} has two types ({first} and {pred})")
                atoms[args[0]] = len(ntype)
                ntype.append(node_types.setdefault(pred, len(node_types)))
                ngraph.append(len(labels))
            elif len(args) == 2 and pred.endswith("bond") and all(args):
                bonds.append((args[0], args[1], edge_types.setdefault(pred, len(edge_types))))
            else:
                fail(path, lineno, f"unexpected fact {m.group(0).strip().rstrip(',')}: atom types take one atom id, "
                     "bonds (…_bond) two")
        for a, b, t in bonds:
            if a not in atoms or b not in atoms:
                fail(path, lineno, f"bond ({a}, {b}) refers to an atom without a type")
            edges.append((atoms[a], atoms[b], t))
        labels.append(1.0 if line[0] == "+" else 0.0)
    if not labels:
        fail(path, None, "the dataset is empty (no molecule lines)")
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 3)
    return GraphSet(
        node_type=np.asarray(ntype, dtype=np.int64),
        graph=np.asarray(ngraph, dtype=np.int64),
        edge_index=e[:, :2].T.copy(),
        edge_type=e[:, 2].copy(),
        y=np.asarray(labels, dtype=np.float64),
        node_types=tuple(node_types),
        edge_types=tuple(edge_types),
        name=path.name,
    )
