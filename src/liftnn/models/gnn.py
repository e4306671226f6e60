"""Message-passing GNNs unfolded over a :class:`GraphSet`, fully vectorised.

For every layer ``l = 1..L`` and node ``v`` with in-neighbours ``u`` (edge type ``t``):

    e_uv  = act_e( W_l[t] · h_u )                     an edge neuron per directed edge
    a_v   = mean_u e_uv                               an aggregation neuron (if v has neighbours)
    h'_v  = act( S_l · h_v + A_l · a_v + b_l )        a node neuron

with ``h_v^0`` the one-hot node type (a leaf). A graph's output is
``sigmoid(W_out · mean_v h_v^L + b_out)``. With ``edge_types=False`` all edge
types share ``W_l``. This is the GCN-with-bond-embeddings shape of the lifting
paper's molecule experiments, written directly against the graph builder.
"""

from __future__ import annotations

import numpy as np

from ..data.graphs import GraphSet
from ..graph import Graph, GraphBuilder


def message_passing_graph(
    data: GraphSet,
    layers: int = 2,
    dim: int = 10,
    act: str = "sigmoid",
    edge_act: str = "sigmoid",
    aggregation: str = "mean",
    edge_types: bool = True,
) -> Graph:
    """The computation graph of the model above over all graphs of ``data``."""
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    b = GraphBuilder()
    n, m, ntypes = data.num_nodes, data.num_edges, len(data.node_types)
    h = b.inputs(np.eye(ntypes)[data.node_type])
    src, dst = data.edge_index
    by_dst = np.argsort(dst, kind="stable")
    targets, agg_parent = np.unique(dst[by_dst], return_inverse=True)
    in_dim = ntypes
    for lv in range(1, layers + 1):
        if edge_types:
            names = np.array([f"W{lv}_{t}" for t in data.edge_types])[data.edge_type]
            for t in data.edge_types:
                b.weight(f"W{lv}_{t}", (dim, in_dim))
        else:
            names = f"W{lv}"
            b.weight(f"W{lv}", (dim, in_dim))
        e = b.nodes(m, np.arange(m), h[src], names, combine="sum", act=edge_act)
        agg = b.nodes(targets.size, agg_parent, e[by_dst], None, combine=aggregation)
        agg_of = np.full(n, -1, dtype=np.int64)
        agg_of[targets] = agg
        has = np.flatnonzero(agg_of >= 0)
        parent = np.concatenate([np.arange(n), has])
        child = np.concatenate([h, agg_of[has]])
        label = np.concatenate([np.full(n, f"S{lv}"), np.full(has.size, f"A{lv}")])
        b.weight(f"S{lv}", (dim, in_dim))
        b.weight(f"A{lv}", (dim, dim))
        b.weight(f"b{lv}", (dim,))
        h = b.nodes(n, parent, child, label, combine="sum", act=act, bias=f"b{lv}")
        in_dim = dim
    readout = b.nodes(data.num_graphs, data.graph, h, None, combine="mean")
    b.weight("W_out", (1, dim))
    b.weight("b_out", (1,))
    out = b.nodes(data.num_graphs, np.arange(data.num_graphs), readout, "W_out", combine="sum",
                  act="sigmoid", bias="b_out")
    b.outputs(out, np.arange(data.num_graphs))
    return b.build()
