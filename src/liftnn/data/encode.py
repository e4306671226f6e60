"""Datasets as facts for relational templates.

Graphs (:class:`GraphSet`) use the molecule encoding of the model zoo: one type
fact per node (``car(a)``), ``bond(a, b, e)`` per directed edge ``e``, one type fact
per edge (``b_ar(e)``) and one query ``predict`` per graph with its label. Real-valued
features become valued facts ``[x_1, ..., x_F] feat(a)`` and ``[...] edge_feat(e)``.
Knowledge bases use ``r(R, S, O)`` facts in one shared example and queries
``predict(S, R, O)``.
"""

from __future__ import annotations

import re

import numpy as np

from ..logic.facts import FactBase, QuerySet
from ..logic.relations import Symbols
from .graphs import GraphSet

_NAME = re.compile(r"^[a-z][A-Za-z0-9_]*$")


def predicate_name(name: str, prefix: str = "t_") -> str:
    """A valid predicate name for a type label (``1_bond`` -> ``t_1_bond``)."""
    if _NAME.match(name):
        return name
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


def node_type_predicates(data: GraphSet) -> list[str]:
    return [predicate_name(t) for t in data.node_types]


def edge_type_predicates(data: GraphSet) -> list[str]:
    return [predicate_name(t, "b_") for t in data.edge_types]


def _check_predicates(data: GraphSet) -> None:
    """Distinct type names must stay distinct predicates (``1_bond`` and ``t_1_bond`` would not)."""
    seen: dict[str, str] = {}
    for kind, names, preds in (("node", data.node_types, node_type_predicates(data)),
                               ("edge", data.edge_types, edge_type_predicates(data))):
        for name, pred in zip(names, preds, strict=True):
            if pred in seen:
                raise ValueError(f"{data.name}: {kind} type {name!r} and {seen[pred]} both become the predicate "
                                 f"{pred}/1; rename one of them")
            seen[pred] = f"{kind} type {name!r}"


FEATURES = ("feat", 1)
EDGE_FEATURES = ("edge_feat", 1)


def _value_ids(fb: FactBase, rows: np.ndarray) -> np.ndarray:
    """Register each distinct feature row once as a fact value; the value id of every row."""
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    base = len(fb.values)
    fb.values.extend(uniq)
    return base + inverse.reshape(-1).astype(np.int64)


def graph_facts(data: GraphSet) -> tuple[FactBase, QuerySet]:
    """Facts and ``predict`` queries of a graph set (vectorised; constants ``a<i>``, ``e<j>``)."""
    _check_predicates(data)
    n, m = data.num_nodes, data.num_edges
    symbols = Symbols()
    symbols.names = [f"a{i}" for i in range(n)] + [f"e{j}" for j in range(m)]
    symbols.ids = {name: i for i, name in enumerate(symbols.names)}
    fb = FactBase(symbols, num_examples=data.num_graphs)
    nodes = np.arange(n, dtype=np.int64)
    for t, pred in enumerate(node_type_predicates(data)):
        sel = data.node_type == t
        fb.add((pred, 1), np.stack([data.graph[sel], nodes[sel]], axis=1))
    src, dst = data.edge_index
    edge_ids = n + np.arange(m, dtype=np.int64)
    fb.add(("bond", 3), np.stack([data.graph[src], src, dst, edge_ids], axis=1))
    for t, pred in enumerate(edge_type_predicates(data)):
        sel = data.edge_type == t
        fb.add((pred, 1), np.stack([data.graph[src[sel]], edge_ids[sel]], axis=1))
    if data.node_features is not None:
        fb.add(FEATURES, np.stack([data.graph, nodes], axis=1), _value_ids(fb, data.node_features))
    if data.edge_features is not None:
        fb.add(EDGE_FEATURES, np.stack([data.graph[src], edge_ids], axis=1), _value_ids(fb, data.edge_features))
    queries = QuerySet(
        signatures=[("predict", 0)] * data.num_graphs,
        rows=[np.array([g], dtype=np.int64) for g in range(data.num_graphs)],
        target=data.y.astype(np.float64),
        where=[f"{data.name}:graph {g}" for g in range(data.num_graphs)],
    )
    return fb, queries
