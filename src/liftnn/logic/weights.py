"""Weight labels of a template, numbered like the reference implementation.

Per rule, in order: the head weight, the body weights left to right, the rule
offset; then template facts; then predicate offsets. An unnamed weight is
labelled ``w<k>`` by its position ``k`` in that order; a named weight (``$name=...``)
keeps its name and is shared; a bare ``$name`` uses it wherever it is defined. Two
definitions of one name must agree; a name used but never defined is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine.params import random_weight
from .template import Template, Weight


class WeightError(ValueError):
    """A named weight used but never defined, or defined twice differently, naming file:line."""


@dataclass
class WeightTable:
    """``weights[label]``: the definition of each label; ``order``: labels in numbering order."""

    weights: dict[str, Weight] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # label -> file:line of its first definition
    defined: dict[str, tuple[Weight, str]] = field(default_factory=dict)  # $name -> (definition, file:line)
    _ids: dict[int, str] = field(default_factory=dict)

    def label(self, weight: Weight | None, where: str = "") -> str | None:
        """The label of a weight occurrence (registering it on first sight)."""
        if weight is None:
            return None
        key = id(weight)
        if key in self._ids:
            return self._ids[key]
        if weight.reference:
            if weight.name not in self.defined:
                raise WeightError(f"{where}: weight ${weight.name} is used but never defined "
                                  f"(define it once, e.g. ${weight.name}={{3,3}} or ${weight.name}=0.5)")
            weight = self.defined[weight.name][0]
        if weight.name is not None and weight.name in self.weights:
            label = weight.name
        else:
            label = weight.name if weight.name is not None else f"w{len(self.order)}"
            self.weights[label] = weight
            self.order.append(label)
            self.sources[label] = where
        self._ids[key] = label
        return label

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: w.shape for k, w in self.weights.items()}

    @property
    def fixed(self) -> set[str]:
        return {k for k, w in self.weights.items() if w.fixed}

    def init_params(
        self,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device | None = None,
        shapes: Mapping[str, tuple[int, ...]] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Parameters: given values where the template has them, else Glorot-uniform
        (``U(-1, 1)`` for scalars); fixed weights do not require gradients."""
        rng = np.random.default_rng(seed)
        out = {}
        for label in self.order:
            w = self.weights[label]
            shape = tuple((shapes or {}).get(label, w.shape))
            if w.init is not None:
                value = np.asarray(w.init, dtype=np.float64).reshape(shape)
            else:
                value = random_weight(rng, shape)
            out[label] = torch.tensor(value, dtype=dtype, device=device, requires_grad=not w.fixed)
        return out


def number_weights(template: Template) -> WeightTable:
    """Label every weight of ``template`` in the reference order."""
    table = WeightTable()
    for where, w in _occurrences(template):
        if w is None or w.name is None or w.reference:
            continue
        first = table.defined.setdefault(w.name, (w, where))
        if first[0] != w:
            raise WeightError(f"{where}: weight ${w.name} is defined again as {w}, differently from "
                              f"{first[0]} at {first[1]}; define it once and use ${w.name} elsewhere")
    for rule in template.rules:
        table.label(rule.head.weight, rule.source)
        for lit in rule.body:
            table.label(lit.weight, rule.source)
        table.label(rule.offset, rule.source)
    for lit, where in template.facts:
        table.label(lit.weight, where)
    for ps in template.predicates.values():
        table.label(ps.offset)
    return table


def _occurrences(template: Template) -> list[tuple[str, Weight | None]]:
    """Every weight of the template with its file:line."""
    out = []
    for rule in template.rules:
        out += [(rule.source, rule.head.weight), *((rule.source, lit.weight) for lit in rule.body),
                (rule.source, rule.offset)]
    out += [(where, lit.weight) for lit, where in template.facts]
    return out + [(template.source, ps.offset) for ps in template.predicates.values()]
