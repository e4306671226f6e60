"""Check that two graphs compute the same function: outputs and gradients.

For trial ``t`` both graphs are evaluated under one weight draw ``θ_t`` and compared
element by element: the error of an element is

    err(a, b) = |a - b| / max(|a|, |b|, floor)        (0 where a == b, NaN == NaN, inf == inf)

relative to that element (absolute below ``floor``, where rounding of cancelling
terms dominates), and the check passes iff every error is at most ``tolerance``.
Both depend on the dtype (:data:`TOLERANCES`).

The draws come from a random stream of their own (``default_rng([STREAM, seed, t])``),
which no lifting pass uses, so ``verify`` never re-checks the points value lifting
decided its merges at; and trial ``t`` scales its weights by ``SCALES[t % 3]``
(``U(-s, s)`` scalars and vectors, ``s``·Glorot matrices), so a merge that is wrong
only for ``|w| > 1`` (``relu(w - 1)``) or only for small weights can show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .engine import evaluate, resolve_shapes
from .engine.params import Shape, random_weight
from .graph import Graph
from .lift.shapes import check_shapes

#: ``dtype -> (tolerance, floor)``
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-9, 1e-3),
    torch.float32: (1e-4, 1e-1),
    torch.float16: (1e-2, 1.0),
    torch.bfloat16: (5e-2, 1.0),
}
#: weight scale of trial ``t``: ``SCALES[t % len(SCALES)]``
SCALES = (1.0, 4.0, 0.25)
#: the first entropy word of verify's random stream ("verify" in ASCII)
STREAM = 0x766572696679


class VerificationError(ValueError):
    """The lifted graph does not reproduce the original one."""


@dataclass(frozen=True)
class Verification:
    """Largest element errors found (see the module docstring) and where the worst one is."""

    trials: int
    max_output_error: float
    max_gradient_error: float
    tolerance: float
    floor: float = 1.0
    worst: str = ""

    @property
    def ok(self) -> bool:
        return max(self.max_output_error, self.max_gradient_error) <= self.tolerance

    def __str__(self) -> str:
        state = "OK" if self.ok else "FAILED"
        where = f", worst at {self.worst}" if self.worst and not self.ok else ""
        return (f"verify {state}: {self.trials} random weight draws (scales {', '.join(map(str, _scales(self.trials)))}"
                f"), max output error {self.max_output_error:.2e}, max gradient error {self.max_gradient_error:.2e}"
                f" (per element, tolerance {self.tolerance:.0e}){where}")


def _scales(trials: int) -> list[float]:
    return sorted({SCALES[t % len(SCALES)] for t in range(trials)})


def element_errors(a: torch.Tensor, b: torch.Tensor, floor: float) -> torch.Tensor:
    """``|a - b| / max(|a|, |b|, floor)`` per element, ``0`` where equal (NaN and inf included), ``inf``
    where one side is non-finite and the other is not."""
    a, b = a.detach().double(), b.detach().double()
    equal = (a == b) | (torch.isnan(a) & torch.isnan(b))
    denom = torch.maximum(torch.maximum(a.abs(), b.abs()), torch.tensor(floor, dtype=torch.float64))
    err = torch.nan_to_num((a - b).abs() / denom, nan=float("inf"), posinf=float("inf"))
    return torch.where(equal, torch.zeros_like(err), err)


def draw_params(graph: Graph, shapes: Mapping[str, Shape], seed: int, trial: int,
                dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Trial ``trial``'s weights: ``SCALES[trial % 3]`` times :func:`~liftnn.engine.params.random_weight`,
    from the stream ``default_rng([STREAM, seed, trial])``."""
    rng = np.random.default_rng([STREAM, seed, trial])
    scale = SCALES[trial % len(SCALES)]
    return {label: torch.tensor(scale * random_weight(rng, shapes[label]), dtype=dtype, requires_grad=True)
            for label in graph.labels}


