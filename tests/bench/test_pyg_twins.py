"""The PyTorch Geometric twins compute liftnn's zoo templates exactly (outputs and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")

import liftnn
from liftnn.bench.pyg_models import (
    export_liftnn_weights,
    graphset_to_batch,
    graphset_to_pyg,
    make_pyg_model,
)
from liftnn.data import GraphSet, graph_facts, read_nci_gi50, read_tu
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.logic import build
from liftnn.models import molecule_template
from liftnn.train import Problem

LAYERS = {"gcn": 2, "sage": 2, "gin": 5}


def _problem(data: GraphSet, model: str, layers: int, dim: int, activation: str) -> Problem:
    template = molecule_template(model, node_type_predicates(data), edge_type_predicates(data), layers, dim, activation)
    facts, queries = graph_facts(data)
    return Problem.from_network(build(template, facts, queries, allow_underivable=True))  # bond-less molecules


def _compare(
    data: GraphSet, model: str, layers: int, dim: int = 10, activation: str = "sigmoid", seed: int = 0
) -> torch.Tensor:
    problem = _problem(data, model, layers, dim, activation)
    params = problem.init(seed, torch.float64, None)
    y_lift = liftnn.evaluate(problem.graph, params).reshape(-1, 1)

    twin = make_pyg_model(model, data, layers, dim, activation, params=params)
    batch = graphset_to_batch(data, torch.float64)
    y_twin = twin(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    assert y_twin.shape == (data.num_graphs, 1)
    torch.testing.assert_close(y_twin, y_lift, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(twin(batch), y_twin, rtol=0, atol=0)

    # gradients of the same loss w.r.t. the shared weights
    r = torch.as_tensor(np.random.default_rng(seed).normal(size=(data.num_graphs, 1)))
    (y_lift * r).sum().backward()
    (y_twin * r).sum().backward()
    grads = export_liftnn_weights(twin, grad=True)
    for label, p in params.items():
        assert p.grad is not None, label
        torch.testing.assert_close(
            grads[label], p.grad, rtol=1e-9, atol=1e-12, msg=lambda m, label=label: f"{label}: {m}"
        )
    for label in set(grads) - set(params):  # types absent from the data: no gradient in the twin either
        assert torch.all(grads[label] == 0), label
    return y_lift.detach()


@pytest.fixture(scope="module")
def mda200(mda_path):
    return read_nci_gi50(mda_path).subset(np.arange(200))


@pytest.fixture(scope="module")
def mutag(data_dir):
    return read_tu(data_dir / "molecules/tudataset/MUTAG")


@pytest.fixture(scope="module")
def odd() -> GraphSet:
    """Isolated atoms, a bond-less molecule, a one-way edge, a self-loop, parallel edges,
    and a type that never occurs."""
    # g0: a path 0-1-2 and the isolated atom 3; g1: atoms 4, 5 and no bonds; g2: one directed
    # edge 6 -> 7 (7 gathers from nothing); g3: a self-loop on 8, parallel edges 9 -> 10
    node_type = np.array([0, 1, 0, 2, 1, 2, 0, 1, 2, 0, 1])
    graph = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3])
    edges = [(0, 1), (1, 0), (1, 2), (2, 1), (6, 7), (8, 8), (9, 10), (9, 10), (10, 9), (8, 9)]
    edge_index = np.array(edges, dtype=np.int64).T
    return GraphSet(
        node_type,
        graph,
        edge_index,
        np.zeros(edge_index.shape[1], np.int64),
        np.array([1.0, 0.0, 1.0, 0.0]),
        ("ta", "tb", "tc", "unused"),
        ("single",),
        "odd",
    )


@pytest.mark.parametrize("model", ["gcn", "sage", "gin"])
def test_twin_matches_liftnn_on_nci(mda200: GraphSet, model: str) -> None:
    _compare(mda200, model, LAYERS[model])


@pytest.mark.parametrize("model", ["gcn", "sage", "gin"])
def test_twin_matches_liftnn_on_mutag(mutag: GraphSet, model: str) -> None:
    _compare(mutag, model, LAYERS[model], dim=8, seed=1)


@pytest.mark.parametrize("model", ["gcn", "sage", "gin"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_twin_matches_liftnn_on_missing_atoms(odd: GraphSet, model: str, layers: int) -> None:
    y = _compare(odd, model, layers, dim=3, activation="tanh" if layers == 3 else "sigmoid", seed=layers)
    if model == "gcn":
        assert y[1].item() == 0.0  # no bonds: no h1 atom, predict is not derivable
        assert (y[2].item() == 0.0) == (layers >= 2)  # 6 -> 7 and 7 has no out-edge
    else:
        assert (y > 0).all()  # the self rule keeps every atom


def test_graphset_to_pyg_round_trip(odd: GraphSet) -> None:
    graphs = graphset_to_pyg(odd, torch.float64)
    assert [g.num_nodes for g in graphs] == [4, 2, 2, 3]
    batch = graphset_to_batch(odd)
    assert torch.equal(batch.x.argmax(1), torch.as_tensor(odd.node_type))
    assert torch.equal(batch.batch, torch.as_tensor(odd.graph))
    got = sorted(map(tuple, batch.edge_index.T.tolist()))
    assert got == sorted(map(tuple, odd.edge_index.T.tolist()))
    assert batch.y.tolist() == odd.y.tolist()
