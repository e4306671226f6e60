"""Checks of a built network that need node dimensions, reported with template lines,
and the neuron count in the reference's convention."""

from __future__ import annotations

import warnings

import numpy as np

from ..graph.topology import edges_by_level
from .neuralize import Network


class VectorMaxWarning(UserWarning):
    """max/min aggregation over vectors: liftnn takes it per component, the reference does not."""


def check_network(network: Network) -> None:
    """Check every weight shape against its inputs, naming the template line of a weight,
    bias or node that does not fit; warn where max/min meets vectors; reject ``count`` of vectors."""
    from ..engine.plan import WeightShapeError, node_dimensions

    g = network.graph
    try:
        dim = node_dimensions(g, g.shapes)
    except WeightShapeError as err:
        raise ValueError(f"{network.weights.sources.get(err.label) or network.sources[0]}: {err}") from None
    except ValueError as err:  # a node's inputs do not fit: its template line where the engine names the node
        node = getattr(err, "node", None)
        raise ValueError(f"{network.sources[0] if node is None else network.where(node)}: {err}") from None
    _check_products(network, dim)
    for name in ("max", "min", "count"):
        if name not in g.combines:
            continue
        nodes = np.flatnonzero((g.node_combine == g.combines.index(name)) & (dim > 1))
        if not nodes.size:
            continue
        where = network.where(int(nodes[0]))
        if name == "count":
            raise ValueError(f"{where}: aggregation=count over vectors (dimension {dim[nodes[0]]}): the reference "
                             "returns a scalar there; count scalar atoms instead")
        warnings.warn(
            f"{where}: {name} over vectors of dimension {dim[nodes[0]]} ({nodes.size} neurons) is taken per "
            f"component; NeuraLogic instead picks the one input vector with the "
            f"{'largest' if name == 'max' else 'smallest'} sum (see 'known differences' in docs/templates.md)",
            VectorMaxWarning,
            stacklevel=3,
        )


def _check_products(network: Network, dim: np.ndarray) -> None:
    """``combination=product`` is NeuraLogic's matrix product; computed element-wise, it is the same
    while at most one input of a neuron is a vector, and an error in the reference otherwise."""
    if not network.products.size:
        return
    g = network.graph
    e = np.flatnonzero(np.isin(g.edge_parent, network.products))
    shapes = [tuple(g.shapes[lb]) for lb in g.labels]
    rows = np.array([s[0] if len(s) == 2 else 0 for s in shapes] + [0])  # a matrix: its output size
    scale = np.array([s[0] if len(s) == 1 else 1 for s in shapes] + [1])  # element-wise weights
    lab = np.where(g.edge_label[e] >= 0, g.edge_label[e], len(shapes))
    msg = np.where(rows[lab] > 0, rows[lab], np.maximum(scale[lab], dim[g.edge_child[e]]))
    vectors = np.bincount(g.edge_parent[e], weights=(msg > 1) * g.edge_count[e], minlength=g.num_nodes)
    bad = np.flatnonzero(vectors > 1)
    if bad.size:
        raise ValueError(f"{network.where(int(bad[0]))}: combination=product of {int(vectors[bad[0]])} vector "
                         "inputs is a matrix product in NeuraLogic, which fails on two column vectors; use "
                         "combination=elproduct for the element-wise product")


def neuron_count(network: Network) -> int:
    """Neurons as the reference counts them: per query (sample), the neurons its output
    depends on, summed over queries; shared neurons count once per query that uses them,
    helper nodes (the constant 1.0 under template facts, the 0 of underivable queries) never.

    ``reach[n, s]``: node ``n`` feeds sample ``s``, propagated from the outputs down,
    level by level (memory ``N × S`` booleans: meant for tests and small datasets)."""
    g = network.graph
    reach = np.zeros((g.num_nodes, g.num_samples), dtype=bool)
    reach[g.output_node, g.output_sample] = True
    for e in edges_by_level(g.levels()[g.edge_parent], top_down=True):
        np.logical_or.at(reach, g.edge_child[e], reach[g.edge_parent[e]])
    per_node = reach.sum(axis=1)
    per_node[network.helpers] = 0
    return int(per_node.sum())
