"""Merging lifted shard graphs by content key: the union of the shards, one node per key.

Each shard is a graph lifted on its own (``scope="dataset"`` within the shard) with the
content keys of its nodes (:func:`liftnn.dist.keys.content_keys`). The merged graph has one
node per distinct key, described by the key's first occurrence (shards in order); its edges
are that node's inputs, read through the keys; outputs are the shards' outputs in order,
samples renumbered after the samples of the shards before. Every further occurrence of a key
is *confirmed*: same combine, activation, bias (by name), leaf values, and the same canonical
input list over merged children. Because every shard is a fixpoint of exact lifting and keys
name exact-lifting classes, the result is node for node the graph that lifting the union of
the samples in one process gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._segments import ranges, rank_in_segment, run_starts
from ..graph import Graph
from ..lift.canon import function_flags


class KeyCollisionError(RuntimeError):
    """Two nodes share a 128-bit content key but are not equivalent (never merged silently)."""


@dataclass(frozen=True)
class Shard:
    """A lifted shard graph and the ``uint64[N, 2]`` content keys of its nodes."""

    graph: Graph
    keys: np.ndarray

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays a shard sends to the merge (its share of the shuffle)."""
        g = self.graph
        arrays = (g.node_combine, g.node_act, g.node_bias, g.value_ptr, g.values, g.edge_child, g.edge_parent,
                  g.edge_label, g.edge_count, g.output_node, g.output_sample, self.keys)
        return int(sum(a.nbytes for a in arrays))


def _union(names: list[tuple[str, ...]]) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Union of name tables (first appearance first) and each table's ``local -> global`` map
    (with one extra trailing entry ``-1`` so that index ``-1`` maps to ``-1``)."""
    table: dict[str, int] = {}
    maps = [np.array([table.setdefault(n, len(table)) for n in t] + [-1], dtype=np.int64) for t in names]
    return tuple(table), maps


def merge_shards(shards: list[Shard]) -> Graph:
    """The union of the lifted ``shards`` with equal-key nodes merged (see the module docstring).

    Raises :class:`KeyCollisionError` if a key match is not confirmed by the full comparison.
    """
    return merge_keyed(shards).graph


def merge_keyed(shards: list[Shard]) -> Shard:
    """:func:`merge_shards` with the keys of the merged nodes: itself a lifted shard, so merges
    nest. Merging is associative: ``merge([merge([a, b]), c]) == merge([a, b, c])`` node for
    node and in order (nodes by first occurrence, samples and name tables in shard order), which
    lets a tree of pairwise merges on the workers give the one-pass result."""
    if not shards:
        raise ValueError("merge_shards needs at least one shard")
    gs = [s.graph for s in shards]
    combines, cmap = _union([g.combines for g in gs])
    acts, amap = _union([g.activations for g in gs])
    labels, lmap = _union([g.labels for g in gs])
    off = np.cumsum([0] + [g.num_nodes for g in gs])
    keys = np.concatenate([s.keys for s in shards])
    row_combine = np.concatenate([cm[g.node_combine] for g, cm in zip(gs, cmap, strict=True)])
    row_act = np.concatenate([am[g.node_act] for g, am in zip(gs, amap, strict=True)])
    row_bias = np.concatenate([lm[g.node_bias] for g, lm in zip(gs, lmap, strict=True)])
    nvals = np.concatenate([np.diff(g.value_ptr) for g in gs])
    vptr = np.concatenate([[0], np.cumsum(nvals)])
    values = np.concatenate([g.values for g in gs])
    e_parent = np.concatenate([g.edge_parent + o for g, o in zip(gs, off[:-1], strict=True)])
    e_child = np.concatenate([g.edge_child + o for g, o in zip(gs, off[:-1], strict=True)])
    e_label = np.concatenate([lm[g.edge_label] for g, lm in zip(gs, lmap, strict=True)])
    e_count = np.concatenate([g.edge_count for g in gs])
    symmetric = np.concatenate([function_flags(g)[0] for g in gs])

    gid, rep_row = _classes(keys)
    is_rep = np.zeros(keys.shape[0], dtype=bool)
    is_rep[rep_row] = True
    _confirm(gid, rep_row, (row_combine, row_act, row_bias, nvals), (vptr, values),
             (e_parent, gid[e_child], e_label, e_count), symmetric)
    e = np.flatnonzero(is_rep[e_parent])
    samples = np.cumsum([0] + [g.num_samples for g in gs])
    shapes: dict[str, tuple[int, ...]] = {}
    for g in gs:
        shapes.update(g.shapes)
    graph = Graph(
        node_combine=row_combine[rep_row], node_act=row_act[rep_row], node_bias=row_bias[rep_row],
        value_ptr=np.concatenate([[0], np.cumsum(nvals[rep_row])]),
        values=values[ranges(vptr[rep_row], nvals[rep_row])],
        edge_child=gid[e_child[e]], edge_parent=gid[e_parent[e]], edge_label=e_label[e], edge_count=e_count[e],
        output_node=np.concatenate([gid[g.output_node + o] for g, o in zip(gs, off[:-1], strict=True)]),
        output_sample=np.concatenate([g.output_sample + s for g, s in zip(gs, samples[:-1], strict=True)]),
        num_samples=int(samples[-1]), combines=combines, activations=acts, labels=labels, shapes=shapes,
    )
    return Shard(graph, keys[rep_row])


def _classes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(gid[rows], rep_row[classes])``: classes of equal keys numbered by first occurrence,
    and the first row of each class."""
    order = np.lexsort((np.arange(keys.shape[0]), keys[:, 1], keys[:, 0]))
    starts = np.flatnonzero(run_starts(keys[order, 0], keys[order, 1]))
    first_row = order[starts]  # rows sorted by (key, row): the class's first row leads its run
    by_first = np.argsort(first_row, kind="stable")
    gid_of_class = np.empty(starts.size, dtype=np.int64)
    gid_of_class[by_first] = np.arange(starts.size)
    cls = np.cumsum(run_starts(keys[order, 0], keys[order, 1])) - 1
    gid = np.empty(keys.shape[0], dtype=np.int64)
    gid[order] = gid_of_class[cls]
    return gid, first_row[by_first]


