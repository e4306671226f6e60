"""Evaluating a graph: its execution plan, compiled once per weight-shape assignment and cached on the graph."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..graph import Graph
from .params import Shape, shapes_of
from .plan import Plan, compile_plan


def plan_for(graph: Graph, shapes: Mapping[str, Shape]) -> Plan:
    """The execution plan of ``graph`` for these weight shapes, compiled once and cached."""
    key = tuple(sorted((k, tuple(v)) for k, v in shapes.items() if k in graph.labels))
    plans = graph._cache.setdefault("plans", {})
    if key not in plans:
        plans[key] = compile_plan(graph, dict(key))
    return plans[key]


def evaluate(
    graph: Graph,
    params: Mapping[str, torch.Tensor],
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Differentiable values of the graph's outputs, ``[num_outputs, dim]``.

    ``params`` maps every weight label to a tensor (any floating dtype, on the
    device to compute on). Rows follow the graph's output order, which lifting
    preserves, so a lifted graph returns the same rows as the original.
    """
    plan = plan_for(graph, shapes_of(params))
    return plan.outputs(plan.run(params, dtype=dtype, device=device))
