"""Jitted JAX twins of the zoo's molecule models (``gcn``, ``sage``, ``gin``), unlifted, as a user chasing speed writes.

Each twin computes the function of :mod:`liftnn.bench.pyg_models` (whose docstring gives the
math, the ``D_l`` masks and the weight labels) with ``jax.ops.segment_sum`` over the edges of
padded batches. Parameters use torch's ``Linear`` layout (``weight`` is ``[out, in]``, applied
as ``h @ W.T``)::

    {"embed": E [dim, T], "convs": [(W,) | (S, A) | (W1, W2), ...], "out": w_out [1, dim]}

so :func:`params_from_twin` copies a PyG twin's weights unchanged.

Training (:func:`jax_trainer`): the graphs are split as :mod:`liftnn.bench.table1` splits
them for liftnn and PyG, ``perm = default_rng(seed).permutation(G)`` cut into consecutive
slices of ``batch_size`` (``0``: one full batch), and every epoch visits the batches in the
order ``default_rng(seed + 1).permutation(B)`` (one generator, a new permutation per epoch).
Every batch is padded to the largest node, edge and graph counts over the batches, so one
compiled function serves all:

* a batch holds ``N = max nodes + 1`` node slots, the last one always padding;
* padded nodes are outside every mask ``D_l`` (``D_0`` = the real nodes), so they send and
  receive nothing; padded edges join the last (padded) node to itself;
* padded graph slots have no nodes (output ``0``) and are left out of the loss
  ``mean_{real g} (predict(g) - y_g)^2`` (MSE, as PyG's ``torch.mean``).

One epoch is one call of one ``jax.jit``-compiled function: ``lax.scan`` over the batch
order of forward, ``jax.value_and_grad`` and ``optax.adam(lr)`` (torch's defaults: betas
``(0.9, 0.999)``, ``eps = 1e-8``, no weight decay; the same update as ``torch.optim.Adam``).

Threads: XLA's CPU client is pinned to one thread, as the other frameworks of Table 1 (torch
runs with ``torch.set_num_threads(1)``): importing this module sets ``PJRT_NPROC=1`` (the size
of the CPU client's thread pool; ``--xla_cpu_multi_thread_eigen=false`` alone leaves several
threads busy) and adds ``--xla_cpu_multi_thread_eigen=false`` to ``XLA_FLAGS``, unless the
user already set them. Both are read when JAX creates its CPU backend, so this module must be
imported before any JAX computation runs in the process.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any


def _pin_one_thread() -> None:
    """One XLA CPU thread (see the module docstring); the user's own settings win."""
    os.environ.setdefault("PJRT_NPROC", "1")
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()


_pin_one_thread()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from ..data.graphs import GraphSet  # noqa: E402

TWIN_LAYER_WEIGHTS = {"gcn": 1, "sage": 2, "gin": 2}
ACTIVATIONS = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "identity": lambda x: x,
    "linear": lambda x: x,
}
Params = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# padded batches


