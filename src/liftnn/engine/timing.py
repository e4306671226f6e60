"""Side-by-side timing of forward + backward passes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import torch

from ..graph import Graph
from . import evaluate, plan_for, shapes_of

T = TypeVar("T")


def timed(fn: Callable[[], T], repeats: int) -> tuple[T, float]:
    """The last result of ``repeats`` calls of ``fn`` and their median wall-clock seconds."""
    times, out = [], None
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def forward_backward_seconds(graph: Graph, params: Mapping[str, torch.Tensor], target: torch.Tensor,
                             repeats: int = 5) -> float:
    """Median seconds of one MSE forward + backward pass (after one warm-up pass)."""
    plan_for(graph, shapes_of(params))

    def step() -> None:
        for p in params.values():
            p.grad = None
        torch.nn.functional.mse_loss(evaluate(graph, params), target).backward()

    step()
    return timed(step, repeats)[1]
