"""Value-based (non-exact) lifting: merge nodes whose values agree.

The graph is evaluated in float64 under ``inits`` random weight draws; every
value is rounded to ``digits`` *significant* digits (``x ≈ m · 10^e`` with
``|m| < 10^digits``) and nodes with equal rounded value lists merge.

The representative of a class is its member of lowest topological level
(ties: lowest id), and only the representative keeps its own inputs. Every
input ``c`` of a kept node ``r`` satisfies ``level(rep(c)) <= level(c) < level(r)``,
so the result stays acyclic — the top-down rule of the paper ("replace a node
only by one that is not its ancestor") in one vectorised step.

Value lifting runs on the exactly lifted graph, so it merges at least what
exact lifting merges; every further merge joins nodes that exact lifting keeps
apart and is counted as a *clash*: either a genuine functional equivalence or,
with too few digits, an error — :func:`liftnn.verify` tells which.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from .._segments import hash_columns, mix64, rank_in_segment, run_starts
from ..engine import init_params, plan_for, resolve_shapes
from ..engine.params import Shape
from ..graph import Graph
from .canon import Edges, fold, function_flags

_NONFINITE = np.int64(1 << 40)


def round_significant(x: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Mantissa and exponent ``(m, e)`` with ``x ≈ m · 10^(e - digits + 1)``, ``10^(digits-1) <= |m| < 10^digits``.

    Zero (and ``|x| < 1e-290``) maps to ``(0, 0)``; NaN and ±inf to reserved exponents.
    """
    if not 1 <= digits <= 17:
        raise ValueError(f"digits must lie in 1..17, got {digits}")
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    ax = np.where(finite, np.abs(x), 0.0)
    nz = ax > 1e-290
    e = np.zeros(x.shape, dtype=np.int64)
    e[nz] = np.floor(np.log10(ax[nz])).astype(np.int64)
    m = np.where(nz, np.rint(x * 10.0 ** (digits - 1 - e).astype(np.float64)), 0.0)
    big = np.abs(m) >= 10.0**digits
    m = np.where(big, np.rint(m / 10.0), m)
    e = e + big
    small = nz & (np.abs(m) < 10.0 ** (digits - 1))
    m = np.where(small, np.rint(x * 10.0 ** (digits - e).astype(np.float64)), m)
    e = e - small
    m = np.where(finite, m, 0.0).astype(np.int64)
    e = np.where(finite, e, _NONFINITE + np.where(np.isnan(x), 0, np.sign(np.nan_to_num(x))).astype(np.int64))
    return m, e


def value_hashes(g: Graph, shapes: Mapping[str, Shape], digits: int, inits: int, seed: int) -> np.ndarray:
    """``uint64[N]`` hash of each node's rounded values over ``inits`` weight draws (and its dimension)."""
    plan = plan_for(g, shapes)
    h = mix64(plan.node_dims)
    for t in range(inits):
        params = init_params(g, shapes, seed=seed + t, dtype=torch.float64, requires_grad=False)
        with torch.no_grad():
            blocks = plan.run(params)
        for blk, val in zip(plan.blocks, blocks, strict=True):
            m, e = round_significant(val.numpy(), digits)
            row = np.zeros(blk.n, dtype=np.uint64)
            for j in range(blk.dim):  # loop over vector components, not nodes
                row = mix64(row ^ hash_columns(m[:, j], e[:, j], np.full(blk.n, j)))
            h[blk.nodes] = mix64(h[blk.nodes] ^ row)
    return h


def value_pass(g: Graph, shapes: Mapping[str, Shape] | None, digits: int, inits: int, seed: int,
               scope: str) -> tuple[np.ndarray, Edges, int]:
    """Merge map of value-equal nodes of ``g``; returns ``(rep, kept edges, number of classes)``."""
    resolved = resolve_shapes(g, shapes, default=())
    h = value_hashes(g, resolved, digits, inits, seed)
    if scope == "sample":
        h = mix64(h ^ hash_columns(g.node_samples()))
    level = g.levels()
    ids = np.arange(g.num_nodes)
    order = np.lexsort((ids, level, h))
    first = run_starts(h[order])
    rep = np.empty(g.num_nodes, dtype=np.int64)
    rep[order] = order[np.maximum.accumulate(np.where(first, np.arange(order.size), 0))]
    keep = rep[g.edge_parent] == g.edge_parent
    raw = Edges(g.edge_parent, rep[g.edge_child], g.edge_label, g.edge_count).take(keep)
    symmetric, idempotent, _ = function_flags(g)
    edges = fold(raw, rank_in_segment(g.edge_parent)[keep], symmetric, idempotent)
    return rep, edges, int(first.sum())
