"""TUDataset folders (``DS_A.txt``, ``DS_graph_indicator.txt``, ``DS_graph_labels.txt``,
``DS_node_labels.txt``, optional ``DS_edge_labels.txt``), 1-based node ids.

The files must agree with each other, and every disagreement is an error naming the
file and line: the graph indicator numbers graphs ``1..G`` in non-decreasing order
without gaps; there are exactly ``G`` graph labels, one node label per indicator line,
one edge label per edge; every edge joins two nodes ``1..n`` of the same graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .graphs import GraphSet
from .text import fail, read_lines


def _int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


def _read_ints(path: Path, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """``int64[k, columns]`` rows and ``int64[k]`` their line numbers (blank lines skipped)."""
    rows, lines = [], []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            vals = [_int(v) for v in line.replace(",", " ").split()]
        except ValueError:
            vals = []
        if len(vals) != columns:
            fail(path, lineno, f"expected {columns} integer(s), got {line.strip()!r}")
        rows.append(vals)
        lines.append(lineno)
    return np.asarray(rows, dtype=np.int64).reshape(-1, columns), np.asarray(lines, dtype=np.int64)


def _check_indicator(path: Path, graph: np.ndarray, lines: np.ndarray) -> int:
    """Graph ids ``1..G``, non-decreasing, no id skipped; returns ``G``."""
    if graph.size == 0:
        fail(path, None, "no nodes: the dataset is empty")
    if graph[0] != 1:
        fail(path, int(lines[0]), f"the first node belongs to graph {graph[0]}; graph ids start at 1")
    step = np.diff(graph)
    bad = np.flatnonzero((step < 0) | (step > 1))
    if bad.size:
        i = int(bad[0]) + 1
        what = (f"graph {graph[i]} after graph {graph[i - 1]}: nodes must be listed graph by graph"
                if step[i - 1] < 0 else f"graph id jumps from {graph[i - 1]} to {graph[i]}: graph(s) "
                f"{graph[i - 1] + 1}..{graph[i] - 1} would have no nodes")
        fail(path, int(lines[i]), what)
    return int(graph[-1])


def _check_count(path: Path, lines: np.ndarray, have: int, want: int, what: str, per: str) -> None:
    if have < want:
        fail(path, None, f"{have} {what} for {want} {per}: every one needs one (is the file truncated?)")
    if have > want:
        fail(path, int(lines[want]), f"{what} number {want + 1}, but there are only {want} {per}")


def read_tu(folder: str | Path, name: str | None = None) -> GraphSet:
    """Read a TUDataset folder; binary labels become ``0.0``/``1.0`` (the larger label is 1)."""
    folder = Path(folder)
    name = name or folder.name
    if not (folder / f"{name}_A.txt").exists():
        raise FileNotFoundError(f"{folder}: no {name}_A.txt (not a TUDataset folder)")
    a_file, ind_file = folder / f"{name}_A.txt", folder / f"{name}_graph_indicator.txt"
    lab_file, nl_file = folder / f"{name}_graph_labels.txt", folder / f"{name}_node_labels.txt"
    edge_file = folder / f"{name}_edge_labels.txt"
    graph, ind_lines = _read_ints(ind_file, 1)
    num_graphs = _check_indicator(ind_file, graph[:, 0], ind_lines)
    n = graph.shape[0]
    labels, lab_lines = _read_ints(lab_file, 1)
    _check_count(lab_file, lab_lines, labels.shape[0], num_graphs, "graph labels",
                 f"graphs in {ind_file.name} (ids 1..{num_graphs})")
    node_labels, nl_lines = _read_ints(nl_file, 1)
    _check_count(nl_file, nl_lines, node_labels.shape[0], n, "node labels", f"nodes in {ind_file.name}")
    edges, a_lines = _read_ints(a_file, 2)
    bad = np.flatnonzero((edges < 1).any(axis=1) | (edges > n).any(axis=1))
    if bad.size:
        fail(a_file, int(a_lines[bad[0]]), f"edge {tuple(edges[bad[0]].tolist())} names a node outside 1..{n} "
             f"({ind_file.name} lists {n} nodes)")
    edges = edges - 1
    graph = graph[:, 0] - 1
    bad = np.flatnonzero(graph[edges[:, 0]] != graph[edges[:, 1]])
    if bad.size:
        a, b = edges[bad[0]]
        fail(a_file, int(a_lines[bad[0]]),
             f"edge ({a + 1}, {b + 1}) joins graph {graph[a] + 1} and graph {graph[b] + 1}")
    if edge_file.exists():
        edge_labels, el_lines = _read_ints(edge_file, 1)
        _check_count(edge_file, el_lines, edge_labels.shape[0], len(edges), "edge labels", f"edges in {a_file.name}")
        edge_labels = edge_labels[:, 0]
    else:
        edge_labels = np.zeros(len(edges), np.int64)
    labels = labels[:, 0]
    classes = np.unique(labels)
    y = (labels == classes.max()).astype(np.float64) if classes.size == 2 else np.searchsorted(classes, labels)
    ntypes, node_type = np.unique(node_labels[:, 0], return_inverse=True)
    etypes, edge_type = np.unique(edge_labels, return_inverse=True)
    return GraphSet(
        node_type=node_type.astype(np.int64).reshape(-1),
        graph=graph,
        edge_index=edges.T.copy(),
        edge_type=edge_type.astype(np.int64).reshape(-1),
        y=np.asarray(y, dtype=np.float64),
        node_types=tuple(f"t{t}" for t in ntypes),
        edge_types=tuple(f"e{t}" for t in etypes),
        name=name,
    )
