"""Relational templates (LRNN): syntax, grounding and neuralization into computation graphs."""

from __future__ import annotations

from .api import build, load_dataset
from .checks import check_network, neuron_count
from .facts import FactBase, QuerySet
from .ground import Grounding, GroundingError, ground
from .neuralize import Network, neuralize
from .syntax import (
    TemplateSyntaxError,
    load_template,
    parse_example_file,
    parse_examples,
    parse_queries,
    parse_template,
    read_text,
)
from .template import Literal, PredicateSettings, Rule, Template, Var, Weight
from .weights import WeightTable, number_weights

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
    "check_network",
    "ground",
    "load_dataset",
    "load_template",
    "neuralize",
    "neuron_count",
    "parse_example_file",
    "number_weights",
    "parse_examples",
    "parse_queries",
    "parse_template",
    "read_text",
]
