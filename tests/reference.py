"""A deliberately naive oracle: one Python step per node and per edge.

It follows the documented definition of :class:`liftnn.Graph` literally and shares no code
with what it checks: weight application, the built-in activations and combines, topological
levels and the samples a node serves are all written here from the documented math
(:mod:`liftnn.graph.ir`, :mod:`liftnn.graph.functions`, :mod:`liftnn.engine.params`).
Only *registered* (user) functions are looked up in the registry: they are the user's own
callables, not library code.

Node ``i`` computes ``act_i(combine_i([W_{L_1}·x_1, ..., W_{L_m}·x_m]) + b_i)``, where an edge
of multiplicity ``k`` stands for ``k`` identical inputs, and ``W·x`` is ``w * x`` for a scalar
weight, ``w ⊙ x`` for a vector and ``W @ x`` for a matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import torch

from liftnn.graph import Graph, get_activation, get_combine


def _softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.max())
    return e / e.sum()


#: The built-in activations on one node's vector, from their textbook definitions
#: (leaky ReLU slope 0.01, ELU alpha 1, softplus ``log(1 + e^x)``, softmax over the vector).
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda x: x,
    "sigmoid": lambda x: 1.0 / (1.0 + torch.exp(-x)),
    "tanh": lambda x: 1.0 - 2.0 / (torch.exp(2.0 * x) + 1.0),
    "relu": lambda x: x * (x > 0),
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.01 * x),
    "elu": lambda x: torch.where(x > 0, x, torch.exp(torch.clamp(x, max=0.0)) - 1.0),
    "softplus": lambda x: torch.clamp(x, min=0.0) + torch.log(1.0 + torch.exp(-x.abs())),
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": lambda x: x**0.5,
    "square": lambda x: x * x,
    "inverse": lambda x: 1.0 / x,
    "abs": lambda x: x * torch.sign(x),
    "reverse": lambda x: 1.0 - x,
    "softmax": _softmax,
}

#: The built-in combines and their documented properties: (symmetric, idempotent).
COMBINES = {
    "sum": (True, False), "mean": (True, False), "max": (True, True), "min": (True, True),
    "prod": (True, False), "concat": (False, False),
}


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """A built-in activation from :data:`ACTIVATIONS`, else the user's registered callable."""
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]
    return lambda x: get_activation(name)(x[None])[0]


def combine(name: str, inputs: list[torch.Tensor]) -> torch.Tensor:
    """``combine([m_1, ..., m_k])`` over the full list of inputs (repeats included)."""
    if name == "concat":
        return torch.cat(inputs)
    width = max(m.shape[0] for m in inputs)  # dimension-1 inputs broadcast
    stack = torch.stack([m.expand(width) for m in inputs])
    if name == "sum":
        return stack.sum(0)
    if name == "mean":
        return stack.sum(0) / len(inputs)
    if name == "max":
        return stack.max(0).values
    if name == "min":
        return stack.min(0).values
    if name == "prod":
        return stack.prod(0)
    return get_combine(name).fn(stack[None])[0]


