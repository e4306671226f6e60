"""TUDataset folders (``DS_A.txt``, ``DS_graph_indicator.txt``, ``DS_graph_labels.txt``,
``DS_node_labels.txt``, optional ``DS_edge_labels.txt``), 1-based node ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .graphs import GraphSet


def _read_ints(path: Path, columns: int) -> np.ndarray:
    rows = []
    with path.open() as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                vals = [int(float(v)) for v in line.replace(",", " ").split()]
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected {columns} integer(s), got {line.strip()!r}") from None
            if len(vals) != columns:
                raise ValueError(f"{path}:{lineno}: expected {columns} integer(s), got {line.strip()!r}")
            rows.append(vals)
    return np.asarray(rows, dtype=np.int64).reshape(-1, columns)


def read_tu(folder: str | Path, name: str | None = None) -> GraphSet:
    """Read a TUDataset folder; binary labels become ``0.0``/``1.0`` (the larger label is 1)."""
    folder = Path(folder)
    name = name or folder.name
    if not (folder / f"{name}_A.txt").exists():
        raise FileNotFoundError(f"{folder}: no {name}_A.txt (not a TUDataset folder)")
    edges = _read_ints(folder / f"{name}_A.txt", 2) - 1
    graph = _read_ints(folder / f"{name}_graph_indicator.txt", 1)[:, 0] - 1
    labels = _read_ints(folder / f"{name}_graph_labels.txt", 1)[:, 0]
    node_labels = _read_ints(folder / f"{name}_node_labels.txt", 1)[:, 0]
    if node_labels.size != graph.size:
        raise ValueError(f"{folder}: {node_labels.size} node labels for {graph.size} nodes")
    edge_file = folder / f"{name}_edge_labels.txt"
    edge_labels = _read_ints(edge_file, 1)[:, 0] if edge_file.exists() else np.zeros(len(edges), np.int64)
    if edge_labels.size != len(edges):
        raise ValueError(f"{edge_file}: {edge_labels.size} edge labels for {len(edges)} edges")
    classes = np.unique(labels)
    y = (labels == classes.max()).astype(np.float64) if classes.size == 2 else np.searchsorted(classes, labels)
    ntypes, node_type = np.unique(node_labels, return_inverse=True)
    etypes, edge_type = np.unique(edge_labels, return_inverse=True)
    return GraphSet(
        node_type=node_type.astype(np.int64),
        graph=graph,
        edge_index=edges.T.copy(),
        edge_type=edge_type.astype(np.int64),
        y=np.asarray(y, dtype=np.float64),
        node_types=tuple(f"t{t}" for t in ntypes),
        edge_types=tuple(f"e{t}" for t in etypes),
        name=name,
    )
