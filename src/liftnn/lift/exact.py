"""Exact lifting: merge structurally equivalent nodes in one bottom-up pass.

Two inner nodes are merged iff they have the same combine function,
activation, bias label and sample (``scope="sample"``) and the same
*canonical* input list over already-merged children (see
:mod:`liftnn.lift.canon`); two leaves iff they hold the same values (and
sample). Children are visited before their parents (level by level), so when
a node is visited its inputs are final classes, and by induction merged nodes
compute identical values for every weight assignment, every activation
included (ReLU and max too): the pass is lossless.

With ``prune=True`` a node that is an exact identity — after folding, one
input of multiplicity one, no weight, no bias, identity activation, a
built-in combine — joins the class of its input.

The pass is one compiled loop over the inner nodes with one hash table of
classes: a node's canonical key (header and input list) is hashed, and a
class with an equal hash is joined only after comparing the full keys, so a
hash collision costs a comparison, never a wrong merge. Because every key is
computed over final classes, one pass reaches the fixpoint: a second pass on
the result merges and prunes nothing, pruned nodes' parents included. Each
class is represented by its lowest node id, and the kept inputs are listed by
representative, in canonical order over representatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .._segments import ranges
from .._sorting import sort_pairs
from ..graph import Graph, get_combine
from .canon import Edges

_jit = numba.njit(cache=True, nogil=True)


@dataclass
class ExactResult:
    """``rep[i]``: the node that replaces ``i`` (``rep[i] == i`` for kept nodes, the lowest id of each
    class); ``edges``: canonical inputs of the kept inner nodes, sorted by parent; ``pruned``: nodes
    replaced by their single input; ``collisions``: full key comparisons that a hash match did not
    confirm (they cost time only)."""

    rep: np.ndarray
    edges: Edges
    pruned: int
    collisions: int


def exact_pass(g: Graph, scope: str = "sample", prune: bool = True) -> ExactResult:
    """Structural equivalence classes of ``g`` (see module docstring)."""
    n = g.num_nodes
    rep = np.arange(n, dtype=np.int64)
    sample = g.node_samples() if scope == "sample" else np.zeros(n, dtype=np.int64)
    combine_flags = np.array([(c.symmetric, c.idempotent, c.identity_on_one and prune)
                              for c in map(get_combine, g.combines)], dtype=np.bool_).reshape(-1, 3)
    identity_act = np.array([a == "identity" for a in g.activations], dtype=np.bool_)
    _merge_leaves(g, rep, sample)
    inner = np.flatnonzero(~g.is_leaf)
    order = inner[_counting_order(g.levels()[inner])]
    pruned = np.zeros(n, dtype=np.bool_)
    start = np.empty(n, dtype=np.int64)
    nodes = (g.node_combine, g.node_act, g.node_bias, sample)
    buf, collisions = _classes(order, g.edge_ptr, g.edge_child, g.edge_label, g.edge_count, *nodes, combine_flags,
                               identity_act, len(g.labels) + 1, rep, pruned, start)
    low = _lowest(rep, pruned)
    kept = np.flatnonzero((low[rep] == np.arange(n)) & ~g.is_leaf)
    edges = Edges(*_kept_edges(kept, rep, low, start, buf, combine_flags[g.node_combine[kept], 0], len(g.labels) + 1))
    return ExactResult(low[rep], edges, int(pruned.sum()), int(collisions))


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


@_jit
def _counting_order(levels: np.ndarray) -> np.ndarray:
    """Stable order of positions by non-negative level (a counting sort)."""
    top = 0
    for v in levels:
        top = max(top, v)
    ptr = np.zeros(top + 2, dtype=np.int64)
    for v in levels:
        ptr[v + 1] += 1
    for i in range(top + 1):
        ptr[i + 1] += ptr[i]
    out = np.empty(levels.size, dtype=np.int64)
    for i in range(levels.size):
        out[ptr[levels[i]]] = i
        ptr[levels[i]] += 1
    return out


@_jit
def _mix(z):
    """splitmix64 finaliser on ``uint64``."""
    z = (z + np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@_jit
def _pair(a, b):
    """Two ``int32`` values in one ``int64`` word (injective)."""
    return (np.int64(a) << 32) | (np.int64(b) & 0xFFFFFFFF)


@_jit
def _classes(order, ptr, child, label, count, combine, act, bias, sample, combine_flags, identity_act, span, rep,
             pruned, start):
    """Visit the inner nodes in ``order`` (children first): canonicalise each one's inputs over ``rep``,
    then prune it into its input or join the class of an equal key (``rep[v]``: that class's first
    node) or open a class. Returns the classes' keys and the number of hash matches the full
    comparison rejected.

    A class's key lies in ``buf[start[w]:]`` (``w``: its first node): three header words (input
    count, combine and activation, bias and sample), then ``(child, label, count)`` per input. A
    symmetric node's inputs are sorted by the packed word ``child · span + label + 1`` and equal ones
    folded (counts summed, or 1 under an idempotent combine)."""
    cap = 1024  # slots (hash, node, key start), kept under half full: the size of the classes, not the nodes
    table = np.full(3 * cap, -1, dtype=np.int64)
    classes = 0
    buf = np.empty(max(1024, 3 * (ptr[-1] // 4 + order.size // 4)), dtype=np.int64)
    widest = 0
    for v in order:
        widest = max(widest, ptr[v + 1] - ptr[v])
    key = np.empty(widest, dtype=np.int64)
    kcount = np.empty(widest, dtype=np.int64)
    cursor = 0
    collisions = 0
    for v in order:
        lo, hi = ptr[v], ptr[v + 1]
        if cursor + 3 * (hi - lo + 1) > buf.size:
            grown = np.empty(2 * buf.size + 3 * (hi - lo + 1), dtype=np.int64)
            grown[:cursor] = buf[:cursor]
            buf = grown
        symmetric, idempotent, ident1 = combine_flags[combine[v], 0], combine_flags[combine[v], 1], \
            combine_flags[combine[v], 2]
        at = cursor
        cursor += 3
        if symmetric:
            for e in range(lo, hi):
                key[e - lo] = rep[child[e]] * span + label[e] + 1
                kcount[e - lo] = count[e]
            sort_pairs(key, kcount, hi - lo)
            for i in range(hi - lo):
                if i > 0 and key[i] == key[i - 1]:
                    buf[cursor - 1] += kcount[i]
                else:
                    buf[cursor], buf[cursor + 1], buf[cursor + 2] = key[i] // span, key[i] % span - 1, kcount[i]
                    cursor += 3
        else:
            for e in range(lo, hi):
                buf[cursor], buf[cursor + 1], buf[cursor + 2] = rep[child[e]], label[e], count[e]
                cursor += 3
        m = (cursor - at) // 3 - 1
        if idempotent:
            buf[at + 5 : cursor : 3] = 1
        if (ident1 and m == 1 and buf[at + 5] == 1 and buf[at + 4] < 0 and bias[v] < 0
                and identity_act[act[v]]):
            rep[v] = buf[at + 3]
            pruned[v] = True
            cursor = at
            continue
        buf[at], buf[at + 1], buf[at + 2] = m, _pair(combine[v], act[v]), _pair(bias[v], sample[v])
        h = np.uint64(0)
        for i in range(at, cursor):  # multiply-rotate per word, one full mix at the end
            h = (h ^ np.uint64(buf[i])) * np.uint64(0x9E3779B97F4A7C15)
            h = (h << np.uint64(26)) | (h >> np.uint64(38))
        h = _mix(h)
        slot = h & np.uint64(cap - 1)
        while True:
            w = table[3 * slot + 1]
            if w < 0:
                table[3 * slot], table[3 * slot + 1], table[3 * slot + 2] = np.int64(h), v, at
                start[v] = at
                classes += 1
                if 2 * classes > cap:
                    cap *= 2
                    table = _grown(table, cap)
                break
            if table[3 * slot] == np.int64(h):
                b = table[3 * slot + 2]
                same = True
                for i in range(cursor - at):
                    if buf[b + i] != buf[at + i]:
                        same = False
                        break
                if same:
                    rep[v] = w
                    cursor = at
                    break
                collisions += 1
            slot = (slot + np.uint64(1)) & np.uint64(cap - 1)
    return buf[:cursor], collisions


@_jit
def _grown(table, cap):
    """The (hash, node, key start) slots of ``table`` re-inserted into a table of ``cap`` slots."""
    out = np.full(3 * cap, -1, dtype=np.int64)
    for s in range(table.size // 3):
        if table[3 * s + 1] >= 0:
            slot = np.uint64(table[3 * s]) & np.uint64(cap - 1)
            while out[3 * slot + 1] >= 0:
                slot = (slot + np.uint64(1)) & np.uint64(cap - 1)
            out[3 * slot : 3 * slot + 3] = table[3 * s : 3 * s + 3]
    return out


@_jit
def _lowest(rep, pruned):
    """``low[r]``: the lowest unpruned node whose class representative is ``r``."""
    low = np.arange(rep.size)
    for v in range(rep.size - 1, -1, -1):
        if not pruned[v]:
            low[rep[v]] = v
    return low


@_jit
def _kept_edges(kept, rep, low, start, buf, symmetric, span):
    """The inputs of the ``kept`` nodes (ascending), each read from its class's key with children
    renamed to their classes' lowest ids; a symmetric node's inputs are sorted again by
    ``(child, label)`` where the renaming changed their order (only where a class's first visited
    node was not its lowest)."""
    total = 0
    for k in kept:
        total += buf[start[rep[k]]]
    parent = np.empty(total, dtype=np.int64)
    child = np.empty(total, dtype=np.int64)
    label = np.empty(total, dtype=np.int32)
    count = np.empty(total, dtype=np.int64)
    key, perm = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    at = 0
    for j in range(kept.size):
        b = start[rep[kept[j]]]
        m = buf[b]
        ordered = True
        for i in range(m):
            parent[at + i] = kept[j]
            child[at + i] = low[buf[b + 3 + 3 * i]]
            label[at + i] = buf[b + 4 + 3 * i]
            count[at + i] = buf[b + 5 + 3 * i]
            if i > 0 and child[at + i] * span + label[at + i] < child[at + i - 1] * span + label[at + i - 1]:
                ordered = False
        if symmetric[j] and not ordered:
            if key.size < m:
                key, perm = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
            for i in range(m):
                key[i], perm[i] = child[at + i] * span + label[at + i] + 1, at + i
            sort_pairs(key, perm, m)
            order = perm[:m].copy()
            child[at : at + m], label[at : at + m], count[at : at + m] = child[order], label[order], count[order]
        at += m
    return parent, child, label, count
