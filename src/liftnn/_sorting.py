"""In-place sorts for compiled kernels, written out.

numba's own sorts clashed between liftnn's cached modules: once the exact lifting's kernel had run
``np.argsort`` on ``int64`` keys, the executor's cached ``np.sort`` in the same process left a
batch's nodes unsorted (``[2, 1]``), so a node its output needs was never computed. Every compiled
sort in liftnn is therefore this module's (insertion sort up to :data:`INSERTION` keys, heapsort
beyond: in place, no allocation), and none calls numba's. It does not keep the order of equal keys;
every caller sorts distinct keys or does not care.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)
INSERTION = 16  # arrays up to this length are sorted by insertion


@_jit
def sort_ints(a: np.ndarray) -> None:
    """Sort ``a`` ascending in place."""
    _sort(a, a, a.size, False)


@_jit
def sort_pairs(key: np.ndarray, other: np.ndarray, n: int) -> None:
    """Sort ``key[:n]`` ascending in place, permuting ``other[:n]`` alongside."""
    _sort(key, other, n, True)


@_jit
def _sort(key, other, n, carry):
    if n > INSERTION:
        _heapsort(key, other, n, carry)
        return
    for i in range(1, n):
        k, o = key[i], other[i]
        j = i - 1
        while j >= 0 and key[j] > k:
            key[j + 1] = key[j]
            if carry:
                other[j + 1] = other[j]
            j -= 1
        key[j + 1] = k
        if carry:
            other[j + 1] = o


@_jit
def _heapsort(key, other, n, carry):
    for root in range(n // 2 - 1, -1, -1):
        _sift(key, other, root, n, carry)
    for end in range(n - 1, 0, -1):
        key[0], key[end] = key[end], key[0]
        if carry:
            other[0], other[end] = other[end], other[0]
        _sift(key, other, 0, end, carry)


@_jit
def _sift(key, other, root, n, carry):
    """Restore the max-heap ``key[:n]`` below ``root``."""
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and key[child + 1] > key[child]:
            child += 1
        if key[root] >= key[child]:
            return
        key[root], key[child] = key[child], key[root]
        if carry:
            other[root], other[child] = other[child], other[root]
        root = child