@dataclass(frozen=True)
class PaddedBatches:
    """``B`` batches padded to ``N`` nodes, ``E`` edges and ``G`` graphs each (numpy arrays,
    leading axis the batch). Node ids are local to the batch; edges are sorted by source."""

    node_type: np.ndarray  # int32[B, N]  (0 on padding)
    node_valid: np.ndarray  # bool[B, N]
    node_graph: np.ndarray  # int32[B, N]  local graph slot, non-decreasing (G - 1 on padding)
    src: np.ndarray  # int32[B, E]  the node that gathers (N - 1 on padding)
    dst: np.ndarray  # int32[B, E]  the node gathered from (N - 1 on padding)
    y: np.ndarray  # float[B, G]
    graph_valid: np.ndarray  # bool[B, G]

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields by name (a pytree for JAX)."""
        return dict(self.__dict__)


def batch_partition(num_graphs: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """Graph ids of each batch: consecutive slices of ``default_rng(seed).permutation(G)``
    (``batch_size`` ``0``: one batch of all graphs)."""
    if batch_size < 0:
        raise ValueError(f"batch_size must be >= 0 (0: full batch), got {batch_size}")
    perm = np.random.default_rng(seed).permutation(num_graphs)
    size = num_graphs if batch_size == 0 else batch_size
    return [perm[a : a + size] for a in range(0, num_graphs, size)]


def pad_batches(data: GraphSet, batches: list[np.ndarray], dtype: Any = np.float32) -> PaddedBatches:
    """The batches (lists of graph ids, each graph in exactly one) padded to common sizes, in one
    vectorised pass: nodes are ordered by (batch, position of their graph in the batch, id)."""
    B, G = len(batches), max(len(b) for b in batches)
    order_g = np.concatenate(batches)
    if order_g.size != data.num_graphs or np.any(np.bincount(order_g, minlength=data.num_graphs) != 1):
        raise ValueError(f"{data.name}: the batches must hold every graph exactly once")
    pos = np.empty(data.num_graphs, np.int64)  # position of each graph in the batch sequence
    pos[order_g] = np.arange(data.num_graphs)
    batch_start = np.cumsum([0] + [len(b) for b in batches])
    g_batch = np.searchsorted(batch_start, pos, side="right") - 1
    g_slot = pos - batch_start[g_batch]

    node_order = np.argsort(pos[data.graph], kind="stable")
    n_batch = g_batch[data.graph]
    n_count = np.bincount(n_batch, minlength=B)
    N = int(n_count.max()) + 1  # the last slot is always padding
    n_start = np.concatenate([[0], np.cumsum(n_count)[:-1]])
    local = np.empty(data.num_nodes, np.int64)
    local[node_order] = np.arange(data.num_nodes) - n_start[n_batch[node_order]]

    src, dst = data.edge_index
    rank = np.empty(data.num_nodes, np.int64)
    rank[node_order] = np.arange(data.num_nodes)
    e_order = np.argsort(rank[src], kind="stable")
    e_batch = n_batch[src[e_order]]
    e_count = np.bincount(e_batch, minlength=B)
    E = max(int(e_count.max()), 1)
    e_local = np.arange(e_order.size) - np.concatenate([[0], np.cumsum(e_count)[:-1]])[e_batch]

    def fill(shape: tuple[int, int], value: Any, rows: np.ndarray, cols: np.ndarray, vals: Any, dt: Any) -> np.ndarray:
        out = np.full(shape, value, dt)
        out[rows, cols] = vals
        return out

    return PaddedBatches(
        node_type=fill((B, N), 0, n_batch, local, data.node_type, np.int32),
        node_valid=fill((B, N), False, n_batch, local, True, bool),
        node_graph=fill((B, N), G - 1, n_batch, local, g_slot[data.graph], np.int32),
        src=fill((B, E), N - 1, e_batch, e_local, local[src[e_order]], np.int32),
        dst=fill((B, E), N - 1, e_batch, e_local, local[dst[e_order]], np.int32),
        y=fill((B, G), 0, g_batch, g_slot, data.y, dtype),
        graph_valid=fill((B, G), False, g_batch, g_slot, True, bool),
    )


# ---------------------------------------------------------------------------------------------
# the models


def _layer(model: str, weights: tuple, act: Any, h: Any, mask: Any, src: Any, dst: Any) -> tuple[Any, Any]:
    """One layer ``(h, D_{l-1}) -> (h', D_l)`` (pyg_models' docstring); rows outside ``D_l`` are 0.
    ``X = src`` gathers from ``Y = dst`` over its out-edges ``(X, Y)``."""
    n = h.shape[0]
    m_y = mask[dst]
    cnt = jax.ops.segment_sum(m_y.astype(h.dtype), src, n, indices_are_sorted=True)[:, None]
    if model == "gcn":  # avg_{(X,Y), Y in D} act(W h(Y) + 1)
        msg = jnp.where(m_y[:, None], act((h @ weights[0].T)[dst] + 1), 0)
        s = jax.ops.segment_sum(msg, src, n, indices_are_sorted=True)
        return s / jnp.maximum(cnt, 1), cnt[:, 0] > 0
    msg = jnp.where(m_y[:, None], (h @ weights[1].T if model == "sage" else h)[dst] + 1, 0)
    s = jax.ops.segment_sum(msg, src, n, indices_are_sorted=True)
    new_mask = mask | (cnt[:, 0] > 0)
    if model == "sage":  # act(S h(X) + avg_{(X,Y)} (A h(Y) + 1)), missing terms left out
        pre = jnp.where(mask[:, None], h @ weights[0].T, 0) + s / jnp.maximum(cnt, 1)
        out = act(pre)
    else:  # gin: relu(W2 relu(W1 (h(X) + sum_{(X,Y)} (h(Y) + 1))))
        a = jnp.where(mask[:, None], h, 0) + s
        out = jax.nn.relu(jax.nn.relu(a @ weights[0].T) @ weights[1].T)
    return jnp.where(new_mask[:, None], out, 0), new_mask


def forward(model: str, params: Params, batch: dict[str, Any], activation: str = "sigmoid") -> Any:
    """``predict`` of every graph slot of one padded batch (``[G]``; ``0`` for padding and for a
    graph without nodes in ``D_L``)."""
    act = ACTIVATIONS[activation]
    h = params["embed"].T[batch["node_type"]]  # E x_X
    mask = batch["node_valid"]
    for weights in params["convs"]:
        h, mask = _layer(model, weights, act, h, mask, batch["src"], batch["dst"])
    G = batch["y"].shape[0]
    m = mask.astype(h.dtype)[:, None]
    total = jax.ops.segment_sum(jnp.where(mask[:, None], h, 0), batch["node_graph"], G, indices_are_sorted=True)
    cnt = jax.ops.segment_sum(m, batch["node_graph"], G, indices_are_sorted=True)
    pred = jax.nn.sigmoid((total / jnp.maximum(cnt, 1)) @ params["out"].T)[:, 0]
    return jnp.where(cnt[:, 0] > 0, pred, 0)


def mse_loss(model: str, params: Params, batch: dict[str, Any], activation: str = "sigmoid") -> Any:
    """``mean_{real g} (predict(g) - y_g)^2`` over the batch's real graph slots."""
    err = jnp.where(batch["graph_valid"], forward(model, params, batch, activation) - batch["y"], 0)
    return jnp.sum(err * err) / jnp.sum(batch["graph_valid"])


