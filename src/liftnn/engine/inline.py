"""Inlined sums: the native tape reads through linear nodes that need no value of their own.

A *plain sum* ``M`` (combine ``sum``, identity activation, no bias, every input unweighted, not an
output) read by exactly one edge ``P ←(W, c)— M`` of a sum or mean node ``P`` is linear in its
inputs, so ``P`` may read them directly::

    W · (c · Σ_f c_f · x_f)  =  Σ_f (c · c_f) · W · x_f

with multiplicities multiplied and the weight ``W`` (or none) of the edge it replaces. ``M``'s
value is then never computed: in a GIN layer ``mlp(X) = relu(W₁ · agg(X))`` with
``agg(X) = h(X) + Σ_Y r(Y)`` the dense node reads ``h(X)`` and the ``r(Y)`` itself. Chains
inline all the way: ``M`` may read other inlined nodes, whose inputs ``P`` then reads, counts
multiplied along the path.

A 1-wide input broadcast into a wider ``M`` (``x·1``) commutes with sums but not with a matrix:
``W · (y + x·1) ≠ W·y + x``. Two cases differ:

* a *constant* (a 1-wide leaf, unweighted) moves up as a *folded* edge (:attr:`Inlined.folded`):
  the tape adds ``Σ c·value`` to every component of the summed input of the run it joins, before
  that run's weight (``TapeArrays.r_const``), which is exact through any weight;
* a *variable* broadcast (a 1-wide inner node) keeps ``M`` from inlining through a weighted edge
  (:func:`inline_sums` checks this along whole chains).

A *pass-through* — a plain sum of one wide variable input ``y`` (no plain sum itself) and
constants, such as a GIN rule neuron ``r(Y) = h(Y) + bond(X, Y)`` after lifting — inlines into
every reader (all sums or means): each edge ``t ←(W, c)— M`` becomes ``t ←(W, c·c_y)— y`` plus its
folded constants. Otherwise a node is inlined only when read once. Either way an inlined node's
``k`` inputs replace its ``1 + k`` edges (or one edge, for a pass-through, once the constants are
folded), so the tape's edge count never grows.

A mean ``P`` divides by the total multiplicity of its own inputs before inlining
(:attr:`Inlined.denom`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._segments import pointers, ranges
from ..graph import Graph
from .plan import Prepared


class Inlined(NamedTuple):
    """:func:`inline_sums`' result: the prepared graph with rewritten edges, and what was inlined."""

    prepared: Prepared  # edges read through inlined nodes, by parent; node arrays unchanged
    inlined: np.ndarray  # bool[N] nodes no parent reads any more (the tape leaves them out)
    denom: np.ndarray  # float64[N] a mean node's total input multiplicity before inlining (1 elsewhere)
    in_dim: np.ndarray  # int64[E] the width of the run each edge joins (its input's, but see ``folded``)
    folded: np.ndarray  # bool[E] a constant 1-wide leaf moved up from an inlined node: it adds ``count · value``
    #                     to every component of its run's summed input (the tape keeps it as the run's constant)


#: the codes of the sum and mean combines in ``kind`` (:data:`liftnn.engine.tape.KINDS`)
SUM, MEAN = 1, 2


