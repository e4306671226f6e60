"""Value lifting: merges at least what exact lifting merges, stays lossless with many digits,
and reports clashes when rounding is coarse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from lift.strategies import random_graphs
from liftnn import GraphBuilder, VerificationError, compress, evaluate, init_params, verify
from liftnn.lift import ValueClashWarning
from reference import reference_evaluate

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
VALUE_CONFIGS = [(digits, inits) for digits in (12, 15) for inits in (1, 2)]
#: verify() draws weights with seeds seed, seed+1, ...; the value pass uses 0..inits-1.
#: An independent seed makes verify test weights that the value pass never saw.
VERIFY_SEED = 1000


@PROPERTY
@given(random_graphs())
def test_value_lifting_not_larger_than_exact(gs):
    """For digits 12/15 and inits 1/2, value lifting keeps at most as many nodes as exact lifting."""
    g, shapes = gs
    for scope in ("sample", "dataset"):
        exact, _ = compress(g, "exact", scope=scope)
        for digits, inits in VALUE_CONFIGS:
            lifted, rep = compress(g, "value", digits=digits, inits=inits, scope=scope, shapes=shapes)
            assert rep.nodes_after == lifted.num_nodes <= exact.num_nodes
            assert (rep.method, rep.digits, rep.inits, rep.scope) == ("value", digits, inits, scope)
            assert rep.clashes >= 0
            np.testing.assert_array_equal(lifted.output_sample, g.output_sample)


@settings(PROPERTY, max_examples=120)  # more examples: value coincidences are rare in random graphs
@given(random_graphs())
def test_value_lifting_is_never_silently_lossy(gs):
    """With 12+ significant digits, value lifting either reproduces outputs and gradients
    (tolerance 1e-6) under weight draws it never saw, or it reported clashes and warned.

    Exact equality of values cannot prove equivalence for piecewise functions: relu(-w)
    and relu(-2w) agree on every positive draw. Value lifting therefore counts every
    merge beyond exact lifting as a clash and warns; with no clash it is exact lifting.
    """
    g, shapes = gs
    for scope in ("sample", "dataset"):
        for digits, inits in VALUE_CONFIGS:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lifted, rep = compress(g, "value", digits=digits, inits=inits, scope=scope, shapes=shapes)
            warned = any(issubclass(w.category, ValueClashWarning) for w in caught)
            assert warned == (rep.clashes > 0)
            lossless = True
            for seed in (VERIFY_SEED, VERIFY_SEED + 1):  # outputs first, with the oracle (runs any graph)
                params = init_params(g, shapes, seed=seed, dtype=torch.float64)
                expected = reference_evaluate(g, params).detach().numpy()
                actual = reference_evaluate(lifted, {k: params[k] for k in lifted.labels}).detach().numpy()
                scale = max(1.0, float(np.abs(expected).max()))
                lossless &= bool(np.abs(actual - expected).max() <= 1e-6 * scale)
            check = verify(g, lifted, trials=2, dtype=torch.float64, shapes=shapes, tolerance=1e-6,
                           seed=VERIFY_SEED, raise_on_error=False)
            if rep.clashes == 0:
                assert lossless and check.ok, (scope, digits, inits)
            if not (lossless and check.ok):
                assert rep.clashes > 0 and warned, (scope, digits, inits)


def test_one_digit_on_distinct_values_reports_clashes():
    """30 leaves 0.11..0.40 through weighted sigmoid nodes: 1 significant digit merges distinct values."""
    b = GraphBuilder()
    nodes = [b.node([(b.input(0.11 + 0.01 * i), "w")], act="sigmoid") for i in range(30)]
    b.outputs(nodes, range(30))
    g = b.build()
    exact, exact_rep = compress(g, "exact", scope="dataset")
    assert exact.num_nodes == 60  # all values distinct: exact lifting merges nothing
    lifted, rep = compress(g, "value", digits=1, scope="dataset", shapes={"w": ()})
    assert rep.clashes > 0
    assert rep.nodes_after < exact_rep.nodes_after
    fine, fine_rep = compress(g, "value", digits=15, scope="dataset", shapes={"w": ()})
    assert fine_rep.clashes == 0 and fine.num_nodes == 60


def test_value_lifting_merges_functional_equivalence():
    """mean(w*x, w*x) and sum(w*x) differ structurally but are equal functions:
    value lifting merges them (a clash), exact lifting does not, and the result is lossless."""
    b = GraphBuilder()
    x = b.input([0.3, -0.7])
    m = b.node([(x, "w"), (x, "w")], "mean", act="tanh")
    s = b.node([(x, "w")], "sum", act="tanh")
    b.outputs([m, s], [0, 0])
    b.weight("w", (2, 2))
    g = b.build()
    exact, _ = compress(g, "exact")
    assert exact.num_nodes == 3
    lifted, rep = compress(g, "value", digits=12)
    assert lifted.num_nodes == 2 and rep.clashes == 1
    assert lifted.output_node[0] == lifted.output_node[1]
    verify(g, lifted, trials=3, tolerance=1e-12, seed=VERIFY_SEED)
    params = init_params(g, seed=7, dtype=torch.float64)
    y = evaluate(lifted, params).detach().numpy()
    np.testing.assert_allclose(y[0], y[1])


def test_value_lifting_flags_relu_zeros_it_cannot_tell_apart():
    """relu(-w) and relu(-2w) are both 0 for every positive w the value pass draws, but differ for w < 0.
    No number of digits can separate them: value lifting merges them, and says so (a clash and a
    ValueClashWarning); verify() on other weights exposes the difference; exact lifting keeps them."""
    b = GraphBuilder()
    r1 = b.node([(b.input(-1.0), "w")], act="relu")
    r2 = b.node([(b.input(-2.0), "w")], act="relu")
    b.outputs([r1, r2], [0, 0])
    b.weight("w", ())
    g = b.build()
    inits = 2
    seed = next(s for s in range(100)
                if all(float(init_params(g, seed=s + t, dtype=torch.float64)["w"]) > 0 for t in range(inits)))
    with pytest.warns(ValueClashWarning, match="merged 1 node"):
        lifted, rep = compress(g, "value", digits=15, inits=inits, seed=seed)
    assert rep.clashes == 1
    params = {"w": torch.tensor(-0.5, dtype=torch.float64)}
    np.testing.assert_allclose(evaluate(g, params).detach().numpy(), [[0.5], [1.0]])
    np.testing.assert_allclose(evaluate(lifted, params).detach().numpy(), [[0.5], [0.5]])
    exact, _ = compress(g, "exact")
    assert exact.num_nodes == g.num_nodes
    with pytest.raises(VerificationError):
        verify(g, lifted, trials=6, seed=VERIFY_SEED)
