"""Losses and metrics on output rows ``y[n, d]`` against targets ``t[n]``, or multi-task targets ``t[n, T]``.

Multi-task targets (``t[n, T]``, one column per task, compared with ``y[n, T]``) may hold
NaN: a value that was not measured. NaN entries are masked out of the loss and of every
metric (means run over the measured entries only); single targets ``t[n]`` must all be finite.
"""

from __future__ import annotations

import numpy as np
import torch

LOSSES = ("mse", "bce", "ce")


def loss_fn(name: str, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``mse``: mean (y - t)^2 (the lifting paper's); ``bce``: binary cross-entropy on
    probabilities ``y`` in (0, 1); ``ce``: cross-entropy of logits ``y[n, classes]``.

    Multi-task ``t[n, T]`` (mse, bce): with ``M`` the measured (non-NaN) entries,
    ``L = Σ_{(i,k)∈M} ℓ(y_ik, t_ik) / max(|M|, 1)`` against ``y[n, T]``."""
    if t.ndim == 2:
        return _masked_loss(name, y, t)
    if name == "mse":
        return torch.mean((y[:, 0] - t) ** 2)
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy(y[:, 0].clamp(1e-12, 1 - 1e-12), t)
    if name == "ce":
        return torch.nn.functional.cross_entropy(y, t.long())
    raise ValueError(f"unknown loss {name!r}; known: {LOSSES}")


def _masked_loss(name: str, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The multi-task loss of :func:`loss_fn`; missing targets are zeroed before the loss (never NaN in the
    graph of the gradient, which a ``where`` over NaN would leak) and masked after it."""
    if name not in ("mse", "bce"):
        raise ValueError(f"loss {name!r} takes one target per sample; multi-task targets [n, T] use mse or bce")
    if y.shape != t.shape:
        raise ValueError(f"multi-task targets {tuple(t.shape)} against model outputs {tuple(y.shape)}")
    measured = ~torch.isnan(t)
    t0 = torch.where(measured, t, torch.zeros_like(t))
    if name == "mse":
        each = (y - t0) ** 2
    else:
        each = torch.nn.functional.binary_cross_entropy(y.clamp(1e-12, 1 - 1e-12), t0, reduction="none")
    return (each * measured).sum() / measured.sum().clamp(min=1)


def check_loss(name: str, targets: np.ndarray, output_dim: int) -> None:
    """``ValueError`` naming the loss (``--loss``) when the targets or the model's output width cannot fit it:
    ``ce`` needs ``d >= 2`` output columns and class indices ``0..d-1``; ``bce`` targets in ``[0, 1]``;
    any loss needs at least two distinct targets. Multi-task targets ``[n, T]`` need ``mse`` or ``bce`` and
    ``T`` output columns; only their measured (non-NaN) entries are checked."""
    t = np.asarray(targets, dtype=np.float64)
    if t.ndim == 2:
        if name == "ce":
            raise ValueError(f"loss 'ce' (--loss ce) takes one class index per sample, but the targets have "
                             f"{t.shape[1]} tasks per sample; use --loss bce (0/1 per task) or mse")
        if output_dim != t.shape[1]:
            raise ValueError(f"the targets have {t.shape[1]} tasks per sample but the model has {output_dim} "
                             f"output column(s); the output needs one column per task")
        t = t[~np.isnan(t)]
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
    """Share of correct predictions: ``y > 0.5`` for one output, argmax for several; for multi-task
    ``t[n, T]``, ``y > 0.5`` per task over the measured entries."""
    if t.ndim == 2:
        measured = ~np.isnan(t)
        return float(np.mean((y[measured] > 0.5) == (t[measured] > 0.5))) if measured.any() else float("nan")
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
    """Loss, accuracy and (one output, or multi-task) AUROC; for multi-task ``t[n, T]`` the AUROC is the
    mean over the tasks whose measured entries hold both classes (NaN if none does)."""
    out = {"loss": loss, "accuracy": accuracy(y, t)}
    if t.ndim == 2:
        measured = ~np.isnan(t)
        per_task = np.array([auroc(y[measured[:, k], k], t[measured[:, k], k]) for k in range(t.shape[1])])
        out["auroc"] = float(np.nanmean(per_task)) if not np.isnan(per_task).all() else float("nan")
    elif y.shape[1] == 1:
        out["auroc"] = auroc(y[:, 0], t)
    return out
