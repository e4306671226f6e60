"""Training: lifted and unlifted runs follow the same loss curve; splits, metrics, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from liftnn.cli import main
from liftnn.data import load_graphs
from liftnn.models import message_passing_graph
from liftnn.pipeline import ModelSpec, load_problem
from liftnn.train import (
    Problem,
    TrainConfig,
    auroc,
    cross_validate,
    fit,
    load_checkpoint,
    ranking,
    stratified_folds,
)


@pytest.fixture(scope="module")
def mutag(data_dir: Path) -> Problem:
    data = load_graphs(data_dir / "molecules/tudataset/MUTAG")
    return Problem.from_graph(message_passing_graph(data, layers=2, dim=6), data.y, "MUTAG")


@pytest.mark.parametrize(("batch_size", "epochs"), [(0, 100), (32, 50), (1, 2)])
def test_lifted_and_unlifted_training_follow_the_same_loss_curve(mutag: Problem, batch_size: int, epochs: int) -> None:
    rows = np.arange(0, 188, 3)
    runs = {}
    for lift in (True, False):
        cfg = TrainConfig(epochs=epochs, lr=0.05, batch_size=batch_size, lift=lift, dtype="float64", seed=3)
        params, hist = fit(mutag, rows, cfg)
        runs[lift] = (params, np.array(hist.step_loss))
    assert runs[True][1].size >= 100
    np.testing.assert_allclose(runs[True][1], runs[False][1], rtol=1e-9, atol=1e-12)
    for k in runs[True][0]:
        torch.testing.assert_close(runs[True][0][k], runs[False][0][k], rtol=1e-9, atol=1e-12)


def test_float32_curves_agree_within_rounding(mutag: Problem) -> None:
    rows = np.arange(100)
    curves = [np.array(fit(mutag, rows, TrainConfig(epochs=100, lr=0.05, lift=lift))[1].step_loss)
              for lift in (True, False)]
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-4)


def test_seeded_runs_repeat_and_lifting_shrinks_the_batches(mutag: Problem) -> None:
    cfg = TrainConfig(epochs=5, batch_size=16, seed=7)
    a, b = (fit(mutag, np.arange(120), cfg)[1] for _ in range(2))
    assert a.step_loss == b.step_loss
    assert a.nodes["train"] < a.nodes["unlifted"] / 5


def test_early_stopping_restores_the_best_epoch(mutag: Problem) -> None:
    """Training stops `patience` epochs after the best validation loss and returns the
    parameters of that epoch: they score its validation loss, equal a run stopped there,
    and differ from the parameters of the last epoch trained."""
    from dataclasses import replace

    from liftnn.engine import evaluate
    from liftnn.graph.subgraph import select_outputs

    train, val = np.arange(0, 150), np.arange(150, 188)
    cfg = TrainConfig(epochs=400, lr=0.5, patience=5)
    params, hist = fit(mutag, train, cfg, val_rows=val)
    best = int(np.argmin([v["loss"] for v in hist.val]))
    assert hist.best_epoch == best
    assert len(hist.epoch_loss) == best + 1 + cfg.patience < 400
    y = evaluate(select_outputs(mutag.graph, val), params).detach().double()
    mse = float(torch.mean((y[:, 0] - torch.as_tensor(mutag.targets[val], dtype=torch.float64)) ** 2))
    assert mse == pytest.approx(hist.val[best]["loss"], rel=1e-5)
    at_best, _ = fit(mutag, train, replace(cfg, epochs=best + 1, patience=0))
    last, _ = fit(mutag, train, replace(cfg, epochs=len(hist.epoch_loss), patience=0))
    for k in params:
        torch.testing.assert_close(params[k], at_best[k], rtol=0, atol=0)
    assert any(not torch.equal(params[k], last[k]) for k in params)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    loaded = load_problem("MUTAG", ModelSpec("gcn", layers=1, dim=3))
    path = tmp_path / "ckpt.pt"
    params, hist = fit(loaded.problem, np.arange(50), TrainConfig(epochs=2, checkpoint=str(path)))
    ck = load_checkpoint(path)
    assert ck["config"]["epochs"] == 2 and "h1(X)" in ck["template"]
    for k, v in params.items():
        assert torch.equal(ck["params"][k], v.detach())
    assert ck["history"]["epoch_loss"] == hist.epoch_loss


def test_stratified_folds_partition_and_balance() -> None:
    y = np.array([0] * 30 + [1] * 10, dtype=float)
    folds = stratified_folds(y, 5, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(40))
    assert all(int(y[f].sum()) == 2 and len(f) == 8 for f in folds)
    assert [f.tolist() for f in stratified_folds(y, 5, seed=1)] == [f.tolist() for f in folds]
    with pytest.raises(ValueError, match="k >= 2"):
        stratified_folds(y, 1)


def test_auroc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 200).astype(float)
    s = np.round(rng.normal(size=200) + t, 1)  # with ties
    assert auroc(s, t) == pytest.approx(roc_auc_score(t, s), abs=1e-12)
    assert np.isnan(auroc(s, np.ones(200)))


def test_ranking_metrics_by_hand() -> None:
    true = np.array([0.9, 0.5, 0.1])
    cands = np.array([[0.1, 0.2, 0.3], [0.6, 0.5, 0.1], [0.2, 0.3, 0.4]])
    r = ranking(true, cands, ks=(1, 3))
    ranks = np.array([1.0, 2.5, 4.0])  # the middle query ties one candidate: half a place
    assert r["mrr"] == pytest.approx(np.mean(1 / ranks))
    assert r["hits@1"] == pytest.approx(1 / 3) and r["hits@3"] == pytest.approx(2 / 3)


def test_cross_validation_reports_every_fold(mutag: Problem) -> None:
    hists = cross_validate(mutag, TrainConfig(epochs=3), folds=3)
    assert len(hists) == 3 and all(0 <= h.test["accuracy"] <= 1 for h in hists)


def test_problem_errors() -> None:
    data = load_graphs("MUTAG")
    g = message_passing_graph(data, layers=1, dim=2)
    with pytest.raises(ValueError, match="targets for"):
        Problem.from_graph(g, data.y[:10])
    y = data.y.copy()
    y[4] = np.nan
    with pytest.raises(ValueError, match="sample 4 has no"):
        Problem.from_graph(g, y)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")


def test_cli_train_json(data_dir: Path, capsys) -> None:
    rc = main(["train", str(data_dir / "molecules/tudataset/MUTAG"), "--epochs", "3", "--folds", "2", "--layers",
               "1", "--dim", "3", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["folds"]) == 2 and "test_accuracy" in out["summary"]
    assert main(["train", "MUTAG", "--model", "kbe"]) == 2
    assert "kbe is for knowledge bases" in capsys.readouterr().err


def test_cli_train_knowledge_base_reports_ranking(data_dir: Path, capsys) -> None:
    rc = main(["train", str(data_dir / "kbc/nations"), "--epochs", "3", "--dim", "3", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 < out["kbc"]["mrr"] <= 1 and out["kbc"]["hits@10"] >= out["kbc"]["hits@1"]


def test_restricting_the_lifted_whole_equals_lifting_each_batch(mutag: Problem) -> None:
    """Exact lifting of a subset is the restriction of the lifted whole: the mini-batch
    regime lifts once and restricts, and gets the graphs per-batch lifting would give."""
    from liftnn.graph.subgraph import select_outputs
    from liftnn.lift import compress
    from liftnn.train.loop import Batches

    batches = Batches(mutag, np.arange(mutag.num_samples), 16, lift=True, seed=2)
    for rows, graph in zip(batches.rows, batches.graphs, strict=True):
        own = compress(select_outputs(mutag.graph, rows), scope="dataset")[0]
        assert (own.num_nodes, own.num_edges) == (graph.num_nodes, graph.num_edges)
