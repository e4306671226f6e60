"""A deliberately naive evaluator: one Python step per node and per edge.

It follows the definition of :class:`liftnn.Graph` literally and is the oracle
that the vectorised engine is checked against.
"""

from __future__ import annotations

import torch

from liftnn.engine import apply_weight
from liftnn.graph import Graph, get_activation, get_combine


def reference_evaluate(g: Graph, params: dict[str, torch.Tensor]) -> torch.Tensor:
    dtype = next(iter(params.values())).dtype if params else torch.float64
    values: dict[int, torch.Tensor] = {}
    ptr = g.edge_ptr
    order = sorted(range(g.num_nodes), key=lambda i: g.levels()[i])
    for i in order:
        if g.node_combine[i] < 0:
            values[i] = torch.as_tensor(g.leaf_value(i), dtype=dtype)
            continue
        comb = get_combine(g.combines[g.node_combine[i]])
        inputs = []
        for e in range(ptr[i], ptr[i + 1]):
            lab = g.edge_label[e]
            w = params[g.labels[lab]] if lab >= 0 else None
            m = apply_weight(values[int(g.edge_child[e])][None, :], w)[0]
            inputs += [m] * int(g.edge_count[e])
        stack = torch.stack(inputs) if comb.kind != "concat" else None
        if comb.kind == "sum":
            out = stack.sum(0)
        elif comb.kind == "mean":
            out = stack.mean(0)
        elif comb.kind == "max":
            out = stack.max(0).values
        elif comb.kind == "min":
            out = stack.min(0).values
        elif comb.kind == "prod":
            out = stack.prod(0)
        elif comb.kind == "concat":
            out = torch.cat(inputs)
        else:
            out = comb.fn(stack[None])[0]
        if g.node_bias[i] >= 0:
            out = out + params[g.labels[g.node_bias[i]]].reshape(-1)
        values[i] = get_activation(g.activations[g.node_act[i]])(out[None])[0]
    return torch.stack([values[int(o)] for o in g.output_node])
