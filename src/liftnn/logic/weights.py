"""Weight labels of a template, numbered like the reference implementation.

Per rule, in order: the head weight, the body weights left to right, the rule
offset; then template facts; then predicate offsets. An unnamed weight is
labelled ``w<k>`` by its position ``k`` in that order; a named weight (``$name``)
keeps its name and is shared, its first definition giving shape and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine.params import random_weight
from .template import Template, Weight


@dataclass
class WeightTable:
    """``weights[label]``: the definition of each label; ``order``: labels in numbering order."""

    weights: dict[str, Weight] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # label -> file:line of its first definition
    _ids: dict[int, str] = field(default_factory=dict)

    def label(self, weight: Weight | None, where: str = "") -> str | None:
        """The label of a weight occurrence (registering it on first sight)."""
        if weight is None:
            return None
        key = id(weight)
        if key in self._ids:
            return self._ids[key]
        if weight.name is not None and weight.name in self.weights:
            first = self.weights[weight.name]
            if (weight.init is not None or weight.shape) and weight.shape != first.shape:
                raise ValueError(
                    f"{where}: weight ${weight.name} redefined with shape {weight.shape}, "
                    f"first defined with {first.shape}"
                )
            label = weight.name
        else:
            label = weight.name if weight.name is not None else f"w{len(self.order)}"
            if weight.name is not None and weight.init is None and not weight.shape:
                weight = Weight((), None, weight.fixed, weight.name)
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
