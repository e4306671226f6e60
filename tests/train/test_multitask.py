"""Multi-task graph targets: PyG ``y[1, T]`` rows with NaN for unmeasured tasks, masked losses and metrics,
training that learns, lifted training equal to unlifted, predictions per task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pyg = pytest.importorskip("torch_geometric")
from torch_geometric.data import Data  # noqa: E402

import liftnn  # noqa: E402
from liftnn.data import from_pyg  # noqa: E402
from liftnn.pipeline import ModelSpec, load_problem  # noqa: E402
from liftnn.train import TrainConfig, fit, loss_fn, metrics, stratified_folds  # noqa: E402
from liftnn.train.metrics import check_loss  # noqa: E402

TASKS = 3


def _graphs(count: int = 24, seed: int = 0) -> list[Data]:
    """Paths of one-hot typed nodes; task 0: a type-0 node, task 1: two or more type-2 nodes, task 2: five or
    more nodes. Every fourth graph leaves one task unmeasured (NaN)."""
    rng = np.random.default_rng(seed)
    out = []
    for g in range(count):
        n = int(rng.integers(3, 7))
        types = rng.integers(0, 3, n)
        a = torch.arange(n - 1)
        y = torch.tensor([[float((types == 0).any()), float((types == 2).sum() >= 2), float(n >= 5)]])
        if g % 4 == 0:
            y[0, g % TASKS] = float("nan")
        out.append(Data(x=torch.nn.functional.one_hot(torch.as_tensor(types), 3).double(),
                        edge_index=torch.stack([torch.cat([a, a + 1]), torch.cat([a + 1, a])]), y=y))
    return out


def test_from_pyg_keeps_task_rows_and_their_nan() -> None:
    graphs = _graphs()
    data = from_pyg(graphs)
    assert data.y.shape == (len(graphs), TASKS) and data.num_tasks == TASKS
    expected = torch.cat([g.y for g in graphs]).numpy()
    assert np.array_equal(np.isnan(data.y), np.isnan(expected))
    assert np.array_equal(data.y[~np.isnan(data.y)], expected[~np.isnan(expected)])
    assert data.subset(np.array([4, 0])).y.shape == (2, TASKS)


@pytest.mark.parametrize(("y", "message"), [
    (torch.tensor([[0.0, float("inf"), 1.0]]), r"graph 1: y holds an infinite value \(task 1\)"),
    (torch.tensor([[0.0, 1.0]]), r"graph 1: y has 2 task\(s\) but graph 0 has 3"),
    (torch.tensor([0.0, 1.0, 1.0]), r"graph 1: y must hold one label per graph, or one row \[1, T\]"),
    (torch.tensor([float("nan")]), r"graph 1: y is NaN or infinite \(only a multi-task row"),
])
def test_bad_task_rows_are_errors_naming_the_graph(y: torch.Tensor, message: str) -> None:
    graphs = _graphs(2)
    graphs[1].y = y
    with pytest.raises(ValueError, match=message):
        from_pyg(graphs)


def test_masked_loss_ignores_unmeasured_entries_and_their_gradient() -> None:
    y = torch.tensor([[0.9, 0.2], [0.4, 0.7]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[1.0, float("nan")], [0.0, 1.0]], dtype=torch.float64)
    for name, each in (("mse", lambda p, q: (p - q) ** 2),
                       ("bce", lambda p, q: -(q * torch.log(p) + (1 - q) * torch.log(1 - p)))):
        loss = loss_fn(name, y, t)
        manual = (each(y[0, 0], t[0, 0]) + each(y[1, 0], t[1, 0]) + each(y[1, 1], t[1, 1])) / 3
        assert torch.allclose(loss, manual)
        (grad,) = torch.autograd.grad(loss, y)
        assert torch.isfinite(grad).all() and grad[0, 1] == 0  # the unmeasured entry pulls nowhere
    with pytest.raises(ValueError, match="multi-task targets"):
        loss_fn("ce", y, t)


def test_metrics_run_over_measured_entries() -> None:
    y = np.array([[0.9, 0.2], [0.4, 0.7], [0.95, 0.1]])
    t = np.array([[1.0, np.nan], [0.0, 1.0], [0.0, 0.0]])
    m = metrics(y, t, 0.5)
    assert m["accuracy"] == pytest.approx(4 / 5)  # (0,0) (1,0) (1,1) (2,1) right, (2,0) wrong
    assert m["auroc"] == pytest.approx((0.5 + 1.0) / 2)  # task 0: 0.9 beats 0.4, not 0.95; task 1: 0.7 > 0.1


def test_check_loss_names_the_mismatch() -> None:
    t = np.array([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"targets have 2 tasks per sample but the model has 1 output column"):
        check_loss("bce", t, 1)
    with pytest.raises(ValueError, match=r"loss 'ce' \(--loss ce\) takes one class index per sample"):
        check_loss("ce", t, 2)
    check_loss("bce", t, 2)
    folds = stratified_folds(np.tile(t, (5, 1)), 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(10))


def _problem():
    return load_problem(from_pyg(_graphs()), ModelSpec(dim=6, seed=0)).problem


def test_multitask_training_learns_and_lifting_changes_nothing() -> None:
    problem = _problem()
    assert problem.targets.shape == (24, TASKS) and problem.output_dim() == TASKS
    rows = np.arange(problem.num_samples)
    runs = {}
    for lift in (True, False):
        config = TrainConfig(epochs=40, lr=0.02, loss="bce", lift=lift, dtype="float64", engine="torch")
        runs[lift] = fit(problem, rows, config, test_rows=rows)
    (params, lifted), (_, unlifted) = runs[True], runs[False]
    assert lifted.epoch_loss[-1] < 0.75 * lifted.epoch_loss[0]  # it learns
    assert lifted.nodes["train"] < unlifted.nodes["train"]  # on a smaller graph ...
    assert np.allclose(lifted.epoch_loss, unlifted.epoch_loss, rtol=1e-9, atol=1e-12)  # ... the same curve
    assert lifted.test["loss"] == pytest.approx(unlifted.test["loss"], rel=1e-9)
    graph = problem.graph
    lifted_graph = liftnn.compress(graph, scope="dataset")[0]
    with torch.no_grad():
        y_unlifted, y_lifted = liftnn.evaluate(graph, params), liftnn.evaluate(lifted_graph, params)
    assert y_unlifted.shape == (24, TASKS) and torch.allclose(y_unlifted, y_lifted, rtol=1e-12, atol=1e-14)


def test_fit_trains_multitask_on_the_torch_engine_and_predicts_per_task(tmp_path) -> None:
    graphs = _graphs()
    result = liftnn.fit(graphs, epochs=5, dim=6)
    assert result.folds[0]["engine"] == "torch"  # the native engine's loss takes one target per sample
    with pytest.raises(ValueError, match="the native engine takes one target per sample"):
        liftnn.fit(graphs, epochs=1, dim=6, engine="native")
    path = result.model.save(tmp_path / "mt.pt")
    model = liftnn.load(path)
    assert np.array_equal(model.predict(graphs[:5]), result.model.predict(graphs[:5]))
    assert model.predict(graphs[:5]).shape == (5, TASKS)
    table = model.predict_table(graphs[:5])
    assert table.columns[-TASKS:] == [f"label_{k}" for k in range(TASKS)]
    assert table.rows[0][-TASKS:].count(None) == 1  # graph 0's unmeasured task: an empty label, not a number


def test_the_native_engine_refuses_multitask_targets_in_words() -> None:
    problem = _problem()
    with pytest.raises(ValueError, match="the native engine takes one target per sample"):
        fit(problem, np.arange(problem.num_samples), TrainConfig(epochs=1, loss="bce", engine="native"))


def test_auto_engine_trains_multitask_targets_on_torch() -> None:
    problem = _problem()
    _, hist = fit(problem, np.arange(problem.num_samples), TrainConfig(epochs=2, loss="bce"))
    assert hist.engine == "torch"
    assert np.isfinite(hist.epoch_loss).all()
