"""Rebuild a graph through an old -> representative map (the torch.fx way)."""

from __future__ import annotations

import numpy as np

from .._segments import ranges
from ..graph import Graph
from .canon import Edges


def rebuild(g: Graph, rep: np.ndarray, edges: Edges) -> Graph:
    """The graph of the kept nodes (``rep[i] == i``), with ``edges`` (parents and
    children are kept nodes, in old ids) as their inputs and outputs redirected
    through ``rep``. Output order and samples are unchanged."""
    kept = rep == np.arange(g.num_nodes)
    new_id = np.cumsum(kept) - 1
    ids = np.flatnonzero(kept)
    order = np.argsort(new_id[edges.parent], kind="stable")
    nvals = np.diff(g.value_ptr)[ids]
    value_ptr = np.zeros(ids.size + 1, dtype=np.int64)
    np.cumsum(nvals, out=value_ptr[1:])
    return Graph(
        node_combine=g.node_combine[ids],
        node_act=g.node_act[ids],
        node_bias=g.node_bias[ids],
        value_ptr=value_ptr,
        values=g.values[ranges(g.value_ptr[ids], nvals)],
        edge_child=new_id[edges.child[order]],
        edge_parent=new_id[edges.parent[order]],
        edge_label=edges.label[order].astype(np.int32),
        edge_count=edges.count[order].astype(np.int64),
        output_node=new_id[rep[g.output_node]],
        output_sample=g.output_sample.copy(),
        num_samples=g.num_samples,
        combines=g.combines,
        activations=g.activations,
        labels=g.labels,
        shapes=dict(g.shapes),
    )
