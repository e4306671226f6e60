"""Shared parameters: shapes, initialisation and how a weight acts on an input.

A label's shape decides what ``W·x`` means for an input row ``x`` of dimension ``d``:

* ``()``  scalar:      ``w * x``                (any ``d``)
* ``(d,)`` elementwise: ``w ⊙ x``               (input dimension must be ``d``)
* ``(o, i)`` matrix:   ``W @ x``                (input dimension must be ``i``; output ``o``)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..graph import Graph

Shape = tuple[int, ...]


def weight_io(shape: Shape) -> tuple[int, int]:
    """``(input_dim, output_dim)`` of a weight; ``-1`` means "same as the input"."""
    if len(shape) == 0:
        return -1, -1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    return int(shape[1]), int(shape[0])


def apply_weight(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """``W·x`` row-wise for ``x: [n, d]``; ``None`` is the identity."""
    if w is None:
        return x
    if w.dim() <= 1:
        return x * w
    return x @ w.T


def resolve_shapes(
    graph: Graph, shapes: Mapping[str, Shape] | None = None, default: Shape | None = None
) -> dict[str, Shape]:
    """Shapes of every label in ``graph``: given ``shapes`` over the graph's declared
    ones, then ``default`` for the rest; an error names any label left without one."""
    merged: dict[str, Shape] = {k: tuple(v) for k, v in graph.shapes.items()}
    merged.update({k: tuple(int(d) for d in v) for k, v in (shapes or {}).items()})
    out: dict[str, Shape] = {}
    missing = []
    for label in graph.labels:
        if label in merged:
            out[label] = merged[label]
        elif default is not None:
            out[label] = tuple(default)
        else:
            missing.append(label)
    if missing:
        raise ValueError(f"no shape given for weight label(s) {missing}; pass shapes={{label: shape}}")
    for label, shape in out.items():
        if len(shape) > 2 or any(d < 1 for d in shape):
            raise ValueError(f"weight {label!r}: shape {shape} is not (), (d,) or (out, in)")
    return out


def init_params(
    graph: Graph,
    shapes: Mapping[str, Shape] | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    default_shape: Shape | None = None,
    requires_grad: bool = True,
) -> dict[str, torch.Tensor]:
    """Random parameters for every label of ``graph`` (deterministic in ``seed``).

    Matrices are Glorot-uniform, ``U(-a, a)`` with ``a = sqrt(6 / (in + out))``;
    scalars and vectors are ``U(-1, 1)``. Returns ``{label: tensor}``.
    """
    resolved = resolve_shapes(graph, shapes, default_shape)
    rng = np.random.default_rng(seed)
    params = {}
    for label in graph.labels:
        value = random_weight(rng, resolved[label])
        params[label] = torch.tensor(value, dtype=dtype, device=device, requires_grad=requires_grad)
    return params


def random_weight(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Glorot-uniform ``U(-a, a)``, ``a = sqrt(6 / (in + out))``, for a matrix; ``U(-1, 1)`` otherwise."""
    bound = np.sqrt(6.0 / (shape[0] + shape[1])) if len(shape) == 2 else 1.0
    return rng.uniform(-bound, bound, size=shape)


def shapes_of(params: Mapping[str, torch.Tensor]) -> dict[str, Shape]:
    """The shapes of a parameter dict."""
    return {k: tuple(v.shape) for k, v in params.items()}
