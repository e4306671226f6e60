"""Inlined sums: the native tape reads through linear nodes that need no value of their own.

A *plain sum* ``M`` (combine ``sum``, identity activation, no bias, every input unweighted, not an
output) read by exactly one edge ``P ←(W, c)— M`` of a sum or mean node ``P`` is linear in its
inputs, so ``P`` may read them directly::

    W · (c · Σ_f c_f · x_f)  =  Σ_f (c · c_f) · W · x_f

with multiplicities multiplied and the weight ``W`` (or none) of the edge it replaces. ``M``'s
value is then never computed: in a GIN layer ``mlp(X) = relu(W₁ · agg(X))`` with
``agg(X) = h(X) + Σ_Y r(Y)`` the dense node reads ``h(X)`` and the ``r(Y)`` itself, and two of
its five nodes per atom and layer are gone. Chains inline all the way: ``M`` may read other
inlined nodes, whose inputs ``P`` then reads, counts multiplied along the path.

Two rules keep it exact and small:

* a 1-wide input broadcast into a wider ``M`` (``x·1``) commutes with sums but not with a matrix,
  so ``M`` inlines through a weighted edge only when none of the inputs ``P`` would read is
  broadcast (:func:`inline_sums` checks this along whole chains);
* one reader per inlined node means an inlined node's ``k`` inputs replace ``1 + k`` edges, so the
  edge count never grows (a node read by several edges would copy its inputs into each).

A mean ``P`` divides by the total multiplicity of its own inputs before inlining
(:attr:`Inlined.denom`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..graph import Graph
from .plan import Prepared


class Inlined(NamedTuple):
    """:func:`inline_sums`' result: the prepared graph with rewritten edges, and what was inlined."""

    prepared: Prepared  # edges read through inlined nodes, by parent; node arrays unchanged
    inlined: np.ndarray  # bool[N] nodes no parent reads any more (the tape leaves them out)
    denom: np.ndarray  # float64[N] a mean node's total input multiplicity before inlining (1 elsewhere)


#: the codes of the sum and mean combines in ``kind`` (:data:`liftnn.engine.tape.KINDS`)
SUM, MEAN = 1, 2


def inline_sums(graph: Graph, p: Prepared, kind: np.ndarray) -> Inlined:
    """Inline every plain sum read by one edge of a sum or mean node (module docstring); ``kind``:
    ``int64[N]`` every node's combine code. Vectorised, a few passes along chains of inlined nodes."""
    g, n = graph, p.dim.size
    unweighted = p.lab == p.io.shape[0] - 1  # the last label index is "no weight"
    denom = mean_denominators(p, kind)
    identity = np.array([a == "identity" for a in g.activations], dtype=bool)[g.node_act] & ~g.is_leaf
    output = np.zeros(n, dtype=bool)
    output[g.output_node] = True
    inputs = np.bincount(p.parent, minlength=n)
    weighted_in = np.bincount(p.parent, weights=~unweighted, minlength=n) > 0
    reader = np.full(n, -1, dtype=np.int64)  # the edge reading a node read once
    once = np.bincount(p.child, minlength=n) == 1
    reader[p.child[once[p.child]]] = np.flatnonzero(once[p.child])
    up = np.where(reader >= 0, p.parent[np.maximum(reader, 0)], -1)
    linear_reader = (reader >= 0) & np.isin(kind[np.maximum(up, 0)], (SUM, MEAN))
    cand = ((kind == SUM) & identity & (g.node_bias < 0) & ~output & (inputs > 0) & ~weighted_in
            & linear_reader)

    # broadcast: some input a reader would see through a chain of candidates is 1-wide in a wider node
    broadcast = np.bincount(p.parent, weights=p.msg_dim != p.dim[p.parent], minlength=n) > 0
    front = np.flatnonzero(cand & broadcast)
    while front.size:
        above = np.unique(up[front])
        above = above[~broadcast[above]]
        broadcast[above] = True
        front = above[cand[above]]
    # a candidate inlines unless the top of its chain of candidates is weighted and it broadcasts
    nodes = np.flatnonzero(cand)
    top, _ = _climb(nodes, cand, up, reader, p.count)
    inlined = cand.copy()
    inlined[nodes] &= unweighted[reader[top]] | ~broadcast[nodes]

    # every inlined node's edges move up to the first reader that keeps its value, counts multiplied
    nodes = np.flatnonzero(inlined)
    top, mult = _climb(nodes, inlined, up, reader, p.count)
    root, edge = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    scale = np.ones(n, dtype=np.int64)
    root[nodes], edge[nodes], scale[nodes] = up[top], reader[top], mult

    keep = ~inlined[p.child]
    via = inlined[p.parent]  # edges of an inlined node move up to its root
    top_edge = edge[p.parent]
    parent = np.where(via, root[p.parent], p.parent)
    count = np.where(via, p.count * scale[p.parent], p.count)
    lab = np.where(via, p.lab[top_edge], p.lab)
    msg = np.where(via & ~unweighted[top_edge], p.msg_dim[top_edge], p.msg_dim)
    pos = np.where(via, p.pos[top_edge], p.pos)
    order = np.flatnonzero(keep)[np.argsort(parent[keep], kind="stable")]
    prepared = p._replace(child=p.child[order], parent=parent[order], count=count[order], pos=pos[order],
                          lab=lab[order], msg_dim=msg[order])
    return Inlined(prepared, inlined, denom)


def mean_denominators(p: Prepared, kind: np.ndarray) -> np.ndarray:
    """``float64[N]``: a mean node's total input multiplicity ``Σ_e c_e`` (1 for other nodes)."""
    return np.where(kind == MEAN, np.bincount(p.parent, weights=p.count, minlength=kind.size), 1.0)


def _climb(nodes: np.ndarray, along: np.ndarray, up: np.ndarray, reader: np.ndarray, count: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """For every node of ``nodes`` (each in ``along``, so read once): the highest node reached by following
    readers while they are in ``along``, and the product of the reading edges' counts on the way."""
    top = nodes.copy()
    mult = count[reader[nodes]].astype(np.int64)
    while True:
        step = along[up[top]]
        if not step.any():
            return top, mult
        top[step] = up[top[step]]
        mult[step] *= count[reader[top[step]]]
