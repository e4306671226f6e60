"""Training: three regimes, each on lifted graphs where lifting pays.

* ``batch_size=0`` — full batch: the training samples form one graph, lifted at
  dataset scope (identical sub-computations of different samples computed once).
* ``batch_size=k`` — mini-batches: the training samples are lifted once at dataset
  scope; each batch runs on the sub-graph its outputs need (the lifted batch: exact
  lifting of a subset is the restriction of the lifted whole). Batches are a seeded
  partition; their order is reshuffled every epoch. Each batch's execution plan is
  compiled once.
* ``batch_size=1`` — per-sample steps (the lifting paper's regime), the same way.

With ``lift=False`` the same batches run on the unlifted graph; lifting is exact,
so from the same seed both follow the same loss curve (equal up to float rounding).
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..engine import evaluate, plan_for, shapes_of
from ..graph import Graph
from ..graph.subgraph import select_outputs
from ..lift import compress
from .metrics import LOSSES, loss_fn, metrics
from .problem import Problem

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`fit`."""

    epochs: int = 100
    lr: float = 0.01
    optimizer: str = "adam"
    loss: str = "mse"
    batch_size: int = 0
    lift: bool = True
    scope: str = "dataset"
    patience: int = 0
    seed: int = 0
    dtype: str = "float32"
    device: str = "cpu"
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if self.scope not in ("sample", "dataset"):
            raise ValueError(f"scope must be 'sample' or 'dataset', got {self.scope!r}")
        if self.epochs < 0 or self.batch_size < 0 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be >= 0 and lr > 0")


@dataclass
class History:
    """What a run did: per-step and per-epoch losses, evaluation metrics, timings."""

    step_loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    val: list[dict[str, float]] = field(default_factory=list)
    train: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    best_epoch: int = -1
    build_seconds: float = 0.0
    train_seconds: float = 0.0
    nodes: dict[str, int] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(len(self.epoch_loss), 1)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["seconds_per_epoch"] = self.seconds_per_epoch
        return d


def _graph_of(problem: Problem, rows: np.ndarray, lift: bool, scope: str = "dataset") -> Graph:
    g = select_outputs(problem.graph, rows)
    return compress(g, scope=scope)[0] if lift else g


