"""Relational templates (LRNN): syntax, grounding and neuralization into computation graphs."""

from __future__ import annotations

import time
from pathlib import Path

from .facts import FactBase, QuerySet
from .ground import Grounding, GroundingError, ground
from .neuralize import Network, neuralize
from .syntax import TemplateSyntaxError, load_template, parse_examples, parse_queries, parse_template
from .template import Literal, PredicateSettings, Rule, Template, Var, Weight
from .weights import WeightTable, number_weights


def load_dataset(examples: str | Path, queries: str | Path | None = None) -> tuple[FactBase, QuerySet]:
    """Read NeuraLogic example and query files into integer tables."""
    ex_path = Path(examples)
    if not ex_path.exists():
        raise FileNotFoundError(f"no such examples file: {ex_path}")
    parsed = parse_examples(ex_path.read_text(), str(ex_path))
    if not parsed:
        raise ValueError(f"{ex_path}: the dataset is empty (no examples)")
    facts = FactBase.from_examples(parsed)
    if queries is None:
        raise ValueError("a queries file is needed (one labelled query entry per example)")
    q_path = Path(queries)
    if not q_path.exists():
        raise FileNotFoundError(f"no such queries file: {q_path}")
    parsed_q = parse_queries(q_path.read_text(), str(q_path))
    if not parsed_q:
        raise ValueError(f"{q_path}: no queries")
    entries = parsed_q[-1].entry + 1
    if facts.num_examples > 1 and entries != facts.num_examples:
        raise ValueError(f"{q_path}: {entries} query entries for {facts.num_examples} examples in {ex_path}")
    return facts, QuerySet.from_queries(parsed_q, facts.symbols, facts.num_examples)


def build(template: Template, facts: FactBase, queries: QuerySet, strict: bool = True) -> Network:
    """Ground and neuralize: the computation graph of ``template`` over the examples."""
    t0 = time.perf_counter()
    grounding = ground(template, facts, queries, strict=strict)
    t1 = time.perf_counter()
    network = neuralize(grounding)
    network.stats.update(ground_seconds=t1 - t0, neuralize_seconds=time.perf_counter() - t1)
    return network


__all__ = [
    "FactBase",
    "Grounding",
    "GroundingError",
    "Literal",
    "Network",
    "PredicateSettings",
    "QuerySet",
    "Rule",
    "Template",
    "TemplateSyntaxError",
    "Var",
    "Weight",
    "WeightTable",
    "build",
    "ground",
    "load_dataset",
    "load_template",
    "neuralize",
    "number_weights",
    "parse_examples",
    "parse_queries",
    "parse_template",
]
