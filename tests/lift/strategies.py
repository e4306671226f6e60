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

Activations are the numerically tame built-ins; ``prod`` nodes take at most two
inputs and never use ``square`` so that values stay far from overflow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from hypothesis import strategies as st

from liftnn import Graph, GraphBuilder, register_combine

LEAF_VALUES = (0.0, 1.0, -0.5, 2.0)
TAME_ACTS = ("identity", "sigmoid", "tanh", "relu", "square", "softplus", "abs", "softmax", "leaky_relu", "elu")

#: Registered test combines: an order-sensitive one and a permutation-invariant one.
ORDERED = "test_ordered_tanh"
SYMMETRIC = "test_symmetric_lse"


def _ordered(t: torch.Tensor) -> torch.Tensor:
    """Position-weighted sum of tanh'd inputs: changes when inputs are permuted."""
    k = t.shape[1]
    w = torch.arange(1, k + 1, dtype=t.dtype, device=t.device) / k
    return (torch.tanh(t) * w[None, :, None]).sum(1)


def _symmetric(t: torch.Tensor) -> torch.Tensor:
    """log-sum-exp over the inputs: invariant to permutations, sensitive to repeats."""
    return torch.logsumexp(t, dim=1)


register_combine(ORDERED, _ordered, symmetric=False, replace=True)
register_combine(SYMMETRIC, _symmetric, symmetric=True, replace=True)

#: Strictly increasing activations for the readout nodes (with a bias, never constant).
READOUT_ACTS = ("identity", "sigmoid", "tanh", "softplus", "leaky_relu", "elu")
COMBINES = ("sum", "mean", "max", "min", "prod", ORDERED, SYMMETRIC)
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


def _label_for(draw, kind: str) -> str | None:  # noqa: ANN001
    if kind == "1":
        return "U"
    if kind == "c":
        return "R"
    return draw(st.sampled_from(D_LABELS))


def _pick_input(draw, kinds: list[str]) -> tuple[int, str | None]:  # noqa: ANN001
    i = draw(st.integers(0, len(kinds) - 1))
    return i, _label_for(draw, kinds[i])


@st.composite
def _sample_recipe(draw, d: int, shared_kinds: tuple[str, ...]) -> SampleRecipe:  # noqa: ANN001
    """Leaves, 1-4 layers of inner nodes and outputs of one sample.

    The *pool* of a sample is: shared leaves, then its own leaves, then its inner
    nodes in creation order; inputs of a layer's nodes come from earlier layers.
    """
    kinds = list(shared_kinds)
    leaves = []
    for j in range(draw(st.integers(1, 4))):
        scalar = d > 1 and j > 0 and draw(st.booleans())  # leaf 0 always has dimension d
        size = 1 if scalar else d
        leaves.append(tuple(draw(st.lists(st.sampled_from(LEAF_VALUES), min_size=size, max_size=size))))
        kinds.append("1" if scalar else "d")
    inner: list[tuple[int, NodeSpec]] = []  # (pool index, spec)
    unwrap: dict[int, int] = {}  # identity node -> the non-identity node it stands for
    nodes: list[NodeSpec] = []
    for _layer in range(draw(st.integers(1, 4))):
        avail = len(kinds)  # only earlier layers feed this one
        new_kinds = []
        for _ in range(draw(st.integers(1, 4))):
            choice = draw(st.sampled_from(("plain", "plain", "plain", "clone", "identity", "concat")))
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
            else:
                combine = draw(st.sampled_from(COMBINES))
                k = draw(st.integers(1, 2 if combine == "prod" else 3))
                inputs = [_pick_input(draw, kinds[:avail]) for _ in range(k)]
                if k < 3 and (combine != "prod" or k == 1) and draw(st.booleans()):
                    inputs.insert(draw(st.integers(0, len(inputs))), draw(st.sampled_from(inputs)))  # same edge twice
                act = draw(st.sampled_from(TAME_ACTS))
                if combine == "prod" and act == "square":
                    act = "identity"
                spec = NodeSpec(tuple(inputs), combine, act, draw(st.sampled_from((None, None, "b0", "bv"))), "d")
            nodes.append(spec)
            inner.append((avail + len(new_kinds), spec))
            new_kinds.append(spec.kind)
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
def random_graphs(draw, max_samples: int = 4) -> tuple[Graph, dict[str, tuple[int, ...]]]:  # noqa: ANN001
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
            recipes.append(draw(_sample_recipe(d, ("d",) * n_shared)))

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