def _grads(loss: torch.Tensor, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Gradients of ``loss`` w.r.t. ``tensors`` (zero where it does not depend on them)."""
    if not loss.requires_grad:
        return [torch.zeros_like(t) for t in tensors]
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors, strict=True)]


def _check_same_model(original: Graph, lifted: Graph) -> None:
    if original.num_outputs != lifted.num_outputs:
        raise VerificationError(f"output counts differ: {original.num_outputs} vs {lifted.num_outputs}")
    if (original.output_sample != lifted.output_sample).any():
        raise VerificationError("output samples differ: the lifted graph must keep the original output order")
    extra = sorted(set(lifted.labels) - set(original.labels))
    if extra:
        raise VerificationError(f"the lifted graph uses weight label(s) {extra} that the original graph does not "
                                f"have ({sorted(original.labels)}): they are not the same model")


def verify(
    original: Graph,
    lifted: Graph,
    trials: int = 3,
    dtype: torch.dtype = torch.float64,
    shapes: Mapping[str, Shape] | None = None,
    tolerance: float | None = None,
    seed: int = 0,
    raise_on_error: bool = True,
) -> Verification:
    """Evaluate both graphs under ``trials`` weight draws and compare every output and the
    gradient of a random linear loss ``Σ r ⊙ y`` w.r.t. every weight, element by element.

    ``shapes`` default to the original graph's declared shapes, then the lifted graph's
    (a value-lifted graph declares the shapes it was lifted for), then scalars; a lifted
    graph that declares other shapes raises :class:`~liftnn.engine.plan.WeightShapeError`.
    ``tolerance`` defaults to :data:`TOLERANCES` ``[dtype]``. Raises
    :class:`VerificationError` (a ``ValueError``) past it unless ``raise_on_error=False``.
    """
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1:
        raise ValueError(f"trials must be an integer >= 1 (a check without weight draws checks nothing), "
                         f"got {trials!r}")
    if dtype not in TOLERANCES:
        raise ValueError(f"dtype must be one of {sorted(map(str, TOLERANCES))}, got {dtype}")
    default_tol, floor = TOLERANCES[dtype]
    tolerance = default_tol if tolerance is None else float(tolerance)
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    _check_same_model(original, lifted)
    inherited = {k: v for k, v in lifted.shapes.items() if k not in original.shapes}
    resolved = resolve_shapes(original, {**inherited, **(shapes or {})}, default=())
    check_shapes(lifted, resolved)
    out_err = grad_err = 0.0
    worst = ""
    gen = torch.Generator().manual_seed(seed)
    for t in range(trials):
        params = draw_params(original, resolved, seed, t, dtype)
        y0 = evaluate(original, params)
        y1 = evaluate(lifted, {k: params[k] for k in lifted.labels})
        if y0.shape != y1.shape:
            raise VerificationError(f"output shapes differ: {tuple(y0.shape)} vs {tuple(y1.shape)}")
        err = element_errors(y0, y1, floor)
        if err.numel() and float(err.max()) > out_err:
            out_err = float(err.max())
            worst = f"output row {int(err.max(dim=1).values.argmax())} (trial {t}, weight scale {SCALES[t % 3]})"
        r = torch.randn(y0.shape, generator=gen, dtype=torch.float64).to(dtype)
        names = [k for k, v in params.items() if v.requires_grad]
        tensors = [params[k] for k in names]
        for name, a, b in zip(names, _grads((r * y0).sum(), tensors), _grads((r * y1).sum(), tensors), strict=True):
            err = element_errors(a, b, floor)
            if err.numel() and float(err.max()) > grad_err:
                grad_err = float(err.max())
                if grad_err > out_err:
                    worst = f"the gradient of {name!r} (trial {t}, weight scale {SCALES[t % 3]})"
    result = Verification(int(trials), out_err, grad_err, tolerance, floor, worst)
    if raise_on_error and not result.ok:
        raise VerificationError(str(result))
    return result
