"""verify(): its own weight draws at several scales, per-element errors, dtype tolerances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from lift.strategies import random_graphs, relu_pair
from liftnn import GraphBuilder, VerificationError, compress, evaluate, init_params, verify
from liftnn.engine.plan import WeightShapeError
from liftnn.lift import ValueClashWarning, check_shapes
from liftnn.verify import SCALES, TOLERANCES, draw_params, element_errors


def _tanh_max_relu(samples: int = 200, arity: int = 6):
    """The tanh/max/relu network on which value lifting (3 inits) merges nodes that differ elsewhere."""
    rng = np.random.default_rng(0)
    n = samples * arity
    b = GraphBuilder()
    x = b.inputs(rng.choice([0.0, 1.0], size=(n, 4)))
    h = b.nodes(n, np.arange(n), x, label="E", act="tanh")
    ch = h[(np.arange(n * 2) * 7919) % n]
    h2 = b.nodes(n, np.repeat(np.arange(n), 2), ch, label="M", combine="max", act="relu", bias="b")
    r = b.nodes(samples, np.repeat(np.arange(samples), arity), h2, combine="sum", act="sigmoid")
    b.outputs(r, np.arange(samples))
    b.weight("E", (4, 4))
    b.weight("M", (4, 4))
    b.weight("b", (4,))
    return b.build()


def test_lossy_value_lifting_fails_under_default_arguments():
    g = _tanh_max_relu()
    with pytest.warns(ValueClashWarning, match=r"node \d+ into node \d+"):
        lossy, report = compress(g, method="value", scope="dataset", inits=3)
    assert report.clashes == report.clash_pairs.shape[0] > 0
    with pytest.raises(VerificationError, match="verify FAILED"):
        verify(g, lossy)
    check = verify(g, lossy, trials=2, raise_on_error=False)  # the CLI's default: still other draws
    assert not check.ok and check.max_output_error > 1e-3
    exact, _ = compress(g, scope="dataset")
    assert verify(g, exact).ok


def test_draws_are_not_the_value_pass_draws_and_span_several_scales():
    g = _tanh_max_relu(samples=2)
    shapes = {"E": (4, 4), "M": (4, 4), "b": (4,)}
    for t in range(3):
        mine = draw_params(g, shapes, seed=0, trial=t, dtype=torch.float64)
        for s in range(5):
            theirs = init_params(g, shapes, seed=s, dtype=torch.float64)
            assert not torch.equal(mine["b"], theirs["b"])
    bias = [float(draw_params(g, shapes, 0, t, torch.float64)["b"].detach().abs().max()) for t in range(3)]
    assert bias[1] > 1.0 > bias[0] > bias[2]  # scales 1, 4, 1/4
    assert sorted(SCALES) == [0.25, 1.0, 4.0]


def test_a_merge_wrong_only_for_weights_above_one_fails():
    """relu(w - 1) and relu(v - 1) are 0 for every draw in U(-1, 1): value lifting merges them."""
    g, a, c = relu_pair()
    with pytest.warns(ValueClashWarning):
        lifted, report = compress(g, method="value", inits=3)
    assert report.clashes == 1
    with pytest.raises(VerificationError):
        verify(g, lifted)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(random_graphs())
def test_float32_lossless_graphs_pass(gs):
    g, shapes = gs
    for scope in ("sample", "dataset"):
        lifted, _ = compress(g, scope=scope)
        check = verify(g, lifted, dtype=torch.float32, shapes=shapes, raise_on_error=False)
        assert check.ok, check
        assert check.tolerance == TOLERANCES[torch.float32][0]


def _outputs_graph(values: list[float]):
    """Outputs ``sigmoid(w · v)`` for small ``v`` and ``w · v`` for large ones."""
    b = GraphBuilder()
    nodes = [b.node([(b.input(v), "w")], act="sigmoid" if abs(v) < 10 else "identity") for v in values]
    b.outputs(nodes, [0] * len(nodes))
    b.weight("w", ())
    return b.build()


def test_one_wrong_small_output_among_large_ones_fails():
    """A 0.5-sized output off by ~1e-7 next to an output of 1e5 is an error, not rounding."""
    values = [0.01 * i for i in range(20)] + [1e5]
    good, bad = _outputs_graph(values), _outputs_graph([v + (1e-6 if i == 7 else 0.0) for i, v in enumerate(values)])
    assert verify(good, _outputs_graph(values)).ok
    with pytest.raises(VerificationError, match="output row 7"):
        verify(good, bad)
    off = float(draw_params(good, {"w": ()}, 0, 0, torch.float64)["w"].detach()) * 1e-6
    assert abs(off) < 1e-5  # the old whole-tensor scale (1e5) would have called it 1e-11


def test_equal_infinities_and_nans_compare_equal():
    a = torch.tensor([float("inf"), float("-inf"), float("nan"), 1.0, 0.0], dtype=torch.float64)
    assert element_errors(a, a.clone(), 1e-3).max() == 0
    b = torch.tensor([1e300, float("-inf"), float("nan"), 1.0, 1e-20], dtype=torch.float64)
    err = element_errors(a, b, 1e-3)
    assert err[0] == float("inf") and err[1] == 0 and err[2] == 0 and 0 < err[4] < 1e-16
    bx = GraphBuilder()
    big = bx.node([(bx.input(1000.0), "w")], act="exp")  # w·1000 > 710 on some draws: exp overflows
    bx.outputs([big, bx.node([(bx.input(0.5), "w")], act="exp")], [0, 0])
    g = bx.build()
    assert verify(g, compress(g)[0], trials=6).ok


def test_graphs_with_other_labels_are_not_the_same_model():
    b1, b2 = GraphBuilder(), GraphBuilder()
    b1.output(b1.node([(b1.input(1.0), "w")], act="tanh"), 0)
    b2.output(b2.node([(b2.input(1.0), "u")], act="tanh"), 0)
    with pytest.raises(VerificationError, match=r"label\(s\) \['u'\]"):
        verify(b1.build(), b2.build())


@pytest.mark.parametrize("trials", [0, -1, 1.5, True])
def test_a_check_without_draws_is_an_error(trials):
    g = _outputs_graph([0.5])
    with pytest.raises(ValueError, match="trials must be an integer >= 1"):
        verify(g, g, trials=trials)


def _commuting_products():
    """prod(A·x, B·y) and prod(B·x, A·y): equal for scalar A, B; different for matrices."""
    b = GraphBuilder()
    x, y = b.input([0.3, -0.8]), b.input([0.6, 0.1])
    p = b.node([(x, "A"), (y, "B")], combine="prod", act="tanh")
    q = b.node([(x, "B"), (y, "A")], combine="prod", act="tanh")
    b.outputs([p, q], [0, 0])
    return b.build()


def test_value_lifting_with_scalars_then_matrices_is_a_clear_error():
    g = _commuting_products()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValueClashWarning)
        lifted, report = compress(g, method="value", digits=14, inits=2)
    assert report.clashes == 1 and lifted.num_nodes < compress(g)[0].num_nodes
    assert dict(lifted.shapes) == {"A": (), "B": ()} == report.assumed_shapes
    assert verify(g, lifted).ok  # for the scalars it was lifted with, the merge is right
    matrices = {"A": (2, 2), "B": (2, 2)}
    with pytest.raises(WeightShapeError, match=r"weight 'A' has shape \(2, 2\) but the graph declares \(\)"):
        verify(g, lifted, shapes=matrices)
    with pytest.raises(WeightShapeError, match="lift again with"):
        check_shapes(lifted, matrices)
    matrix_params = {k: torch.ones(v, dtype=torch.float64) for k, v in matrices.items()}
    with pytest.raises(WeightShapeError, match=r"weight 'A' has shape \(2, 2\) but the graph declares \(\)"):
        evaluate(lifted, matrix_params)  # the engine refuses too, not only verify
    relifted, _ = compress(g, method="value", digits=14, inits=2, shapes=matrices)
    assert relifted.num_nodes == compress(g)[0].num_nodes  # lifted for matrices, nothing is merged
    assert verify(g, relifted, shapes=matrices).ok
