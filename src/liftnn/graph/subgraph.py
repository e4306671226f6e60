"""Sub-graphs: the part of a graph that chosen outputs depend on."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._segments import ranges
from .ir import Graph


def ancestors_mask(g: Graph, nodes: np.ndarray) -> np.ndarray:
    """``bool[N]``: the nodes and everything they (transitively) read, one frontier per step."""
    keep = np.zeros(g.num_nodes, dtype=bool)
    frontier = np.unique(np.asarray(nodes, dtype=np.int64))
    ptr = g.edge_ptr
    while frontier.size:
        keep[frontier] = True
        kids = g.edge_child[ranges(ptr[frontier], ptr[frontier + 1] - ptr[frontier])]
        frontier = np.unique(kids[~keep[kids]])
    return keep


def induced(g: Graph, keep: np.ndarray, edges: tuple[np.ndarray, ...], outputs: tuple[np.ndarray, np.ndarray],
            num_samples: int) -> Graph:
    """The graph on the nodes with ``keep[i]``, renumbered in their order. ``edges`` is
    ``(child, parent, label, count)`` and ``outputs`` is ``(node, sample)``, nodes in old ids
    (all kept); values, functions, labels and shapes carry over."""
    new_id = np.cumsum(keep) - 1
    ids = np.flatnonzero(keep)
    child, parent, label, count = edges
    nvals = np.diff(g.value_ptr)[ids]
    value_ptr = np.zeros(ids.size + 1, dtype=np.int64)
    np.cumsum(nvals, out=value_ptr[1:])
    return Graph(
        node_combine=g.node_combine[ids], node_act=g.node_act[ids], node_bias=g.node_bias[ids],
        value_ptr=value_ptr, values=g.values[ranges(g.value_ptr[ids], nvals)],
        edge_child=new_id[child], edge_parent=new_id[parent], edge_label=label, edge_count=count,
        output_node=new_id[outputs[0]], output_sample=outputs[1], num_samples=num_samples,
        combines=g.combines, activations=g.activations, labels=g.labels, shapes=dict(g.shapes),
    )


def reorder_outputs(g: Graph, outputs: np.ndarray) -> Graph:
    """The same graph with its output rows in the order ``outputs`` (a permutation of all of them) and
    samples renumbered ``0..k-1`` in order of first appearance: :func:`select_outputs` of every output,
    without searching for what they need."""
    outputs = np.asarray(outputs, dtype=np.int64)
    samples, sample_ids = np.unique(g.output_sample[outputs], return_inverse=True)
    order = np.argsort(np.unique(sample_ids, return_index=True)[1])
    remap = np.empty(samples.size, dtype=np.int64)
    remap[order] = np.arange(samples.size)
    return replace(g, output_node=g.output_node[outputs], output_sample=remap[sample_ids.reshape(-1)],
                   num_samples=int(samples.size), _cache={"levels": g.levels()})


def select_outputs(g: Graph, outputs: np.ndarray) -> Graph:
    """The graph of the chosen output rows (in the given order) and what they need.

    Samples are renumbered ``0..k-1`` in order of first appearance among the chosen outputs.
    """
    outputs = np.asarray(outputs, dtype=np.int64)
    keep = ancestors_mask(g, g.output_node[outputs])
    e = np.flatnonzero(keep[g.edge_parent])
    samples, sample_ids = np.unique(g.output_sample[outputs], return_inverse=True)
    order = np.argsort(np.unique(sample_ids, return_index=True)[1])
    remap = np.empty(samples.size, dtype=np.int64)
    remap[order] = np.arange(samples.size)
    edges = (g.edge_child[e], g.edge_parent[e], g.edge_label[e], g.edge_count[e])
    return induced(g, keep, edges, (g.output_node[outputs], remap[sample_ids]), int(samples.size))
