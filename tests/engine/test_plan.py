"""The vectorised engine against the naive per-node reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import liftnn
from liftnn.data import load_graphs
from liftnn.graph import Graph
from liftnn.models import message_passing_graph
from reference import reference_evaluate

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def counted_graph() -> Graph:
    """Every built-in combine, with multiplicities > 1 on stored edges."""
    b = liftnn.GraphBuilder()
    x = b.inputs(np.array([[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]]))
    h = [b.node([(int(x[i]), "M"), (int(x[(i + 1) % 3]), "v")], combine="sum", act="tanh", bias="c") for i in range(3)]
    tops = [b.node([(h[0], "s"), (h[1], None), (h[2], "s")], combine=c, act="identity")
            for c in ("sum", "mean", "max", "min", "prod")]
    cat = b.node([(tops[0], None), (h[1], "s"), (tops[2], None)], combine="concat", act="identity")
    for i, t in enumerate(tops):
        b.output(t, sample=i)
    g = b.build()
    counts = np.arange(g.num_edges) % 3 + 1  # 1, 2, 3, 1, ... on every edge
    graph = Graph(**{**_fields(g), "edge_count": counts})
    return graph, cat


def concat_graph() -> Graph:
    """:func:`counted_graph` with its concat-with-multiplicities node as the only output."""
    g, cat = counted_graph()
    return Graph(**{**_fields(g), "output_node": [cat], "output_sample": [0], "num_samples": 1})


def _fields(g: Graph) -> dict:
    return {f: getattr(g, f) for f in ("node_combine", "node_act", "node_bias", "value_ptr", "values", "edge_child",
                                       "edge_parent", "edge_label", "edge_count", "output_node", "output_sample",
                                       "num_samples", "combines", "activations", "labels", "shapes")}


SHAPES = {"M": (2, 2), "v": (2,), "s": (), "c": (2,)}


def assert_same_gradient(name: str, got: torch.Tensor | None, ref: torch.Tensor | None) -> None:
    """Engine and reference gradients of one weight agree. ``None`` (no output depends on the
    weight) must be matched by ``None``; the one exception is the reference's ``None`` for a
    weight used only by nodes no output reads, where the engine's batched ops give exact zeros."""
    if got is None or ref is None:
        assert got is None and ref is None or ref is None and not torch.any(got), f"gradient of {name}: {got} vs {ref}"
        return
    assert torch.allclose(got, ref, rtol=1e-8, atol=1e-9, equal_nan=True), name


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("outputs", ["every combine", "concat"])
def test_counts_and_every_combine_match_reference(device: str, outputs: str) -> None:
    """Values and gradients with multiplicities 1-3 on stored edges, for the five reductions
    as outputs and for the concat node (each input repeated ``count`` times, in order)."""
    g = counted_graph()[0] if outputs == "every combine" else concat_graph()
    params = liftnn.init_params(g, SHAPES, seed=4, dtype=torch.float64, device=device)
    got = liftnn.evaluate(g, params)
    assert got.device.type == device
    ref = reference_evaluate(g, {k: v.cpu() for k, v in params.items()})
    assert torch.allclose(got.cpu(), ref, rtol=1e-12, atol=1e-12)
    names = sorted(params)
    g1 = torch.autograd.grad(got.sum(), [params[k] for k in names])
    g2 = torch.autograd.grad(ref.sum(), [params[k] for k in names])
    for a, b in zip(g1, g2, strict=True):
        assert torch.allclose(a.cpu(), b, rtol=1e-10, atol=1e-12)
    if outputs == "concat":  # each input (dimension 2) repeated `count` times
        cat = int(g.output_node[0])
        assert got.shape == (1, 2 * int(g.edge_count[g.edge_ptr[cat] : g.edge_ptr[cat + 1]].sum())) == (1, 12)


def test_concat_output_dimension() -> None:
    g, cat = counted_graph()
    plan = liftnn.plan_for(g, SHAPES)
    # concat of (2 inputs of dim 2, count 1..3 each) has the sum of expanded input dims
    ptr = g.edge_ptr
    assert plan.node_dims[cat] == 2 * int(g.edge_count[ptr[cat] : ptr[cat + 1]].sum())


def test_dtype_follows_params_and_float32_default() -> None:
    g, _ = counted_graph()
    p32 = liftnn.init_params(g, SHAPES, seed=0)
    assert liftnn.evaluate(g, p32).dtype == torch.float32
    p64 = {k: v.double() for k, v in p32.items()}
    y32, y64 = liftnn.evaluate(g, p32), liftnn.evaluate(g, p64)
    assert y64.dtype == torch.float64
    assert torch.allclose(y32.double(), y64, rtol=1e-4, atol=1e-5)


def test_shared_children_and_shared_parents_strategies_agree() -> None:
    """Many parents over few children (child-first) and few parents over many
    children (parent-first) give the reference values."""
    rng = np.random.default_rng(0)
    b = liftnn.GraphBuilder()
    b.inputs(rng.normal(size=(5, 3)))
    wide = b.nodes(40, np.repeat(np.arange(40), 2), rng.integers(0, 5, 80), "W", combine="sum", act="sigmoid")
    deep = b.nodes(2, np.repeat([0, 1], 20), wide[:40], "V", combine="mean", act="relu")
    mx = b.nodes(3, np.repeat([0, 1, 2], 10), wide[rng.integers(0, 40, 30)], "V", combine="max")
    b.outputs(np.concatenate([deep, mx]), [0, 0, 1, 1, 1])
    g = b.build()
    params = liftnn.init_params(g, {"W": (4, 3), "V": (4, 4)}, seed=2, dtype=torch.float64)
    assert torch.allclose(liftnn.evaluate(g, params), reference_evaluate(g, params), rtol=1e-12, atol=1e-12)


