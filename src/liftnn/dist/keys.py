"""Content keys: names for exact-lifting equivalence classes that do not depend on node ids.

A node's key is a 128-bit hash (two independent 64-bit lanes) computed bottom-up:

    key(leaf) = H(dim, value bits)                                      (``-0.0`` read as ``0.0``)
    key(v)    = H(combine, act, bias, m, Σ_j H(j, key(c_j), label_j, k_j))

over ``v``'s canonical input list ``(c_j, label_j, k_j)_{j < m}``: for a symmetric combine the
multiset of inputs sorted by ``(key, label)`` with equal inputs folded into one entry of
multiplicity ``Σ k`` (``1`` for idempotent ``max``/``min``); for an ordered combine the inputs in
argument order. Names (combine, activation, labels) enter through a hash of their text, so
keys computed in different processes, over graphs with different label tables, agree.

By induction over levels two nodes have equal keys iff exact lifting merges them (up to a
hash collision; :func:`liftnn.dist.merge.merge_shards` confirms every key match by a full
comparison). Keys are computed on lifted graphs, where exact identities are already pruned.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .._segments import hash_columns, mix64, ranges, rank_in_segment, run_starts
from ..graph import Graph
from ..lift.canon import function_flags

LANES = (0x243F6A8885A308D3, 0x13198A2E03707344)  # the seed row of each 64-bit lane


def name_ids(names: tuple[str, ...]) -> np.ndarray:
    """``int64[len(names) + 1]``: a stable 64-bit id per name (last entry: "none", for index ``-1``)."""
    ids = [int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "little", signed=True) for n in names]
    return np.array([*ids, -1], dtype=np.int64)


def content_keys(g: Graph) -> np.ndarray:
    """``uint64[N, 2]``: the content key of every node of ``g`` (see the module docstring)."""
    keys = np.zeros((g.num_nodes, 2), dtype=np.uint64)
    _leaf_keys(g, keys)
    symmetric, idempotent, _ = function_flags(g)
    combine, act, label = name_ids(g.combines), name_ids(g.activations), name_ids(g.labels)
    level = g.levels()
    e_level = level[g.edge_parent]
    eorder = np.argsort(e_level, kind="stable")
    bounds = np.searchsorted(e_level[eorder], np.arange(level.max(initial=0) + 2))
    pos = rank_in_segment(g.edge_parent)
    for lv in range(1, level.max(initial=0) + 1):
        e = eorder[bounds[lv] : bounds[lv + 1]]
        p, c, lab, k = g.edge_parent[e], g.edge_child[e], label[g.edge_label[e]], g.edge_count[e]
        sym = symmetric[p]
        ka, kb = keys[c, 0].view(np.int64), keys[c, 1].view(np.int64)
        rank = np.where(sym, 0, pos[e])
        order = np.lexsort((rank, np.where(sym, lab, 0), np.where(sym, kb, 0), np.where(sym, ka, 0), p))
        p, ka, kb, lab, k, sym, rank = (x[order] for x in (p, ka, kb, lab, k, sym, rank))
        first = np.flatnonzero(run_starts(p, ka, kb, lab, rank))  # symmetric: fold equal (key, label)
        k = np.add.reduceat(k, first)
        p, ka, kb, lab = p[first], ka[first], kb[first], lab[first]
        k = np.where(idempotent[p], 1, k)
        j = rank_in_segment(p)
        seg = np.flatnonzero(run_starts(p))
        parents = p[seg]
        m = np.diff(np.append(seg, p.size))
        for lane in range(2):
            with np.errstate(over="ignore"):
                body = np.add.reduceat(_hash(lane, j, ka, kb, lab, k), seg)
            head = _hash(lane, combine[g.node_combine[parents]], act[g.node_act[parents]],
                         label[g.node_bias[parents]], m)
            keys[parents, lane] = mix64(head ^ mix64(body))
    return keys


def _leaf_keys(g: Graph, keys: np.ndarray) -> None:
    """Keys of the leaves: their dimension and value bits."""
    leaves = np.flatnonzero(g.is_leaf)
    dims = np.diff(g.value_ptr)[leaves]
    for d in np.unique(dims):
        ids = leaves[dims == d]
        vals = (g.values[ranges(g.value_ptr[ids], np.full(ids.size, d))].reshape(-1, d) + 0.0).view(np.int64)
        for lane in range(2):
            keys[ids, lane] = _hash(lane, np.full(ids.size, d), *vals.T)


def _hash(lane: int, *columns: np.ndarray) -> np.ndarray:
    """Lane ``lane``'s 64-bit hash of the rows of ``columns`` (the lanes differ in their seed row)."""
    return hash_columns(np.full(columns[0].shape[0], LANES[lane], dtype=np.uint64), *columns)
