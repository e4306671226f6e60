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


def _parse_file(path: str | Path, parse, what: str) -> tuple[Path, list]:  # noqa: ANN001
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such {what} file: {path}")
    items = parse(path.read_text(), str(path))
    if not items:
        raise ValueError(f"{path}: no {what} (the dataset is empty)")
    return path, items


def load_dataset(examples: str | Path, queries: str | Path) -> tuple[FactBase, QuerySet]:
    """Read NeuraLogic example and query files into integer tables; the i-th query entry
    labels the i-th example (or, with a single example, all entries ask that one)."""
    ex_path, parsed = _parse_file(examples, parse_examples, "examples")
    q_path, parsed_q = _parse_file(queries, parse_queries, "queries")
    facts = FactBase.from_examples(parsed)
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
    _check_dimensions(network)
    return network


def _check_dimensions(network: Network) -> None:
    """Check every weight shape against its inputs, so that one that does not fit is
    reported with the template line that declares it."""
    from ..engine.plan import WeightShapeError, node_dimensions

    try:
        node_dimensions(network.graph, network.graph.shapes)
    except WeightShapeError as err:
        raise ValueError(f"{network.weights.sources.get(err.label) or '<template>'}: {err}") from None


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
