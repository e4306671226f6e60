"""Hypothesis strategies: random multi-sample computation graphs for lifting tests.

:func:`random_graphs` draws a *recipe* per sample (pure data), then builds the
union of all samples with :class:`liftnn.GraphBuilder`. The recipes are biased
towards redundancy so that lifting has work to do:

* leaf values come from a tiny set (:data:`LEAF_VALUES`), so equal leaves occur;
* a node may *clone* an earlier node's input list (optionally permuted, with the
  same or a different function, or looking through identity nodes to their
  inputs), so structurally equal nodes occur, also on different levels;
* a node may take the same child twice (duplicate edges, multiplicities);
* identity nodes (one unlabelled input, ``sum``, ``identity``, no bias) give
  pruning something to remove;
* each sample ends in a readout node (weighted inputs, a bias and a strictly
  increasing activation), which is its first output: it depends on weights
  and is never constant, so no lifting collapses a graph to bare leaves
  (leaf-only and weight-free graphs have dedicated tests);
* a sample may be an exact copy of an earlier one (cross-sample merges in
  dataset scope), and a few leaves may be shared by all samples.

Shapes are kept consistent by construction. Every node has one of three
*kinds*: ``"d"`` (dimension ``d``), ``"1"`` (a scalar leaf, only when ``d > 1``)
or ``"c"`` (a ``concat`` of exactly two ``d``-messages, dimension ``2d``). An
edge's label is picked by its child's kind so that every message has dimension
``d``: any of :data:`D_LABELS` for a ``"d"`` child, the ``(d, 1)`` matrix ``U``
for a scalar leaf and the ``(d, 2d)`` matrix ``R`` for a concat node. Only
``"d"`` nodes are outputs, so every output row has dimension ``d``.

Scalar leaves also reach non-``concat`` nodes through unlabelled or scalar-weighted
edges (dimension-1 messages broadcast over the node's ``d`` components); such a node
always has at least one ``d``-message, so its dimension stays ``d``.

Every built-in activation and combine occurs, plus registered ones (:data:`ORDERED`,
:data:`SYMMETRIC`, :data:`SOFTSIGN`). Activations with a restricted domain
(:data:`POSITIVE_ACTS`: ``log``, ``sqrt``, ``inverse``, and ``exp``, which needs a bounded
input) only sit on *safe* nodes: unweighted ``sum``/``mean``/``max``/``min`` of children
whose values are known positive and bounded (positive leaves, and ``sigmoid``/``softmax``
nodes over bounded inputs). The other activations are numerically tame; ``prod`` nodes
take at most two inputs and never use ``square`` so that values stay far from overflow.
Every weight kind occurs: none, scalar (``s1``, ``s2``, bias ``b0``), elementwise (``e1``,
bias ``bv``), square matrix (``M1``, ``M2``) and rectangular matrix (``U``, ``R``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from hypothesis import strategies as st

from liftnn import Graph, GraphBuilder, register_activation, register_combine

LEAF_VALUES = (0.0, 1.0, -0.5, 2.0)

#: Registered test functions: an order-sensitive combine, a permutation-invariant one, an activation.
ORDERED = "test_ordered_tanh"
SYMMETRIC = "test_symmetric_lse"
SOFTSIGN = "test_softsign"

TAME_ACTS = ("identity", "sigmoid", "tanh", "relu", "square", "softplus", "abs", "softmax", "leaky_relu", "elu",
             "reverse", SOFTSIGN)
#: Activations that need a positive (``log``, ``sqrt``, ``inverse``) or bounded (``exp``) input.
POSITIVE_ACTS = ("log", "sqrt", "inverse", "exp")
#: Activations with values in [-1, 1] and those with values in (0, 1).
BOUNDED_ACTS = ("sigmoid", "tanh", "softmax", SOFTSIGN)
UNIT_ACTS = ("sigmoid", "softmax")


def _ordered(t: torch.Tensor) -> torch.Tensor:
    """Position-weighted sum of tanh'd inputs: changes when inputs are permuted."""
    k = t.shape[1]
    w = torch.arange(1, k + 1, dtype=t.dtype, device=t.device) / k
    return (torch.tanh(t) * w[None, :, None]).sum(1)


def _symmetric(t: torch.Tensor) -> torch.Tensor:
    """log-sum-exp over the inputs: invariant to permutations, sensitive to repeats."""
    return torch.logsumexp(t, dim=1)


def _softsign(t: torch.Tensor) -> torch.Tensor:
    """``x / (1 + |x|)``: a registered activation with values in (-1, 1)."""
    return t / (1.0 + t.abs())


register_combine(ORDERED, _ordered, symmetric=False, replace=True)
register_combine(SYMMETRIC, _symmetric, symmetric=True, replace=True)
register_activation(SOFTSIGN, _softsign, replace=True)

#: Strictly increasing activations for the readout nodes (with a bias, never constant).
READOUT_ACTS = ("identity", "sigmoid", "tanh", "softplus", "leaky_relu", "elu")
COMBINES = ("sum", "mean", "max", "min", "prod", ORDERED, SYMMETRIC)
#: Combines that keep positive, bounded inputs positive and bounded (with at most three inputs).
SAFE_COMBINES = ("sum", "mean", "max", "min")
#: Labels for edges out of a dimension-``d`` node (``None``: identity edge).
D_LABELS = (None, "s1", "s2", "e1", "M1", "M2")