def init_params(model: str, num_types: int, layers: int, dim: int, seed: int = 0, dtype: Any = np.float32) -> Params:
    """torch's ``Linear`` initialisation, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, drawn from
    ``default_rng(seed)`` (the same law as the PyG twin's, not the same numbers)."""
    rng = np.random.default_rng(seed)

    def lin(out: int, inp: int) -> Any:
        return jnp.asarray(rng.uniform(-1, 1, (out, inp)) / np.sqrt(inp), dtype)

    k = TWIN_LAYER_WEIGHTS[model]
    return {
        "embed": lin(dim, num_types),
        "convs": [tuple(lin(dim, dim) for _ in range(k)) for _ in range(layers)],
        "out": lin(1, dim),
    }


def params_from_twin(twin: Any, dtype: Any = None) -> Params:
    """A PyG twin's (:mod:`liftnn.bench.pyg_models`) weights as JAX parameters (its dtype by default)."""
    def arr(t: Any) -> Any:
        return jnp.asarray(t.detach().cpu().numpy(), dtype)

    names = twin._layer_param_names()
    return {
        "embed": arr(twin.embed.weight),
        "convs": [tuple(arr(getattr(conv, name).weight) for name in names) for conv in twin.convs],
        "out": arr(twin.out.weight),
    }


# ---------------------------------------------------------------------------------------------
# training


def _check(model: str, activation: str = "sigmoid", layers: int = 1, dim: int = 1) -> None:
    """A clear error for a model, activation or size the twins do not have."""
    if model not in TWIN_LAYER_WEIGHTS:
        raise ValueError(f"no JAX twin for {model!r}; twins exist for {list(TWIN_LAYER_WEIGHTS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} has no JAX twin; known: {sorted(ACTIVATIONS)}")
    if layers < 1 or dim < 1:
        raise ValueError(f"layers and dim must be >= 1, got layers={layers}, dim={dim}")


class JaxTrainer:
    """Adam training of one twin, one compiled call per epoch (see the module docstring)."""

    build_seconds: float = 0.0

    def __init__(
        self,
        model: str,
        batches: PaddedBatches,
        params: Params,
        lr: float = 0.01,
        seed: int = 0,
        activation: str = "sigmoid",
    ) -> None:
        """Compile the epoch for ``batches`` (ahead of time: the first :meth:`epoch` runs compiled)."""
        _check(model, activation)
        self.model, self.activation = model, activation
        self.num_batches = batches.y.shape[0]
        self.params = params
        self._opt = optax.adam(lr)
        self.opt_state = self._opt.init(params)
        self._batches = {k: jnp.asarray(v) for k, v in batches.arrays().items()}
        self._rng = np.random.default_rng(seed + 1)
        self.step_losses = np.zeros(0)
        order = jnp.zeros(self.num_batches, jnp.int32)
        self._epoch = jax.jit(self._run).lower(self.params, self.opt_state, self._batches, order).compile()

    def _run(self, params: Params, opt_state: Any, batches: dict[str, Any], order: Any) -> tuple:
        """``lax.scan`` of Adam steps over the batches in ``order``."""
        grad_fn = jax.value_and_grad(lambda p, b: mse_loss(self.model, p, b, self.activation))

        def step(carry: tuple, i: Any) -> tuple:
            p, s = carry
            loss, grads = grad_fn(p, jax.tree.map(lambda a: a[i], batches))
            updates, s = self._opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), order)
        return params, opt_state, losses

    def epoch(self) -> float:
        """One epoch in the next batch order (one compiled call, waited for); the mean step loss."""
        order = jnp.asarray(self._rng.permutation(self.num_batches), jnp.int32)
        self.params, self.opt_state, losses = self._epoch(self.params, self.opt_state, self._batches, order)
        self.step_losses = np.asarray(jax.block_until_ready(losses))
        return float(self.step_losses.mean())


def jax_trainer(
    data: GraphSet, model: str, layers: int, dim: int, batch_size: int, lr: float = 0.01, seed: int = 0
) -> JaxTrainer:
    """A float32 :class:`JaxTrainer` for ``data`` in ``batch_size`` batches (``0`` full batch, ``1``
    per-sample), weights from :func:`init_params`; ``build_seconds`` covers the partition, the
    padding, the transfer to JAX and the compilation."""
    _check(model, layers=layers, dim=dim)
    t0 = time.perf_counter()
    batches = pad_batches(data, batch_partition(data.num_graphs, batch_size, seed))
    params = init_params(model, len(data.node_types), layers, dim, seed)
    trainer = JaxTrainer(model, batches, params, lr, seed)
    trainer.build_seconds = time.perf_counter() - t0
    return trainer


__all__ = [
    "JaxTrainer",
    "PaddedBatches",
    "batch_partition",
    "forward",
    "init_params",
    "jax_trainer",
    "mse_loss",
    "pad_batches",
    "params_from_twin",
]
