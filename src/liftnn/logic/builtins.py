"""Built-in predicates (``@name`` in templates): tables computed from the constants of the
examples instead of stored facts. They are conditions: they feed no neuron.

* ``@next(Z, T)``: ``T = Z + 1`` over the integer constants (time steps of the reference's
  recurrent modules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .relations import unique_rows

if TYPE_CHECKING:
    from .facts import FactBase


def _next_table(facts: FactBase) -> np.ndarray:
    """``[example, Z, T]`` rows with ``T = Z + 1``, in every example."""
    ints = {int(name): i for name, i in facts.symbols.ids.items() if name.lstrip("-").isdigit()}
    pairs = np.array([(i, ints[v + 1]) for v, i in ints.items() if v + 1 in ints], dtype=np.int64).reshape(-1, 2)
    ex = np.repeat(np.arange(facts.num_examples, dtype=np.int64), pairs.shape[0])
    return unique_rows(np.column_stack([ex, np.tile(pairs, (facts.num_examples, 1))]))


BUILTINS: dict[tuple[str, int], Callable[[FactBase], np.ndarray]] = {("@next", 2): _next_table}
