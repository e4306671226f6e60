"""Every built-in activation and combine against its textbook formula, and user registration."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
import torch

from liftnn import GraphBuilder, compress, evaluate, register_activation, register_combine, verify
from liftnn.graph import Graph, activation_names, combine_names

X = np.array([-1.5, -0.2, 0.0, 0.3, 2.0])  # for activations defined on all reals
POS = np.array([0.25, 0.5, 1.0, 2.0, 9.0])  # for log, sqrt and inverse

#: The formula (numpy) and an input inside its domain for every built-in activation.
FORMULAS = {
    "identity": (lambda x: x, X),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), X),
    "tanh": (lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), X),
    "relu": (lambda x: np.maximum(x, 0), X),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), X),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1), X),
    "softplus": (lambda x: np.log(1 + np.exp(x)), X),
    "exp": (np.exp, X),
    "log": (np.log, POS),
    "sqrt": (np.sqrt, POS),
    "square": (lambda x: x * x, X),
    "inverse": (lambda x: 1 / x, POS),
    "abs": (np.abs, X),
    "reverse": (lambda x: 1 - x, X),
    "softmax": (lambda x: np.exp(x) / np.exp(x).sum(), X),
}

#: Every built-in combine on inputs a, b, a (a repeated): the documented value.
A, B = np.array([0.5, -2.0]), np.array([1.5, 0.25])
COMBINES = {
    "sum": 2 * A + B,
    "mean": (2 * A + B) / 3,
    "max": np.maximum(A, B),
    "min": np.minimum(A, B),
    "prod": A * A * B,
    "concat": np.concatenate([A, B, A]),
}


def _one_node(x: np.ndarray, act: str = "identity", combine: str = "sum", label: str | None = None) -> Graph:
    b = GraphBuilder()
    b.output(b.node([(b.input(x), label)], combine, act))
    return b.build()


def _run(g: Graph) -> np.ndarray:
    """The first output row of a weightless graph, in float64."""
    return evaluate(g, {}, dtype=torch.float64)[0].numpy()


def test_the_tables_name_every_builtin() -> None:
    """The tests below cover exactly the built-in functions: the names a fresh interpreter knows."""
    code = "from liftnn.graph import activation_names, combine_names; print(activation_names(), combine_names())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    acts, combines = (set(ast.literal_eval(part + "]")) for part in fresh.strip().rstrip("]").split("] "))
    assert acts == set(FORMULAS) and len(acts) == 15
    assert combines == set(COMBINES)
    assert acts <= set(activation_names()) and combines <= set(combine_names())


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_builtin_activation_matches_its_formula(name: str) -> None:
    """The engine computes act(x) row-wise as the textbook formula says (float64, 1e-12)."""
    formula, x = FORMULAS[name]
    got = _run(_one_node(x, name))
    np.testing.assert_allclose(got, formula(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_builtin_activation_gradient_matches_finite_differences(name: str) -> None:
    """d act(w * x) / dw from the engine equals a central finite difference (inside the domain)."""
    formula, x = FORMULAS[name]
    g = _one_node(x, name, label="w")
    w = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(evaluate(g, {"w": w}).sum(), [w])
    h = 1e-6
    numeric = (formula(1.1 * x + h * x).sum() - formula(1.1 * x - h * x).sum()) / (2 * h)
    assert float(grad) == pytest.approx(numeric, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", sorted(COMBINES))
def test_builtin_combine_matches_its_formula(name: str) -> None:
    """combine(a, b, a) is the documented value, before and after lifting folds the repeated a."""
    b = GraphBuilder()
    xa, xb = b.input(A), b.input(B)
    b.output(b.node([xa, xb, xa], name))
    g = b.build()
    lifted, _ = compress(g)
    for graph in (g, lifted):
        np.testing.assert_allclose(_run(graph), COMBINES[name], rtol=1e-12)


def test_register_activation_is_used_by_evaluate_and_compress() -> None:
    """A registered activation is applied row-wise by the engine; lifting merges nodes using it
    (same name, same inputs) and stays lossless."""
    register_activation("test_cube", lambda t: t**3, replace=True)
    b = GraphBuilder()
    x = b.input([0.5, -2.0])
    n1 = b.node([(x, "w")], act="test_cube")
    n2 = b.node([(x, "w")], act="test_cube")
    n3 = b.node([(x, "w")], act="tanh")
    b.outputs([n1, n2, n3], [0, 0, 0])
    g = b.build()
    w = torch.tensor(0.7, dtype=torch.float64)
    y = evaluate(g, {"w": w}).numpy()
    np.testing.assert_allclose(y[0], (0.7 * np.array([0.5, -2.0])) ** 3, rtol=1e-12)
    lifted, rep = compress(g)
    assert rep.nodes_after == 3  # the leaf, one cube node, the tanh node
    verify(g, lifted, trials=2)


def test_register_activation_refuses_builtins_and_silent_replacement() -> None:
    """Built-in names are refused; re-registering needs replace=True and then takes effect."""
    with pytest.raises(ValueError, match="'relu'"):
        register_activation("relu", torch.abs, replace=True)
    register_activation("test_twice", lambda t: 2 * t, replace=True)
    with pytest.raises(ValueError, match="test_twice.*replace=True"):
        register_activation("test_twice", lambda t: 3 * t)
    g = _one_node(np.array([1.0, -1.0]), "test_twice")
    np.testing.assert_array_equal(_run(g), [2.0, -2.0])
    register_activation("test_twice", lambda t: 3 * t, replace=True)
    np.testing.assert_array_equal(_run(_one_node(np.array([1.0, -1.0]), "test_twice")), [3, -3])


def test_register_combine_refuses_silent_replacement() -> None:
    """A second registration of a user combine without replace=True is refused, naming it."""
    register_combine("test_first", lambda t: t[:, 0], symmetric=False, replace=True)
    with pytest.raises(ValueError, match="test_first"):
        register_combine("test_first", lambda t: t[:, 0], symmetric=False)


def test_unlabelled_dimension_one_input_broadcasts_in_every_combine() -> None:
    """A scalar leaf through an identity edge is broadcast over a 2-vector in every non-concat combine."""
    v, s = np.array([1.5, -0.5]), 2.0
    expected = {"sum": v + s, "mean": (v + s) / 2, "max": np.maximum(v, s), "min": np.minimum(v, s), "prod": v * s}
    for name, want in expected.items():
        b = GraphBuilder()
        b.output(b.node([b.input(v), b.input(s)], name))
        np.testing.assert_allclose(_run(b.build()), want, rtol=1e-12, err_msg=name)


def test_softplus_is_exact_for_large_inputs() -> None:
    """softplus(x) = log(1 + e^x) stays finite and equal to x (to rounding) far out: no overflow."""
    got = _run(_one_node(np.array([50.0, 700.0, 1000.0]), "softplus"))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [50.0, 700.0, 1000.0], rtol=1e-12)
