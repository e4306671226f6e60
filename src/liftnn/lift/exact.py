"""Exact lifting: merge structurally equivalent nodes, bottom-up, level by level.

Two inner nodes are merged iff they have the same combine function,
activation and bias label and the same *canonical* input list (see
:mod:`liftnn.lift.canon`) over already-merged children; two leaves iff they
hold the same values. By induction over levels the merged nodes compute
identical values for every weight assignment, every activation included
(ReLU and max too), which makes the pass lossless.

Each level is processed with a few numpy calls: input lists are canonicalised
by one sort, hashed to 64 bits, grouped, and every proposed merge is then
confirmed by comparing the full input lists, so a hash collision can only
cost a missed merge, never a wrong one.

With ``prune=True`` a node that is an exact identity — one input of
multiplicity one, no weight, no bias, identity activation, a built-in combine
— is replaced by its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._segments import mix64, ranges, rank_in_segment, run_starts
from ..graph import Graph
from ..graph.topology import edges_by_level
from .canon import Edges, fold, function_flags


@dataclass
class ExactResult:
    """``rep[i]``: the node that replaces ``i`` (``rep[i] == i`` for kept nodes);
    ``edges``: canonical inputs of the kept inner nodes; ``settled``: no two kept inner nodes hash
    alike, so a second pass over the result would merge nothing (see :func:`exact_pass`)."""

    rep: np.ndarray
    edges: Edges
    pruned: int
    collisions: int
    settled: bool


def exact_pass(g: Graph, scope: str = "sample", prune: bool = True) -> ExactResult:
    """Structural equivalence classes of ``g`` (see module docstring)."""
    n = g.num_nodes
    rep = np.arange(n, dtype=np.int64)
    sample = g.node_samples() if scope == "sample" else np.zeros(n, dtype=np.int64)
    symmetric, idempotent, ident1 = function_flags(g)
    identity_act = np.array([a == "identity" for a in g.activations], dtype=bool)[g.node_act]
    _merge_leaves(g, rep, sample)

    pos = rank_in_segment(g.edge_parent)
    kept_parts: list[Edges] = []
    kept_hashes: list[np.ndarray] = []
    pruned = collisions = 0
    for e in edges_by_level(g.levels()[g.edge_parent]):
        raw = Edges(g.edge_parent[e], rep[g.edge_child[e]], g.edge_label[e], g.edge_count[e])
        edges = fold(raw, pos[e], symmetric, idempotent)
        seg = np.flatnonzero(run_starts(edges.parent))
        parents = edges.parent[seg]
        nedge = np.diff(np.append(seg, edges.parent.size))
        alive = np.ones(parents.size, dtype=bool)
        if prune:
            ident = (
                (nedge == 1) & (edges.count[seg] == 1) & (edges.label[seg] < 0)
                & (g.node_bias[parents] < 0) & identity_act[parents] & ident1[parents]
            )
            rep[parents[ident]] = edges.child[seg[ident]]
            alive = ~ident
            pruned += int(ident.sum())
        clashes, hashes = _merge_level(g, rep, sample, edges, seg, alive)
        collisions += clashes
        kept_hashes.append(hashes)
        keep = rep[edges.parent] == edges.parent
        kept_parts.append(edges.take(keep))
    every = np.concatenate(kept_hashes) if kept_hashes else np.zeros(0, dtype=np.uint64)
    every.sort()
    settled = not np.any(every[1:] == every[:-1])
    return ExactResult(rep, Edges.concat(kept_parts), pruned, collisions, settled)


def _merge_leaves(g: Graph, rep: np.ndarray, sample: np.ndarray) -> None:
    """Leaves with equal values (and sample, in sample scope) merge into the first one."""
    leaves = np.flatnonzero(g.is_leaf)
    dims = np.diff(g.value_ptr)[leaves]
    for d in np.unique(dims):
        ids = leaves[dims == d]
        vals = g.values[ranges(g.value_ptr[ids], np.full(ids.size, d))].reshape(-1, d) + 0.0  # -0.0 -> 0.0
        key = np.concatenate([vals.view(np.int64), sample[ids, None]], axis=1)
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        rep[ids] = ids[first[inverse.reshape(-1)]]


def _merge_level(g: Graph, rep: np.ndarray, sample: np.ndarray, edges: Edges, seg: np.ndarray,
                 alive: np.ndarray) -> tuple[int, np.ndarray]:
    """Merge equal nodes among the ``alive`` parents of one level's canonical ``edges``
    (``seg``: first edge of each parent). Returns the number of hash collisions and the hashes of the
    parents kept."""
    with np.errstate(over="ignore"):
        # label, count and position in one word (wrapping; a rare collision only costs a missed merge)
        rest = ((edges.label.astype(np.uint64) + np.uint64(1)) ^ (edges.count.astype(np.uint64) << np.uint64(16))
                ^ (rank_in_segment(edges.parent).astype(np.uint64) << np.uint64(40)))
        edge_hash = mix64(mix64(edges.child) ^ rest)
        body = np.add.reduceat(edge_hash, seg) if seg.size else edge_hash[:0]
    nedge = np.diff(np.append(seg, edges.parent.size))[alive]
    seg, body = seg[alive], body[alive]
    parents = edges.parent[seg]
    if not parents.size:
        return 0, np.zeros(0, dtype=np.uint64)
    header = (g.node_combine[parents], g.node_act[parents], g.node_bias[parents], sample[parents], nedge)
    with np.errstate(over="ignore"):  # small codes in one word, as the edges' (a collision only costs a merge)
        word = ((header[0].astype(np.uint64) + np.uint64(1)) ^ (header[1].astype(np.uint64) << np.uint64(12))
                ^ ((header[2].astype(np.uint64) + np.uint64(1)) << np.uint64(24))
                ^ (header[4].astype(np.uint64) << np.uint64(44)))
        h = mix64(mix64(word) ^ mix64(header[3]) ^ body)
    order = np.argsort(h)
    first = run_starts(h[order])
    # index (into `parents`, which ascend) of each hash class's first member: the lowest of its run
    lowest = np.minimum.reduceat(order, np.flatnonzero(first)) if order.size else order
    cand = np.empty(parents.size, dtype=np.int64)
    cand[order] = lowest[np.cumsum(first) - 1]
    i = np.flatnonzero(cand != np.arange(parents.size))
    if not i.size:
        return 0, h
    j = cand[i]
    same = np.ones(i.size, dtype=bool)
    for col in header:
        same &= col[i] == col[j]
    k = np.flatnonzero(same)
    if k.size:
        a = ranges(seg[i[k]], nedge[i[k]])
        b = ranges(seg[j[k]], nedge[j[k]])
        diff = (edges.child[a] != edges.child[b]) | (edges.label[a] != edges.label[b]) | (
            edges.count[a] != edges.count[b]
        )
        bad = np.add.reduceat(diff.astype(np.int64), np.cumsum(nedge[i[k]]) - nedge[i[k]]) > 0
        same[k[bad]] = False
    rep[parents[i[same]]] = parents[j[same]]
    kept = np.ones(parents.size, dtype=bool)
    kept[i[same]] = False
    return int((~same).sum()), h[kept]
