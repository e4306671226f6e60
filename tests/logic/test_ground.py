"""Grounding on tiny hand-checked programs, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import liftnn
from liftnn.logic import GroundingError, build, ground, neuron_count, parse_examples, parse_queries, parse_template
from liftnn.logic.facts import FactBase, QuerySet


def setup(template: str, examples: str, queries: str, strict: bool = True):
    tpl = parse_template(template, "t.txt")
    facts = FactBase.from_examples(parse_examples(examples, "ex.txt"))
    qs = QuerySet.from_queries(parse_queries(queries, "q.txt"), facts.symbols, facts.num_examples)
    return tpl, facts, qs


def names(g, rg) -> set[tuple[str, ...]]:
    return {tuple(g.facts.symbols.names[c] for c in row[1:]) for row in rg.subst}


def test_join_over_shared_variables() -> None:
    g = ground(*setup("h(X) :- a(X, Y), b(Y).", "a(x, y), a(x, z), a(w, v), b(y), b(z).", "1.0 h(x)."))
    (rg,) = g.rules
    assert names(g, rg) == {("x", "y"), ("x", "z")}  # h(w) is not asked for and a(w, v) has no b(v)


def test_constants_repeated_variables_and_examples_stay_apart() -> None:
    tpl, facts, qs = setup(
        "h(X) :- e(X, X), c(X, k).",
        "e(a, a), e(b, b), e(a, b), c(a, k), c(b, j).\ne(b, b), c(b, k).",
        "1.0 h(a).\n1.0 h(b).",
    )
    g = ground(tpl, facts, qs)
    (rg,) = g.rules
    rows = {(int(r[0]), g.facts.symbols.names[r[1]]) for r in rg.subst}
    assert rows == {(0, "a"), (1, "b")}


def test_recursion_semi_naive_transitive_closure() -> None:
    tpl, facts, qs = setup(
        "path(X, Y) :- edge(X, Y).\npath(X, Y) :- edge(X, Z), path(Z, Y).",
        "edge(a, b), edge(b, c), edge(c, d), edge(x, y).",
        "1.0 path(a, d).",
    )
    g = ground(tpl, facts, qs)
    derived = {tuple(g.facts.symbols.names[c] for c in row[1:]) for row in g.derived[("path", 2)]}
    assert derived == {("a", "b"), ("b", "c"), ("c", "d"), ("a", "c"), ("b", "d"), ("a", "d"), ("x", "y")}
    relevant = set().union(*(names(g, rg) for rg in g.rules))
    assert ("x", "y") not in relevant  # path(x, y) is derived but no query needs it
    net = build(tpl, facts, qs)
    # no weights, identity activations: path(c,d) = edge = 1, path(b,d) = edge + path(c,d) = 2, path(a,d) = 3
    y = liftnn.evaluate(net.graph, {}, dtype=torch.float64)
    assert y.item() == 3.0


def test_hand_computed_value_with_offsets_and_negation() -> None:
    tpl, facts, qs = setup(
        "2 h(X) :- 3 a(X, Y), -1 b(Y), 0.5. [aggregation=sum]\nh/1 [activation=identity]\nk(X) :- a(X, Y), ~b(Y).",
        "a(x, y), a(x, z), 0.5 b(y), 0.25 b(z).",
        "1.0 h(x), 0.0 k(x).",
    )
    net = build(tpl, facts, qs)
    params = net.weights.init_params(dtype=torch.float64)
    y = liftnn.evaluate(net.graph, params).detach().numpy().ravel()
    h = 2 * ((3 - 0.5 + 0.5) + (3 - 0.25 + 0.5))
    k = np.mean([(1 + (1 - 0.5)), (1 + (1 - 0.25))])
    assert np.allclose(y, [h, k])


def test_hard_negation_and_underivable_query() -> None:
    tpl, facts, qs = setup("h(X) :- 3 a(X), !b(X).", "a(x), a(y), b(y).", "1.0 h(x), 1.0 h(y).")
    with pytest.raises(ValueError, match=r"q.txt:1: query h\(y\) cannot be derived.*allow_underivable"):
        build(tpl, facts, qs)
    net = build(tpl, facts, qs, allow_underivable=True)
    y = liftnn.evaluate(net.graph, net.weights.init_params(dtype=torch.float64)).detach().numpy().ravel()
    assert y.tolist() == [3.0, 0.0]  # allowed: h(y) outputs 0
    assert neuron_count(net) == 4  # h(x): fact, rule, aggregation, atom; h(y): none (the 0 is a placeholder)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("h(X, Z) :- a(X).", r"t.txt:1: unsafe rule: head variable Z"),
        ("h(X) :- a(X), !b(Y).", r"t.txt:1: unsafe rule: variable Y of negated"),
        ("h(X) :- a(X), nope(X).", r"t.txt:1: unknown predicate nope/1"),
        ("h(X) :- a(X, X).", r"t.txt:1: predicate a is used with arity 2 but elsewhere with arity 1"),
        ("h(X) :- a(X), !h(X).", r"t.txt:1: negation through recursion"),
    ],
)
def test_grounding_errors_name_the_rule(template: str, message: str) -> None:
    with pytest.raises(GroundingError, match=message):
        ground(*setup(template, "a(x).", "1.0 h(x)."))


def test_non_strict_unknown_predicate_grounds_nothing() -> None:
    g = ground(*setup("h(X) :- a(X), nope(X).\nh(X) :- a(X).", "a(x).", "1.0 h(x)."), strict=False)
    assert [rg.subst.shape[0] for rg in g.rules] == [0, 1]


def test_cyclic_ground_program_is_a_clear_error() -> None:
    tpl, facts, qs = setup("p(X) :- e(X, Y), p(Y).\np(X) :- s(X).", "e(a, b), e(b, a), s(a).", "1.0 p(a).")
    with pytest.raises(ValueError, match="t.txt:1: the ground network is cyclic"):
        build(tpl, facts, qs)


def test_shared_knowledge_base_is_grounded_once() -> None:
    tpl, facts, qs = setup("h(X, Y) :- r(X, Y).", "r(a, b), r(b, c).", "1.0 h(a, b).\n0.0 h(b, c).\n0.0 h(c, a).")
    net = build(tpl, facts, qs, allow_underivable=True)  # h(c, a) is a negative no rule derives
    assert facts.num_examples == 1 and net.graph.num_samples == 3
    assert net.targets.tolist() == [1.0, 0.0, 0.0]


def test_join_keys_beyond_64_bits_stay_exact() -> None:
    """Keys whose value ranges need more than 62 bits are refactorised, never collide."""
    from liftnn.logic.relations import encode, join

    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**20, (400, 4))
    b = np.concatenate([a[:200], rng.integers(0, 2**20, (200, 4))])
    ka, kb = encode(a, b)
    same = (a[:, None, :] == b[None, :, :]).all(-1)
    assert np.array_equal(ka[:, None] == kb[None, :], same)
    i, j = join(a, [0, 1, 2, 3], b, [0, 1, 2, 3])
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(int(x), int(y)) for x, y in np.argwhere(same)]


def test_weight_dimension_that_does_not_fit_names_the_template_line() -> None:
    tpl, facts, qs = setup("h(X) :- {3,1} a(X).\nk(X) :- {2,5} h(X).", "a(x).", "1.0 k(x).")
    with pytest.raises(ValueError, match=r"t.txt:2: weight 'w1' expects inputs of dimension 5.*has dimension 3"):
        build(tpl, facts, qs)


def test_builtin_next_steps_through_integer_constants() -> None:
    tpl, facts, qs = setup("h(X, 0) :- s(X, 0).\nh(X, T) :- 2 s(X, T), h(X, Z), @next(Z, T).",
                           "s(a, 0), s(a, 1), s(a, 2), s(a, 5).", "1.0 h(a, 2).")
    g = ground(tpl, facts, qs)
    assert [rg.subst.shape[0] for rg in g.rules] == [1, 2]  # h(a,1) and h(a,2); 5 has no predecessor chain
    net = build(tpl, facts, qs)
    y = liftnn.evaluate(net.graph, net.weights.init_params(dtype=torch.float64)).detach().numpy().ravel()
    assert y.tolist() == [2.0 + 2.0 + 1.0]  # h(a,2) = 2·s(a,2) + h(a,1) = 2 + (2·s(a,1) + h(a,0))
