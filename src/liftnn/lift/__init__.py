"""Lifting: lossless (exact) and value-based compression of computation graphs."""

from .exact import ExactResult, exact_pass
from .lifting import METHODS, SCOPES, ValueClashWarning, compress
from .rebuild import rebuild
from .report import Report
from .shapes import check_shapes
from .value import ValueResult, round_significant, value_pass

__all__ = [
    "METHODS", "SCOPES", "ExactResult", "Report", "ValueClashWarning", "ValueResult", "check_shapes", "compress",
    "exact_pass", "rebuild", "round_significant", "value_pass",
]
