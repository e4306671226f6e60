"""Data-parallel training: each rank holds its shard's lifted graph; gradients are all-reduced.

With the samples cut into shards ``r = 0..R-1`` of ``n_r`` samples (``n = Σ n_r``), the
full-batch loss splits into the shards' shares

    L(θ) = Σ_r (n_r / n) · L_r(θ)          (L_r: the loss over shard r, a mean over its samples)
    L(θ) = Σ_r S_r(θ) / m                  (masked multi-task MSE: S_r the shard's sum of squared
                                            errors over observed targets, m observed targets in all)

so ``∇L = Σ_r ∇(share_r)``. Every rank evaluates and differentiates its share on its own
lifted graph (:func:`liftnn.engine.evaluate`, :func:`liftnn.train.metrics.loss_fn`); one
``all_reduce`` (sum, gloo) of the flattened gradients and the loss gives every rank ``∇L``;
every rank then applies the same optimizer step to the same parameters. The parameters after
every step are those of single-process full-batch training on all samples, up to rounding.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch

from ..engine import evaluate
from ..lift import compress
from ..logic.weights import number_weights
from ..train.loop import DTYPES, TrainConfig, make_optimizer
from ..train.metrics import loss_fn
from .cluster import peak_rss, worker_addresses, worker_name
from .shard import shard_ranges
from .work import Workload


@dataclass(frozen=True)
class TrainSpec:
    """Full-batch training: ``steps`` optimizer steps of ``optimizer`` (adam|sgd) at ``lr`` on ``loss``
    (mse|bce|ce; multi-task targets always use masked MSE), in ``dtype``, weights drawn from ``seed``."""

    steps: int = 100
    lr: float = 0.01
    optimizer: str = "adam"
    loss: str = "mse"
    dtype: str = "float64"
    seed: int = 0

    def __post_init__(self) -> None:
        TrainConfig(epochs=self.steps, lr=self.lr, optimizer=self.optimizer, loss=self.loss, dtype=self.dtype)


@dataclass
class TrainResult:
    """Final parameters, the global loss before each step, seconds of the steps, and per rank
    its worker, samples, unlifted and lifted nodes, build+lift seconds and peak memory."""

    params: dict[str, np.ndarray]
    losses: list[float]
    seconds: float
    ranks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        return len(self.losses) / max(self.seconds, 1e-12)


def initial_params(work: Workload, seed: int, dtype: str = "float64") -> dict[str, torch.Tensor]:
    """The template's weights as :class:`liftnn.train.Problem` draws them (same seed, same values)."""
    return number_weights(work.template).init_params(seed, DTYPES[dtype])


def shard_share(loss: str, y: torch.Tensor, t: torch.Tensor, scale: float) -> torch.Tensor:
    """A shard's share of the full-batch loss: ``scale · loss_fn`` (``scale = n_r / n``), or for
    multi-task targets ``t[n_r, tasks]`` (NaN: unobserved) the masked squared error times ``scale = 1 / m``."""
    if t.ndim == 2:
        observed = ~torch.isnan(t)
        return torch.where(observed, (y - torch.nan_to_num(t)) ** 2, torch.zeros_like(y)).sum() * scale
    return loss_fn(loss, y, t) * scale


def train_rank(work: Workload, ids: np.ndarray, rank: int, world: int, init_method: str,
               params: dict[str, tuple[np.ndarray, bool]], spec: TrainSpec, scale: float) -> dict[str, Any]:
    """One rank (runs on a worker): build and lift its shard, then ``spec.steps`` all-reduced steps."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dtype = DTYPES[spec.dtype]
    t0 = time.perf_counter()
    raw = work.build(ids)
    graph, _ = compress(raw, scope="dataset")
    targets = torch.as_tensor(work.targets[ids], dtype=dtype)
    p = {k: torch.tensor(v, dtype=dtype, requires_grad=g) for k, (v, g) in params.items()}
    learnable = [v for v in p.values() if v.requires_grad]
    opt = make_optimizer(TrainConfig(lr=spec.lr, optimizer=spec.optimizer), learnable)
    build_seconds = time.perf_counter() - t0
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world,
                            timeout=timedelta(seconds=300))
    losses = []
    try:
        t1 = time.perf_counter()
        for _ in range(spec.steps):
            opt.zero_grad(set_to_none=True)
            share = shard_share(spec.loss, evaluate(graph, p), targets, scale)
            share.backward()
            flat = torch.cat([share.detach().reshape(1)] + [
                (v.grad if v.grad is not None else torch.zeros_like(v)).reshape(-1) for v in learnable])
            dist.all_reduce(flat)
            losses.append(float(flat[0]))
            offset = 1
            for v in learnable:
                v.grad = flat[offset : offset + v.numel()].reshape(v.shape).clone()
                offset += v.numel()
            opt.step()
        seconds = time.perf_counter() - t1
    finally:
        dist.destroy_process_group()
    return {"params": {k: v.detach().numpy() for k, v in p.items()}, "losses": losses, "seconds": seconds,
            "rank": rank, "worker": worker_name(), "samples": int(ids.size), "nodes": raw.num_nodes,
            "nodes_lifted": graph.num_nodes, "build_seconds": build_seconds, "peak_rss_bytes": peak_rss()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def data_parallel_train(work: Workload, client: Any, spec: TrainSpec,  # noqa: ANN401
                        params: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Train ``work`` full batch, one rank per worker of ``client``'s cluster, each on its shard.

    ``params`` default to :func:`initial_params` (``spec.seed``). Returns rank 0's parameters
    (all ranks end with the same ones) and the global loss of every step.
    """
    targets = np.asarray(work.targets, dtype=np.float64)
    if targets.ndim == 1 and not np.all(np.isfinite(targets)):
        raise ValueError(f"{work.name}: sample {int(np.flatnonzero(~np.isfinite(targets))[0])} has no target")
    observed = int(np.isfinite(targets).sum())
    if not observed:
        raise ValueError(f"{work.name}: no sample has a target")
    addresses = worker_addresses(client)
    ranges = shard_ranges(work.num_samples, len(addresses))
    world = len(ranges)
    params = initial_params(work, spec.seed, spec.dtype) if params is None else params
    init = {k: (v.detach().cpu().numpy().astype(np.float64), bool(v.requires_grad)) for k, v in params.items()}
    host = urlparse(addresses[0]).hostname or "127.0.0.1"
    port = client.submit(_free_port, workers=[addresses[0]], pure=False).result()
    remote = client.scatter(work, broadcast=True)
    futures = [
        client.submit(train_rank, remote, ids, r, world, f"tcp://{host}:{port}", init, spec,
                      1.0 / observed if targets.ndim == 2 else ids.size / work.num_samples,
                      workers=[addresses[r]], allow_other_workers=False, pure=False)
        for r, ids in enumerate(ranges)
    ]
    results = sorted(client.gather(futures), key=lambda r: r["rank"])
    first = results[0]
    ranks = [{k: v for k, v in r.items() if k not in ("params", "losses")} for r in results]
    return TrainResult(first["params"], first["losses"], max(r["seconds"] for r in results), ranks)
