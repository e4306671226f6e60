"""Rebuild a graph through an old -> representative map (the torch.fx way)."""

from __future__ import annotations

import numpy as np

from ..graph import Graph
from ..graph.subgraph import induced
from .canon import Edges


def rebuild(g: Graph, rep: np.ndarray, edges: Edges) -> Graph:
    """The graph of the kept nodes (``rep[i] == i``), with ``edges`` (parents and
    children are kept nodes, in old ids; each parent's edges contiguous, in argument
    order) as their inputs and outputs redirected through ``rep``. Output order and
    samples are unchanged."""
    kept = rep == np.arange(g.num_nodes)
    return induced(g, kept, (edges.child, edges.parent, edges.label, edges.count),
                   (rep[g.output_node], g.output_sample.copy()), g.num_samples)
