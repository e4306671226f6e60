"""Training: problems, regimes, cross-validation, metrics and checkpoints."""

from __future__ import annotations

import numpy as np

from .kbc import kbc_ranking
from .loop import History, TrainConfig, fit, load_checkpoint, save_checkpoint
from .metrics import accuracy, auroc, loss_fn, metrics, ranking
from .problem import Problem
from .splits import stratified_folds, train_val_split


def cross_validate(
    problem: Problem, config: TrainConfig, folds: int = 5, val_fraction: float = 0.0, progress=None
) -> list[History]:
    """Stratified ``folds``-fold cross-validation (seeded by ``config.seed``); one
    :class:`History` per fold with train and test metrics."""
    out = []
    parts = stratified_folds(problem.targets, folds, config.seed)
    for f, test in enumerate(parts):
        train = np.sort(np.concatenate([p for i, p in enumerate(parts) if i != f]))
        train, val = train_val_split(train, problem.targets, val_fraction, config.seed + f)
        _, hist = fit(
            problem,
            train,
            config,
            val_rows=val,
            test_rows=np.sort(test),
            progress=None if progress is None else (lambda e, loss, f=f: progress(f, e, loss)),
        )
        out.append(hist)
    return out


def summarize(histories: list[History]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation over folds of every train/test metric."""
    out: dict[str, dict[str, float]] = {}
    for part in ("train", "test"):
        keys = histories[0].__getattribute__(part).keys()
        for k in keys:
            vals = np.array([getattr(h, part)[k] for h in histories], dtype=np.float64)
            out[f"{part}_{k}"] = {"mean": float(np.nanmean(vals)), "std": float(np.nanstd(vals))}
    out["seconds_per_epoch"] = {
        "mean": float(np.mean([h.seconds_per_epoch for h in histories])),
        "std": float(np.std([h.seconds_per_epoch for h in histories])),
    }
    return out


__all__ = [
    "History",
    "Problem",
    "TrainConfig",
    "kbc_ranking",
    "accuracy",
    "auroc",
    "cross_validate",
    "fit",
    "load_checkpoint",
    "loss_fn",
    "metrics",
    "ranking",
    "save_checkpoint",
    "stratified_folds",
    "summarize",
    "train_val_split",
]
