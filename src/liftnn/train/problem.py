"""A learning problem: a computation graph with one output row per sample, targets, and weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine import init_params
from ..graph import Graph

InitFn = Callable[[int, torch.dtype, "str | torch.device | None"], dict[str, torch.Tensor]]


@dataclass
class Problem:
    """``graph`` has one output per sample (output ``i`` is sample ``i``); ``targets[i]`` its
    label (a float for MSE/BCE, a class index for cross-entropy), or for multi-task problems
    ``targets[i, k]`` its value on task ``k`` (NaN: not measured, masked out of losses and metrics);
    ``init(seed, dtype, device)`` draws the initial weights; ``template`` is kept with checkpoints;
    ``sources[i]`` (optional) where sample ``i`` comes from (its query's file:line), for messages."""

    graph: Graph
    targets: np.ndarray
    init: InitFn
    name: str = ""
    template: str | None = None
    fixed: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.graph.num_outputs
        if self.targets.shape[0] != n:
            raise ValueError(f"{self.name}: {self.targets.shape[0]} targets for {n} outputs")
        if n == 0:
            raise ValueError(f"{self.name}: the dataset is empty")
        if not np.array_equal(self.graph.output_sample, np.arange(n)):
            raise ValueError(f"{self.name}: expected one output per sample, in sample order")
        if self.targets.ndim not in (1, 2):
            raise ValueError(f"{self.name}: targets must be [samples] or [samples, tasks], got {self.targets.shape}")
        multi = self.targets.ndim == 2
        bad = np.flatnonzero(np.isinf(self.targets).any(1) if multi else ~np.isfinite(self.targets))
        if bad.size and multi:
            raise ValueError(f"{self._where(int(bad[0]))} has an infinite target (NaN marks an unmeasured task)")
        if bad.size:
            raise ValueError(f"{self._where(int(bad[0]))} has no (finite) target: training needs a number for every "
                             "query (e.g. `1.0 predict.`)")
        if multi and np.isnan(self.targets).all():
            raise ValueError(f"{self.name}: no target of any task is measured (all are NaN)")

    def _where(self, sample: int) -> str:
        """``file:line: the query`` of ``sample`` where known, else ``name: sample i``."""
        if sample < len(self.sources):
            return f"{self.sources[sample]}: the query (sample {sample})"
        return f"{self.name}: sample {sample}"

    @property
    def num_samples(self) -> int:
        return self.graph.num_outputs

    def output_dim(self) -> int:
        """The width of the output rows under the initial weights' shapes."""
        from ..engine import plan_for, shapes_of

        dims = plan_for(self.graph, shapes_of(self.init(0, torch.float64, None))).output_dims
        return max(dims)

    @staticmethod
    def from_network(network, name: str = "", template: str | None = None) -> Problem:
        """From :func:`liftnn.logic.build`'s result."""
        weights = network.weights

        def init(seed: int, dtype: torch.dtype, device=None) -> dict[str, torch.Tensor]:
            params = weights.init_params(seed, dtype, device, shapes=network.graph.shapes)
            return {k: v for k, v in params.items() if k in network.graph.labels}

        return Problem(network.graph, np.asarray(network.targets, dtype=np.float64), init, name, template,
                       set(weights.fixed), list(network.query_sources))

    @staticmethod
    def from_graph(graph: Graph, targets: np.ndarray, name: str = "") -> Problem:
        """From a graph with declared weight shapes (e.g. :func:`liftnn.models.message_passing_graph`)."""

        def init(seed: int, dtype: torch.dtype, device=None) -> dict[str, torch.Tensor]:
            return init_params(graph, seed=seed, dtype=dtype, device=device)

        return Problem(graph, np.asarray(targets, dtype=np.float64), init, name)