def label_shapes(d: int) -> dict[str, tuple[int, ...]]:
    """Shapes of every label the strategy may use, for node dimension ``d``."""
    return {
        "s1": (), "s2": (), "e1": (d,), "M1": (d, d), "M2": (d, d),
        "U": (d, 1), "R": (d, 2 * d), "b0": (), "bv": (d,),
    }


# ----------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class NodeSpec:
    inputs: tuple[tuple[int, str | None], ...]  # (pool index, label)
    combine: str
    act: str
    bias: str | None
    kind: str  # "d" or "c"


@dataclass(frozen=True)
class SampleRecipe:
    leaves: tuple[tuple[float, ...], ...]
    nodes: tuple[NodeSpec, ...]
    outputs: tuple[int, ...]  # pool indices


def _label_for(draw, kind: str, broadcast: bool = False) -> str | None:
    """A label that turns a ``kind`` child into a ``d``-message (or, with ``broadcast``,
    possibly a dimension-1 message from a scalar leaf)."""
    if kind == "1":
        return draw(st.sampled_from(("U", None, "s1"))) if broadcast else "U"
    if kind == "c":
        return "R"
    return draw(st.sampled_from(D_LABELS))


def _pick_input(draw, kinds: list[str], broadcast: bool = False) -> tuple[int, str | None]:
    i = draw(st.integers(0, len(kinds) - 1))
    return i, _label_for(draw, kinds[i], broadcast)


def _message_dim_one(kinds: list[str], inp: tuple[int, str | None]) -> bool:
    """A scalar leaf through an unlabelled or scalar-weighted edge: a dimension-1 message."""
    return kinds[inp[0]] == "1" and inp[1] != "U"


def _flags(spec: NodeSpec, bounded: list[bool]) -> tuple[bool, bool]:
    """(bounded in [-1, 1] or a leaf, positive and bounded) for a new node."""
    return spec.act in BOUNDED_ACTS, spec.act in UNIT_ACTS and all(bounded[i] for i, _ in spec.inputs)


@st.composite
def _sample_recipe(draw, d: int, shared_positive: tuple[bool, ...]) -> SampleRecipe:
    """Leaves, 1-4 layers of inner nodes and outputs of one sample.

    The *pool* of a sample is: shared leaves, then its own leaves, then its inner
    nodes in creation order; inputs of a layer's nodes come from earlier layers.
    """
    kinds = ["d"] * len(shared_positive)
    bounded = [True] * len(shared_positive)  # leaves are bounded (|v| <= 2)
    positive = list(shared_positive)
    leaves = []
    for j in range(draw(st.integers(1, 4))):
        scalar = d > 1 and j > 0 and draw(st.booleans())  # leaf 0 always has dimension d
        size = 1 if scalar else d
        leaves.append(tuple(draw(st.lists(st.sampled_from(LEAF_VALUES), min_size=size, max_size=size))))
        kinds.append("1" if scalar else "d")
        bounded.append(True)
        positive.append(not scalar and min(leaves[-1]) > 0)
    inner: list[tuple[int, NodeSpec]] = []  # (pool index, spec)
    unwrap: dict[int, int] = {}  # identity node -> the non-identity node it stands for
    nodes: list[NodeSpec] = []
    for _layer in range(draw(st.integers(1, 4))):
        avail = len(kinds)  # only earlier layers feed this one
        new_kinds = []
        for _ in range(draw(st.integers(1, 4))):
            choice = draw(st.sampled_from(("plain", "plain", "plain", "clone", "identity", "concat", "safe", "safe")))
            safe_children = [i for i in range(avail) if positive[i]]
            if choice == "safe" and not safe_children:
                choice = "plain"
            if choice == "clone" and inner:
                spec = draw(st.sampled_from([s for _, s in inner]))
                inputs = list(spec.inputs)
                if draw(st.booleans()):
                    inputs = draw(st.permutations(inputs))
                if spec.kind == "d" and draw(st.booleans()):  # same inputs, maybe another function
                    combine = draw(st.sampled_from(COMBINES))
                    act = draw(st.sampled_from(TAME_ACTS))
                    if combine == "prod" and act == "square":
                        act = "identity"
                    if combine == "prod" and len(inputs) > 2:
                        combine = "sum"
                    spec = replace(spec, combine=combine, act=act)
                if draw(st.booleans()):  # look through identity nodes: equal after pruning, lower level
                    inputs = [(unwrap.get(i, i), lab) for i, lab in inputs]
                spec = replace(spec, inputs=tuple(inputs))
            elif choice == "identity":
                ds = [i for i in range(avail) if kinds[i] == "d"]
                child = draw(st.sampled_from(ds))
                spec = NodeSpec(((child, None),), "sum", "identity", None, "d")
                unwrap[avail + len(new_kinds)] = unwrap.get(child, child)
            elif choice == "concat":
                pair = tuple(_pick_input(draw, kinds[:avail]) for _ in range(2))
                if draw(st.booleans()):
                    pair = (pair[0], pair[0])  # concat(a, a): never folded
                spec = NodeSpec(pair, "concat", draw(st.sampled_from(TAME_ACTS)),
                                draw(st.sampled_from((None, "b0"))), "c")
            elif choice == "safe":  # a restricted-domain activation over positive, bounded children
                k = draw(st.integers(1, 3))
                inputs = tuple((draw(st.sampled_from(safe_children)), None) for _ in range(k))
                spec = NodeSpec(inputs, draw(st.sampled_from(SAFE_COMBINES)), draw(st.sampled_from(POSITIVE_ACTS)),
                                None, "d")
            else:
                combine = draw(st.sampled_from(COMBINES))
                k = draw(st.integers(1, 2 if combine == "prod" else 3))
                inputs = [_pick_input(draw, kinds[:avail], broadcast=True) for _ in range(k)]
                if all(_message_dim_one(kinds, inp) for inp in inputs):  # keep one d-message: dimension d
                    inputs[0] = (inputs[0][0], "U")
                if k < 3 and (combine != "prod" or k == 1) and draw(st.booleans()):
                    inputs.insert(draw(st.integers(0, len(inputs))), draw(st.sampled_from(inputs)))  # same edge twice
                act = draw(st.sampled_from(TAME_ACTS))
                if combine == "prod" and act == "square":
                    act = "identity"
                spec = NodeSpec(tuple(inputs), combine, act, draw(st.sampled_from((None, None, "b0", "bv"))), "d")
            nodes.append(spec)
            inner.append((avail + len(new_kinds), spec))
            new_kinds.append(spec.kind)
            is_bounded, is_positive = _flags(spec, bounded)
            bounded.append(is_bounded)
            positive.append(is_positive and spec.kind == "d")
        kinds.extend(new_kinds)
    # the readout: weighted edges, a bias and an increasing activation (see the module docstring)
    d_nodes = [i for i, k in enumerate(kinds) if k == "d"]
    src = [d_nodes[-1]] + draw(st.lists(st.sampled_from(d_nodes), max_size=1))
    combine = draw(st.sampled_from(COMBINES))
    readout = NodeSpec(tuple((i, draw(st.sampled_from(D_LABELS[1:]))) for i in src), combine,
                       draw(st.sampled_from(READOUT_ACTS)), draw(st.sampled_from(("b0", "bv"))), "d")
    nodes.append(readout)
    d_nodes.append(len(kinds))
    extra = draw(st.lists(st.sampled_from(d_nodes), max_size=2))
    return SampleRecipe(tuple(leaves), tuple(nodes), (len(kinds), *extra))


