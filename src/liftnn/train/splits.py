"""Seeded, stratified k-fold splits."""

from __future__ import annotations

import numpy as np


def stratified_folds(targets: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """``k`` disjoint index arrays covering all samples; each class is dealt round-robin
    after a seeded shuffle, so every fold has the class proportions of the whole. Multi-task
    targets ``[n, T]`` (rows of classes and NaN) are dealt as one class: a seeded shuffle."""
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2, got {k}")
    if k > targets.shape[0]:
        raise ValueError(f"{k} folds for {targets.shape[0]} samples")
    rng = np.random.default_rng(seed)
    fold = np.empty(targets.shape[0], dtype=np.int64)
    offset = 0
    classes = np.zeros(targets.shape[0]) if targets.ndim == 2 else targets
    for c in np.unique(classes):
        idx = rng.permutation(np.flatnonzero(classes == c))
        fold[idx] = (np.arange(idx.size) + offset) % k
        offset += idx.size
    return [np.flatnonzero(fold == f) for f in range(k)]


def train_val_split(
    indices: np.ndarray, targets: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a stratified ``fraction`` of ``indices`` for validation."""
    if fraction <= 0:
        return indices, indices[:0]
    folds = stratified_folds(targets[indices], max(2, round(1 / fraction)), seed)
    val = np.sort(indices[folds[0]])
    return np.setdiff1d(indices, val), val
