"""Data-parallel training: each rank holds its shard's lifted graph; gradients are all-reduced.

With the samples cut into shards ``r = 0..R-1``, a step's batch ``B`` (all samples, or a
mini-batch) splits into the parts ``B_r`` the shards hold, and so does its loss:

    L_B(θ) = Σ_r (|B_r| / |B|) · L_{B_r}(θ)    (L_{B_r}: the loss over B_r, a mean over its samples)
    L_B(θ) = Σ_r S_{B_r}(θ) / m_B              (masked multi-task MSE: S_{B_r} the sum of squared
                                                errors over B_r's observed targets, m_B those of B)

so ``∇L = Σ_r ∇(share_r)``. Every rank evaluates and differentiates its share on its own
lifted graph (:func:`liftnn.engine.evaluate`, :func:`liftnn.train.metrics.loss_fn`); one
``all_reduce`` (sum, gloo) of the flattened gradients and the loss gives every rank ``∇L``
(a weight that no rank's part of the batch uses keeps no gradient, so the optimizer skips it
as it would in one process);
every rank then applies the same optimizer step to the same parameters. The parameters after
every step are those of single-process training on the same batches, up to rounding. A rank
evaluates ``B_r`` on the sub-graph of its lifted shard that those outputs need, which is
exactly the lifted graph of ``B_r`` (:func:`liftnn.graph.subgraph.select_outputs`).
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
from ..graph import Graph
from ..graph.subgraph import select_outputs
from ..lift import compress
from ..logic import Template
from ..logic.weights import number_weights
from ..train.loop import DTYPES, TrainConfig, make_optimizer
from ..train.metrics import loss_fn
from .cluster import peak_rss, worker_addresses, worker_name
from .shard import shard_ranges
from .source import ShardReader
from .work import Workload, build_shard


@dataclass(frozen=True)
class TrainSpec:
    """``steps`` optimizer steps of ``optimizer`` (adam|sgd) at ``lr`` on ``loss`` (mse|bce|ce;
    multi-task targets always use masked MSE), in ``dtype``, weights drawn from ``seed``; full
    batch (``batch_size`` 0) or mini-batches (see :func:`batch_schedule`)."""

    steps: int = 100
    lr: float = 0.01
    optimizer: str = "adam"
    loss: str = "mse"
    dtype: str = "float64"
    seed: int = 0
    batch_size: int = 0

    def __post_init__(self) -> None:
        TrainConfig(epochs=self.steps, lr=self.lr, optimizer=self.optimizer, loss=self.loss, dtype=self.dtype,
                    batch_size=self.batch_size)


def batch_schedule(n: int, batch_size: int, steps: int, seed: int) -> list[np.ndarray]:
    """The sorted sample ids of every step: all ``n`` (``batch_size`` 0 or ``>= n``), or the
    batches of one seeded shuffle, visited in a fresh seeded order every epoch."""
    if batch_size <= 0 or batch_size >= n:
        return [np.arange(n)] * steps
    perm = np.random.default_rng(seed).permutation(n)
    batches = [np.sort(perm[i : i + batch_size]) for i in range(0, n, batch_size)]
    rng = np.random.default_rng(seed + 1)
    order: list[np.ndarray] = []
    while len(order) < steps:
        order += [batches[b] for b in rng.permutation(len(batches))]
    return order[:steps]


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


def initial_params(work: Workload, seed: int, dtype: str = "float64", probe: int = 64) -> dict[str, torch.Tensor]:
    """The template's weights drawn as :class:`liftnn.train.Problem` draws them (same seed, same
    values), with the shapes the graph of the first ``probe`` samples declares (a bias, say, is
    a vector there); weights that graph does not use keep the template's shapes."""
    shapes = work.build(np.arange(min(probe, work.num_samples))).shapes
    return number_weights(work.template).init_params(seed, DTYPES[dtype], shapes=shapes)


def shard_share(loss: str, y: torch.Tensor, t: torch.Tensor, scale: float) -> torch.Tensor:
    """A shard's share of a batch's loss: ``scale · loss_fn`` (``scale = |B_r| / |B|``), or for
    multi-task targets ``t[|B_r|, tasks]`` (NaN: unobserved) the masked squared error times ``scale = 1 / m_B``."""
    if t.ndim == 2:
        observed = ~torch.isnan(t)
        return torch.where(observed, (y - torch.nan_to_num(t)) ** 2, torch.zeros_like(y)).sum() * scale
    return loss_fn(loss, y, t) * scale


