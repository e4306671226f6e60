"""liftnn: lossless compression (lifting) of structured neural computation graphs.

The pipeline: build a :class:`Graph` (:class:`GraphBuilder`), lift it
(:func:`compress`), check it (:func:`verify`), and evaluate or train it
(:func:`evaluate`, :func:`init_params`).
"""

from .engine import Plan, compile_plan, evaluate, init_params, plan_for
from .graph import Graph, GraphBuilder, register_activation, register_combine
from .lift import Report, compress
from .verify import Verification, VerificationError, verify

__all__ = [
    "Graph",
    "GraphBuilder",
    "Plan",
    "Report",
    "Verification",
    "VerificationError",
    "compile_plan",
    "compress",
    "evaluate",
    "init_params",
    "plan_for",
    "register_activation",
    "register_combine",
    "verify",
]
__version__ = "0.1.0"
