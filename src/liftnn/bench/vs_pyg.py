"""Test accuracy of liftnn's default graph model against the same model in PyTorch Geometric.

Both frameworks train the default preset's model family on the same stratified
10 folds (seed 0) of MUTAG, PTC_MR and NCI1 (TU format), full batch, float32, one
torch thread, with the same hyper-parameters (:data:`liftnn.pipeline.PRESETS`
``"default"``): BCE, Adam, the preset's epochs and learning rate, width and depth.

The model (``gine`` in :mod:`liftnn.models.zoo`): one embedding per atom type and
per bond type; per layer

    a(v) = h(v) + Σ_{(v,u,e)} relu(M h(u) + U b(e) + 1)
    h'(v) = relu(W2 relu(W1 a(v) + b1) + b2)

and ``sigmoid(w · mean_v h_L(v) + c)`` per graph. liftnn unfolds it from the
template and trains the dataset-lifted graph; :class:`GINETwin` is the same
function written with PyG's ``MessagePassing`` and trained on one collated
``Batch``. The weights are drawn independently (each framework's own
initialisation), so fold accuracies differ by training noise, not by model.
Wall time is end to end: liftnn from facts to the last fold (grounding, lifting,
training, evaluation); PyG from ``Data`` objects (collation, training, evaluation).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..data import GraphSet, load
from ..pipeline import PRESETS, ModelSpec, load_problem
from ..train import TrainConfig, cross_validate, stratified_folds
from .results import data_dir, write_results

DATASETS = ("MUTAG", "PTC_MR", "NCI1")
FOLDS = 10
SEED = 0
QUICK = {"datasets": ("MUTAG",), "epochs": 20, "folds": 2}


class GINETwin(nn.Module):
    """``gine`` in PyG (see the module docstring)."""

    def __init__(self, node_types: int, edge_types: int, dim: int, layers: int) -> None:
        from torch_geometric.nn import MessagePassing

        class Conv(MessagePassing):
            def __init__(self) -> None:
                super().__init__(aggr="sum", flow="target_to_source")
                self.msg, self.bond = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim, bias=False)
                self.lin1, self.lin2 = nn.Linear(dim, dim), nn.Linear(dim, dim)

            def forward(self, h: Tensor, edge_index: Tensor, b: Tensor) -> Tensor:
                a = h + self.propagate(edge_index, h=h, b=b)
                return torch.relu(self.lin2(torch.relu(self.lin1(a))))

            def message(self, h_j: Tensor, b: Tensor) -> Tensor:
                return torch.relu(self.msg(h_j) + self.bond(b) + 1)

        super().__init__()
        self.embed = nn.Linear(node_types, dim, bias=False)
        self.bond_embed = nn.Linear(edge_types, dim, bias=False)
        self.convs = nn.ModuleList(Conv() for _ in range(layers))
        self.out = nn.Linear(dim, 1)

    def forward(self, batch) -> Tensor:
        from torch_geometric.utils import scatter

        h, b = self.embed(batch.x), self.bond_embed(batch.edge_attr)
        for conv in self.convs:
            h = conv(h, batch.edge_index, b)
        return torch.sigmoid(self.out(scatter(h, batch.batch, 0, dim_size=batch.num_graphs, reduce="mean")))[:, 0]


def _pyg_batch(data: GraphSet, graphs: np.ndarray):
    from torch_geometric.data import Batch, Data

    sub = data.subset(graphs)
    x = torch.eye(len(data.node_types))[torch.as_tensor(sub.node_type)]
    ea = torch.eye(len(data.edge_types))[torch.as_tensor(sub.edge_type)]
    ei = torch.as_tensor(sub.edge_index)
    starts = np.searchsorted(sub.graph, np.arange(sub.num_graphs + 1))
    estarts = np.searchsorted(sub.graph[sub.edge_index[0]], np.arange(sub.num_graphs + 1))
    return Batch.from_data_list([
        Data(x=x[a:b], edge_index=ei[:, c:d] - a, edge_attr=ea[c:d], y=torch.tensor([sub.y[g]]))
        for g, (a, b, c, d) in enumerate(zip(starts[:-1], starts[1:], estarts[:-1], estarts[1:], strict=True))
    ])


def _pyg_cv(data: GraphSet, folds: list[np.ndarray], epochs: int, lr: float, dim: int, layers: int) -> dict:
    accs, t0 = [], time.perf_counter()
    for f, test in enumerate(folds):
        train = np.sort(np.concatenate([p for i, p in enumerate(folds) if i != f]))
        torch.manual_seed(SEED + f)
        model = GINETwin(len(data.node_types), len(data.edge_types), dim, layers)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        tr, te = _pyg_batch(data, train), _pyg_batch(data, np.sort(test))
        for _ in range(epochs):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(tr).clamp(1e-7, 1 - 1e-7), tr.y.float())
            loss.backward()
            opt.step()
        with torch.no_grad():
            accs.append(float(((model(te) > 0.5).float() == te.y.float()).float().mean()))
    return {"test_accuracy": accs, "seconds": time.perf_counter() - t0}


def _liftnn_cv(data: GraphSet, epochs: int, folds: int = FOLDS) -> dict:
    t0 = time.perf_counter()
    preset = PRESETS["default"]
    problem = load_problem(data, ModelSpec()).problem
    config = TrainConfig(**{**preset.train_settings(), "epochs": epochs, "seed": SEED})
    hist = cross_validate(problem, config, folds)
    return {"test_accuracy": [h.test["accuracy"] for h in hist], "seconds": time.perf_counter() - t0,
            "neurons_unlifted": problem.graph.num_nodes,
            "neurons_lifted_train": float(np.mean([h.nodes["train"] for h in hist]))}


def _dataset(name: str) -> GraphSet:
    try:
        folder = data_dir() / "molecules/tudataset" / name
    except FileNotFoundError:
        folder = None
    data = load(folder if folder is not None and folder.exists() else name)  # else bundled or downloaded
    assert isinstance(data, GraphSet)
    return data


def _pm(xs: list[float]) -> str:
    return f"{np.mean(xs):.3f} ± {np.std(xs):.3f}"


def run(out: Path, quick: bool = False, datasets: tuple[str, ...] | None = None) -> dict:
    """Run the comparison (on ``datasets``, default all three; quick: MUTAG, 2 folds, 20 epochs);
    write ``vs_pyg.md`` and ``vs_pyg.json`` under ``out``."""
    torch.set_num_threads(1)
    preset = PRESETS["default"]
    epochs = QUICK["epochs"] if quick else preset.epochs
    k = QUICK["folds"] if quick else FOLDS
    from ..models.zoo import DEFAULT_LAYERS

    layers = DEFAULT_LAYERS[preset.graph_model]
    rows = []
    for name in datasets or (QUICK["datasets"] if quick else DATASETS):
        data = _dataset(name)
        folds = stratified_folds(data.y, k, SEED)
        lift = _liftnn_cv(data, epochs, k)
        pyg = _pyg_cv(data, folds, epochs, preset.lr, preset.dim, layers)
        rows.append({"dataset": name, "graphs": data.num_graphs, "liftnn": lift, "pyg": pyg})
    lines = [
        "## Test accuracy: liftnn (lifted) vs PyG, same model, same folds",
        "",
        f"{k}-fold stratified CV (seed {SEED}), the default preset's `{preset.graph_model}` ({layers} layers, "
        f"width {preset.dim}, ReLU, sum aggregation, mean readout), BCE, full-batch Adam lr {preset.lr}, "
        f"{epochs} epochs, float32, one thread; wall time end to end over all folds.",
        "",
        "| data | graphs | liftnn test acc | PyG test acc | liftnn s | PyG s | neurons unlifted / lifted (train) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lf, pg = r["liftnn"], r["pyg"]
        lines.append(f"| {r['dataset']} | {r['graphs']:,} | {_pm(lf['test_accuracy'])} | {_pm(pg['test_accuracy'])} "
                     f"| {lf['seconds']:.0f} | {pg['seconds']:.0f} | {lf['neurons_unlifted']:,} / "
                     f"{lf['neurons_lifted_train']:,.0f} |")
    text = "\n".join(lines)
    payload = {"quick": quick, "epochs": epochs, "folds": k, "seed": SEED, "rows": rows}
    write_results(Path(out), "vs_pyg", text, payload)
    return {**payload, "text": text}
