"""Loading NeuraLogic datasets and building a template's network over them."""

from __future__ import annotations

import time
from pathlib import Path

from .checks import check_network
from .facts import FactBase, QuerySet
from .ground import ground
from .neuralize import Network, neuralize
from .syntax import parse_example_file, parse_queries, read_text
from .template import Template


def _read(path: str | Path, what: str) -> tuple[Path, str]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such {what} file: {path}")
    if not path.is_file():
        raise ValueError(f"{path}: is a directory, not a {what} file")
    return path, read_text(path)


def load_dataset(examples: str | Path, queries: str | Path | None = None) -> tuple[FactBase, QuerySet]:
    """Read NeuraLogic example and query files into integer tables; the i-th query entry
    labels the i-th example (or, with a single example, all entries ask that one). Without a
    queries file, the examples carry their own (``target query :- facts.``)."""
    ex_path, text = _read(examples, "examples")
    parsed, inline = parse_example_file(text, str(ex_path))
    if not parsed:
        raise ValueError(f"{ex_path}: no examples (the dataset is empty)")
    if queries is None:
        if not inline:
            raise ValueError(f"{ex_path}: the examples carry no queries (`target query :- facts.`) and no "
                             "queries file was given")
        parsed_q, q_path = inline, ex_path
    else:
        if inline:
            raise ValueError(f"{inline[0].where}: this example carries its own query, and a queries file "
                             f"({queries}) was given too; use one or the other")
        q_path, qtext = _read(queries, "queries")
        parsed_q = parse_queries(qtext, str(q_path))
        if not parsed_q:
            raise ValueError(f"{q_path}: no queries (the dataset is empty)")
    facts = FactBase.from_examples(parsed)
    entries = parsed_q[-1].entry + 1
    if facts.num_examples > 1 and entries != facts.num_examples:
        raise ValueError(f"{q_path}: {entries} query entries for {facts.num_examples} examples in {ex_path}")
    return facts, QuerySet.from_queries(parsed_q, facts.symbols, facts.num_examples)


def build(template: Template, facts: FactBase, queries: QuerySet, strict: bool = True,
          allow_underivable: bool = False) -> Network:
    """Ground and neuralize: the computation graph of ``template`` over the examples.

    A query that nothing derives (and no fact states) is an error naming it, unless
    ``allow_underivable``: then it outputs 0, as the reference would if it allowed it.
    """
    t0 = time.perf_counter()
    grounding = ground(template, facts, queries, strict=strict)
    t1 = time.perf_counter()
    network = neuralize(grounding, allow_underivable=allow_underivable)
    network.stats.update(ground_seconds=t1 - t0, neuralize_seconds=time.perf_counter() - t1)
    check_network(network)
    return network
