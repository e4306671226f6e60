"""Argument types for numeric flags: each rejects what would silently become something else.

argparse reports a rejected value as ``liftnn CMD: error: argument --FLAG: WHY`` (exit 2).
Standard library only, like the parser.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value


def int_at_least(low: int, what: str = "") -> Callable[[str], int]:
    """An integer ``>= low``; ``what`` says what the bound means."""

    def parse(text: str) -> int:
        value = int(_number(text, int))
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}{what}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(_number(text, int))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie in {low}..{high}, got {value}")
        return value

    parse.__name__ = f"integer in {low}..{high}"
    return parse


def folds(text: str) -> int:
    """``0`` (one train/test split) or ``k >= 2`` folds."""
    value = int(_number(text, int))
    if value == 1 or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one 80/20 split) or >= 2 folds, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number ``> 0`` (a learning rate)."""
    value = float(_number(text, float))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A finite share ``0 <= f < 1``."""
    value = float(_number(text, float))
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value
