"""Where did a node go: ``Report.node_map`` sends every node to the lifted node computing its value;
bad arguments to compress() and verify() are errors naming the argument."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from lift.strategies import random_graphs, relu_pair
from liftnn import GraphBuilder, VerificationError, compress, init_params, plan_for, verify
from liftnn.engine import shapes_of
from liftnn.engine.plan import WeightShapeError
from liftnn.lift import ValueClashWarning


def _node_values(g, params) -> list[torch.Tensor]:
    plan = plan_for(g, shapes_of(params))
    with torch.no_grad():
        return plan.node_values(plan.run(params), np.arange(g.num_nodes))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(random_graphs())
def test_node_map_sends_every_node_to_a_node_with_its_value(gs):
    g, shapes = gs
    params = init_params(g, shapes, seed=3, dtype=torch.float64, requires_grad=False)
    before = _node_values(g, params)
    for scope in ("sample", "dataset"):
        for prune in (True, False):
            lifted, report = compress(g, scope=scope, prune=prune)
            assert report.node_map.shape == (g.num_nodes,)
            assert set(report.node_map.tolist()) == set(range(lifted.num_nodes))  # every lifted node is someone's
            np.testing.assert_array_equal(report.node_map[g.output_node], lifted.output_node)
            after = _node_values(lifted, {k: params[k] for k in lifted.labels})
            for i, j in enumerate(report.node_map.tolist()):
                torch.testing.assert_close(after[j], before[i], rtol=1e-9, atol=1e-12, equal_nan=True)


def test_clash_pairs_name_value_merges_in_input_ids():
    g, a, c = relu_pair()
    with pytest.warns(ValueClashWarning, match=rf"node {c} into node {a}"):
        lifted, report = compress(g, method="value", inits=3)
    assert report.clash_pairs.tolist() == [[c, a]]
    assert report.node_map[a] == report.node_map[c]
    assert report.as_dict()["clash_pairs"] == [[c, a]] and "node_map" not in report.as_dict()


def _tiny():
    b = GraphBuilder()
    b.output(b.node([(b.input([0.5, 1.0]), "w")], act="tanh"), 0)
    return b.build()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"method": "fast"}, "method must be one of"),
    ({"scope": "global"}, "scope must be one of"),
    ({"method": "value", "inits": 0}, "inits must be an integer >= 1"),
    ({"method": "value", "inits": 1.5}, "inits must be an integer >= 1"),
    ({"method": "value", "digits": 0}, "digits must lie in 1..17"),
    ({"method": "value", "digits": 30}, "digits must lie in 1..17"),
])
def test_compress_names_the_bad_argument(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        compress(_tiny(), **kwargs)
    assert info.type is ValueError


def test_verify_rejects_other_models_dtypes_and_shapes():
    g = _tiny()
    b = GraphBuilder()
    x = b.input([0.5, 1.0])
    b.outputs([b.node([(x, "w")], act="tanh"), b.node([(x, "w")], act="relu")], [0, 0])
    two = b.build()
    with pytest.raises(VerificationError, match="output counts differ: 1 vs 2") as info:
        verify(g, two)
    assert info.type is VerificationError
    with pytest.raises(ValueError, match="dtype must be one of") as info:
        verify(g, g, dtype=torch.int64)
    assert info.type is ValueError
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        verify(g, g, tolerance=float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValueClashWarning)
        lifted, _ = compress(g, method="value")
    with pytest.raises(WeightShapeError, match=r"weight 'w' has shape \(2,\) but the graph declares \(\)") as info:
        verify(g, lifted, shapes={"w": (2,)})
    assert info.type is WeightShapeError
