"""Bad input is rejected with a ValueError whose message names the culprit."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from liftnn import Graph, GraphBuilder, compress, evaluate, init_params, register_combine


def _raw(**overrides) -> Graph:
    """A valid raw graph (leaf 0 -> sum 1 -> sum 2, output 2) with some fields replaced."""
    fields = dict(
        node_combine=np.array([-1, 0, 0], np.int32),
        node_act=np.zeros(3, np.int32),
        node_bias=np.full(3, -1, np.int32),
        value_ptr=np.array([0, 1, 1, 1], np.int64),
        values=np.array([1.0]),
        edge_child=np.array([0, 1], np.int64),
        edge_parent=np.array([1, 2], np.int64),
        edge_label=np.full(2, -1, np.int32),
        edge_count=np.ones(2, np.int64),
        output_node=np.array([2], np.int64),
        output_sample=np.array([0], np.int64),
        num_samples=1,
        combines=("sum",),
        activations=("identity",),
        labels=(),
    )
    fields.update(overrides)
    return Graph(**fields)


def test_raw_helper_is_valid():
    """The baseline raw graph builds, so every failure below is caused by its one change."""
    g = _raw()
    assert (g.num_nodes, g.num_edges) == (3, 2)


def test_cycle_is_rejected_and_named():
    """1 <- 2 <- 1: the constructor raises a ValueError that says "cycle" and names nodes 1 and 2."""
    with pytest.raises(ValueError, match="cycle") as info:
        _raw(edge_child=np.array([0, 2, 1]), edge_parent=np.array([1, 1, 2]),
             edge_label=np.full(3, -1, np.int32), edge_count=np.ones(3, np.int64))
    nodes = {int(t) for t in re.findall(r"\d+", str(info.value).split("cycle", 1)[1])}
    assert nodes == {1, 2}


def test_self_loop_is_a_cycle():
    """A node feeding itself is a cycle too."""
    with pytest.raises(ValueError, match=r"cycle.*\b2\b"):
        _raw(edge_child=np.array([0, 1, 2]), edge_parent=np.array([1, 2, 2]),
             edge_label=np.full(3, -1, np.int32), edge_count=np.ones(3, np.int64))


def test_builder_dangling_edge_names_the_node():
    """node() with an input id that does not exist names that id."""
    b = GraphBuilder()
    b.input(1.0)
    with pytest.raises(ValueError, match=r"dangling edge.*\b5\b"):
        b.node([(5, "w")])
    with pytest.raises(ValueError, match=r"dangling edge.*-1"):
        b.nodes(1, np.array([0]), np.array([-1]))


def test_raw_dangling_edge_names_the_node():
    """A raw edge_child beyond the node range is reported with its value."""
    with pytest.raises(ValueError, match=r"dangling edge.*edge_child=7"):
        _raw(edge_child=np.array([0, 7]))
    with pytest.raises(ValueError, match=r"dangling edge.*edge_parent=9"):
        _raw(edge_parent=np.array([1, 9]))


def _leaf2_node(label: str | None = "W", bias: str | None = None) -> Graph:
    b = GraphBuilder()
    x = b.input([1.0, 2.0])
    b.output(b.node([(x, label)], bias=bias))
    return b.build()


def test_weight_shape_mismatch_names_the_label():
    """A (3, 5) matrix applied to a dimension-2 leaf: evaluate raises naming 'W' and both dimensions."""
    g = _leaf2_node()
    params = {"W": torch.zeros(3, 5, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"'W'.*5.*dimension 2"):
        evaluate(g, params)
    with pytest.raises(ValueError, match="'W'"):
        evaluate(g, init_params(g, {"W": (3, 5)}))


def test_elementwise_weight_of_wrong_size_names_the_label():
    """A (3,) elementwise weight on a dimension-2 input is rejected, naming the label."""
    g = _leaf2_node(label="e")
    with pytest.raises(ValueError, match="'e'"):
        evaluate(g, {"e": torch.ones(3)})


def test_bias_of_wrong_size_names_the_bias_and_node():
    """A (3,) bias on a dimension-2 node raises naming the bias label and the node."""
    g = _leaf2_node(label=None, bias="b")
    with pytest.raises(ValueError, match=r"bias 'b'.*node 1"):
        evaluate(g, {"b": torch.zeros(3)})


def test_right_sizes_evaluate():
    """Control: the same graphs with fitting shapes evaluate (the errors above are about shapes only)."""
    assert evaluate(_leaf2_node(), {"W": torch.zeros(3, 2)}).shape == (1, 3)
    assert evaluate(_leaf2_node(label=None, bias="b"), {"b": torch.zeros(2)}).shape == (1, 2)


def test_unknown_combine_is_named():
    """An unknown combine name is rejected by node(), nodes() and the raw constructor, naming it."""
    b = GraphBuilder()
    x = b.input(1.0)
    with pytest.raises(ValueError, match="no_such_combine"):
        b.node([x], combine="no_such_combine")
    with pytest.raises(ValueError, match="no_such_combine"):
        b.nodes(2, np.array([0, 1]), np.array([x, x]), combine=["sum", "no_such_combine"])
    with pytest.raises(ValueError, match="no_such_combine"):
        _raw(combines=("no_such_combine",))


def test_unknown_activation_is_named():
    """An unknown activation name is rejected by node() and the raw constructor, naming it."""
    b = GraphBuilder()
    x = b.input(1.0)
    with pytest.raises(ValueError, match="no_such_act"):
        b.node([x], act="no_such_act")
    with pytest.raises(ValueError, match="no_such_act"):
        _raw(activations=("no_such_act",))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_leaf_names_the_leaf(bad):
    """A NaN/inf leaf value is reported with the id of its leaf (not the value's position)."""
    b = GraphBuilder()
    x = b.input(1.0)
    b.node([x])  # an inner node between the leaves: its empty value range must not confuse the lookup
    b.input([2.0, 3.0])
    b.input([0.5, bad])
    b.output(x)
    with pytest.raises(ValueError, match=r"leaf node 3 .*non-finite"):
        b.build()


def test_node_without_inputs_via_raw_constructor():
    """A non-leaf node without edges is rejected, naming the node and its combine."""
    with pytest.raises(ValueError, match=r"node 2 \(sum\) has no inputs"):
        _raw(edge_child=np.array([0]), edge_parent=np.array([1]),
             edge_label=np.full(1, -1, np.int32), edge_count=np.ones(1, np.int64))


def test_node_without_inputs_via_builder():
    """node([]) is refused with a hint to use input() for constants."""
    b = GraphBuilder()
    with pytest.raises(ValueError, match="at least one input"):
        b.node([])


def test_empty_builder():
    """build() on an empty builder says the graph is empty."""
    with pytest.raises(ValueError, match="empty"):
        GraphBuilder().build()


def test_output_and_sample_errors():
    """Outputs must name existing nodes and non-negative samples; num_samples must cover them."""
    b = GraphBuilder()
    x = b.input(1.0)
    with pytest.raises(ValueError, match="does not exist"):
        b.output(3)
    with pytest.raises(ValueError, match=">= 0"):
        b.output(x, sample=-1)
    b.output(x, sample=2)
    with pytest.raises(ValueError, match="num_samples=1"):
        b.build(num_samples=1)


def test_bad_weight_declaration_names_the_label():
    """weight() rejects shapes that are not (), (d,) or (out, in), naming the label."""
    b = GraphBuilder()
    with pytest.raises(ValueError, match="'T'"):
        b.weight("T", (2, 2, 2))
    with pytest.raises(ValueError, match="'Z'"):
        b.weight("Z", (0,))


def test_compress_argument_errors():
    """compress() names the bad method, scope or inits."""
    g = _raw()
    with pytest.raises(ValueError, match="'fast'"):
        compress(g, method="fast")
    with pytest.raises(ValueError, match="'global'"):
        compress(g, scope="global")
    with pytest.raises(ValueError, match="inits"):
        compress(g, method="value", inits=0)


def test_builtin_combine_cannot_be_replaced():
    """Registering a combine under a built-in name is refused, naming it."""
    with pytest.raises(ValueError, match="'sum'"):
        register_combine("sum", lambda t: t.sum(1), symmetric=True, replace=True)
