"""The message-passing graph computes what a direct torch implementation computes."""

from __future__ import annotations

import numpy as np
import torch

import liftnn
from liftnn.data import GraphSet
from liftnn.models import message_passing_graph


def two_molecules() -> GraphSet:
    """Ethanol-like C-C-O (single bonds) and a 4-ring C=C-C=C-N with a lone atom."""
    node_type = np.array([0, 0, 1, 0, 0, 0, 0, 2, 1])
    graph = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1])
    bonds = [(0, 1, 0), (1, 2, 0), (3, 4, 1), (4, 5, 0), (5, 6, 1), (6, 3, 0), (6, 7, 0)]
    src = [a for a, b, _ in bonds] + [b for a, b, _ in bonds]
    dst = [b for a, b, _ in bonds] + [a for a, b, _ in bonds]
    etype = [t for *_, t in bonds] * 2
    return GraphSet(node_type, graph, np.array([src, dst]), np.array(etype), np.array([1.0, 0.0]),
                    ("c", "o", "n"), ("single", "double"), "two")


def direct_gcn(data: GraphSet, params: dict[str, torch.Tensor], layers: int) -> torch.Tensor:
    """The model of liftnn.models.gnn written with dense torch ops."""
    dt = params["S1"].dtype
    h = torch.eye(len(data.node_types), dtype=dt)[torch.as_tensor(data.node_type)]
    src, dst = (torch.as_tensor(x) for x in data.edge_index)
    n = data.num_nodes
    deg = torch.bincount(dst, minlength=n).to(dt)
    for lv in range(1, layers + 1):
        w = torch.stack([params[f"W{lv}_{t}"] for t in data.edge_types])[torch.as_tensor(data.edge_type)]
        e = torch.sigmoid(torch.einsum("eoi,ei->eo", w, h[src]))
        agg = torch.zeros(n, e.shape[1], dtype=dt).index_add(0, dst, e) / deg.clamp(min=1)[:, None]
        has = (deg > 0).to(dt)[:, None]
        h = torch.sigmoid(h @ params[f"S{lv}"].T + has * (agg @ params[f"A{lv}"].T) + params[f"b{lv}"])
    g = torch.as_tensor(data.graph)
    counts = torch.bincount(g).to(dt)[:, None]
    readout = torch.zeros(data.num_graphs, h.shape[1], dtype=dt).index_add(0, g, h) / counts
    return torch.sigmoid(readout @ params["W_out"].T + params["b_out"])


def test_gcn_matches_direct_torch_and_survives_lifting() -> None:
    data = two_molecules()
    graph = message_passing_graph(data, layers=2, dim=4)
    params = liftnn.init_params(graph, seed=3, dtype=torch.float64)
    expected = direct_gcn(data, params, layers=2)
    assert torch.allclose(liftnn.evaluate(graph, params), expected, rtol=1e-12, atol=1e-12)
    for scope in ("sample", "dataset"):
        lifted, report = liftnn.compress(graph, scope=scope)
        assert report.nodes_after < report.nodes_before
        assert torch.allclose(liftnn.evaluate(lifted, params), expected, rtol=1e-12, atol=1e-12)


def test_gradients_match_direct_torch() -> None:
    data = two_molecules()
    graph = message_passing_graph(data, layers=3, dim=3)
    lifted, _ = liftnn.compress(graph, scope="dataset")
    params = liftnn.init_params(graph, seed=1, dtype=torch.float64)
    names = sorted(params)
    ref = torch.autograd.grad(direct_gcn(data, params, 3).sum(), [params[k] for k in names])
    got = torch.autograd.grad(liftnn.evaluate(lifted, params).sum(), [params[k] for k in names])
    for a, b in zip(ref, got, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


#: Nodes and edges of the MDA 2-layer graph after exact lifting, per scope, as computed by the
#: plain-dictionary algorithm (``reference_exact_sizes`` in tests/reference.py; about a minute
#: per scope, so recorded here; ``benchmarks/bench_core.py`` recomputes and compares them).
MDA_LIFTED = {"sample": (244_670, 441_205), "dataset": (26_492, 96_750)}


def test_mda_sizes_and_losslessness(mda_path) -> None:
    """The paper's MDA set: a 2-layer GNN graph of 639,580 nodes lifts 2.61x per sample and
    24.1x across the dataset, to the sizes the dictionary algorithm finds, and stays exact."""
    from liftnn.data import read_nci_gi50

    data = read_nci_gi50(mda_path)
    assert data.num_graphs == 2946
    graph = message_passing_graph(data, layers=2, dim=10)
    assert (graph.num_nodes, graph.num_edges) == (639_580, 930_102)
    sample, rs = liftnn.compress(graph, scope="sample")
    dataset, rd = liftnn.compress(graph, scope="dataset")
    assert (sample.num_nodes, sample.num_edges) == MDA_LIFTED["sample"]
    assert (dataset.num_nodes, dataset.num_edges) == MDA_LIFTED["dataset"]
    assert rs.ratio == 639_580 / 244_670 and rd.ratio == 639_580 / 26_492
    for lifted in (sample, dataset):
        liftnn.verify(graph, lifted, trials=1)