def train_rank(template: Template, reader: ShardReader, targets: np.ndarray, lo: int, n: int, rank: int, world: int,
               init_method: str, params: dict[str, tuple[np.ndarray, bool]], spec: TrainSpec,
               denominators: np.ndarray) -> dict[str, Any]:
    """One rank (runs on a worker): read, build and lift its shard (the samples ``lo..lo+k-1`` of
    ``n``, ``targets`` theirs), then ``spec.steps`` all-reduced steps over :func:`batch_schedule`;
    ``denominators[s]`` is step ``s``'s ``|B|`` (``m_B`` for multi-task targets)."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dtype = DTYPES[spec.dtype]
    t0 = time.perf_counter()
    raw = build_shard(template, reader)
    graph, _ = compress(raw, scope="dataset")
    p = {k: torch.tensor(v, dtype=dtype, requires_grad=g) for k, (v, g) in params.items()}
    learnable = [v for v in p.values() if v.requires_grad]
    opt = make_optimizer(TrainConfig(lr=spec.lr, optimizer=spec.optimizer), learnable)
    schedule = batch_schedule(n, spec.batch_size, spec.steps, spec.seed)
    parts: dict[int, tuple[Graph | None, torch.Tensor, int]] = {}  # a batch's part of this shard, by batch identity
    build_seconds = time.perf_counter() - t0
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world,
                            timeout=timedelta(seconds=300))
    losses = []
    try:
        t1 = time.perf_counter()
        for step, batch in enumerate(schedule):
            if id(batch) not in parts:
                parts[id(batch)] = _part(graph, targets, batch - lo, dtype)
            sub, t, mine = parts[id(batch)]
            scale = 1.0 / denominators[step] if targets.ndim == 2 else mine / denominators[step]
            opt.zero_grad(set_to_none=True)
            share = shard_share(spec.loss, evaluate(sub, p), t, scale) if sub is not None else None
            if share is not None:
                share.backward()
            head = [share.detach() if share is not None else torch.zeros((), dtype=dtype)]
            used = [torch.tensor(float(v.grad is not None), dtype=dtype) for v in learnable]
            flat = torch.cat([x.reshape(-1) for x in head + used] + [
                (v.grad if v.grad is not None else torch.zeros_like(v)).reshape(-1) for v in learnable])
            dist.all_reduce(flat)
            losses.append(float(flat[0]))
            offset = 1 + len(learnable)
            for i, v in enumerate(learnable):  # a weight no rank used keeps no gradient, as in one process
                v.grad = flat[offset : offset + v.numel()].reshape(v.shape).clone() if flat[1 + i] > 0 else None
                offset += v.numel()
            opt.step()
        seconds = time.perf_counter() - t1
    finally:
        dist.destroy_process_group()
    return {"params": {k: v.detach().numpy() for k, v in p.items()}, "losses": losses, "seconds": seconds,
            "rank": rank, "worker": worker_name(), "samples": reader.num_samples, "nodes": raw.num_nodes,
            "nodes_lifted": graph.num_nodes, "build_seconds": build_seconds, "peak_rss_bytes": peak_rss()}


def _part(graph: Graph, targets: np.ndarray, local: np.ndarray,
          dtype: torch.dtype) -> tuple[Graph | None, torch.Tensor, int]:
    """The part of a batch in this shard (``local``: the batch's sample ids minus the shard's
    first; output ``i`` of ``graph`` is the shard's sample ``i``): its sub-graph (``None`` if
    empty), targets and size."""
    mine = local[(local >= 0) & (local < graph.num_outputs)]
    sub = None if not mine.size else graph if mine.size == graph.num_outputs else select_outputs(graph, mine)
    return sub, torch.as_tensor(targets[mine], dtype=dtype), int(mine.size)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def data_parallel_train(work: Workload, client: Any, spec: TrainSpec,  # noqa: ANN401
                        params: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Train ``work``, one rank per worker of ``client``'s cluster, each on its shard.

    ``params`` default to :func:`initial_params` (``spec.seed``). Returns rank 0's parameters
    (all ranks end with the same ones) and the global loss of every step.
    """
    targets = np.asarray(work.targets, dtype=np.float64)
    if targets.ndim == 1 and not np.all(np.isfinite(targets)):
        raise ValueError(f"{work.name}: sample {int(np.flatnonzero(~np.isfinite(targets))[0])} has no target")
    schedule = batch_schedule(work.num_samples, spec.batch_size, spec.steps, spec.seed)
    denominators = np.array([np.isfinite(targets[b]).sum() if targets.ndim == 2 else b.size for b in schedule],
                            dtype=np.float64)
    if not denominators.all():
        raise ValueError(f"{work.name}: the batch of step {int(np.flatnonzero(denominators == 0)[0])} has no target")
    addresses = worker_addresses(client)
    ranges = shard_ranges(work.num_samples, len(addresses))
    world = len(ranges)
    params = initial_params(work, spec.seed, spec.dtype) if params is None else params
    init = {k: (v.detach().cpu().numpy().astype(np.float64), bool(v.requires_grad)) for k, v in params.items()}
    host = urlparse(addresses[0]).hostname or "127.0.0.1"
    port = client.submit(_free_port, workers=[addresses[0]], pure=False).result()
    template = client.scatter(work.template, broadcast=True)
    futures = [
        client.submit(train_rank, template, work.shard(ids), targets[ids], int(ids[0]), work.num_samples, r, world,
                      f"tcp://{host}:{port}", init, spec, denominators,
                      workers=[addresses[r]], allow_other_workers=False, pure=False)
        for r, ids in enumerate(ranges)
    ]
    results = sorted(client.gather(futures), key=lambda r: r["rank"])
    first = results[0]
    ranks = [{k: v for k, v in r.items() if k not in ("params", "losses")} for r in results]
    return TrainResult(first["params"], first["losses"], max(r["seconds"] for r in results), ranks)
