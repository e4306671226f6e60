"""What a PyTorch Geometric user writes for the zoo's molecule models: stock layers.

The twins in :mod:`liftnn.bench.pyg_models` compute *exactly* liftnn's template
functions (masks, ``+1`` bond terms, one-hot embeddings) so that outputs can be
compared; that costs them some extra work. These models use PyG's own layers for
the same architecture and size instead (atom-type ``nn.Embedding``, ``GCNConv``,
``SAGEConv`` or ``GINConv`` with a two-layer ReLU MLP, a mean readout and a sigmoid
output), so Table 1 also shows the speed a PyG user gets out of the box.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv, GINConv, SAGEConv, global_mean_pool

from ..data.graphs import GraphSet
from .pyg_models import graphset_to_pyg

STOCK_MODELS = ("gcn", "sage", "gin")


class StockGNN(nn.Module):
    """``sigmoid(w · mean_X h_L(X))`` with ``h_0 = Embedding(type)`` and ``h_l = conv_l(h_{l-1})``."""

    def __init__(self, model: str, num_types: int, layers: int, dim: int = 10) -> None:
        super().__init__()
        if model not in STOCK_MODELS:
            raise ValueError(f"no stock PyG model {model!r}; known: {STOCK_MODELS}")
        self.model = model
        self.embed = nn.Embedding(num_types, dim)
        self.convs = nn.ModuleList(_conv(model, dim) for _ in range(layers))
        self.out = nn.Linear(dim, 1, bias=False)

    def forward(self, data: Data) -> Tensor:
        h = self.embed(data.z)
        for conv in self.convs:
            h = conv(h, data.edge_index)
            h = torch.relu(h) if self.model == "gin" else torch.sigmoid(h)
        return torch.sigmoid(self.out(global_mean_pool(h, data.batch, size=data.num_graphs)))


def _conv(model: str, dim: int) -> nn.Module:
    if model == "gcn":
        return GCNConv(dim, dim, bias=False)
    if model == "sage":
        return SAGEConv(dim, dim, aggr="mean", bias=False)
    mlp = nn.Sequential(nn.Linear(dim, dim, bias=False), nn.ReLU(), nn.Linear(dim, dim, bias=False))
    return GINConv(mlp, train_eps=False)


def stock_data(data: GraphSet) -> list[Data]:
    """One ``Data`` per graph with ``z`` the atom-type index (what ``nn.Embedding`` reads)."""
    out = []
    for d in graphset_to_pyg(data):
        out.append(Data(z=d.x.argmax(1), edge_index=d.edge_index, y=d.y, num_nodes=d.num_nodes))
    return out


def collate(graphs: list[Data]) -> Batch:
    """PyG's own collation of a list of graphs."""
    return Batch.from_data_list(graphs)
