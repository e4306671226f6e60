"""The written-out compiled sorts equal numpy's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnn._sorting import sort_ints, sort_pairs


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(-50, 50), max_size=80), st.integers(0, 80))
def test_sorts_equal_numpy(values: list[int], n: int) -> None:
    """``sort_ints`` equals ``np.sort``; ``sort_pairs`` sorts the first ``n`` keys and carries the other array
    along (each key keeps its partner), leaving the rest untouched."""
    a = np.array(values, dtype=np.int64)
    b = a.copy()
    sort_ints(b)
    np.testing.assert_array_equal(b, np.sort(a))
    n = min(n, a.size)
    key, other = a.copy(), np.arange(a.size, dtype=np.int64)
    sort_pairs(key, other, n)
    np.testing.assert_array_equal(key[:n], np.sort(a[:n]))
    np.testing.assert_array_equal(a[other[:n]], key[:n])
    assert sorted(other[:n].tolist()) == list(range(n))
    np.testing.assert_array_equal(key[n:], a[n:])
