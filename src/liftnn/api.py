"""From a dataset to a trained model and back: :func:`fit`, :class:`Result`, :func:`load`, :class:`Model`.

In the spirit of PyKEEN's ``pipeline(dataset=..., model=...)``: name the data and the
model, get cross-validated scores and a model you can save and predict with::

    result = liftnn.fit(TUDataset("data", "MUTAG"), model="gin", folds=10)
    print(result)                       # test accuracy mean ± std over the folds
    result.model.save("mutag.pt")
    liftnn.load("mutag.pt").predict(dataset[:5])

``dataset`` is anything :func:`liftnn.data.load` reads (a bundled name, a path), a
PyG dataset or list of ``Data`` (converted by :func:`liftnn.data.from_pyg`), or a
:class:`~liftnn.data.GraphSet` / :class:`~liftnn.data.KnowledgeBase`. Settings not
given come from the preset (``"default"``: GIN-style, BCE, early stopping;
``"paper"``: the lifting paper's GCN with sigmoids and MSE).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from .data import GraphSet, KnowledgeBase
from .data.registry import require_labels
from .pipeline import ModelSpec, load_problem, preset
from .predict import Model, load
from .train import TrainConfig, cross_validate, kbc_ranking, summarize, train_val_split
from .train import fit as fit_rows
from .train.checkpoint import check_target
from .train.metrics import check_loss

Progress = Callable[[int, int, float], None]
TRAIN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name != "checkpoint")


@dataclass
class Result:
    """What :func:`fit` did: per-fold histories, their summary, and the trained :class:`Model`
    (``None`` for the template-less ``mp`` builder)."""

    summary: dict[str, dict[str, float]]
    folds: list[dict]
    model: Model | None
    config: dict
    stats: dict = field(default_factory=dict)
    kbc: dict[str, float] | None = None
    seconds: float = 0.0
    checkpoint: str | None = None

    def __str__(self) -> str:
        s = self.summary
        text = (f"test accuracy {s['test_accuracy']['mean']:.3f} ± {s['test_accuracy']['std']:.3f} over "
                f"{len(self.folds)} fold(s), train accuracy {s['train_accuracy']['mean']:.3f}")
        if self.kbc:
            text += ", " + ", ".join(f"{k} {v:.3f}" for k, v in self.kbc.items())
        return text

    def as_dict(self) -> dict:
        out = {**self.stats, "config": self.config, "folds": self.folds, "summary": self.summary,
               "seconds": self.seconds, "checkpoint": self.checkpoint}
        if self.kbc:
            out["kbc"] = self.kbc
        return out


def _as_data(dataset: object) -> object:
    """PyG datasets and lists of ``Data`` become a :class:`GraphSet`; everything else passes through."""
    if isinstance(dataset, str | Path | GraphSet | KnowledgeBase):
        return dataset
    from .data.pyg import from_pyg

    return from_pyg(dataset, name=getattr(dataset, "name", None) or "pyg")


def _split(
    spec: ModelSpec | str | None, settings: dict[str, object]
) -> tuple[ModelSpec, dict[str, object]]:
    """Route each keyword to the model (:class:`ModelSpec`) or to training (:class:`TrainConfig`)."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec(spec)
    model_keys = {k: settings.pop(k) for k in list(settings) if k in ModelSpec.field_names()}
    unknown = sorted(set(settings) - set(TRAIN_FIELDS) - {"val_fraction"})
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; model: {list(ModelSpec.field_names())}, "
                        f"training: {list(TRAIN_FIELDS)} and val_fraction")
    return ModelSpec(**{**asdict(spec), **model_keys}), settings


def fit(
    dataset: object,
    model: ModelSpec | str | None = None,
    folds: int = 0,
    checkpoint: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    **settings: object,
) -> Result:
    """Train ``model`` on ``dataset`` on lifted graphs.

    ``folds >= 2``: stratified k-fold cross-validation reports test scores, then the
    returned model is trained on all samples; ``folds = 0``: one stratified 80/20
    split, the model is the one trained on the 80 %. ``settings``: any
    :class:`ModelSpec` field (``layers``, ``dim``, ``activation``, ``preset``, ...) or
    :class:`~liftnn.train.TrainConfig` field (``epochs``, ``lr``, ``loss``,
    ``batch_size``, ``patience``, ...), or ``val_fraction`` (early-stopping share).
    ``checkpoint``: where to save the model (checked before training starts).
    """
    t0 = time.perf_counter()
    require_labels(dataset)
    spec, settings = _split(model, dict(settings))
    target = check_target(checkpoint, force) if checkpoint else None
    p = preset(spec.preset)
    settings = {**p.train_settings(), **settings}
    val_fraction = float(settings.pop("val_fraction", p.val_fraction if settings["patience"] else 0.0))
    config = TrainConfig(**settings)
    loaded = load_problem(_as_data(dataset), spec)
    problem = loaded.problem
    if target is not None and problem.template is None:
        raise ValueError(f"--checkpoint: the {spec.model} model has no template, so it cannot be saved; "
                         "use a zoo template model (e.g. gine) or a template file")
    check_loss(config.loss, problem.targets, problem.output_dim())

    def report(fold: int) -> Callable[[int, float], None] | None:
        return None if progress is None else (lambda e, loss: progress(fold, e, loss))

    kbc = None
    if folds >= 2:
        histories = cross_validate(problem, config, folds, val_fraction, progress)
        train, val = train_val_split(np.arange(problem.num_samples), problem.targets, val_fraction, config.seed)
        params, _ = fit_rows(problem, train, config, val_rows=val, progress=report(folds))
    else:
        rows = np.arange(problem.num_samples)
        train, test = train_val_split(rows, problem.targets, 0.2, config.seed)
        train, val = train_val_split(train, problem.targets, val_fraction, config.seed + 1)
        params, hist = fit_rows(problem, train, config, val_rows=val, test_rows=test, progress=report(0))
        histories = [hist]
        if loaded.kb is not None and "test" in loaded.kb.splits:
            kbc = kbc_ranking(loaded.kb, loaded.template, params, "test")
    trained = None if problem.template is None else Model.from_training(
        loaded, params, {**asdict(config), "val_fraction": val_fraction, "folds": folds}, histories[-1].as_dict())
    if target is not None and trained is not None:
        trained.save(target, force=True)
    return Result(summarize(histories), [_fold(h) for h in histories], trained, asdict(config),
                  {**loaded.stats, "graph": problem.graph.summary()}, kbc, time.perf_counter() - t0,
                  None if target is None else str(target))


def _fold(h) -> dict:
    return {"train": h.train, "test": h.test, "epochs": len(h.epoch_loss), "best_epoch": h.best_epoch,
            "engine": h.engine, "build_seconds": h.build_seconds, "seconds_per_epoch": h.seconds_per_epoch,
            "nodes": h.nodes,
            "final_loss": h.epoch_loss[-1] if h.epoch_loss else None}


__all__ = ["Model", "Result", "fit", "load"]
