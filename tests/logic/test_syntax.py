"""The NeuraLogic text syntax: every construct, and errors naming file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from liftnn.logic import (
    TemplateSyntaxError,
    Var,
    load_template,
    parse_examples,
    parse_queries,
    parse_template,
)


def test_rule_with_every_weight_form() -> None:
    t = parse_template("{3,3} l1(X) :- {3,2} a(Y), bond(X,Y,B), {3} b(B), 2.5 c(X), [1, 2] d(X), <-7> e(X), 0.5.")
    (r,) = t.rules
    assert r.head.weight.shape == (3, 3) and r.head.terms == (Var("X"),)
    shapes = [lit.weight.shape if lit.weight else None for lit in r.body]
    assert shapes == [(3, 2), None, (3, 1), (), (2, 1), ()]
    assert r.body[3].weight.init == (2.5,)
    assert r.body[4].weight.init == (1.0, 2.0)
    assert r.body[5].weight.fixed and r.body[5].weight.init == (-7.0,)
    assert r.offset.init == (0.5,)
    assert r.body[1].terms == (Var("X"), Var("Y"), Var("B"))


def test_named_weights_negation_metadata_and_predicate_lines() -> None:
    t = parse_template(
        "$w={3,1} h(X) :- $v=2 a(X), ~b(X), !c(X). [activation=relu, aggregation=max, combination=elproduct]\n"
        "k(X) :- $w a(X).\n"
        "h/1 [activation=tanh]\n"
        "h/1 {3,1}\n"
        "[0.5, 2.0] e(x).\n"
        "% a comment\n/* a block\n comment */\n"
    )
    r, k = t.rules
    assert r.head.weight.name == "w" and r.body[0].weight.name == "v"
    assert [lit.negation for lit in r.body] == [None, "soft", "hard"]
    assert (r.activation, r.aggregation, r.combination) == ("relu", "max", "prod")
    assert k.body[0].weight.name == "w"
    assert t.predicates[("h", 1)].activation == "tanh"
    assert t.predicates[("h", 1)].offset.shape == (3, 1)
    (fact, _), = t.facts
    assert fact.predicate == "e" and fact.weight.init == (0.5, 2.0)


def test_import_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "emb.txt").write_text("{3,1} emb(A) :- c(A).\n")
    (tmp_path / "main.txt").write_text("import ./emb.txt\n{1,3} predict :- emb(X).\n")
    t = load_template(tmp_path / "main.txt")
    assert [r.head.predicate for r in t.rules] == ["emb", "predict"]


def test_text_round_trip() -> None:
    text = "$w={3,1} h(X) :- <-7> a(X), ~b(X), 0.5. [activation=sigmoid, aggregation=avg]\nh/1 [activation=tanh]"
    t = parse_template(text)
    again = parse_template(str(t))
    assert again.rules == t.rules and str(again) == str(t)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("h(X) :- a(X)", "1:13", "expected '.'"),
        ("h(X) :- a(X).\nh(X) :- b(X). [activation=foo]", "2:16", "unknown activation 'foo'"),
        ("H(X) :- a(X).", "1:1", "predicate name"),
        ("h(X) :- {0,3} a(X).", "1:9", "dimensions"),
        ("h(X) :- a(X), 0.5, b(X).", "1:18", "rule offset"),
        ("h(X) :- a(X). [speed=3]", "1:16", "unknown rule setting 'speed'"),
        ("h(X) :- a(X) # b.", "1:14", "unexpected character"),
        ("h(X).", "1:1", "facts must be ground"),
        ("h/1 [aggregation=sum]", "1:6", "cannot take 'aggregation'"),
    ],
)
def test_syntax_errors_name_file_line_column(text: str, where: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=rf"t\.txt:{where}: .*{message}"):
        parse_template(text, "t.txt")


def test_missing_import_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "main.txt").write_text("import ./nope.txt\n")
    with pytest.raises(TemplateSyntaxError, match=r"main.txt:1:1: imported file"):
        load_template(tmp_path / "main.txt")
    with pytest.raises(FileNotFoundError, match="no such template file"):
        load_template(tmp_path / "absent.txt")


def test_examples_and_queries() -> None:
    ex = parse_examples("a(x, y), 0.5 b(y), [1, 0, 1] f(x).\nc(z),\nd(z).\n", "ex.txt")
    assert len(ex) == 2
    assert [f.value for f in ex[0]] == [None, (0.5,), (1.0, 0.0, 1.0)]
    assert ex[1][1].where == "ex.txt:3"
    qs = parse_queries("1.0 predict.\ne7 :- 0.0 predict.\n1.0 h(a), 0.0 h(b).\n", "q.txt")
    assert [(q.entry, q.name, q.target) for q in qs] == [(0, None, (1.0,)), (1, "e7", (0.0,)), (2, None, (1.0,)),
                                                          (2, None, (0.0,))]
    with pytest.raises(TemplateSyntaxError, match=r"ex.txt:1:\d+: variable X in a ground fact"):
        parse_examples("a(X).", "ex.txt")
    with pytest.raises(TemplateSyntaxError, match=r"ex.txt:2:\d+: expected"):
        parse_examples("a(x).\nb(y) c(z).", "ex.txt")


def test_dataset_files_errors(tmp_path: Path) -> None:
    from liftnn.logic import load_dataset

    (tmp_path / "ex.txt").write_text("a(x).\nb(y).\n")
    (tmp_path / "q.txt").write_text("1.0 h(x).\n")
    (tmp_path / "empty.txt").write_text("% nothing\n")
    with pytest.raises(ValueError, match=r"q.txt: 1 query entries for 2 examples"):
        load_dataset(tmp_path / "ex.txt", tmp_path / "q.txt")
    with pytest.raises(ValueError, match=r"empty.txt: no examples"):
        load_dataset(tmp_path / "empty.txt", tmp_path / "q.txt")
    with pytest.raises(FileNotFoundError, match="no such queries file"):
        load_dataset(tmp_path / "ex.txt", tmp_path / "nope.txt")
    (tmp_path / "q2.txt").write_text("1.0 h(x).\n0.0 h(y).\n")
    facts, queries = load_dataset(tmp_path / "ex.txt", tmp_path / "q2.txt")
    assert facts.num_examples == 2 and queries.target.tolist() == [1.0, 0.0]