class Batches:
    """A seeded partition of ``rows`` into batches, each with its (lifted) graph."""

    def __init__(
        self, problem: Problem, rows: np.ndarray, batch_size: int, lift: bool, seed: int, scope: str = "dataset"
    ) -> None:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(rows)
        size = perm.size if batch_size == 0 else batch_size
        self.order = perm  # the samples in the order of the rows of ``whole``
        self.rows = [perm[i : i + size] for i in range(0, perm.size, size)]
        self.whole = _graph_of(problem, perm, lift, scope)  # lifted once; batches are restrictions of it
        starts = np.cumsum([0] + [len(r) for r in self.rows])
        self.graphs = (
            [self.whole]
            if len(self.rows) == 1
            else [select_outputs(self.whole, np.arange(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
        )
        self.nodes = int(sum(g.num_nodes for g in self.graphs))


def _predict(graph: Graph, params: dict[str, torch.Tensor]) -> np.ndarray:
    with torch.no_grad():
        return evaluate(graph, params).detach().cpu().numpy().astype(np.float64)


def fit(
    problem: Problem,
    train_rows: np.ndarray,
    config: TrainConfig,
    val_rows: np.ndarray | None = None,
    test_rows: np.ndarray | None = None,
    progress=None,
) -> tuple[dict[str, torch.Tensor], History]:  # noqa: ANN001
    """Train on ``train_rows``; early-stop on ``val_rows`` (``patience > 0``); report ``test_rows``.

    Returns the (best) parameters and the :class:`History`. ``progress(epoch, loss)``
    is called after every epoch when given.
    """
    dtype, device = DTYPES[config.dtype], torch.device(config.device)
    torch.manual_seed(config.seed)
    hist = History()
    t0 = time.perf_counter()
    batches = Batches(problem, np.asarray(train_rows), config.batch_size, config.lift, config.seed, config.scope)
    evals = {
        name: (rows, _graph_of(problem, rows, config.lift))
        for name, rows in (("val", val_rows), ("test", test_rows))
        if rows is not None and len(rows)
    }
    params = problem.init(config.seed, dtype, device)
    shapes = shapes_of(params)
    for graph in batches.graphs + [g for _, g in evals.values()]:
        plan_for(graph, shapes).to(device, dtype)  # compile once, before the clock starts
    hist.build_seconds = time.perf_counter() - t0
    hist.nodes = {"train": batches.nodes, "unlifted": problem.graph.num_nodes}
    targets = torch.as_tensor(problem.targets, dtype=dtype, device=device)
    batch_targets = [targets[torch.as_tensor(r, device=device)] for r in batches.rows]
    learnable = [p for p in params.values() if p.requires_grad]
    opt = make_optimizer(config, learnable)
    rng = np.random.default_rng(config.seed + 1)
    best, best_loss, waited = None, float("inf"), 0
    t1 = time.perf_counter()
    for epoch in range(config.epochs):
        t_epoch = time.perf_counter()
        total = 0.0
        for b in rng.permutation(len(batches.graphs)):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(config.loss, evaluate(batches.graphs[b], params), batch_targets[b])
            loss.backward()
            opt.step()
            value = float(loss.detach())
            hist.step_loss.append(value)
            total += value * len(batches.rows[b])
        hist.epoch_seconds.append(time.perf_counter() - t_epoch)
        hist.epoch_loss.append(total / len(train_rows))
        if "val" in evals and config.patience:
            rows, graph = evals["val"]
            y = _predict(graph, params)
            with torch.no_grad():
                vloss = float(loss_fn(config.loss, torch.as_tensor(y), torch.as_tensor(problem.targets[rows])))
            hist.val.append(metrics(y, problem.targets[rows], vloss))
            if vloss < best_loss - 1e-12:
                best, best_loss, waited, hist.best_epoch = copy.deepcopy(params), vloss, 0, epoch
            else:
                waited += 1
                if waited >= config.patience:
                    break
        if progress is not None:
            progress(epoch, hist.epoch_loss[-1])
    hist.train_seconds = time.perf_counter() - t1
    if best is not None:
        params = best
    hist.train = _scores(problem, batches.order, batches.whole, params, config.loss)
    if "test" in evals:
        hist.test = _scores(problem, *evals["test"], params, config.loss)
    if config.checkpoint:
        save_checkpoint(config.checkpoint, params, config, problem, hist)
    return params, hist


def make_optimizer(config: TrainConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """Adam or SGD; the fused implementation where torch has one (one kernel for all weights)."""
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
    try:
        return cls(params, lr=config.lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, lr=config.lr)


def _scores(problem: Problem, rows: np.ndarray, graph: Graph, params: dict[str, torch.Tensor], loss: str) -> dict:
    y = _predict(graph, params)
    with torch.no_grad():
        value = float(loss_fn(loss, torch.as_tensor(y), torch.as_tensor(problem.targets[rows])))
    return metrics(y, problem.targets[rows], value)


def save_checkpoint(
    path: str | Path, params: dict[str, torch.Tensor], config: TrainConfig, problem: Problem, history: History
) -> None:
    """Weights (a state dict), the configuration, the template text and the history (see
    :mod:`liftnn.train.checkpoint`: tensors and text only, written atomically)."""
    from . import checkpoint

    checkpoint.write(checkpoint.check_target(path), params, template=problem.template, config=asdict(config),
                     history=history.as_dict(), meta={"name": problem.name})


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint (``params``, ``config``, ``template``, ``history``, ``meta``) with ``weights_only=True``."""
    from . import checkpoint

    return checkpoint.read(path)
