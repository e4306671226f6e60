"""Lifting: lossless (exact) and value-based compression of computation graphs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping

import numpy as np

from ..engine.params import Shape
from ..graph import Graph
from .exact import exact_pass
from .rebuild import rebuild
from .report import Report
from .value import round_significant, value_pass

METHODS = ("exact", "value")


class ValueClashWarning(UserWarning):
    """Value lifting merged nodes that are not structurally equivalent."""

SCOPES = ("sample", "dataset")


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
            the graph's declared shapes, scalars for the rest).
        seed: seed of the value method's weight draws.

    Returns:
        ``(lifted graph, Report)``; evaluating the lifted graph yields the
        original graph's output rows in the original order.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if inits < 1:
        raise ValueError(f"inits must be >= 1, got {inits}")
    t0 = time.perf_counter()
    lifted, pruned, collisions = _exact_fixpoint(graph, scope, prune)
    clashes = 0
    if method == "value":
        rep, edges, classes = value_pass(lifted, shapes, digits, inits, seed, scope)
        clashes = lifted.num_nodes - classes
        if clashes:
            warnings.warn(
                f"value lifting merged {clashes} node(s) that exact lifting keeps apart: lossless only if they "
                "are functionally equivalent (piecewise activations such as relu or max can agree on every "
                "draw and differ elsewhere); check with liftnn.verify or use method='exact'",
                ValueClashWarning,
                stacklevel=2,
            )
        lifted, more, _ = _exact_fixpoint(rebuild(lifted, rep, edges), scope, prune)
        pruned += more
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
        clashes=clashes,
        pruned=pruned,
        hash_collisions=collisions,
    )
    return lifted, report


def _exact_fixpoint(graph: Graph, scope: str, prune: bool) -> tuple[Graph, int, int]:
    """Exact passes until nothing changes.

    One pass merges everything whose equivalence shows at its own topological
    level; pruning an identity (or folding ``max(a, a)`` into one) can lower a
    node's level below the level it was compared at, and the next pass, on the
    already smaller graph, catches those merges. Iterating makes the result a
    fixpoint, so lifting is idempotent. Merging never changes a level, so a
    pass that pruned nothing needs no successor.
    """
    pruned = collisions = 0
    while True:
        res = exact_pass(graph, scope, prune)
        pruned += res.pruned
        collisions += res.collisions
        if np.array_equal(res.rep, np.arange(graph.num_nodes)) and res.edges.parent.size == graph.num_edges:
            return graph, pruned, collisions
        graph = rebuild(graph, res.rep, res.edges)
        if not res.pruned:
            return graph, pruned, collisions


__all__ = ["Report", "ValueClashWarning", "compress", "exact_pass", "rebuild", "round_significant", "value_pass"]
