"""A collection of attributed graphs (e.g. molecules) in flat arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GraphSet:
    """``G`` graphs with ``n`` nodes and ``m`` directed edges in total.

    Attributes:
        node_type: ``int64[n]`` index into :attr:`node_types` (e.g. an atom type).
        graph: ``int64[n]`` graph id of each node, non-decreasing.
        edge_index: ``int64[2, m]`` directed edges ``(source, target)`` (global node ids;
            an undirected bond appears in both directions).
        edge_type: ``int64[m]`` index into :attr:`edge_types` (e.g. a bond type).
        y: ``float64[G]`` the graph labels, or ``float64[G, T]`` for ``T`` tasks per graph, where
            NaN marks a value that was not measured (masked out of training losses and metrics;
            a single label per graph must be finite).
        node_types, edge_types: the type names.
        name: where the set came from.
        node_features: optional ``float64[n, F]`` real-valued node features (e.g. PyG's
            continuous ``x``), beside the types; they enter models as valued facts.
        edge_features: optional ``float64[m, F_e]`` real-valued edge features.
    """

    node_type: np.ndarray
    graph: np.ndarray
    edge_index: np.ndarray
    edge_type: np.ndarray
    y: np.ndarray
    node_types: tuple[str, ...]
    edge_types: tuple[str, ...]
    name: str = ""
    node_features: np.ndarray | None = None
    edge_features: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Consistency of the arrays: shapes, id ranges, graphs in order and none without nodes."""
        n, m, g = self.node_type.shape[0], self.edge_type.shape[0], self.y.shape[0]
        where = self.name or "GraphSet"
        if self.graph.shape != (n,) or self.edge_index.shape != (2, m) or self.y.ndim not in (1, 2):
            raise ValueError(f"{where}: inconsistent GraphSet array shapes (node_type {self.node_type.shape}, "
                             f"graph {self.graph.shape}, edge_index {self.edge_index.shape}, edge_type "
                             f"{self.edge_type.shape}, y {self.y.shape})")
        if g == 0:
            raise ValueError(f"{where}: the dataset is empty")
        if self.y.ndim == 2:
            _check_tasks(self.y, where)
        elif not np.all(np.isfinite(self.y)):
            raise ValueError(f"{where}: graph {int(np.flatnonzero(~np.isfinite(self.y))[0])} has a non-finite label")
        if m and (self.edge_index.min() < 0 or self.edge_index.max() >= n):
            raise ValueError(f"{where}: an edge refers to a node that does not exist")
        for what, arr, names in (("node", self.node_type, self.node_types), ("edge", self.edge_type, self.edge_types)):
            if arr.size and (arr.min() < 0 or arr.max() >= len(names)):
                raise ValueError(f"{where}: a {what} type id lies outside 0..{len(names) - 1}")
        if n and (np.any(np.diff(self.graph) < 0) or self.graph[0] < 0 or self.graph[-1] >= g):
            raise ValueError(f"{where}: node graph ids must be non-decreasing in 0..{g - 1}")
        empty = np.flatnonzero(np.bincount(self.graph, minlength=g) == 0)
        if empty.size:
            raise ValueError(f"{where}: graph {int(empty[0])} has no nodes ({empty.size} graph(s) without nodes)")
        if m and np.any(self.graph[self.edge_index[0]] != self.graph[self.edge_index[1]]):
            raise ValueError(f"{where}: an edge joins nodes of two different graphs")
        for what, feats, count in (("node", self.node_features, n), ("edge", self.edge_features, m)):
            if feats is None:
                continue
            if feats.ndim != 2 or feats.shape[0] != count:
                raise ValueError(f"{where}: {what}_features has shape {feats.shape}; expected ({count}, F)")
            if not np.all(np.isfinite(feats)):
                row = int(np.flatnonzero(~np.isfinite(feats).all(1))[0])
                raise ValueError(f"{where}: {what} {row} has a non-finite (NaN or infinite) feature")

    @property
    def num_tasks(self) -> int:
        """Labels per graph: 1, or ``T`` for multi-task ``y[G, T]``."""
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    @property
    def num_graphs(self) -> int:
        return int(self.y.shape[0])

    @property
    def num_nodes(self) -> int:
        return int(self.node_type.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_type.shape[0])

    def stats(self) -> dict[str, object]:
        return {
            "name": self.name,
            "graphs": self.num_graphs,
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "node_types": len(self.node_types),
            "edge_types": len(self.edge_types),
            "positive": int((self.y > 0.5).sum()),
            **({} if self.y.ndim == 1 else {"tasks": self.num_tasks, "measured": int((~np.isnan(self.y)).sum())}),
            **({} if self.node_features is None else {"node_features": int(self.node_features.shape[1])}),
            **({} if self.edge_features is None else {"edge_features": int(self.edge_features.shape[1])}),
        }

    def subset(self, graphs: np.ndarray) -> GraphSet:
        """The graphs with the given ids, renumbered ``0..len(graphs)-1`` in that order."""
        graphs = np.asarray(graphs, dtype=np.int64)
        new_graph = np.full(self.num_graphs, -1, dtype=np.int64)
        new_graph[graphs] = np.arange(graphs.size)
        keep = np.flatnonzero(new_graph[self.graph] >= 0)
        keep = keep[np.argsort(new_graph[self.graph[keep]], kind="stable")]
        new_node = np.full(self.num_nodes, -1, dtype=np.int64)
        new_node[keep] = np.arange(keep.size)
        e = np.flatnonzero(new_node[self.edge_index[0]] >= 0)
        return GraphSet(
            node_type=self.node_type[keep],
            graph=new_graph[self.graph[keep]],
            edge_index=new_node[self.edge_index[:, e]],
            edge_type=self.edge_type[e],
            y=self.y[graphs],
            node_types=self.node_types,
            edge_types=self.edge_types,
            name=self.name,
            node_features=None if self.node_features is None else self.node_features[keep],
            edge_features=None if self.edge_features is None else self.edge_features[e],
        )


def _check_tasks(y: np.ndarray, where: str) -> None:
    """Multi-task labels: NaN (not measured) allowed, infinities not."""
    inf = np.argwhere(np.isinf(y))
    if inf.size:
        raise ValueError(f"{where}: graph {int(inf[0, 0])} has an infinite label on task {int(inf[0, 1])}")
