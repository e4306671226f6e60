"""PyTorch Geometric twins of the zoo's molecule models (``gcn``, ``sage``, ``gin``).

A twin computes *exactly* the function of the template network that
:func:`liftnn.models.molecule_template` unfolds over :func:`liftnn.data.graph_facts`
(equal in float64 up to summation order), so that benchmarks compare the same model.
Weights are shared through :func:`load_liftnn_weights` / :func:`export_liftnn_weights`.

Notation: node ``X`` has the *out*-edges ``e = (X, Y)`` of ``edge_index`` (the fact
``bond(X, Y, e)``: ``X`` is the source, so ``X`` gathers from its targets ``Y``; in PyG
terms ``flow="target_to_source"``; for molecules every bond is stored in both
directions and the distinction vanishes). ``E`` is the ``dim × T`` type embedding
(column ``t`` is liftnn's ``{dim,1}`` weight of type ``t``), ``x_X`` the one-hot type,
``act`` the ``activation`` argument. ``1`` is the value of the ``bond`` fact, a scalar
added to every component of the rule neuron's vector input (broadcast).

=====  =========================================================================================
h0     ``h0(X) = E x_X``                                      (every node has one)
gcn    ``h_l(X) = avg_{(X,Y), Y ∈ D_{l-1}} act(W_l h_{l-1}(Y) + 1)``
       (``act`` on the rule neuron, identity atom activation, no bias)
sage   ``h_l(X) = act(S_l h_{l-1}(X) + avg_{(X,Y)} (A_l h_{l-1}(Y) + 1))``, the average left out
       (``+1`` included) where ``X`` has no out-edge: the ``+1`` is inside the average
gin    ``a_l(X) = h_{l-1}(X) + Σ_{(X,Y)} (h_{l-1}(Y) + 1) = h_{l-1}(X) + Σ_Y h_{l-1}(Y) + outdeg(X)``
       ``h_l(X) = relu(W2_l relu(W1_l a_l(X)))``                  (``activation`` is unused)
out    ``predict(G) = sigmoid(w_out · avg_{X ∈ G ∩ D_L} h_L(X))``; ``0`` where ``G ∩ D_L`` is empty
=====  =========================================================================================

``D_l`` is the set of nodes that *have* an atom ``h_l(X)`` (a derivation). ``D_0`` is
every node. In ``gcn``, ``X ∈ D_l`` iff some out-edge ``(X, Y)`` has ``Y ∈ D_{l-1}``, and
the average runs over those edges only: a node without out-edges has no ``h_1`` and
vanishes from every later layer and from the readout average; a graph none of whose
nodes reaches ``D_L`` has no ``predict`` atom and liftnn outputs ``0`` for it (not
``sigmoid(0)``). In ``sage`` and ``gin`` the self rule keeps every node (``D_l`` = all).
The twins track ``D_l`` as a boolean mask for all three models (no host sync).

Weight labels (liftnn numbers weights in template order, see
:mod:`liftnn.logic.weights`), with ``T = len(data.node_types)`` and ``L`` layers:

* ``w{t}`` (``t < T``): type ``t``'s embedding ``{dim,1}`` -> ``embed.weight[:, t]``
* gcn: ``w{T+l-1}`` = ``W_l`` ``{dim,dim}`` -> ``convs[l-1].lin.weight``
* sage: ``w{T+2(l-1)}`` = ``S_l`` -> ``convs[l-1].lin_self.weight``;
  ``w{T+2(l-1)+1}`` = ``A_l`` -> ``convs[l-1].lin_nbr.weight``
* gin: ``w{T+2(l-1)}`` = ``W1_l`` -> ``convs[l-1].lin1.weight``;
  ``w{T+2(l-1)+1}`` = ``W2_l`` -> ``convs[l-1].lin2.weight``
* readout: ``w{T+kL}`` (``k`` = 1 for gcn, 2 for sage and gin) ``{1,dim}`` -> ``out.weight``

liftnn's ``W @ h`` is ``torch.nn.Linear(bias=False)`` with ``weight = W``. A type that
does not occur in the data has no label in ``Problem.init`` (its neurons are pruned);
its embedding column is then left untouched (it never enters the computation).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from ..data.graphs import GraphSet
from ..graph.functions import get_activation
from ..logic.template import ACTIVATION_ALIASES
from ..models.zoo import DEFAULT_LAYERS

TWIN_MODELS = ("gcn", "sage", "gin")


def _activation(name: str):
    return get_activation(ACTIVATION_ALIASES.get(name, name))


# ---------------------------------------------------------------------------------------------
# data


def graphset_to_pyg(data: GraphSet, dtype: torch.dtype = torch.float32) -> list[Data]:
    """One ``Data`` per graph: ``x`` the one-hot node type (``[n_g, T]``), ``edge_index``
    (local ids, same direction and order as the GraphSet's), ``edge_attr`` the one-hot edge
    type, ``y`` the label (``[1]``). Batching them (:func:`graphset_to_batch`) restores the
    GraphSet's global node numbering."""
    num_types, num_etypes = len(data.node_types), max(len(data.edge_types), 1)
    starts = np.searchsorted(data.graph, np.arange(data.num_graphs + 1))
    src, dst = data.edge_index
    egraph = data.graph[src]
    if data.num_edges and not np.array_equal(egraph, data.graph[dst]):
        raise ValueError(f"{data.name}: an edge joins two graphs")
    order = np.argsort(egraph, kind="stable")
    estarts = np.searchsorted(egraph[order], np.arange(data.num_graphs + 1))
    x_all = torch.zeros(data.num_nodes, num_types, dtype=dtype)
    x_all[torch.arange(data.num_nodes), torch.as_tensor(data.node_type)] = 1
    ea_all = torch.zeros(data.num_edges, num_etypes, dtype=dtype)
    ea_all[torch.arange(data.num_edges), torch.as_tensor(data.edge_type)] = 1
    ei_all = torch.as_tensor(data.edge_index, dtype=torch.long)
    out = []
    for g in range(data.num_graphs):
        n0, n1 = int(starts[g]), int(starts[g + 1])
        sel = torch.as_tensor(order[estarts[g] : estarts[g + 1]], dtype=torch.long)
        out.append(
            Data(
                x=x_all[n0:n1],
                edge_index=ei_all[:, sel] - n0,
                edge_attr=ea_all[sel],
                y=torch.tensor([data.y[g]], dtype=dtype),
                num_nodes=n1 - n0,
            )
        )
    return out


def graphset_to_batch(data: GraphSet, dtype: torch.dtype = torch.float32) -> Batch:
    """All graphs of ``data`` as one PyG ``Batch`` (``Batch.from_data_list``)."""
    return Batch.from_data_list(graphset_to_pyg(data, dtype))


# ---------------------------------------------------------------------------------------------
# layers: every layer takes and returns (h, mask); rows of h outside the mask are 0


class GCNTwinConv(MessagePassing):
    """``h'(X) = avg_{(X,Y), mask(Y)} act(W h(Y) + 1)``; ``mask'(X)``: that average is not empty."""

    def __init__(self, dim: int, activation: str = "sigmoid") -> None:
        super().__init__(aggr="sum", flow="target_to_source")
        self.lin = nn.Linear(dim, dim, bias=False)
        self.act = _activation(activation)

    def forward(self, h: Tensor, mask: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        z = self.lin(h)
        m = mask.to(h.dtype).unsqueeze(-1)
        agg = self.propagate(edge_index, z=z, m=m)
        s, cnt = agg[:, :-1], agg[:, -1:]
        return s / cnt.clamp(min=1), cnt.squeeze(-1) > 0

    def message(self, z_j: Tensor, m_j: Tensor) -> Tensor:
        return torch.cat([torch.where(m_j > 0, self.act(z_j + 1), 0.0), m_j], dim=-1)


class SAGETwinConv(MessagePassing):
    """``h'(X) = act(S h(X) + avg_{(X,Y), mask(Y)} (A h(Y) + 1))`` (a missing term is left out)."""

    def __init__(self, dim: int, activation: str = "sigmoid") -> None:
        super().__init__(aggr="sum", flow="target_to_source")
        self.lin_self = nn.Linear(dim, dim, bias=False)
        self.lin_nbr = nn.Linear(dim, dim, bias=False)
        self.act = _activation(activation)

    def forward(self, h: Tensor, mask: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        m = mask.to(h.dtype).unsqueeze(-1)
        agg = self.propagate(edge_index, z=self.lin_nbr(h), m=m)
        s, cnt = agg[:, :-1], agg[:, -1:]
        has_nbr = cnt > 0
        pre = torch.where(m > 0, self.lin_self(h), 0.0) + torch.where(has_nbr, s / cnt.clamp(min=1), 0.0)
        new_mask = mask | has_nbr.squeeze(-1)
        return torch.where(new_mask.unsqueeze(-1), self.act(pre), 0.0), new_mask

    def message(self, z_j: Tensor, m_j: Tensor) -> Tensor:
        return torch.cat([torch.where(m_j > 0, z_j + 1, 0.0), m_j], dim=-1)


class GINTwinConv(MessagePassing):
    """``a(X) = h(X) + Σ_{(X,Y), mask(Y)} (h(Y) + 1)``; ``h'(X) = relu(W2 relu(W1 a(X)))``."""

    def __init__(self, dim: int) -> None:
        super().__init__(aggr="sum", flow="target_to_source")
        self.lin1 = nn.Linear(dim, dim, bias=False)
        self.lin2 = nn.Linear(dim, dim, bias=False)

    def forward(self, h: Tensor, mask: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        m = mask.to(h.dtype).unsqueeze(-1)
        agg = self.propagate(edge_index, h=h, m=m)
        s, cnt = agg[:, :-1], agg[:, -1:]
        a = torch.where(m > 0, h, 0.0) + s
        new_mask = mask | (cnt.squeeze(-1) > 0)
        out = torch.relu(self.lin2(torch.relu(self.lin1(a))))
        return torch.where(new_mask.unsqueeze(-1), out, 0.0), new_mask

    def message(self, h_j: Tensor, m_j: Tensor) -> Tensor:
        return torch.cat([torch.where(m_j > 0, h_j + 1, 0.0), m_j], dim=-1)


# ---------------------------------------------------------------------------------------------
# models


class _Twin(nn.Module):
    model = ""
    weights_per_layer = 1

    def __init__(self, num_types: int, layers: int | None = None, dim: int = 10, activation: str = "sigmoid") -> None:
        super().__init__()
        layers = DEFAULT_LAYERS[self.model] if layers is None else layers
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.num_types, self.layers, self.dim, self.activation = num_types, layers, dim, activation
        self.embed = nn.Linear(num_types, dim, bias=False)
        self.convs = nn.ModuleList(self._conv() for _ in range(layers))
        self.out = nn.Linear(dim, 1, bias=False)

    def _conv(self) -> nn.Module:
        raise NotImplementedError

    def forward(
        self,
        x: Tensor | Data,
        edge_index: Tensor | None = None,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """``predict`` per graph, shape ``[num_graphs, 1]``; ``x`` the one-hot types (or a
        ``Data``/``Batch``, whose ``x``, ``edge_index``, ``batch`` are used)."""
        if isinstance(x, Data):
            data = x
            x, edge_index, batch = data.x, data.edge_index, getattr(data, "batch", None)
            num_graphs = getattr(data, "num_graphs", None) if num_graphs is None else num_graphs
        if batch is None:
            batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
            num_graphs = 1 if num_graphs is None else num_graphs
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        h = self.embed(x)
        mask = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        for conv in self.convs:
            h, mask = conv(h, mask, edge_index)
        m = mask.to(h.dtype).unsqueeze(-1)
        total = scatter(torch.where(m > 0, h, 0.0), batch, dim=0, dim_size=num_graphs, reduce="sum")
        cnt = scatter(m, batch, dim=0, dim_size=num_graphs, reduce="sum")
        pred = torch.sigmoid(self.out(total / cnt.clamp(min=1)))
        return torch.where(cnt > 0, pred, 0.0)

    def liftnn_labels(self) -> dict[str, tuple[str, int | None]]:
        """liftnn label -> (twin parameter name, embedding column or ``None``)."""
        T, k = self.num_types, self.weights_per_layer
        names = self._layer_param_names()
        out: dict[str, tuple[str, int | None]] = {f"w{t}": ("embed.weight", t) for t in range(T)}
        for lv in range(self.layers):
            for j, name in enumerate(names):
                out[f"w{T + k * lv + j}"] = (f"convs.{lv}.{name}.weight", None)
        out[f"w{T + k * self.layers}"] = ("out.weight", None)
        return out

    def _layer_param_names(self) -> tuple[str, ...]:
        raise NotImplementedError


class GCNTwin(_Twin):
    """The zoo's ``gcn`` (see the module docstring)."""

    model = "gcn"

    def _conv(self) -> nn.Module:
        return GCNTwinConv(self.dim, self.activation)

    def _layer_param_names(self) -> tuple[str, ...]:
        return ("lin",)


class SAGETwin(_Twin):
    """The zoo's ``sage`` (see the module docstring)."""

    model = "sage"
    weights_per_layer = 2

    def _conv(self) -> nn.Module:
        return SAGETwinConv(self.dim, self.activation)

    def _layer_param_names(self) -> tuple[str, ...]:
        return ("lin_self", "lin_nbr")


class GINTwin(_Twin):
    """The zoo's ``gin`` (see the module docstring; ``activation`` is unused, as in the zoo)."""

    model = "gin"
    weights_per_layer = 2

    def _conv(self) -> nn.Module:
        return GINTwinConv(self.dim)

    def _layer_param_names(self) -> tuple[str, ...]:
        return ("lin1", "lin2")


TWINS: dict[str, type[_Twin]] = {"gcn": GCNTwin, "sage": SAGETwin, "gin": GINTwin}


# ---------------------------------------------------------------------------------------------
# weights


def load_liftnn_weights(module: _Twin, params: Mapping[str, Tensor]) -> _Twin:
    """Copy liftnn's parameters (``Problem.init(...)``, labels ``w0, w1, ...``) into
    ``module`` (in place, in ``module``'s dtype; returns it). Embedding labels absent from
    ``params`` (types that do not occur in the data) leave their column as it is; any other
    missing label is an error."""
    named = dict(module.named_parameters())
    with torch.no_grad():
        for label, (pname, col) in module.liftnn_labels().items():
            if label not in params:
                if col is not None:
                    continue
                raise KeyError(
                    f"liftnn parameters lack {label} (for {pname}): not a {module.model} "
                    f"template with {module.num_types} types, {module.layers} layers?"
                )
            target = named[pname]
            value = params[label].detach().to(target.dtype).to(target.device)
            if col is not None:
                target[:, col] = value.reshape(-1)
            else:
                target.copy_(value.reshape(target.shape))
    return module


def export_liftnn_weights(module: _Twin, grad: bool = False) -> dict[str, Tensor]:
    """The twin's parameters (or their ``.grad``, ``None`` where unset) under liftnn's labels,
    in liftnn's shapes (embeddings ``(dim, 1)``)."""
    named = dict(module.named_parameters())
    out: dict[str, Tensor] = {}
    for label, (pname, col) in module.liftnn_labels().items():
        p = named[pname]
        t = p.grad if grad else p.detach()
        if t is None:
            out[label] = None  # type: ignore[assignment]
            continue
        out[label] = t[:, col].reshape(-1, 1).clone() if col is not None else t.clone()
    return out


def make_pyg_model(
    model: str,
    data: GraphSet | int,
    layers: int | None = None,
    dim: int = 10,
    activation: str = "sigmoid",
    params: Mapping[str, Tensor] | None = None,
) -> _Twin:
    """The twin of ``molecule_template(model, ..., layers, dim, activation)`` for ``data`` (a
    GraphSet, or its number of node types); with ``params`` (liftnn labels) it takes those
    weights and their dtype and device."""
    if model not in TWINS:
        raise ValueError(f"no PyG twin for {model!r}; twins exist for {list(TWINS)}")
    num_types = data if isinstance(data, int) else len(data.node_types)
    twin = TWINS[model](num_types, layers, dim, activation)
    if params:
        first = next(iter(params.values()))
        twin = twin.to(dtype=first.dtype, device=first.device)
        load_liftnn_weights(twin, params)
    return twin


__all__ = [
    "GCNTwin",
    "GCNTwinConv",
    "GINTwin",
    "GINTwinConv",
    "SAGETwin",
    "SAGETwinConv",
    "TWINS",
    "TWIN_MODELS",
    "export_liftnn_weights",
    "graphset_to_batch",
    "graphset_to_pyg",
    "load_liftnn_weights",
    "make_pyg_model",
]
