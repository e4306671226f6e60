"""GraphBuilder: bulk and one-at-a-time APIs agree; sizes, summary() and argument order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from liftnn import Graph, GraphBuilder, compress, evaluate, init_params

LEAVES = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 2.0]])
# layer-1 nodes, each (inputs, combine, act, bias); inputs are (leaf index, label)
LAYER1 = [
    ([(0, "A"), (1, "B"), (0, "A")], "sum", "sigmoid", "b"),
    ([(2, None)], "max", "identity", None),
    ([(1, "B"), (2, "A")], "concat", "tanh", None),
]
# layer-2 nodes over layer-1 nodes (indices 0..2 of LAYER1)
LAYER2 = [
    ([(0, "C"), (1, "C")], "mean", "relu", "b"),
    ([(2, "D")], "sum", "identity", None),
]
OUTPUTS = [(3, 1), (4, 0), (3, 0)]  # (layer-2 index + 3 = its position among inner nodes..., sample)


def _one_at_a_time() -> Graph:
    b = GraphBuilder()
    leaves = [b.input(v) for v in LEAVES]
    l1 = [b.node([(leaves[i], lab) for i, lab in ins], c, a, bias) for ins, c, a, bias in LAYER1]
    l2 = [b.node([(l1[i], lab) for i, lab in ins], c, a, bias) for ins, c, a, bias in LAYER2]
    for k, s in OUTPUTS:
        b.output(l2[k - 3], s)
    _declare(b)
    return b.build()


def _bulk() -> Graph:
    b = GraphBuilder()
    leaves = b.inputs(LEAVES)
    l1 = _bulk_layer(b, leaves, LAYER1)
    l2 = _bulk_layer(b, l1, LAYER2)
    b.outputs([l2[k - 3] for k, _ in OUTPUTS], [s for _, s in OUTPUTS])
    _declare(b)
    return b.build()


def _bulk_layer(b: GraphBuilder, below: np.ndarray, layer: list) -> np.ndarray:
    """One nodes() call; edges are listed round-robin across parents (not grouped)."""
    edges = [(p, j, below[i], lab) for p, (ins, *_rest) in enumerate(layer) for j, (i, lab) in enumerate(ins)]
    edges.sort(key=lambda e: (e[1], e[0]))  # interleave parents; each parent's edges stay in order
    return b.nodes(
        len(layer),
        np.array([e[0] for e in edges]),
        np.array([e[2] for e in edges]),
        [e[3] for e in edges],
        combine=[n[1] for n in layer],
        act=[n[2] for n in layer],
        bias=[n[3] for n in layer],
    )


def _declare(b: GraphBuilder) -> None:
    for label, shape in {"A": (2, 2), "B": (2,), "C": (3, 2), "D": (3, 4), "b": ()}.items():
        b.weight(label, shape)


def _names(table: tuple[str, ...], codes: np.ndarray) -> list[str | None]:
    return [table[c] if c >= 0 else None for c in codes.tolist()]


def _node_names(g: Graph) -> list[str | None]:
    return [g.combines[c] if c >= 0 else None for c in g.node_combine.tolist()]


def test_bulk_and_single_builders_agree():
    """inputs/nodes/outputs build the same arrays as input/node/output (names compared through their tables)."""
    one, bulk = _one_at_a_time(), _bulk()
    for field in ("value_ptr", "values", "edge_child", "edge_parent", "edge_count", "output_node", "output_sample"):
        np.testing.assert_array_equal(getattr(one, field), getattr(bulk, field), err_msg=field)
    assert _node_names(one) == _node_names(bulk)
    leaf = one.is_leaf
    assert _names(one.activations, one.node_act[~leaf]) == _names(bulk.activations, bulk.node_act[~leaf])
    assert _names(one.labels, one.node_bias) == _names(bulk.labels, bulk.node_bias)
    assert _names(one.labels, one.edge_label) == _names(bulk.labels, bulk.edge_label)
    assert set(one.labels) == set(bulk.labels)
    assert one.num_samples == bulk.num_samples == 2
    assert dict(one.shapes) == dict(bulk.shapes)


def test_bulk_and_single_builders_evaluate_alike():
    """Both graphs compute identical outputs for the same parameters."""
    one, bulk = _one_at_a_time(), _bulk()
    params = init_params(one, seed=4, dtype=torch.float64)
    torch.testing.assert_close(evaluate(one, params), evaluate(bulk, params), rtol=0, atol=0)


def test_edges_keep_argument_order():
    """A parent's edges are stored in argument order, also when nodes() interleaves parents."""
    b = GraphBuilder()
    x, y, z = b.input(1.0), b.input(2.0), b.input(3.0)
    p = b.node([(z, "u"), x, (y, "v"), x])
    q, r = b.nodes(2, np.array([1, 0, 1, 0, 1]), np.array([z, y, x, x, y]), ["a", None, "b", "c", None])
    g = b.build()
    for node, children, labels in (
        (p, [z, x, y, x], ["u", None, "v", None]),
        (q, [y, x], [None, "c"]),
        (r, [z, x, y], ["a", "b", None]),
    ):
        lo, hi = g.edge_ptr[node], g.edge_ptr[node + 1]
        assert g.edge_child[lo:hi].tolist() == children
        assert _names(g.labels, g.edge_label[lo:hi]) == labels
    assert np.all(np.diff(g.edge_parent) >= 0)