@st.composite
def random_graphs(draw, max_samples: int = 4) -> tuple[Graph, dict[str, tuple[int, ...]]]:
    """A random multi-sample graph and the shapes of its labels: ``(graph, shapes)``.

    Weight shapes are also declared on the builder, so ``graph.shapes`` holds them.
    """
    d = draw(st.integers(1, 3))
    n_shared = draw(st.integers(0, 2))
    shared = [tuple(draw(st.lists(st.sampled_from(LEAF_VALUES), min_size=d, max_size=d))) for _ in range(n_shared)]
    recipes: list[SampleRecipe] = []
    for _ in range(draw(st.integers(1, max_samples))):
        if recipes and draw(st.integers(0, 3)) == 0:
            recipes.append(draw(st.sampled_from(recipes)))  # an identical copy of an earlier sample
        else:
            recipes.append(draw(_sample_recipe(d, tuple(min(v) > 0 for v in shared))))

    b = GraphBuilder()
    shared_ids = [b.input(v) for v in shared]
    outputs: list[tuple[int, int]] = []
    for s, r in enumerate(recipes):
        pool = list(shared_ids) + [b.input(v) for v in r.leaves]
        for spec in r.nodes:
            pool.append(b.node([(pool[i], lab) for i, lab in spec.inputs], spec.combine, spec.act, spec.bias))
        outputs += [(pool[i], s) for i in r.outputs]
    order = draw(st.permutations(range(len(outputs))))  # interleave the samples' output rows
    b.outputs([outputs[i][0] for i in order], [outputs[i][1] for i in order])
    all_shapes = label_shapes(d)
    g0 = b.build()
    shapes = {lab: all_shapes[lab] for lab in g0.labels}
    for lab, shape in shapes.items():
        b.weight(lab, shape)
    return b.build(), shapes


def relu_pair() -> tuple[Graph, int, int]:
    """``a = relu(w·1 - 1)`` and ``c = relu(v·1 - 1)`` as two outputs of one sample: both are 0 for every
    weight in U(-1, 1), so value lifting merges them, yet they differ for weights above one."""
    b = GraphBuilder()
    one, minus = b.input(1.0), b.input(-1.0)
    a = b.node([(one, "w"), minus], act="relu")
    c = b.node([(one, "v"), minus], act="relu")
    b.outputs([a, c], [0, 0])
    return b.build(), a, c