def test_lifted_graph_returns_rows_in_original_output_order() -> None:
    b = liftnn.GraphBuilder()
    x = b.input([1.0, 2.0])
    a = b.node([(x, "W")], act="tanh")
    c = b.node([(x, "W")], act="tanh")
    d = b.node([(x, "U")], act="tanh")
    b.outputs([d, a, c, a], [0, 1, 2, 3])
    g = b.build()
    lifted, _ = liftnn.compress(g, scope="dataset")
    assert lifted.num_nodes == 3
    params = liftnn.init_params(g, {"W": (2, 2), "U": (2, 2)}, seed=0, dtype=torch.float64)
    assert torch.equal(liftnn.evaluate(g, params), liftnn.evaluate(lifted, params))


def test_outputs_of_different_dimensions_fail_clearly() -> None:
    b = liftnn.GraphBuilder()
    x = b.input([1.0, 2.0])
    b.output(b.node([(x, "W")]), 0)
    b.output(b.node([(x, None)]), 1)
    g = b.build()
    with pytest.raises(ValueError, match="different dimensions"):
        liftnn.evaluate(g, liftnn.init_params(g, {"W": (3, 2)}))


def test_custom_symmetric_function_sees_full_multiset() -> None:
    liftnn.register_combine("sumsq_test", lambda x: (x**2).sum(1), symmetric=True, replace=True)
    b = liftnn.GraphBuilder()
    x = b.input([1.5])
    y = b.input([-0.5])
    top = b.node([(x, "w"), (y, "w"), (x, "w")], combine="sumsq_test")
    b.output(top)
    g = b.build()
    lifted, _ = liftnn.compress(g)
    assert lifted.edge_count.max() == 2
    params = {"w": torch.tensor(2.0, dtype=torch.float64)}
    expected = torch.tensor([[2 * 3.0**2 + 1.0**2]], dtype=torch.float64)
    assert torch.allclose(liftnn.evaluate(lifted, params), expected)
    assert torch.allclose(liftnn.evaluate(g, params), expected)


def test_dimension_one_inputs_broadcast_into_vector_sums() -> None:
    """A scalar input added to vector inputs is added to every component."""
    b = liftnn.GraphBuilder()
    v = b.input([1.0, 2.0, 3.0])
    s = b.input(0.5)
    top = b.node([(v, "M"), (s, None), (s, "w")], combine="sum", act="identity")
    b.output(top)
    g = b.build()
    params = {"M": torch.eye(3, dtype=torch.float64), "w": torch.tensor(2.0, dtype=torch.float64)}
    expected = torch.tensor([[2.5, 3.5, 4.5]], dtype=torch.float64)
    assert torch.allclose(liftnn.evaluate(g, params), expected)
    assert torch.allclose(reference_evaluate(g, params), expected)
    bad = liftnn.GraphBuilder()
    x, y = bad.input([1.0, 2.0]), bad.input([1.0, 2.0, 3.0])
    bad.output(bad.node([x, y]))
    with pytest.raises(ValueError, match="different dimensions"):
        liftnn.evaluate(bad.build(), {})


def test_stacked_weights_match_reference(monkeypatch) -> None:
    """Force every small labelled group into one stacked batched op (or none) and compare
    outputs and gradients with the naive evaluator on random graphs."""
    from hypothesis import given, settings

    from lift.strategies import random_graphs
    from liftnn.engine import plan as plan_module

    for stack_rows in (10**9, 0):
        monkeypatch.setattr(plan_module, "STACK_ROWS", stack_rows)

        @settings(max_examples=30, deadline=None, derandomize=True)
        @given(random_graphs())
        def check(gs) -> None:
            g, shapes = gs
            for graph in (g, liftnn.compress(g, scope="dataset")[0]):
                params = liftnn.init_params(g, shapes, seed=1, dtype=torch.float64)
                got = liftnn.evaluate(graph, params)
                ref = reference_evaluate(g, params)
                assert torch.allclose(got, ref, rtol=1e-9, atol=1e-9, equal_nan=True)
                names = sorted(params)
                ga = torch.autograd.grad(got.sum(), [params[k] for k in names], allow_unused=True)
                gb = torch.autograd.grad(ref.sum(), [params[k] for k in names], allow_unused=True)
                for name, a, b in zip(names, ga, gb, strict=True):
                    assert_same_gradient(name, a, b)

        check()


def test_latest_levels_respect_every_edge_and_keep_leaves_at_the_bottom() -> None:
    """The as-late-as-possible schedule keeps every input strictly below its consumer."""
    from liftnn.engine.plan import _latest_levels

    data = load_graphs("MUTAG")
    g = liftnn.compress(message_passing_graph(data, layers=3, dim=2), scope="dataset")[0]
    late = _latest_levels(g, g.levels())
    assert np.all(late[g.edge_child] < late[g.edge_parent])
    assert np.all(late[g.is_leaf] == 0)
    assert np.all(late >= g.levels())
