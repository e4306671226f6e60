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
    label (a float for MSE/BCE, a class index for cross-entropy); ``init(seed, dtype, device)``
    draws the initial weights; ``template`` is kept with checkpoints."""

    graph: Graph
    targets: np.ndarray
    init: InitFn
    name: str = ""
    template: str | None = None
    fixed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        n = self.graph.num_outputs
        if self.targets.shape[0] != n:
            raise ValueError(f"{self.name}: {self.targets.shape[0]} targets for {n} outputs")
        if n == 0:
            raise ValueError(f"{self.name}: the dataset is empty")
        if not np.array_equal(self.graph.output_sample, np.arange(n)):
            raise ValueError(f"{self.name}: expected one output per sample, in sample order")
        bad = np.flatnonzero(~np.isfinite(self.targets))
        if bad.size:
            raise ValueError(f"{self.name}: sample {bad[0]} has no (finite) target")

    @property
    def num_samples(self) -> int:
        return self.graph.num_outputs

    def output_dim(self) -> int:
        """The width of the output rows under the initial weights' shapes."""
        from ..engine import plan_for, shapes_of

        dims = plan_for(self.graph, shapes_of(self.init(0, torch.float64, None))).output_dims
        return max(dims)

    @staticmethod
    def from_network(network, name: str = "", template: str | None = None) -> Problem:  # noqa: ANN001
        """From :func:`liftnn.logic.build`'s result."""
        weights = network.weights

        def init(seed: int, dtype: torch.dtype, device=None) -> dict[str, torch.Tensor]:  # noqa: ANN001
            params = weights.init_params(seed, dtype, device, shapes=network.graph.shapes)
            return {k: v for k, v in params.items() if k in network.graph.labels}

        return Problem(
            network.graph, np.asarray(network.targets, dtype=np.float64), init, name, template, set(weights.fixed)
        )

    @staticmethod
    def from_graph(graph: Graph, targets: np.ndarray, name: str = "") -> Problem:
        """From a graph with declared weight shapes (e.g. :func:`liftnn.models.message_passing_graph`)."""

        def init(seed: int, dtype: torch.dtype, device=None) -> dict[str, torch.Tensor]:  # noqa: ANN001
            return init_params(graph, seed=seed, dtype=dtype, device=device)

        return Problem(graph, np.asarray(targets, dtype=np.float64), init, name)
