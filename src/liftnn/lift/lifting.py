"""``compress``: one exact pass, then (value method) one value pass and one exact pass again.

Every pass maps old nodes to their representatives (``rep``); rebuilding keeps the
representatives, renumbered in order, so a pass is the node map
``old -> new_id[rep[old]]`` and ``compress`` composes those maps into
:attr:`Report.node_map`: where each node of the input graph went.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ..engine.params import Shape
from ..graph import Graph
from .exact import exact_pass
from .rebuild import rebuild
from .report import Report
from .value import value_pass

METHODS = ("exact", "value")
SCOPES = ("sample", "dataset")
#: clashes named in the warning (all of them are in ``Report.clash_pairs``)
_SHOWN = 3


class ValueClashWarning(UserWarning):
    """Value lifting merged nodes that are not structurally equivalent."""


def compress(
    graph: Graph,
    method: str = "exact",
    digits: int = 12,
    inits: int = 1,
    scope: str = "sample",
    prune: bool = True,
    shapes: Mapping[str, Shape] | None = None,
    seed: int = 0,
) -> tuple[Graph, Report]:
    """Lift ``graph``: merge equivalent nodes and keep multiplicities on edges.

    Args:
        method: ``"exact"`` merges structurally equivalent nodes (lossless for
            any weights and activations); ``"value"`` additionally merges nodes
            whose values agree to ``digits`` significant digits under ``inits``
            random float64 weight draws (lossy if ``digits`` is too small).
        scope: ``"sample"`` merges only within a sample; ``"dataset"`` also
            across samples. Output rows and their samples are kept either way.
        prune: remove nodes that are exact identities (one unweighted input of
            multiplicity one, no bias, identity activation).
        shapes: weight shapes for the value method's random draws (default:
            the graph's declared shapes, scalars for the rest). The value-lifted
            graph declares these shapes for every label (``lifted.shapes``):
            its merges were decided for them.
        seed: seed of the value method's weight draws (``seed .. seed + inits - 1``).

    Returns:
        ``(lifted graph, Report)``; evaluating the lifted graph yields the
        original graph's output rows in the original order.
        ``report.node_map[i]`` is the lifted node that computes node ``i``'s value.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if not isinstance(inits, int | np.integer) or inits < 1:
        raise ValueError(f"inits must be an integer >= 1, got {inits!r}")
    if method == "value" and not 1 <= digits <= 17:
        raise ValueError(f"digits must lie in 1..17, got {digits!r}")
    t0 = time.perf_counter()
    lifted, node_map, pruned, collisions = _exact(graph, scope, prune)
    clash_pairs = np.zeros((0, 2), dtype=np.int64)
    assumed: dict[str, Shape] = {}
    if method == "value":
        res = value_pass(lifted, shapes, digits, inits, seed, scope)
        assumed, collisions = res.shapes, collisions + res.collisions
        clash_pairs = _clash_pairs(lifted, res.rep, node_map)
        if clash_pairs.size:
            warnings.warn(_clash_message(clash_pairs), ValueClashWarning, stacklevel=2)
        step = _node_map(res.rep)
        lifted, more_map, more, more_coll = _exact(rebuild(lifted, res.rep, res.edges), scope, prune)
        node_map, pruned, collisions = more_map[step[node_map]], pruned + more, collisions + more_coll
        lifted = replace(lifted, shapes={**lifted.shapes, **assumed}, _cache={})
    report = Report(
        method=method,
        scope=scope,
        digits=digits if method == "value" else None,
        inits=inits if method == "value" else None,
        prune=prune,
        samples=graph.num_samples,
        nodes_before=graph.num_nodes,
        nodes_after=lifted.num_nodes,
        edges_before=graph.num_edges,
        edges_after=lifted.num_edges,
        seconds=time.perf_counter() - t0,
        clashes=int(clash_pairs.shape[0]),
        pruned=pruned,
        hash_collisions=collisions,
        node_map=node_map,
        clash_pairs=clash_pairs,
        assumed_shapes=assumed,
    )
    return lifted, report


def _node_map(rep: np.ndarray) -> np.ndarray:
    """``old -> new`` id after rebuilding through ``rep`` (kept nodes renumbered in order)."""
    while True:  # representatives are kept nodes; follow a chain if a pass produced one
        nxt = rep[rep]
        if np.array_equal(nxt, rep):
            break
        rep = nxt
    return (np.cumsum(rep == np.arange(rep.size)) - 1)[rep]


def _clash_pairs(g: Graph, rep: np.ndarray, node_map: np.ndarray) -> np.ndarray:
    """``int64[k, 2]``: each value merge ``(node, into)`` in the ids of the graph given to
    ``compress`` (the lowest id that maps to each), lowest level first: the low ones are
    the causes, merges above them often follow from them."""
    merged = np.flatnonzero(rep != np.arange(rep.size))
    merged = merged[np.argsort(g.levels()[merged], kind="stable")]
    first = np.full(rep.size, node_map.size, dtype=np.int64)
    np.minimum.at(first, node_map, np.arange(node_map.size))
    return np.stack([first[merged], first[rep[merged]]], axis=1)


def _clash_message(pairs: np.ndarray) -> str:
    shown = ", ".join(f"node {a} into node {b}" for a, b in pairs[:_SHOWN].tolist())
    more = f" and {len(pairs) - _SHOWN} more" if len(pairs) > _SHOWN else ""
    return (
        f"value lifting merged {len(pairs)} node(s) that exact lifting keeps apart ({shown}{more}; all in "
        "report.clash_pairs, ids of the input graph): lossless only if they are functionally equivalent for every "
        "weight, and relu, max or weight shapes other than lifted.shapes can separate nodes that agreed on every "
        "draw; check with liftnn.verify(graph, lifted), which draws weights value lifting never used, or use "
        "method='exact'"
    )


def _exact(graph: Graph, scope: str, prune: bool) -> tuple[Graph, np.ndarray, int, int]:
    """One exact pass (a fixpoint: see :mod:`liftnn.lift.exact`), so lifting is idempotent; returns the
    graph, the node map, pruned and collisions. A pass that merges and folds nothing returns ``graph``."""
    res = exact_pass(graph, scope, prune)
    if np.array_equal(res.rep, np.arange(graph.num_nodes)) and res.edges.parent.size == graph.num_edges:
        return graph, np.arange(graph.num_nodes, dtype=np.int64), res.pruned, res.collisions
    return rebuild(graph, res.rep, res.edges), _node_map(res.rep), res.pruned, res.collisions
