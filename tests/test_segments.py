"""The vectorised segment helpers (``liftnn._segments``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liftnn._segments import lexsort_ints


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 300), widths=st.lists(st.integers(1, 2**20), min_size=1, max_size=4),
       seed=st.integers(0, 2**16))
def test_lexsort_ints_is_numpys_stable_lexsort(n: int, widths: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = tuple(rng.integers(0, w, size=n) for w in widths)  # small widths give many ties
    np.testing.assert_array_equal(lexsort_ints(keys), np.lexsort(keys))


def test_lexsort_ints_falls_back_where_the_packed_key_would_overflow() -> None:
    rng = np.random.default_rng(0)
    keys = (rng.integers(0, 2**40, size=500), rng.integers(0, 2**40, size=500), rng.integers(0, 3, size=500))
    np.testing.assert_array_equal(lexsort_ints(keys), np.lexsort(keys))
