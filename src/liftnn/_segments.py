"""Vectorised helpers over CSR-style segments (numpy only, no Python loops)."""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + n)`` for every pair ``(s, n)``.

    ``ranges([5, 0], [2, 3]) == [5, 6, 0, 1, 2]``.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


def pointers(sorted_keys: np.ndarray, n: int) -> np.ndarray:
    """CSR pointer array ``ptr[n + 1]`` of a non-decreasing key array in ``[0, n)``."""
    return np.searchsorted(sorted_keys, np.arange(n + 1), side="left").astype(np.int64)


def rank_in_segment(sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal (sorted) keys."""
    n = sorted_keys.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    idx = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    return idx - first


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask: element ``i`` starts a new run of equal key tuples (keys already sorted)."""
    n = keys[0].shape[0]
    start = np.zeros(n, dtype=bool)
    if n:
        start[0] = True
        for k in keys:
            start[1:] |= k[1:] != k[:-1]
    return start


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective, well-spread 64-bit hash of ``x`` (wrapping arithmetic)."""
    z = np.asarray(x).astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += _GOLD
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def hash_columns(*columns: np.ndarray) -> np.ndarray:
    """Order-sensitive 64-bit hash of rows made of the given integer columns."""
    h = np.zeros(columns[0].shape[0], dtype=np.uint64)
    for col in columns:
        h = mix64(h ^ mix64(np.asarray(col).astype(np.int64).view(np.uint64)))
    return h


def lexsort_ints(keys: tuple[np.ndarray, ...], stable: bool = True) -> np.ndarray:
    """``np.lexsort(keys)`` (the last key primary) for non-negative integer keys: one sort of one packed
    ``int64`` key where the keys' ranges multiply to less than ``2**63``, else ``np.lexsort``. With
    ``stable=False`` elements with equal keys may come in any order (a faster sort)."""
    n = keys[0].shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    span = 1.0
    for k in reversed(keys):
        top = int(k.max()) + 1
        span *= top
        if span >= 2.0**63:
            return np.lexsort(keys)
        packed *= top
        packed += k
    return np.argsort(packed, kind="stable" if stable else None)
