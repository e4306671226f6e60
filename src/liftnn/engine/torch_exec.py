"""The torch executor: runs a compiled :class:`~liftnn.engine.plan.Plan` block by block.

Each block is a handful of tensor operations (gather, weight application,
scatter-reduce, bias, activation); no Python code runs per node or per edge,
and autograd gives the backward pass. Any torch device and floating dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch

from .._segments import run_starts
from ..graph import get_activation
from .params import apply_weight

if TYPE_CHECKING:
    from .plan import Block, Group, Plan

T = TypeVar("T")


def place(obj: T, device: torch.device, dtype: torch.dtype) -> T:
    """A copy of a :class:`Block` or :class:`Group` with its numpy arrays turned into tensors on ``device``
    (floating arrays in ``dtype``, integer ones as ``int64``)."""
    changes = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(v))
            changes[f.name] = t.to(device=device, dtype=dtype if v.dtype.kind == "f" else torch.int64)
        elif f.name == "groups":
            changes[f.name] = [place(g, device, dtype) for g in v]
    return replace(obj, **changes)


def resolve_dtype_device(params: Mapping[str, torch.Tensor], dtype: torch.dtype | None,
                         device: torch.device | str | None) -> tuple[torch.dtype, torch.device]:
    """The dtype (promoted over the parameters unless given) and device to compute in."""
    tensors = list(params.values())
    if dtype is None:
        dtype = torch.float32
        if tensors:
            dtype = tensors[0].dtype
            for t in tensors[1:]:
                dtype = torch.promote_types(dtype, t.dtype)
        if not dtype.is_floating_point:
            dtype = torch.get_default_dtype()
    if device is None:
        device = tensors[0].device if tensors else torch.device("cpu")
    return dtype, torch.device(device)


def run(plan: Plan, params: Mapping[str, torch.Tensor], dtype: torch.dtype | None = None,
        device: torch.device | str | None = None) -> list[torch.Tensor]:
    """Values of all blocks of ``plan``, in block order (``[n_b, dim_b]`` each), differentiable in ``params``."""
    dtype, device = resolve_dtype_device(params, dtype, device)
    params = {k: v if (v.dtype == dtype and v.device == device) else v.to(device=device, dtype=dtype)
              for k, v in params.items()}
    values: list[torch.Tensor] = []
    for blk in plan.to(device, dtype):
        values.append(blk.leaf if blk.leaf is not None else _run_block(blk, values, params))
    return values


def outputs(plan: Plan, values: list[torch.Tensor]) -> torch.Tensor:
    """``[O, d]`` output rows in the graph's output order."""
    if len(plan.output_dims) > 1:
        raise ValueError(f"outputs have different dimensions {sorted(plan.output_dims)}; "
                         "use Plan.node_values to read them separately")
    g = plan.graph
    if g.num_outputs == 0:
        raise ValueError("the graph has no outputs (GraphBuilder.output)")
    dev = values[0].device
    key = ("outputs", dev)
    if key not in plan.cache:
        order = plan.output_order
        nb = plan.node_block[g.output_node][order]
        nr = plan.node_row[g.output_node][order]
        bounds = np.append(np.flatnonzero(run_starts(nb)), nb.size)
        plan.cache[key] = (
            [(int(nb[a]), torch.from_numpy(nr[a:b]).to(dev)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
            torch.from_numpy(np.argsort(order)).to(dev),
        )
    parts, inverse = plan.cache[key]
    out = torch.cat([values[b].index_select(0, rows) for b, rows in parts]) if len(parts) > 1 else (
        values[parts[0][0]].index_select(0, parts[0][1]))
    return out.index_select(0, inverse)


def _run_block(blk: Block, values: list[torch.Tensor], params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    kind = blk.combine.kind
    msgs, targets = [], []
    for g in blk.groups:
        w = params[g.label] if g.label is not None else None
        x = values[g.src].index_select(0, g.gather)
        if g.local is not None:
            if g.count is not None:
                x = x * g.count
            x = x.new_zeros(g.n_local, x.shape[1]).index_add_(0, g.local, x)
        m = _stacked_weight(x, g, params) if g.labels else apply_weight(x, w)
        if g.expand is not None:
            m = m.index_select(0, g.expand)
        if g.count is not None and g.local is None:
            m = m.pow(g.count) if kind == "prod" else m * g.count
        if g.broadcast:
            m = m.expand(-1, blk.dim)
        msgs.append(m)
        targets.append(g.target)
    out = _combine(blk, kind, msgs, targets)
    if blk.bias_index is None and blk.bias_labels:  # one bias for the whole block
        out = out + params[blk.bias_labels[0]].reshape(-1)
    elif blk.bias_index is not None:
        table = torch.stack([out.new_zeros(blk.dim)] + [params[b].reshape(-1).expand(blk.dim) for b in blk.bias_labels])
        out = out + table.index_select(0, blk.bias_index)
    return get_activation(blk.act)(out)


def _stacked_weight(x: torch.Tensor, g: Group, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Row ``r`` times its own weight ``labels[label_index[r]]`` (one batched op for many small labels)."""
    w = torch.stack([params[label] for label in g.labels]).index_select(0, g.label_index)
    if w.dim() == 3:
        return torch.bmm(w, x[:, :, None])[:, :, 0]
    return x * (w[:, None] if w.dim() == 1 else w)


def _combine(blk: Block, kind: str, msgs: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    n, d = blk.n, blk.dim
    if blk.direct:
        out = msgs[0]
        return out / blk.denom if kind == "mean" else out
    if kind == "concat":
        flat = torch.cat([m.reshape(-1) for m in msgs])
        return flat.new_zeros(n * d).index_put_((torch.cat([t.reshape(-1) for t in targets]),), flat).view(n, d)
    src, idx = torch.cat(msgs), torch.cat(targets)
    if kind in ("sum", "mean"):
        out = src.new_zeros(n, d).index_add_(0, idx, src)
        return out / blk.denom if kind == "mean" else out
    if kind in ("max", "min", "prod"):
        reduce = {"max": "amax", "min": "amin", "prod": "prod"}[kind]
        index = idx[:, None].expand(-1, d)
        return src.new_zeros(n, d).scatter_reduce(0, index, src, reduce, include_self=False)
    stacked = src.new_zeros(n * blk.arity, src.shape[1]).index_put_((idx,), src).view(n, blk.arity, -1)
    out = blk.combine.fn(stacked)
    if out.shape != (n, d):
        raise ValueError(f"combine {blk.combine.name!r} returned shape {tuple(out.shape)}, expected {(n, d)}")
    return out
