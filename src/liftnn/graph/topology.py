"""Topological levels, sample ownership and statistics of a :class:`Graph`.

Levels are one compiled depth-first pass; the other passes go frontier-at-a-time (one numpy step per
level), never per node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from .._segments import run_starts

if TYPE_CHECKING:
    from .ir import Graph


def topological_levels(g: Graph) -> np.ndarray:
    """Longest-path level of every node: 0 for a node without inputs, else ``1 + max`` over its inputs.

    Raises ``ValueError`` naming the nodes of a cycle if the graph is cyclic.
    """
    level, cycle = _levels(g.edge_ptr, g.edge_child)
    if cycle.size:
        nodes = cycle.tolist()
        err = ValueError(f"the graph has a cycle through nodes {nodes}")
        err.nodes = nodes  # for callers that map node ids back to their source
        raise err
    return level


@numba.njit(cache=True, nogil=True)
def _levels(ptr: np.ndarray, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth-first over inputs with an explicit stack (a node is finished once its inputs are):
    ``(level[N], cycle)``, where ``cycle`` lists the nodes of a cycle, each reading the next and the
    last reading the first, or is empty (and then every level is set)."""
    n = ptr.size - 1
    level = np.full(n, -1, dtype=np.int64)
    on_path = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    cursor = np.empty(n, dtype=np.int64)  # the next input edge to follow, per node on the path
    for root in range(n):
        if level[root] >= 0:
            continue
        top = 0
        stack[0], cursor[root], on_path[root] = root, ptr[root], True
        while top >= 0:
            v = stack[top]
            e = cursor[v]
            if e < ptr[v + 1]:
                cursor[v] = e + 1
                c = child[e]
                if on_path[c]:
                    at = top
                    while stack[at] != c:
                        at -= 1
                    return level, stack[at : top + 1].copy()
                if level[c] < 0:
                    top += 1
                    stack[top], cursor[c], on_path[c] = c, ptr[c], True
                continue
            deepest = -1
            for f in range(ptr[v], ptr[v + 1]):
                deepest = max(deepest, level[child[f]])
            level[v], on_path[v] = deepest + 1, False
            top -= 1
    return level, np.zeros(0, dtype=np.int64)


def edges_by_level(edge_level: np.ndarray, top_down: bool = False) -> list[np.ndarray]:
    """Edge ids grouped by ``edge_level`` (usually the parent's level), lowest level first or, with
    ``top_down``, highest first; levels without edges are left out. Passes that propagate along
    edges one level at a time iterate over these groups."""
    key = -np.asarray(edge_level) if top_down else np.asarray(edge_level)
    order = np.argsort(key, kind="stable")
    bounds = np.append(np.flatnonzero(run_starts(key[order])), order.size)
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def node_samples(g: Graph) -> np.ndarray:
    """Which sample each node serves (``-1`` shared by several, ``-2`` by none).

    Propagated top-down level by level: a node's sample is the common sample of
    its parents and of the outputs it is.
    """
    n = g.num_nodes
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, g.output_node, g.output_sample)
    np.maximum.at(hi, g.output_node, g.output_sample)
    for e in edges_by_level(g.levels()[g.edge_parent], top_down=True):
        p, c = g.edge_parent[e], g.edge_child[e]
        mine = hi[p] >= 0
        np.minimum.at(lo, c[mine], lo[p[mine]])
        np.maximum.at(hi, c[mine], hi[p[mine]])
    return np.where(hi < 0, -2, np.where(lo == hi, hi, -1))


def first_output(g: Graph) -> np.ndarray:
    """``int64[N]`` the first output row that depends on each node (``O`` for none): ``min`` over
    the outputs it is and over its parents, propagated top-down one level at a time."""
    first = np.full(g.num_nodes, g.num_outputs, dtype=np.int64)
    np.minimum.at(first, g.output_node, np.arange(g.num_outputs))
    for e in edges_by_level(g.levels()[g.edge_parent], top_down=True):
        np.minimum.at(first, g.edge_child[e], first[g.edge_parent[e]])
    return first


def summary(g: Graph) -> dict[str, Any]:
    """Plain-dict statistics: sizes, depth, and node counts per combine and activation."""
    level = g.levels()
    leaf = g.is_leaf
    combine_counts = {name: int(np.sum(g.node_combine == i)) for i, name in enumerate(g.combines)}
    act_counts = {name: int(np.sum(g.node_act[~leaf] == i)) for i, name in enumerate(g.activations)}
    return {
        "nodes": g.num_nodes,
        "leaves": int(leaf.sum()),
        "edges": g.num_edges,
        "edge_inputs": int(g.edge_count.sum()),
        "samples": g.num_samples,
        "outputs": g.num_outputs,
        "depth": int(level.max(initial=0)),
        "weights": len(g.labels),
        "combine": {k: v for k, v in combine_counts.items() if v},
        "activation": {k: v for k, v in act_counts.items() if v},
    }
