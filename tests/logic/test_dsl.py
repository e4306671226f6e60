"""The Python DSL builds the same rules as the text syntax."""

from __future__ import annotations

import pytest

from liftnn.logic import parse_template
from liftnn.logic.dsl import C, DslTemplate, R, V, settings


def test_dsl_equals_text() -> None:
    t = DslTemplate()
    t += R.h1(V.X)[10, 10] <= (R.h0(V.Y)[10, 10], R.edge(V.Y, V.X))
    t += (R.h1(V.X) <= R.h0(V.X)[10, 10]) | settings(activation="relu", aggregation="sum")
    t += R.h1 / 1 | settings(activation="sigmoid", offset=(10,))
    t += R.predict[1, 10] <= R.h1(V.X)
    t += R.k(V.X)["shared":(1, 3)] <= (R.h1(V.X)[[1.0, 2.0, 3.0]].fixed(), ~R.b(V.X), -R.c(V.X))
    t += R.e(C.x)[[0.5, 2.0]]
    text = parse_template(
        "{10,10} h1(X) :- {10,10} h0(Y), edge(Y, X).\n"
        "h1(X) :- {10,10} h0(X). [activation=relu, aggregation=sum]\n"
        "h1/1 [activation=sigmoid]\nh1/1 {10,1}\n"
        "{1,10} predict :- h1(X).\n"
        "$shared={1,3} k(X) :- <[1, 2, 3]> h1(X), ~b(X), !c(X).\n"
        "[0.5, 2.0] e(x).\n"
    )
    strip = [(r.head, r.body, r.offset, r.activation, r.aggregation, r.combination) for r in t.rules]
    assert strip == [(r.head, r.body, r.offset, r.activation, r.aggregation, r.combination) for r in text.rules]
    assert [f for f, _ in t.facts] == [f for f, _ in text.facts]
    assert t.predicates == text.predicates


def test_dsl_errors() -> None:
    with pytest.raises(ValueError, match="unknown activation"):
        (R.h(V.X) <= R.a(V.X)) | settings(activation="nope")
    with pytest.raises(ValueError, match="unknown rule setting"):
        (R.h(V.X) <= R.a(V.X)) | settings(speed=1)
    with pytest.raises(ValueError, match="cannot read a weight"):
        R.a(V.X)["x"]
    t = DslTemplate()
    with pytest.raises(ValueError, match="must be ground"):
        t += R.e(V.X)


def test_dsl_hidden_literals_and_predicate_combination() -> None:
    t = DslTemplate()
    t += (R.h(V.I)[3, 2] <= (R.x(V.J), R.edge(V.J, V.I).hidden())) | settings(aggregation="count")
    t += R.h / 1 | settings(combination="product", activation="signum")
    text = parse_template("{3, 2} h(I) :- x(J), *edge(J, I). [aggregation=count]\nh/1 [combination=product, "
                          "transformation=signum]\n")
    assert [(r.head, r.body, r.aggregation) for r in t.rules] == [(r.head, r.body, r.aggregation) for r in text.rules]
    assert t.predicates == text.predicates
    assert t.rules[0].body[1].hidden and not t.rules[0].body[1].feeds_neuron
    with pytest.raises(ValueError, match="combination=max of atom neurons"):
        R.h / 1 | settings(combination="max")
