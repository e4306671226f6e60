"""Losses and metrics on output rows ``y[n, d]`` against targets ``t[n]``."""

from __future__ import annotations

import numpy as np
import torch

LOSSES = ("mse", "bce", "ce")


def loss_fn(name: str, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``mse``: mean (y - t)^2 (the lifting paper's); ``bce``: binary cross-entropy on
    probabilities ``y`` in (0, 1); ``ce``: cross-entropy of logits ``y[n, classes]``."""
    if name == "mse":
        return torch.mean((y[:, 0] - t) ** 2)
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy(y[:, 0].clamp(1e-12, 1 - 1e-12), t)
    if name == "ce":
        return torch.nn.functional.cross_entropy(y, t.long())
    raise ValueError(f"unknown loss {name!r}; known: {LOSSES}")


def check_loss(name: str, targets: np.ndarray, output_dim: int) -> None:
    """``ValueError`` naming the loss (``--loss``) when the targets or the model's output width cannot fit it:
    ``ce`` needs ``d >= 2`` output columns and class indices ``0..d-1``; ``bce`` targets in ``[0, 1]``;
    any loss needs at least two distinct targets."""
    t = np.asarray(targets, dtype=np.float64)
    if t.size and np.all(t == t[0]):
        raise ValueError(f"all {t.size} samples have the target {t[0]:g}: there is nothing to learn, and accuracy "
                         "on one class means nothing; check the labels (for a knowledge base: negatives > 0)")
    if name == "ce":
        if output_dim < 2:
            raise ValueError(f"loss 'ce' (--loss ce) needs one output column per class, but the model has "
                             f"{output_dim}; for 0/1 targets use --loss bce or mse")
        bad = np.flatnonzero((t != np.round(t)) | (t < 0) | (t >= output_dim))
        if bad.size:
            raise ValueError(f"loss 'ce' (--loss ce): sample {bad[0]} has target {t[bad[0]]:g}, not a class index "
                             f"0..{output_dim - 1} (the model has {output_dim} output columns)")
    if name == "bce" and t.size and (t.min() < 0 or t.max() > 1):
        raise ValueError(f"loss 'bce' (--loss bce) needs targets in [0, 1], got values in [{t.min():g}, {t.max():g}]; "
                         "use --loss mse or ce")


def accuracy(y: np.ndarray, t: np.ndarray) -> float:
    """Share of correct predictions: ``y > 0.5`` for one output, argmax for several."""
    pred = (y[:, 0] > 0.5).astype(np.float64) if y.shape[1] == 1 else y.argmax(1).astype(np.float64)
    return float(np.mean(pred == t))


def auroc(score: np.ndarray, t: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN with one class."""
    pos = t > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(score, kind="stable")
    ranks = np.empty(score.size, dtype=np.float64)
    sorted_s = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], score.size]
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranking(scores_true: np.ndarray, scores_candidates: np.ndarray, ks: tuple[int, ...] = (1, 3, 10)) -> dict:
    """MRR and Hits@k for knowledge-base completion: ``scores_true[q]`` against
    ``scores_candidates[q, c]`` (the corrupted triples of query ``q``); ties count half."""
    higher = (scores_candidates > scores_true[:, None]).sum(1)
    ties = (scores_candidates == scores_true[:, None]).sum(1)
    rank = 1 + higher + ties / 2.0
    out = {"mrr": float(np.mean(1.0 / rank))}
    out.update({f"hits@{k}": float(np.mean(rank <= k)) for k in ks})
    return out


def metrics(y: np.ndarray, t: np.ndarray, loss: float) -> dict[str, float]:
    out = {"loss": loss, "accuracy": accuracy(y, t)}
    if y.shape[1] == 1:
        out["auroc"] = auroc(y[:, 0], t)
    return out
