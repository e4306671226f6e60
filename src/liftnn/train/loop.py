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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..graph import Graph
from ..graph.subgraph import reorder_outputs, select_outputs
from ..lift import compress
from .metrics import LOSSES, loss_fn, metrics
from .problem import Problem
from .runners import ENGINES, NativeRunner, Runner, TorchRunner, choose_engine

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
    engine: str = "auto"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
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
    engine: str = ""

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(len(self.epoch_loss), 1)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["seconds_per_epoch"] = self.seconds_per_epoch
        return d


def _graph_of(problem: Problem, rows: np.ndarray, lift: bool, scope: str = "dataset") -> Graph:
    """The graph of samples ``rows`` (output ``i`` is sample ``rows[i]``), lifted at ``scope`` when ``lift``."""
    rows = np.asarray(rows)
    g = problem.graph
    if rows.size == g.num_outputs and np.array_equal(np.sort(rows), np.arange(rows.size)):
        # every sample: every node stays and only the outputs move, so lift first (on the smaller graph after)
        return reorder_outputs(compress(g, scope=scope)[0] if lift else g, rows)
    g = select_outputs(g, rows)
    return compress(g, scope=scope)[0] if lift else g


class Batches:
    """A seeded partition of ``rows`` into batches over one (lifted) graph of them all.

    ``whole``'s output ``i`` is sample ``order[i]``; batch ``k`` is the consecutive
    output rows of ``rows[k]``. With ``graphs=True`` every batch also gets its own
    sub-graph (what its outputs need: the lifted batch), as the torch engine runs them.
    """

    def __init__(self, problem: Problem, rows: np.ndarray, batch_size: int, lift: bool, seed: int,
                 scope: str = "dataset", graphs: bool = True) -> None:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(rows)
        size = perm.size if batch_size == 0 else batch_size
        self.order = perm  # the samples in the order of the rows of ``whole``
        self.rows = [perm[i : i + size] for i in range(0, perm.size, size)]
        self.whole = _graph_of(problem, perm, lift, scope)  # lifted once; batches are restrictions of it
        self.graphs: list[Graph] = []
        self.nodes = 0
        if graphs:
            self.split()

    def split(self) -> list[Graph]:
        """Every batch's own sub-graph of :attr:`whole` (built once)."""
        if not self.graphs:
            starts = np.cumsum([0] + [len(r) for r in self.rows])
            self.graphs = (
                [self.whole] if len(self.rows) == 1 else
                [select_outputs(self.whole, np.arange(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
            )
            self.nodes = int(sum(g.num_nodes for g in self.graphs))
        return self.graphs


class NonFiniteLoss(ValueError):
    """Training produced a NaN or infinite loss; the message names the epoch and step."""


class Session:
    """Training set up for ``config`` on ``rows``: the batches over one (lifted) graph, the engine's
    runner, and the seeded order of batches. :meth:`epoch` runs one epoch of steps.

    ``build_seconds`` is what the set-up took (restriction, lifting, compilation).
    """

    def __init__(self, problem: Problem, rows: np.ndarray, config: TrainConfig) -> None:
        t0 = time.perf_counter()
        dtype, device = DTYPES[config.dtype], torch.device(config.device)
        rows = np.asarray(rows)
        self.batches = Batches(problem, rows, config.batch_size, config.lift, config.seed, config.scope,
                               graphs=False)
        tasks = problem.targets.shape[1] if problem.targets.ndim == 2 else 1
        self.engine = choose_engine(config.engine, self.batches.whole, len(self.batches.rows), config.device, tasks)
        native = self.engine == "native"
        if not native:
            self.batches.split()
        params = problem.init(config.seed, dtype, device)
        self.runner: Runner
        if native:
            self.runner = NativeRunner(self.batches.whole, self.batches.rows, problem.targets[self.batches.order],
                                       params, config.optimizer, config.lr, config.loss, config.dtype)
            self.nodes = self.runner.nodes_per_epoch
        else:
            targets = torch.as_tensor(problem.targets, dtype=dtype, device=device)
            self.runner = TorchRunner(self.batches.graphs,
                                      [targets[torch.as_tensor(r, device=device)] for r in self.batches.rows], params,
                                      make_optimizer(config, [p for p in params.values() if p.requires_grad]),
                                      config.loss, device, dtype)
            self.nodes = self.batches.nodes
        self.sizes = np.array([len(r) for r in self.batches.rows])
        self.rng = np.random.default_rng(config.seed + 1)
        self.build_seconds = time.perf_counter() - t0

    def epoch(self) -> tuple[np.ndarray, np.ndarray]:
        """One step per batch in a fresh seeded order: ``(order, step losses)``."""
        order = self.rng.permutation(len(self.batches.rows))
        return order, self.runner.epoch(order)


def fit(
    problem: Problem,
    train_rows: np.ndarray,
    config: TrainConfig,
    val_rows: np.ndarray | None = None,
    test_rows: np.ndarray | None = None,
    progress: Callable[[int, float], object] | None = None,
) -> tuple[dict[str, torch.Tensor], History]:
    """Train on ``train_rows``; early-stop on ``val_rows`` (``patience > 0``); report ``test_rows``.

    Returns the (best) parameters and the :class:`History`. ``progress(epoch, loss)``
    is called after every epoch when given. The engine is ``config.engine``
    (``auto``: :func:`liftnn.train.runners.choose_engine`); ``History.engine`` says which ran.
    """
    if config.checkpoint:  # a bad target fails now, not after training
        from .checkpoint import check_target

        check_target(config.checkpoint)
    torch.manual_seed(config.seed)
    hist = History()
    t0 = time.perf_counter()
    train_rows = np.asarray(train_rows)
    session = Session(problem, train_rows, config)
    runner = session.runner
    evals = {
        name: (rows, _graph_of(problem, rows, config.lift))
        for name, rows in (("val", val_rows), ("test", test_rows))
        if rows is not None and len(rows)
    }
    for _, graph in evals.values():
        runner.predict(graph)  # compile evaluation graphs before the clock starts
    hist.engine = session.engine
    hist.build_seconds = time.perf_counter() - t0
    hist.nodes = {"train": session.nodes, "unlifted": problem.graph.num_nodes}
    best, best_loss, waited = None, float("inf"), 0
    t1 = time.perf_counter()
    for epoch in range(config.epochs):
        t_epoch = time.perf_counter()
        order, losses = session.epoch()
        hist.epoch_seconds.append(time.perf_counter() - t_epoch)
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            raise NonFiniteLoss(f"the training loss became {losses[bad[0]]} at epoch {epoch + 1}, step "
                                f"{bad[0] + 1} of {losses.size}; lower the learning rate (now {config.lr}) "
                                "or check the data")
        hist.step_loss.extend(losses.tolist())
        hist.epoch_loss.append(float(np.dot(losses, session.sizes[order])) / train_rows.size)
        if "val" in evals and config.patience:
            rows, graph = evals["val"]
            scores = _scores(problem, rows, runner.predict(graph), config.loss)
            hist.val.append(scores)
            if scores["loss"] < best_loss - 1e-12:
                best, best_loss, waited, hist.best_epoch = copy.deepcopy(runner.params()), scores["loss"], 0, epoch
            else:
                waited += 1
                if waited >= config.patience:
                    break
        if progress is not None:
            progress(epoch, hist.epoch_loss[-1])
    hist.train_seconds = time.perf_counter() - t1
    params = best if best is not None else runner.params()
    device, dtype = torch.device(config.device), DTYPES[config.dtype]
    final = TorchRunner([], [], params, None, config.loss, device, dtype) if best is not None else runner
    hist.train = _scores(problem, session.batches.order, final.predict(session.batches.whole), config.loss)
    if "test" in evals:
        rows, graph = evals["test"]
        hist.test = _scores(problem, rows, final.predict(graph), config.loss)
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


def _scores(problem: Problem, rows: np.ndarray, y: np.ndarray, loss: str) -> dict:
    """Loss and metrics of predictions ``y`` for samples ``rows``."""
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
