"""The closed set of node functions, extensible by registration.

A node computes ``act(combine([W_1·x_1, ..., W_m·x_m]) + b)``.

*Combine* functions reduce the (weighted) inputs of a node to one vector:

=========  ==========  ==============================================
name       symmetric   value for inputs ``m_1..m_k`` with counts ``c_i``
=========  ==========  ==============================================
sum        yes         ``Σ c_i m_i``
mean       yes         ``Σ c_i m_i / Σ c_i``
max        yes         ``max_i m_i`` (counts ignored: idempotent)
min        yes         ``min_i m_i`` (counts ignored: idempotent)
prod       yes         ``Π m_i ** c_i``
concat     no          ``[m_1; m_2; ...; m_k]`` (order kept, never folded)
=========  ==========  ==============================================

User functions are registered with :func:`register_combine`; they receive the
inputs stacked as a tensor ``[n, k, d]`` (``k`` inputs of dimension ``d`` for
each of ``n`` nodes) and return ``[n, d]``. A *symmetric* user function may be
given its inputs in any order; lifting sorts them and, where children merged,
the engine repeats an input ``c`` times, so the function always sees the full
multiset.

*Activations* act on a node's ``[n, d]`` block row-wise; register more with
:func:`register_activation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

#: Combine value stored for leaf nodes in :attr:`Graph.node_combine`.
LEAF = -1

CombineFn = Callable[[torch.Tensor], torch.Tensor]
ActivationFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Combine:
    """A combine function.

    ``kind`` is the built-in reduction used by the engine (``sum``, ``mean``,
    ``max``, ``min``, ``prod``, ``concat``) or ``custom`` for registered ones.
    """

    name: str
    symmetric: bool
    kind: str
    fn: CombineFn | None = None

    @property
    def idempotent(self) -> bool:
        """Repeating an input does not change the value (counts can be dropped)."""
        return self.kind in ("max", "min")

    @property
    def identity_on_one(self) -> bool:
        """``f(x) == x`` for a single input ``x`` with count one."""
        return self.kind != "custom"


_BUILTIN_COMBINES = {
    "sum": Combine("sum", True, "sum"),
    "mean": Combine("mean", True, "mean"),
    "max": Combine("max", True, "max"),
    "min": Combine("min", True, "min"),
    "prod": Combine("prod", True, "prod"),
    "concat": Combine("concat", False, "concat"),
}
_COMBINES: dict[str, Combine] = dict(_BUILTIN_COMBINES)


def _inverse(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / x


def _reverse(x: torch.Tensor) -> torch.Tensor:
    return 1.0 - x


def _softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


_BUILTIN_ACTIVATIONS: dict[str, ActivationFn] = {
    "identity": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": torch.nn.functional.leaky_relu,
    "elu": torch.nn.functional.elu,
    "softplus": torch.nn.functional.softplus,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "square": torch.square,
    "inverse": _inverse,
    "abs": torch.abs,
    "reverse": _reverse,
    "softmax": _softmax,
}
_ACTIVATIONS: dict[str, ActivationFn] = dict(_BUILTIN_ACTIVATIONS)


def register_combine(name: str, fn: CombineFn, *, symmetric: bool, replace: bool = False) -> None:
    """Register a combine function ``fn: Tensor[n, k, d] -> Tensor[n, d]``.

    ``symmetric=True`` declares that ``fn`` is invariant to permuting its ``k``
    inputs, which lets lifting compare children as multisets.
    """
    if name in _BUILTIN_COMBINES:
        raise ValueError(f"combine {name!r} is built in and cannot be replaced")
    if name in _COMBINES and not replace:
        raise ValueError(f"combine {name!r} is already registered (pass replace=True)")
    _COMBINES[name] = Combine(name, bool(symmetric), "custom", fn)


def register_activation(name: str, fn: ActivationFn, *, replace: bool = False) -> None:
    """Register an activation ``fn: Tensor[n, d] -> Tensor[n, d]`` (row-wise)."""
    if name in _BUILTIN_ACTIVATIONS:
        raise ValueError(f"activation {name!r} is built in and cannot be replaced")
    if name in _ACTIVATIONS and not replace:
        raise ValueError(f"activation {name!r} is already registered (pass replace=True)")
    _ACTIVATIONS[name] = fn


def get_combine(name: str) -> Combine:
    """Look up a combine function by name; a clear error lists the known ones."""
    try:
        return _COMBINES[name]
    except KeyError:
        raise ValueError(
            f"unknown combine function {name!r}; known: {sorted(_COMBINES)} "
            "(register more with liftnn.register_combine)"
        ) from None


def get_activation(name: str) -> ActivationFn:
    """Look up an activation by name; a clear error lists the known ones."""
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; known: {sorted(_ACTIVATIONS)} "
            "(register more with liftnn.register_activation)"
        ) from None


def combine_names() -> list[str]:
    """Names of all combine functions currently known."""
    return sorted(_COMBINES)


def activation_names() -> list[str]:
    """Names of all activations currently known."""
    return sorted(_ACTIVATIONS)
