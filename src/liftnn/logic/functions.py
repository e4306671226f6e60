"""Node functions that NeuraLogic templates use beyond the built-in ones.

* ``signum`` (activation): ``x > 0 ? 1 : 0`` element-wise, gradient 0 (a step, as in the reference);
* ``count`` (combine, for ``aggregation=count``): the number of inputs, multiplicities included,
  broadcast to the inputs' dimension; gradient 0.
"""

from __future__ import annotations

import torch

from ..graph import register_activation, register_combine


def _signum(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _count(x: torch.Tensor) -> torch.Tensor:
    """``x[n, k, d]`` -> ``[n, d]`` filled with ``k``."""
    return torch.full_like(x[:, 0], float(x.shape[1])).detach()


register_activation("signum", _signum, replace=True)
register_combine("count", _count, symmetric=True, replace=True)
