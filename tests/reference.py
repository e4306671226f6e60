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
        if comb.kind != "concat":  # dimension-1 inputs broadcast
            width = max(m.shape[0] for m in inputs)
            inputs = [m.expand(width) for m in inputs]
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


def reference_exact_sizes(g: Graph, scope: str = "sample", prune: bool = True) -> tuple[int, int]:
    """Nodes and edges after exact lifting, by a plain dictionary over nodes in
    topological order (the paper's algorithm, one Python step per node)."""
    from collections import Counter

    levels = g.levels()
    samples = g.node_samples() if scope == "sample" else [0] * g.num_nodes
    ptr = g.edge_ptr
    rep: dict[int, int] = {}
    table: dict[tuple, int] = {}
    kept_edges = 0
    for i in sorted(range(g.num_nodes), key=lambda n: (levels[n], n)):
        if g.node_combine[i] < 0:
            key = ("leaf", tuple((g.leaf_value(i) + 0.0).tolist()), int(samples[i]))
            rep[i] = table.setdefault(key, i)
            continue
        comb = get_combine(g.combines[g.node_combine[i]])
        inputs = [
            (rep[int(g.edge_child[e])], int(g.edge_label[e]), int(g.edge_count[e])) for e in range(ptr[i], ptr[i + 1])
        ]
        if comb.symmetric:
            counter: Counter = Counter()
            for c, lab, k in inputs:
                counter[(c, lab)] += k
            inputs = sorted((c, lab, 1 if comb.idempotent else k) for (c, lab), k in counter.items())
        if (prune and len(inputs) == 1 and inputs[0][1] < 0 and inputs[0][2] == 1 and g.node_bias[i] < 0
                and g.activations[g.node_act[i]] == "identity" and comb.identity_on_one):
            rep[i] = inputs[0][0]
            continue
        key = (int(g.node_combine[i]), int(g.node_act[i]), int(g.node_bias[i]), int(samples[i]), tuple(inputs))
        rep[i] = table.setdefault(key, i)
        if rep[i] == i:
            kept_edges += len(inputs)
    return len(set(rep.values()) | {rep[i] for i in rep if rep[i] == i}), kept_edges
