"""Check that two graphs compute the same function: outputs and gradients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .engine import evaluate, init_params, resolve_shapes
from .engine.params import Shape
from .graph import Graph


class VerificationError(ValueError):
    """The lifted graph does not reproduce the original one."""


@dataclass(frozen=True)
class Verification:
    """Largest differences found; errors are relative to each tensor's scale
    (``max|a - b| / max(1, max|a|)``)."""

    trials: int
    max_output_error: float
    max_gradient_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return max(self.max_output_error, self.max_gradient_error) <= self.tolerance

    def __str__(self) -> str:
        state = "OK" if self.ok else "FAILED"
        return (f"verify {state}: {self.trials} random weight draws, max output error "
                f"{self.max_output_error:.2e}, max gradient error {self.max_gradient_error:.2e} "
                f"(tolerance {self.tolerance:.0e})")


def _error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    if a.shape != b.shape:
        return float("inf")
    if a.numel() == 0:
        return 0.0
    both_nan = torch.isnan(a) & torch.isnan(b)
    diff = torch.where(both_nan, torch.zeros_like(a), (a - b).abs())
    scale = torch.nan_to_num(a.abs(), nan=0.0, posinf=0.0).max().clamp(min=1.0)
    return float(torch.nan_to_num(diff, nan=float("inf")).max() / scale)


def _grads(loss: torch.Tensor, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gradients of ``loss`` w.r.t. ``tensors`` (zero where it does not depend on them)."""
    if not loss.requires_grad:
        return [torch.zeros_like(t) for t in tensors]
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors, strict=True)]


def verify(
    original: Graph,
    lifted: Graph,
    trials: int = 3,
    dtype: torch.dtype = torch.float64,
    shapes: Mapping[str, Shape] | None = None,
    tolerance: float = 1e-9,
    seed: int = 0,
    raise_on_error: bool = True,
) -> Verification:
    """Evaluate both graphs under ``trials`` random weight draws and compare every
    output and the gradient of a random linear loss ``Σ r ⊙ y`` w.r.t. every weight.

    Raises :class:`VerificationError` (a ``ValueError``) past ``tolerance``
    unless ``raise_on_error=False``.
    """
    if original.num_outputs != lifted.num_outputs:
        raise VerificationError(f"output counts differ: {original.num_outputs} vs {lifted.num_outputs}")
    if (original.output_sample != lifted.output_sample).any():
        raise VerificationError("output samples differ")
    resolved = resolve_shapes(original, shapes, default=())
    out_err = grad_err = 0.0
    gen = torch.Generator().manual_seed(seed)
    for t in range(trials):
        params = init_params(original, resolved, seed=seed + t, dtype=dtype)
        y0 = evaluate(original, params)
        y1 = evaluate(lifted, {k: params[k] for k in lifted.labels})
        out_err = max(out_err, _error(y0, y1))
        r = torch.randn(y0.shape, generator=gen, dtype=dtype)
        names = [k for k, v in params.items() if v.requires_grad]
        if not names:
            continue
        tensors = [params[k] for k in names]
        for a, b in zip(_grads((r * y0).sum(), tensors), _grads((r * y1).sum(), tensors), strict=True):
            grad_err = max(grad_err, _error(a, b))
    result = Verification(trials, out_err, grad_err, tolerance)
    if raise_on_error and not result.ok:
        raise VerificationError(str(result))
    return result
