"""The jitted JAX twins compute the PyG twins' function, and train as PyG does on the same batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
pytest.importorskip("optax")
jax = pytest.importorskip("jax")

from torch_geometric.data import Batch  # noqa: E402

from liftnn.bench import jax_models as jm  # noqa: E402 (pins JAX's threads before its first computation)
from liftnn.bench.pyg_models import _Twin, graphset_to_pyg, make_pyg_model  # noqa: E402
from liftnn.data import GraphSet, read_nci_gi50  # noqa: E402
from liftnn.train import TrainConfig  # noqa: E402
from liftnn.train.loop import make_optimizer  # noqa: E402

MODELS = {"gcn": 2, "sage": 2, "gin": 5}  # Table 1's layers


@pytest.fixture
def x64() -> Iterator[None]:
    """float64 in JAX for one test (``jax_enable_x64``, restored afterwards)."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.fixture(scope="module")
def mda50(mda_path: Path) -> GraphSet:
    return read_nci_gi50(mda_path).subset(np.arange(50))


@pytest.fixture(scope="module")
def odd() -> GraphSet:
    """An isolated atom, a bond-less molecule, a one-way edge, a self-loop, parallel edges, an unused type."""
    node_type = np.array([0, 1, 0, 2, 1, 2, 0, 1, 2, 0, 1])
    graph = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3])
    edges = [(0, 1), (1, 0), (1, 2), (2, 1), (6, 7), (8, 8), (9, 10), (9, 10), (10, 9), (8, 9)]
    edge_index = np.array(edges, dtype=np.int64).T
    y = np.array([1.0, 0.0, 1.0, 0.0])
    types = ("ta", "tb", "tc", "unused")
    return GraphSet(node_type, graph, edge_index, np.zeros(edge_index.shape[1], np.int64), y, types, ("single",), "odd")


def _twin(data: GraphSet, model: str, layers: int, dim: int, activation: str = "sigmoid", seed: int = 0) -> _Twin:
    torch.manual_seed(seed)
    return make_pyg_model(model, data, layers, dim, activation).double()


def _to_twin(twin: _Twin, params: jm.Params) -> None:
    """Copy JAX parameters into a PyG twin (the inverse of ``params_from_twin``)."""
    with torch.no_grad():
        twin.embed.weight.copy_(torch.as_tensor(np.array(params["embed"])))
        for conv, weights in zip(twin.convs, params["convs"], strict=True):
            for name, w in zip(twin._layer_param_names(), weights, strict=True):
                getattr(conv, name).weight.copy_(torch.as_tensor(np.array(w)))
        twin.out.weight.copy_(torch.as_tensor(np.array(params["out"])))


def _pyg_steps(data: GraphSet, twin: _Twin, batch_size: int, epochs: int, seed: int = 0) -> np.ndarray:
    """Step losses of PyG training as ``liftnn.bench.table1`` runs it (same partition and order)."""
    graphs = graphset_to_pyg(data, torch.float64)
    parts = jm.batch_partition(data.num_graphs, batch_size, seed)
    batches = [Batch.from_data_list([graphs[i] for i in p]) for p in parts]
    targets = [torch.as_tensor(data.y[p]) for p in parts]
    opt = make_optimizer(TrainConfig(lr=0.01), list(twin.parameters()))
    rng, losses = np.random.default_rng(seed + 1), []
    for _ in range(epochs):
        for b in rng.permutation(len(batches)):
            opt.zero_grad(set_to_none=True)
            loss = torch.mean((twin(batches[b])[:, 0] - targets[b]) ** 2)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return np.array(losses)


def _jax_steps(trainer: jm.JaxTrainer, epochs: int) -> np.ndarray:
    """Step losses of ``epochs`` epochs; each epoch returns their mean."""
    out = []
    for _ in range(epochs):
        mean = trainer.epoch()
        assert mean == pytest.approx(float(trainer.step_losses.mean()))
        out.append(trainer.step_losses)
    return np.concatenate(out)


def _assert_params_equal(got: jm.Params, want: jm.Params, rtol: float) -> None:
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=rtol)


def test_batch_partition_and_padding(mda50: GraphSet) -> None:
    parts = jm.batch_partition(50, 8, seed=3)
    perm = np.random.default_rng(3).permutation(50)
    assert [len(p) for p in parts] == [8] * 6 + [2]
    assert np.array_equal(np.concatenate(parts), perm)
    b = jm.pad_batches(mda50, parts)
    counts = np.bincount(mda50.graph)
    assert b.node_type.shape[1] == max(counts[p].sum() for p in parts) + 1
    assert (~b.node_valid[:, -1]).all() and b.node_valid.sum() == mda50.num_nodes
    assert b.graph_valid.sum(1).tolist() == [len(p) for p in parts]
    np.testing.assert_array_equal(b.y[b.graph_valid], mda50.y[perm])
    for arr in (b.node_graph, b.src):  # segment ids sorted, as the model declares
        assert (np.diff(arr, axis=1) >= 0).all()
    assert np.bincount(b.node_type[b.node_valid], minlength=len(mda50.node_types)).tolist() == np.bincount(
        mda50.node_type, minlength=len(mda50.node_types)).tolist()
    with pytest.raises(ValueError, match="exactly once"):
        jm.pad_batches(mda50, [np.arange(49)])
    with pytest.raises(ValueError, match="batch_size"):
        jm.batch_partition(50, -1)