def inline_sums(graph: Graph, p: Prepared, kind: np.ndarray) -> Inlined:
    """Inline every plain sum read once, and every plain pass-through, by sum or mean nodes (module
    docstring); ``kind``: ``int64[N]`` every node's combine code. Vectorised, a few passes along chains
    of inlined nodes."""
    g, n = graph, p.dim.size
    no_weight = p.io.shape[0] - 1  # the last label index
    unweighted = p.lab == no_weight
    denom = mean_denominators(p, kind)
    identity = np.array([a == "identity" for a in g.activations], dtype=bool)[g.node_act] & ~g.is_leaf
    output = np.zeros(n, dtype=bool)
    output[g.output_node] = True
    const = g.is_leaf[p.child] & unweighted & (p.dim[p.child] == 1) & (p.dim[p.parent] > 1)
    inputs = np.bincount(p.parent, minlength=n)
    weighted_in = np.bincount(p.parent, weights=~unweighted, minlength=n) > 0
    plain = (kind == SUM) & identity & (g.node_bias < 0) & ~output & (inputs > 0) & ~weighted_in
    readers = np.bincount(p.child, minlength=n)
    linear_readers = np.bincount(p.child, weights=np.isin(kind[p.parent], (SUM, MEAN)), minlength=n) == readers
    # a pass-through: one input that is wide and no plain sum, the others constant 1-wide leaves
    variable = ~const & (p.dim[p.child] == p.dim[p.parent]) & ~plain[p.child]
    through = (plain & (np.bincount(p.parent, weights=~const, minlength=n) == 1)
               & (np.bincount(p.parent, weights=variable, minlength=n) == 1) & linear_readers & (readers > 1))
    reader = np.full(n, -1, dtype=np.int64)  # the edge reading a node read once
    once = readers == 1
    reader[p.child[once[p.child]]] = np.flatnonzero(once[p.child])
    up = np.where(reader >= 0, p.parent[np.maximum(reader, 0)], -1)
    cand = plain & once & linear_readers

    # broadcast: some input a reader would see through a chain of candidates is a variable 1-wide input in
    # a wider node (constant ones are folded into the run, before its weight)
    broadcast = np.bincount(p.parent, weights=(p.msg_dim != p.dim[p.parent]) & ~const, minlength=n) > 0
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

    via = inlined[p.parent]  # edges of an inlined node move up to its root
    top_edge = edge[p.parent]
    moved = _Edges(child=p.child, parent=np.where(via, root[p.parent], p.parent),
                   count=np.where(via, p.count * scale[p.parent], p.count), pos=np.where(via, p.pos[top_edge], p.pos),
                   lab=np.where(via, p.lab[top_edge], p.lab),
                   msg=np.where(via & ~unweighted[top_edge], p.msg_dim[top_edge], p.msg_dim),
                   in_dim=np.where(via & const, p.dim[p.parent], p.dim[p.child]), folded=via & const)
    moved = moved.take(~inlined[p.child])
    # then every edge reading a pass-through reads its inputs instead (one step: they are no plain sums)
    inlined |= through
    moved = _through(moved, through, p, const)
    moved = moved.take(np.argsort(moved.parent, kind="stable"))
    msg = np.where(moved.folded & (moved.lab == no_weight), moved.in_dim, moved.msg)  # a folded edge's run is wide
    prepared = p._replace(child=moved.child, parent=moved.parent, count=moved.count, pos=moved.pos,
                          lab=moved.lab, msg_dim=msg)
    return Inlined(prepared, inlined, denom, moved.in_dim, moved.folded)


class _Edges(NamedTuple):
    child: np.ndarray
    parent: np.ndarray
    count: np.ndarray
    pos: np.ndarray
    lab: np.ndarray
    msg: np.ndarray
    in_dim: np.ndarray
    folded: np.ndarray

    def take(self, idx: np.ndarray) -> _Edges:
        return _Edges(*(a[idx] for a in self))


def _through(e: _Edges, through: np.ndarray, p: Prepared, const: np.ndarray) -> _Edges:
    """Every edge ``t ← P`` of a pass-through ``P`` replaced by ``P``'s inputs (in ``p``), with ``t``, the edge's
    label, position and message (a folded constant's is set by the caller), and counts multiplied; ``P``'s
    own edges dropped."""
    keep = ~through[e.child] & ~through[e.parent]
    via = np.flatnonzero(through[e.child] & ~through[e.parent])
    if not via.size:
        return e.take(keep)
    ptr = pointers(p.parent, through.size)  # p's edges are sorted by parent
    node = e.child[via]
    n_in = ptr[node + 1] - ptr[node]
    src = np.repeat(via, n_in)  # the reading edge of every new edge
    inp = ranges(ptr[node], n_in)  # the pass-through's input edge of every new edge
    folded = const[inp]
    new = _Edges(child=p.child[inp], parent=e.parent[src], count=e.count[src] * p.count[inp], pos=e.pos[src],
                 lab=e.lab[src], msg=e.msg[src], in_dim=np.where(folded, p.dim[e.child[src]], p.dim[p.child[inp]]),
                 folded=folded)
    kept = e.take(keep)
    return _Edges(*(np.concatenate([a, b]) for a, b in zip(kept, new, strict=True)))


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
