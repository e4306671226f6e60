"""liftnn: lossless compression (lifting) of structured neural computation graphs.

The pipeline: build a :class:`Graph` (:class:`GraphBuilder`), lift it
(:func:`compress`), check it (:func:`verify`), and evaluate or train it
(:func:`evaluate`, :func:`init_params`). From a dataset to a trained model:
:func:`fit` (cross-validated training on lifted graphs) and :func:`load` (a saved
model with ``.predict``).

Names are imported on first use, so ``import liftnn`` (and the ``liftnn`` command's
``--help``) does not pay for importing torch.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from ._lazy import lazy_exports

_EXPORTS = {
    "Plan": "engine", "compile_plan": "engine", "evaluate": "engine", "init_params": "engine", "plan_for": "engine",
    "Graph": "graph", "GraphBuilder": "graph", "register_activation": "graph", "register_combine": "graph",
    "Report": "lift", "compress": "lift",
    "Verification": "verify", "VerificationError": "verify", "verify": "verify",
    "Model": "api", "Result": "api", "fit": "api", "load": "api",
}

if TYPE_CHECKING:
    from .api import Model, Result, fit, load
    from .engine import Plan, compile_plan, evaluate, init_params, plan_for
    from .graph import Graph, GraphBuilder, register_activation, register_combine
    from .lift import Report, compress
    from .verify import Verification, VerificationError, verify


class _Module(types.ModuleType):
    """Keeps an exported name (``verify``, the function) when the submodule of that name is imported."""

    def __setattr__(self, name: str, value: object) -> None:
        if not (name in _EXPORTS and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Module


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "Graph", "GraphBuilder", "Model", "Plan", "Report", "Result", "Verification", "VerificationError",
    "compile_plan", "compress", "evaluate", "fit", "init_params", "load", "plan_for", "register_activation",
    "register_combine", "verify",
]
__version__ = "0.1.0"