def test_sizes():
    """num_nodes, num_edges, num_outputs, num_samples; build(num_samples=) may add empty samples."""
    b = GraphBuilder()
    xs = b.inputs([1.0, 2.0, 3.0])  # three scalar leaves
    assert b.num_nodes == 3 and xs.tolist() == [0, 1, 2]
    h = b.node([xs[0], xs[1], xs[1]])
    b.outputs([h, h], [0, 1])
    g = b.build()
    assert (g.num_nodes, g.num_edges, g.num_outputs, g.num_samples) == (4, 3, 2, 2)
    assert g.is_leaf.tolist() == [True, True, True, False]
    assert g.leaf_value(2).tolist() == [3.0]
    assert b.build(num_samples=5).num_samples == 5


def test_summary_fields():
    """summary() reports sizes, depth, label count and per-function node counts (activations of inner nodes only)."""
    g = _one_at_a_time()
    s = g.summary()
    assert s["nodes"] == 8 and s["leaves"] == 3
    assert s["edges"] == s["edge_inputs"] == 9
    assert (s["samples"], s["outputs"], s["depth"], s["weights"]) == (2, 3, 2, 5)
    assert s["combine"] == {"sum": 2, "max": 1, "concat": 1, "mean": 1}
    assert s["activation"] == {"sigmoid": 1, "identity": 2, "tanh": 1, "relu": 1}


def test_summary_counts_multiplicities():
    """After lifting, an edge of multiplicity k counts once in edges and k times in edge_inputs."""
    b = GraphBuilder()
    x = b.input(1.0)
    b.output(b.node([(x, "w"), (x, "w"), (x, "w")], act="tanh"))
    g = b.build()
    lifted, _ = compress(g)
    s = lifted.summary()
    assert (s["edges"], s["edge_inputs"]) == (1, 3)
    assert lifted.num_edges == 1 and lifted.edge_count.tolist() == [3]
    assert g.summary()["edges"] == 3


def test_label_names_are_plain_strings():
    """Labels given per edge are interned as plain ``str``, so messages quote them as 'W'.

    Reproducer of a builder wart: per-edge label lists go through ``np.unique``
    and are stored as ``numpy.str_``; errors then read
    ``weight np.str_('W') expects inputs of dimension 5`` instead of ``weight 'W' ...``.
    """
    b = GraphBuilder()
    x = b.input([1.0, 2.0])
    b.output(b.node([(x, "W")], bias="bb"))
    g = b.build()
    assert [type(label) for label in g.labels] == [str, str]
    try:
        evaluate(g, {"W": torch.zeros(3, 5), "bb": torch.zeros(())})
    except ValueError as e:
        assert "weight 'W' expects" in str(e)
    else:
        raise AssertionError("a (3, 5) weight on a dimension-2 input must be rejected")


def test_connect_and_ragged_inputs() -> None:
    """Nodes created first and wired later, and leaves of different lengths, build the same
    graph as the one-at-a-time calls."""
    a = GraphBuilder()
    x, y = a.inputs([np.array([1.0, 2.0]), np.array([3.0])])
    h = a.nodes(1, combine="sum", act="tanh")
    a.connect(np.array([x]), h, "W")
    a.connect(np.array([y]), h, None)
    a.output(int(h[0]))
    ga = a.build()
    b = GraphBuilder()
    x2, y2 = b.input([1.0, 2.0]), b.input(3.0)
    b.output(b.node([(x2, "W"), y2], act="tanh"))
    gb = b.build()
    for field in ("node_combine", "value_ptr", "values", "edge_child", "edge_parent", "edge_count", "output_node"):
        np.testing.assert_array_equal(getattr(ga, field), getattr(gb, field))
    assert [ga.labels[i] if i >= 0 else None for i in ga.edge_label] == ["W", None]
    with pytest.raises(ValueError, match="dangling edge"):
        a.connect(np.array([99]), h)
