"""Value-based (non-exact) lifting: merge nodes whose values agree.

The graph is evaluated in float64 under ``inits`` random weight draws; every
value is rounded to ``digits`` *significant* digits (``x ≈ m · 10^e`` with
``|m| < 10^digits``) and nodes with equal rounded value lists merge. Nodes are
grouped by a 64-bit hash of their rounded values, and every proposed merge is
then confirmed on the rounded values themselves (and the dimension, and the
sample in sample scope), so a hash collision costs a missed merge, never a
wrong one.

The representative of a class is its member of lowest topological level
(ties: lowest id), and only the representative keeps its own inputs. Every
input ``c`` of a kept node ``r`` satisfies ``level(rep(c)) <= level(c) < level(r)``,
so the result stays acyclic — the top-down rule of the paper ("replace a node
only by one that is not its ancestor") in one vectorised step.

Value lifting runs on the exactly lifted graph, so it merges at least what
exact lifting merges; every further merge joins nodes that exact lifting keeps
apart and is counted as a *clash*: either a genuine functional equivalence or,
with too few digits, an error — :func:`liftnn.verify` tells which.

The draws assume one shape per weight label (the declared ones, scalars for
the rest): nodes equal under scalar weights, such as ``prod(A·x, B·y)`` and
``prod(B·x, A·y)``, may differ under matrices. The result records those shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .._segments import hash_columns, mix64, ranges, rank_in_segment, run_starts
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


@dataclass(frozen=True)
class RoundedValues:
    """Every node's rounded values over all draws, flat: node ``i`` owns
    ``mantissa[start[i] : start[i] + length[i]]`` (and the same range of ``exponent``),
    ``length[i] = inits · dim[i]``."""

    mantissa: np.ndarray
    exponent: np.ndarray
    start: np.ndarray
    length: np.ndarray
    dim: np.ndarray

    def hashes(self) -> np.ndarray:
        """``uint64[N]``: a hash of each node's dimension and rounded values."""
        owner = np.repeat(np.arange(self.start.size), self.length)
        pos = np.arange(owner.size) - self.start[owner]
        cell = hash_columns(self.mantissa, self.exponent, pos)
        with np.errstate(over="ignore"):  # every node owns >= 1 cell, in order: one segmented sum
            body = np.add.reduceat(cell, self.start) if self.start.size else cell[:0]
        return mix64(mix64(self.dim) ^ body)

    def equal(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``bool[k]``: nodes ``a[j]`` and ``b[j]`` have the same dimension and rounded values."""
        same = self.dim[a] == self.dim[b]
        k = np.flatnonzero(same & (self.length[a] > 0))
        if k.size:
            ia, ib = ranges(self.start[a[k]], self.length[a[k]]), ranges(self.start[b[k]], self.length[b[k]])
            diff = (self.mantissa[ia] != self.mantissa[ib]) | (self.exponent[ia] != self.exponent[ib])
            bad = np.add.reduceat(diff.astype(np.int64), np.cumsum(self.length[a[k]]) - self.length[a[k]]) > 0
            same[k[bad]] = False
        return same


def rounded_values(g: Graph, shapes: Mapping[str, Shape], digits: int, inits: int, seed: int) -> RoundedValues:
    """Evaluate ``g`` in float64 under draws ``seed .. seed + inits - 1`` and round every value."""
    plan = plan_for(g, shapes)
    dim = plan.node_dims
    length = dim * inits
    start = np.cumsum(length) - length
    mant = np.zeros(int(length.sum()), dtype=np.int64)
    expo = np.zeros_like(mant)
    for t in range(inits):
        params = init_params(g, shapes, seed=seed + t, dtype=torch.float64, requires_grad=False)
        with torch.no_grad():
            blocks = plan.run(params)
        for blk, val in zip(plan.blocks, blocks, strict=True):  # a loop over blocks, not nodes
            m, e = round_significant(val.numpy(), digits)
            at = (start[blk.nodes] + t * blk.dim)[:, None] + np.arange(blk.dim)
            mant[at], expo[at] = m, e
    return RoundedValues(mant, expo, start, length, dim)


def value_hashes(g: Graph, shapes: Mapping[str, Shape], digits: int, inits: int, seed: int) -> np.ndarray:
    """``uint64[N]`` hash of each node's rounded values over ``inits`` weight draws (and its dimension)."""
    return rounded_values(g, shapes, digits, inits, seed).hashes()


@dataclass(frozen=True)
class ValueResult:
    """What the value pass decided on a graph.

    ``rep[i]``: the node that replaces ``i`` (``rep[i] == i`` for kept nodes);
    ``edges``: the canonical inputs of the kept inner nodes; ``shapes``: the weight
    shapes the draws assumed; ``collisions``: hash-equal nodes whose rounded values
    differ (kept apart).
    """

    rep: np.ndarray
    edges: Edges
    shapes: dict[str, Shape]
    collisions: int

    @property
    def classes(self) -> int:
        return int((self.rep == np.arange(self.rep.size)).sum())


def value_pass(g: Graph, shapes: Mapping[str, Shape] | None, digits: int, inits: int, seed: int,
               scope: str) -> ValueResult:
    """Merge nodes of ``g`` with equal rounded values (see module docstring)."""
    resolved = resolve_shapes(g, shapes, default=())
    vals = rounded_values(g, resolved, digits, inits, seed)
    h = vals.hashes()
    sample = g.node_samples()
    if scope == "sample":
        h = mix64(h ^ hash_columns(sample))
    level = g.levels()
    ids = np.arange(g.num_nodes)
    order = np.lexsort((ids, level, h))
    first = run_starts(h[order])
    cand = np.empty(g.num_nodes, dtype=np.int64)
    cand[order] = order[np.maximum.accumulate(np.where(first, np.arange(order.size), 0))]
    i = np.flatnonzero(cand != ids)
    ok = vals.equal(i, cand[i])
    if scope == "sample":
        ok &= sample[i] == sample[cand[i]]
    rep = ids.copy()
    rep[i[ok]] = cand[i[ok]]
    keep = rep[g.edge_parent] == g.edge_parent
    raw = Edges(g.edge_parent, rep[g.edge_child], g.edge_label, g.edge_count).take(keep)
    symmetric, idempotent, _ = function_flags(g)
    edges = fold(raw, rank_in_segment(g.edge_parent)[keep], symmetric, idempotent)
    return ValueResult(rep, edges, resolved, int((~ok).sum()))
