"""Evaluation and differentiation of computation graphs: the compiled plan, the torch
executor and the native (compiled, per-node) executor."""

from __future__ import annotations

from .api import evaluate, plan_for
from .params import Shape, apply_weight, init_params, resolve_shapes, shapes_of, weight_io
from .plan import Plan, compile_plan

__all__ = [
    "Plan",
    "Shape",
    "apply_weight",
    "compile_plan",
    "evaluate",
    "init_params",
    "plan_for",
    "resolve_shapes",
    "shapes_of",
    "weight_io",
]