def weigh(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """``W·x`` for one input vector: identity (``None``), ``w * x``, ``w ⊙ x`` or ``W @ x``."""
    if w is None:
        return x
    if w.dim() == 2:
        return torch.stack([(w[r] * x).sum() for r in range(w.shape[0])])
    return w * x


def _children(g: Graph, i: int) -> list[tuple[int, int, int]]:
    """(child, label index, count) of node ``i``'s edges, in argument order."""
    return [
        (int(g.edge_child[e]), int(g.edge_label[e]), int(g.edge_count[e]))
        for e in range(int(g.edge_ptr[i]), int(g.edge_ptr[i + 1]))
    ]


def reference_levels(g: Graph) -> list[int]:
    """Level 0 for leaves, else 1 + the highest level of the inputs (iterative depth-first search)."""
    level: list[int | None] = [None] * g.num_nodes
    for root in range(g.num_nodes):
        stack = [root]
        while stack:
            i = stack[-1]
            if level[i] is not None:
                stack.pop()
                continue
            todo = [c for c, _, _ in _children(g, i) if level[c] is None]
            if todo:
                stack.extend(todo)
                continue
            level[i] = 1 + max((level[c] for c, _, _ in _children(g, i)), default=-1)
            stack.pop()
    return level


def reference_samples(g: Graph, levels: list[int]) -> list[int]:
    """The sample each node serves: ``s`` if only sample ``s``'s outputs depend on it, ``-1`` if
    several do, ``-2`` if none. Parents pass their sample sets down, highest level first."""
    owner: list[int | None] = [None] * g.num_nodes  # None: no output depends on it (yet)

    def meet(a: int | None, b: int) -> int:
        return b if a is None or a == b else -1

    for node, sample in zip(g.output_node.tolist(), g.output_sample.tolist(), strict=True):
        owner[node] = meet(owner[node], sample)
    for i in sorted(range(g.num_nodes), key=lambda n: -levels[n]):
        if owner[i] is not None:
            for c, _, _ in _children(g, i):
                owner[c] = meet(owner[c], owner[i])
    return [-2 if s is None else s for s in owner]


def reference_evaluate(g: Graph, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Every output row, evaluating node by node in level order."""
    dtype = next(iter(params.values())).dtype if params else torch.float64
    values: dict[int, torch.Tensor] = {}
    levels = reference_levels(g)
    for i in sorted(range(g.num_nodes), key=lambda n: levels[n]):
        if g.node_combine[i] < 0:
            values[i] = torch.as_tensor(g.leaf_value(i), dtype=dtype)
            continue
        inputs = []
        for c, lab, k in _children(g, i):
            inputs += [weigh(values[c], params[g.labels[lab]] if lab >= 0 else None)] * k
        out = combine(g.combines[g.node_combine[i]], inputs)
        if g.node_bias[i] >= 0:
            out = out + params[g.labels[g.node_bias[i]]].reshape(-1)
        values[i] = activation(g.activations[g.node_act[i]])(out)
    return torch.stack([values[int(o)] for o in g.output_node])


def _properties(name: str) -> tuple[bool, bool, bool]:
    """(symmetric, idempotent, identity on one count-1 input) of a combine."""
    if name in COMBINES:
        return (*COMBINES[name], True)
    return get_combine(name).symmetric, False, False


def reference_exact_sizes(g: Graph, scope: str = "sample", prune: bool = True) -> tuple[int, int]:
    """Nodes and edges after one pass of exact lifting: a plain dictionary over nodes in
    topological order (the paper's algorithm, one Python step per node)."""
    levels = reference_levels(g)
    samples = reference_samples(g, levels) if scope == "sample" else [0] * g.num_nodes
    rep: dict[int, int] = {}
    table: dict[tuple, int] = {}
    kept_edges = 0
    for i in sorted(range(g.num_nodes), key=lambda n: (levels[n], n)):
        if g.node_combine[i] < 0:
            key = ("leaf", tuple((g.leaf_value(i) + 0.0).tolist()), samples[i])
            rep[i] = table.setdefault(key, i)
            continue
        name = g.combines[g.node_combine[i]]
        symmetric, idempotent, identity_on_one = _properties(name)
        inputs = [(rep[c], lab, k) for c, lab, k in _children(g, i)]
        if symmetric:
            counter: Counter = Counter()
            for c, lab, k in inputs:
                counter[(c, lab)] += k
            inputs = sorted((c, lab, 1 if idempotent else k) for (c, lab), k in counter.items())
        if (prune and len(inputs) == 1 and inputs[0][1] < 0 and inputs[0][2] == 1 and g.node_bias[i] < 0
                and g.activations[g.node_act[i]] == "identity" and identity_on_one):
            rep[i] = inputs[0][0]
            continue
        key = (name, g.activations[g.node_act[i]], int(g.node_bias[i]), samples[i], tuple(inputs))
        rep[i] = table.setdefault(key, i)
        if rep[i] == i:
            kept_edges += len(inputs)
    return len(set(rep.values())), kept_edges
