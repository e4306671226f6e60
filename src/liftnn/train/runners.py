"""The two ways a training run executes its steps, behind one small interface.

* :class:`TorchRunner`: every batch's lifted sub-graph compiled to a torch plan;
  autograd and ``torch.optim`` (any device).
* :class:`NativeRunner`: the whole lifted training graph on one native tape
  (:mod:`liftnn.engine.native`); every batch is its list of needed nodes, and a
  whole epoch of forward, backward and optimiser steps is one compiled call.

Both take the same batches in the same order and follow the same loss curve
(equal up to float rounding). :func:`choose_engine` picks one for ``engine="auto"``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from ..engine import evaluate, plan_for, shapes_of
from ..engine.native import NativeEngine, native_for
from ..engine.tape import unsupported
from ..graph import Graph
from .metrics import loss_fn

#: ``engine="auto"`` runs the native engine while the lifted training graph has at most this many nodes per
#: step (nodes / batches), the torch engine above; ``None``: no limit. Measured side by side on the MDA
#: molecules (``liftnn bench table1``, columns *native s* and *torch engine s*, benchmarks/results/table1):
#: with dense segments (:mod:`liftnn.engine.native_dense`) the native engine wins every step measured, up to
#: the largest, GIN full batch (503,000 nodes), so there is no limit on the CPU
AUTO_NATIVE_MAX_NODES_PER_STEP: int | None = None

ENGINES = ("auto", "torch", "native")


class Runner(Protocol):
    """What the training loop needs from an engine."""

    def epoch(self, order: np.ndarray) -> np.ndarray:
        """One step per batch ``order[j]``; the step losses."""

    def predict(self, graph: Graph) -> np.ndarray:
        """``float64[O, d]`` outputs of ``graph`` under the current weights."""

    def params(self) -> dict[str, torch.Tensor]:
        """The current weights (detached copies for the native runner)."""


def choose_engine(engine: str, graph: Graph, num_batches: int, device: str, tasks: int = 1) -> str:
    """``"torch"`` or ``"native"``: the one asked for, or for ``"auto"`` the native engine on the CPU
    when it can run ``graph`` (the lifted training graph) with one target per sample (``tasks == 1``;
    multi-task targets, NaN-masked, train on torch) and a step is not above
    :data:`AUTO_NATIVE_MAX_NODES_PER_STEP` nodes (none is, by default). An explicit ``"native"`` that cannot
    run says why."""
    if engine == "torch":
        return "torch"
    on_cpu = torch.device(device).type == "cpu"
    problem = unsupported(graph) or (f"the native engine takes one target per sample, and these targets have "
                                     f"{tasks} tasks (NaN-masked)" if tasks > 1 else None)
    if engine == "native":
        if not on_cpu:
            raise ValueError(f"engine 'native' runs on the CPU only, not on {device!r}; use engine='torch'")
        if problem:
            raise ValueError(f"{problem}; use engine='torch'")
        return "native"
    if not on_cpu or problem:
        return "torch"
    limit = AUTO_NATIVE_MAX_NODES_PER_STEP
    return "native" if limit is None or graph.num_nodes <= limit * max(num_batches, 1) else "torch"


class TorchRunner:
    """Steps on per-batch torch plans with autograd and a ``torch.optim`` optimiser."""

    def __init__(self, graphs: list[Graph], targets: list[torch.Tensor], params: dict[str, torch.Tensor],
                 optimizer: torch.optim.Optimizer, loss: str, device: torch.device, dtype: torch.dtype) -> None:
        self.graphs, self.targets, self._params, self.opt, self.loss = graphs, targets, params, optimizer, loss
        shapes = shapes_of(params)
        for graph in graphs:
            plan_for(graph, shapes).to(device, dtype)  # compile once, before the clock starts

    def epoch(self, order: np.ndarray) -> np.ndarray:
        losses = np.zeros(len(order))
        for j, b in enumerate(order):
            self.opt.zero_grad(set_to_none=True)
            loss = loss_fn(self.loss, evaluate(self.graphs[b], self._params), self.targets[b])
            loss.backward()
            self.opt.step()
            losses[j] = float(loss.detach())
        return losses

    def predict(self, graph: Graph) -> np.ndarray:
        with torch.no_grad():
            return evaluate(graph, self._params).detach().cpu().numpy().astype(np.float64)

    def params(self) -> dict[str, torch.Tensor]:
        return self._params


class NativeRunner:
    """Steps on one native tape of the whole training graph; batches are lists of its nodes."""

    def __init__(self, whole: Graph, rows: list[np.ndarray], targets: np.ndarray, params: dict[str, torch.Tensor],
                 optimizer: str, lr: float, loss: str, dtype: str) -> None:
        self.shapes = shapes_of(params)
        self.dtype = dtype
        self.engine = NativeEngine(whole, self.shapes, dtype)
        self.theta = self.engine.pack(params)
        self.requires_grad = {k: bool(v.requires_grad) for k, v in params.items()}
        self.extra = {k: v for k, v in params.items() if k not in self.engine.tape.labels}
        starts = np.cumsum([0] + [len(r) for r in rows])
        self.batches = self.engine.batches([np.arange(a, b) for a, b in zip(starts[:-1], starts[1:], strict=True)])
        self.targets = np.asarray(targets, dtype=np.float64)
        learnable = [self.requires_grad.get(lb, True) for lb in self.engine.tape.labels]
        self.opt = self.engine.optimizer(optimizer, lr, learnable)
        self.loss = loss
        self.engine.warm(self.theta, self.batches)  # before the clock starts

    @property
    def nodes_per_epoch(self) -> int:
        """Nodes evaluated per epoch: every batch's inner nodes, plus the leaves."""
        return int(self.batches.index.nodes.size + np.count_nonzero(self.engine.arrays.kind == 0))

    def epoch(self, order: np.ndarray) -> np.ndarray:
        return self.engine.epoch(self.theta, self.batches, order, self.targets, self.loss, self.opt)

    def predict(self, graph: Graph) -> np.ndarray:
        engine = self.engine if graph is self.engine.graph else native_for(graph, self.shapes, self.dtype)
        theta = engine.pack(self.engine.tape.unpack(self.theta))
        return engine.outputs(theta).astype(np.float64)

    def params(self) -> dict[str, torch.Tensor]:
        out = {k: torch.tensor(v).requires_grad_(self.requires_grad.get(k, True))
               for k, v in self.engine.tape.unpack(self.theta).items()}
        out.update({k: v.detach().clone() for k, v in self.extra.items()})
        return out
