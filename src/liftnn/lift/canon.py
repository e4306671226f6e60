"""Canonical edge lists: the shared core of every lifting pass.

For a *symmetric* parent (sum, mean, max, min, prod, registered symmetric
functions) the inputs form a multiset: they are sorted by (child, label) and
equal inputs are folded into one edge with multiplicity ``Σ c`` — or ``1``
for idempotent ``max``/``min``. An *ordered* parent keeps its inputs, in
order, unfolded. Two nodes with equal function, activation, bias and equal
canonical edge lists compute the same value for every weight assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._segments import lexsort_ints, run_starts
from ..graph import Graph, get_combine


@dataclass(frozen=True)
class Edges:
    """An edge list sorted by parent, each parent's edges in argument order."""

    parent: np.ndarray
    child: np.ndarray
    label: np.ndarray
    count: np.ndarray

    def take(self, mask: np.ndarray) -> Edges:
        return Edges(self.parent[mask], self.child[mask], self.label[mask], self.count[mask])


def function_flags(g: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node: (symmetric, idempotent, identity-on-one-input) flags of its combine."""
    combines = [get_combine(c) for c in g.combines]
    table = np.array([(c.symmetric, c.idempotent, c.identity_on_one) for c in combines] + [(False,) * 3],
                     dtype=bool).reshape(-1, 3)
    flags = table[g.node_combine]  # leaves (-1) pick the all-False row
    return flags[:, 0], flags[:, 1], flags[:, 2]


def fold(edges: Edges, rank: np.ndarray, symmetric: np.ndarray, idempotent: np.ndarray) -> Edges:
    """Canonicalise ``edges`` (sorted by parent; ``rank`` = position within the parent).

    ``symmetric`` and ``idempotent`` are per-node flags indexed by parent id.
    """
    p, c, lab, k = edges.parent, edges.child, edges.label, edges.count
    sym = symmetric[p]
    order = _canonical_order(p, c, lab, rank, sym)
    p, c, lab, k, sym = p[order], c[order], lab[order], k[order], sym[order]
    start = run_starts(p, c, lab) | ~sym
    idx = np.flatnonzero(start)
    counts = np.add.reduceat(k, idx) if idx.size else k[idx]
    p = p[idx]
    return Edges(p, c[idx], lab[idx], np.where(idempotent[p], 1, counts))


def _canonical_order(p: np.ndarray, c: np.ndarray, lab: np.ndarray, rank: np.ndarray, sym: np.ndarray) -> np.ndarray:
    """The order of edges (sorted by parent) by parent, then by ``(child, label)`` under a symmetric parent
    and by position under an ordered one."""
    parent = np.cumsum(run_starts(p)) - 1  # 0, 1, ... over the parents, in order
    # keys tie only for equal inputs of one multiset, which fold into one edge whatever their order
    keys = (np.where(sym, 0, rank), np.where(sym, lab + 1, 0), np.where(sym, c, 0), parent)
    return lexsort_ints(keys, stable=False)