def _confirm(gid: np.ndarray, rep_row: np.ndarray, header: tuple[np.ndarray, ...],
             leaf: tuple[np.ndarray, np.ndarray], edges: tuple[np.ndarray, ...], symmetric: np.ndarray) -> None:
    """Check that every row equals its class representative: ``header`` columns, leaf values,
    and canonical edge lists ``(parent row, child class, label, count)`` (symmetric parents
    sorted by (child class, label), ordered parents in argument order)."""
    rows = np.flatnonzero(rep_row[gid] != np.arange(gid.size))
    reps = rep_row[gid[rows]]
    same = np.ones(rows.size, dtype=bool)
    for col in header:
        same &= col[rows] == col[reps]
    vptr, values = leaf
    nv = header[-1]
    k = np.flatnonzero(same & (nv[rows] > 0))
    if k.size:
        diff = values[ranges(vptr[rows[k]], nv[rows[k]])] + 0.0 != values[ranges(vptr[reps[k]], nv[reps[k]])] + 0.0
        same[k[np.add.reduceat(diff.astype(np.int64), np.cumsum(nv[rows[k]]) - nv[rows[k]]) > 0]] = False
    parent, child, label, count = edges
    pos = rank_in_segment(parent)
    sym = symmetric[parent]
    order = np.lexsort((np.where(sym, 0, pos), np.where(sym, label, 0), np.where(sym, child, 0), parent))
    parent, child, label, count = parent[order], child[order], label[order], count[order]
    ptr = np.searchsorted(parent, np.arange(gid.size + 1))
    ne = np.diff(ptr)
    same &= ne[rows] == ne[reps]
    k = np.flatnonzero(same & (ne[rows] > 0))
    if k.size:
        a, b = ranges(ptr[rows[k]], ne[rows[k]]), ranges(ptr[reps[k]], ne[reps[k]])
        diff = (child[a] != child[b]) | (label[a] != label[b]) | (count[a] != count[b])
        same[k[np.add.reduceat(diff.astype(np.int64), np.cumsum(ne[rows[k]]) - ne[rows[k]]) > 0]] = False
    if not same.all():
        bad = rows[np.flatnonzero(~same)[0]]
        raise KeyCollisionError(f"content-key collision: merged row {bad} differs from row {rep_row[gid[bad]]} "
                                "with the same 128-bit key")
