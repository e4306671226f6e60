"""PyG graphs in: continuous and one-hot features, equal outputs against a direct torch model, bad input, files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

pyg = pytest.importorskip("torch_geometric")
from torch_geometric.data import Data, InMemoryDataset  # noqa: E402

from liftnn import compress, evaluate, verify  # noqa: E402
from liftnn.data import from_pyg, load  # noqa: E402
from liftnn.data.registry import bundled_path  # noqa: E402
from liftnn.pipeline import ModelSpec, load_problem  # noqa: E402

DIM = 4


def _graphs(onehot: bool, count: int = 12, seed: int = 0) -> list[Data]:
    """Paths and cycles whose node features repeat three distinct rows (continuous or one-hot)."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.eye(3, dtype=torch.float64) if onehot else torch.randn(3, 5, generator=g, dtype=torch.float64)
    out = []
    for i in range(count):
        n = 3 + i % 4
        x = rows[torch.randint(0, 3, (n,), generator=g)]
        a = torch.arange(n)
        b = (a + 1) % n
        ei = torch.stack([torch.cat([a, b]), torch.cat([b, a])])
        out.append(Data(x=x, edge_index=ei, y=torch.tensor([float(i % 2)])))
    return out


def _direct(graphs: list[Data], h0, w1: torch.Tensor, w_out: torch.Tensor) -> torch.Tensor:
    """The zoo's one-layer gcn written in torch: ``h1(X) = avg_{(X,Y)} tanh(W1 h0(Y) + 1)``,
    ``predict = sigmoid(w_out · avg_X h1(X))``."""
    outs = []
    for d in graphs:
        src, dst = d.edge_index
        msg = torch.tanh(h0(d.x)[dst] @ w1.T + 1)
        deg = torch.bincount(src, minlength=d.num_nodes).to(msg.dtype)
        h1 = torch.zeros(d.num_nodes, DIM, dtype=msg.dtype).index_add(0, src, msg) / deg[:, None]
        outs.append(torch.sigmoid(w_out @ h1.mean(0)))
    return torch.stack(outs)


def _by_shape(params: dict[str, torch.Tensor]) -> dict[tuple[int, ...], list[torch.Tensor]]:
    out: dict[tuple[int, ...], list[torch.Tensor]] = {}
    for k in sorted(params, key=lambda k: int(k[1:])):
        out.setdefault(tuple(params[k].shape), []).append(params[k].detach())
    return out


@pytest.mark.parametrize("onehot", [False, True])
def test_from_pyg_outputs_equal_a_direct_torch_model(onehot: bool) -> None:
    graphs = _graphs(onehot)
    data = from_pyg(graphs)
    assert (data.node_features is None) == onehot
    assert len(data.node_types) == (3 if onehot else 1)
    problem = load_problem(data, ModelSpec("gcn", layers=1, dim=DIM, activation="tanh")).problem
    params = problem.init(0, torch.float64, None)
    shapes = _by_shape(params)
    w1, w_out = shapes[(DIM, DIM)][0], shapes[(1, DIM)][0][0]
    if onehot:  # h0 = E x with one {dim,1} column per type
        emb = torch.cat(shapes[(DIM, 1)], dim=1)
        h0 = lambda x: x @ emb.T  # noqa: E731
    else:  # h0 = E_node · 1 + W_f x: the constant of the single type plus the real-valued features
        const, w_f = shapes[(DIM, 1)][0][:, 0], shapes[(DIM, 5)][0]
        h0 = lambda x: const + x @ w_f.T  # noqa: E731
    expected = _direct(graphs, h0, w1, w_out)
    lifted, report = compress(problem.graph, scope="dataset")
    assert lifted.num_nodes < problem.graph.num_nodes / 2  # equal feature rows still lift together
    got = evaluate(lifted, params)[:, 0].detach()
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    assert verify(problem.graph, lifted, trials=2).ok


def test_from_pyg_keeps_continuous_edge_attr_as_features() -> None:
    graphs = _graphs(True)
    for d in graphs:
        d.edge_attr = torch.linspace(0, 1, d.edge_index.shape[1], dtype=torch.float64)[:, None] * torch.ones(1, 2)
    data = from_pyg(graphs)
    assert data.edge_features is not None and data.edge_features.shape == (data.num_edges, 2)
    np.testing.assert_allclose(data.edge_features[: graphs[0].edge_index.shape[1], 0],
                               np.linspace(0, 1, graphs[0].edge_index.shape[1]))
    problem = load_problem(data, ModelSpec("gine", layers=1, dim=DIM)).problem
    assert any(tuple(v.shape) == (DIM, 2) for v in problem.init(0, torch.float64, None).values())


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: setattr(d, "x", torch.full_like(d.x, float("nan"))), "graph 1: x holds NaN"),
    (lambda d: setattr(d, "num_nodes", d.num_nodes + 2), "graph 1: x has 4 rows for 6 nodes"),
    (lambda d: setattr(d, "edge_attr", torch.ones(1, 2)), "graph 1: edge_attr has 1 rows"),
    (lambda d: setattr(d, "edge_index", d.edge_index + 100), "graph 1: edge_index refers to node"),
    (lambda d: setattr(d, "y", torch.tensor([float("nan")])), "graph 1: y is NaN"),
])
def test_from_pyg_rejects_bad_graphs_naming_graph_and_field(mutate, message: str) -> None:
    graphs = _graphs(False)
    mutate(graphs[1])
    with pytest.raises(ValueError, match=message):
        from_pyg(graphs)


def test_saved_lists_inmemory_files_and_tu_roots_load(tmp_path: Path) -> None:
    graphs = _graphs(True)
    torch.save(graphs, tmp_path / "graphs.pt")
    InMemoryDataset.save(graphs, str(tmp_path / "processed.pt"))
    for name in ("graphs.pt", "processed.pt"):
        data = load(tmp_path / name)
        assert data.num_graphs == len(graphs) and data.node_types == ("t0", "t1", "t2")
        np.testing.assert_array_equal(data.y, [float(i % 2) for i in range(len(graphs))])
    (tmp_path / "bad.pt").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="bad.pt"):
        load(tmp_path / "bad.pt")
    raw = tmp_path / "data" / "MUTAG" / "raw"  # TUDataset(root="data", name="MUTAG") lays files out so
    shutil.copytree(bundled_path("MUTAG"), raw)
    data = load(tmp_path / "data" / "MUTAG")
    assert data.num_graphs == 188 and int(data.y.sum()) == 125