@pytest.mark.parametrize("model", list(MODELS))
def test_jax_twin_equals_pyg_twin(mda50: GraphSet, model: str, x64: None) -> None:
    """float64: equal outputs and gradients on one full batch, then equal step losses and final
    weights over two epochs of Adam on padded mini-batches of 8 (the last one holds 2 graphs)."""
    twin = _twin(mda50, model, MODELS[model], 10)
    params = jm.params_from_twin(twin)
    perm = jm.batch_partition(mda50.num_graphs, 0)[0]
    batch = {k: v[0] for k, v in jm.pad_batches(mda50, [perm], np.float64).arrays().items()}
    loss, grads = jax.value_and_grad(lambda p: jm.mse_loss(model, p, batch))(params)
    y_jax = np.asarray(jm.forward(model, params, batch))

    graphs = graphset_to_pyg(mda50, torch.float64)
    pyg = Batch.from_data_list([graphs[i] for i in perm])
    y_pyg = twin(pyg)[:, 0]
    torch_loss = torch.mean((y_pyg - torch.as_tensor(mda50.y[perm])) ** 2)
    torch_loss.backward()
    np.testing.assert_allclose(y_jax, y_pyg.detach().numpy(), rtol=1e-10, atol=1e-13)
    assert float(loss) == pytest.approx(torch_loss.item(), rel=1e-10)
    _assert_params_equal(grads, jm.params_from_twin(_grad_twin(twin)), rtol=1e-9)

    trainer = jm.JaxTrainer(model, jm.pad_batches(mda50, jm.batch_partition(50, 8), np.float64), params)
    np.testing.assert_allclose(_jax_steps(trainer, 2), _pyg_steps(mda50, twin, 8, 2), rtol=1e-8)
    _assert_params_equal(trainer.params, jm.params_from_twin(twin), rtol=1e-7)
    assert not np.allclose(np.asarray(trainer.params["out"]), np.asarray(params["out"]))


def _grad_twin(twin: _Twin) -> _Twin:
    """A copy of ``twin`` whose weights are ``twin``'s gradients."""
    copy = make_pyg_model(twin.model, twin.num_types, twin.layers, twin.dim, twin.activation).double()
    with torch.no_grad():
        for p, q in zip(copy.parameters(), twin.parameters(), strict=True):
            p.copy_(q.grad)
    return copy


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("layers", [1, 3])
def test_jax_twin_on_missing_atoms(odd: GraphSet, model: str, layers: int, x64: None) -> None:
    """Isolated atoms, bond-less graphs, one-way edges, self-loops and parallel edges: the same
    outputs as the PyG twin (GCN's underivable graphs give 0), with batches of 3 padded graphs."""
    activation = "tanh" if layers == 3 else "sigmoid"
    twin = _twin(odd, model, layers, 3, activation, seed=layers)
    params = jm.params_from_twin(twin)
    parts = jm.batch_partition(odd.num_graphs, 3, seed=1)
    padded = jm.pad_batches(odd, parts, np.float64).arrays()
    graphs = graphset_to_pyg(odd, torch.float64)
    for i, part in enumerate(parts):
        y = np.asarray(jm.forward(model, params, {k: v[i] for k, v in padded.items()}, activation))
        want = twin(Batch.from_data_list([graphs[g] for g in part]))[:, 0].detach().numpy()
        np.testing.assert_allclose(y[: len(part)], want, rtol=1e-10, atol=1e-13)
        assert (y[len(part) :] == 0).all()
        if model == "gcn" and 1 in part:
            assert y[list(part).index(1)] == 0.0  # no bonds: predict is not derivable


def test_jax_trainer_float32_follows_pyg(mda50: GraphSet) -> None:
    """The interface the benchmark calls: float32, per-sample, its own seeded weights; its step
    losses follow PyG's float64 training from the same weights within float32 rounding."""
    trainer = jm.jax_trainer(mda50, "gin", 5, 10, batch_size=1, lr=0.01, seed=2)
    assert trainer.build_seconds > 0 and trainer.num_batches == 50
    twin = _twin(mda50, "gin", 5, 10)
    _to_twin(twin, trainer.params)
    losses = _jax_steps(trainer, 2)
    assert trainer.step_losses.dtype == np.float32
    np.testing.assert_allclose(losses, _pyg_steps(mda50, twin, 1, 2, seed=2), rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="no JAX twin"):
        jm.jax_trainer(mda50, "gine", 3, 10, 1)
