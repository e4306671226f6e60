"""Exact lifting: lossless, idempotent, shrinking; multiplicity and pruning semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lift.strategies import ORDERED, SOFTSIGN, SYMMETRIC, random_graphs
from liftnn import Graph, GraphBuilder, compress, evaluate, init_params, register_combine, verify
from liftnn.lift import exact_pass
from reference import reference_evaluate, reference_exact_sizes

CONFIGS = [(scope, prune) for scope in ("sample", "dataset") for prune in (True, False)]
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def _params(g: Graph, shapes: dict, seed: int) -> dict[str, torch.Tensor]:
    return init_params(g, shapes, seed=seed, dtype=torch.float64)


def _assert_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-9) -> None:
    """Elementwise rtol, plus an absolute floor relative to the tensor's scale (for cancellations)."""
    a, e = actual.detach().numpy(), expected.detach().numpy()
    assert a.shape == e.shape
    scale = max(1.0, float(np.abs(e).max(initial=0.0)))
    np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale)


def _edges(g: Graph, node: int) -> list[tuple[int, str | None, int]]:
    """(child, label, count) of ``node``'s edges, in argument order."""
    lo, hi = g.edge_ptr[node], g.edge_ptr[node + 1]
    return [
        (int(g.edge_child[e]), g.labels[g.edge_label[e]] if g.edge_label[e] >= 0 else None, int(g.edge_count[e]))
        for e in range(lo, hi)
    ]


# ---------------------------------------------------------------------------- properties


@PROPERTY
@given(random_graphs())
def test_exact_lifting_is_lossless(gs):
    """verify() finds equal outputs and gradients (float64, 1e-9) for both scopes, prune on and off."""
    g, shapes = gs
    for scope, prune in CONFIGS:
        lifted, _ = compress(g, "exact", scope=scope, prune=prune)
        result = verify(g, lifted, trials=2, dtype=torch.float64, shapes=shapes, tolerance=1e-9)
        assert result.ok


@PROPERTY
@given(random_graphs())
def test_exact_lifting_matches_reference_evaluator(gs):
    """The lifted graph, run by the engine, reproduces the naive oracle on the original graph."""
    g, shapes = gs
    for seed in (0, 1):
        params = _params(g, shapes, seed)
        expected = reference_evaluate(g, params)
        _assert_close(evaluate(g, params), expected)
        for scope, prune in CONFIGS:
            lifted, _ = compress(g, "exact", scope=scope, prune=prune)
            _assert_close(evaluate(lifted, {k: params[k] for k in lifted.labels}), expected)


@PROPERTY
@given(random_graphs())
def test_exact_lifting_is_idempotent(gs):
    """Lifting a lifted graph again (same settings) changes neither node nor edge count."""
    g, _ = gs
    for scope, prune in CONFIGS:
        once, _ = compress(g, "exact", scope=scope, prune=prune)
        twice, _ = compress(once, "exact", scope=scope, prune=prune)
        assert (twice.num_nodes, twice.num_edges) == (once.num_nodes, once.num_edges), (scope, prune)


@PROPERTY
@given(random_graphs())
def test_exact_lifting_never_grows_and_reports_sizes(gs):
    """nodes/edges never increase, and the Report's sizes describe the two graphs."""
    g, _ = gs
    for scope, prune in CONFIGS:
        lifted, rep = compress(g, "exact", scope=scope, prune=prune)
        assert (rep.nodes_before, rep.edges_before) == (g.num_nodes, g.num_edges)
        assert (rep.nodes_after, rep.edges_after) == (lifted.num_nodes, lifted.num_edges)
        assert rep.nodes_after <= rep.nodes_before
        assert rep.edges_after <= rep.edges_before
        assert int(lifted.edge_count.sum()) <= int(g.edge_count.sum())
        assert rep.clashes == 0
        if not prune:
            assert rep.pruned == 0


@PROPERTY
@given(random_graphs())
def test_dataset_scope_not_larger_than_sample_scope(gs):
    """Merging across samples can only remove more nodes than merging within samples."""
    g, _ = gs
    for prune in (True, False):
        by_sample, _ = compress(g, "exact", scope="sample", prune=prune)
        by_dataset, _ = compress(g, "exact", scope="dataset", prune=prune)
        assert by_dataset.num_nodes <= by_sample.num_nodes
        assert by_dataset.num_edges <= by_sample.num_edges


@PROPERTY
@given(random_graphs())
def test_output_rows_keep_order_and_samples(gs):
    """Output rows keep their number, order and sample ids; sample scope keeps nodes per sample."""
    g, _ = gs
    for scope, prune in CONFIGS:
        lifted, _ = compress(g, "exact", scope=scope, prune=prune)
        assert lifted.num_samples == g.num_samples
        np.testing.assert_array_equal(lifted.output_sample, g.output_sample)
        if scope == "sample":
            owner = lifted.node_samples()[lifted.output_node]
            assert np.all((owner == lifted.output_sample) | (owner == -1))


# ---------------------------------------------------------------------------- Example 1


def _xcosy(t: torch.Tensor) -> torch.Tensor:
    return t[:, 0] * torch.cos(t[:, 1])


register_combine("example1_xcosy", _xcosy, symmetric=False, replace=True)


def _example1() -> Graph:
    b = GraphBuilder()
    n1 = b.input(1.0)
    n2 = b.node([(n1, "w1")], "sum")
    n3 = b.node([(n1, "w1")], "sum")
    n4 = b.node([(n2, "w2"), (n3, "w2")], "example1_xcosy")
    b.output(n4)
    return b.build()


def test_example1_structure():
    """Nodes 2 and 3 merge; node 4 keeps two ordered, unfolded w2-edges from the merged node."""
    g = _example1()
    lifted, rep = compress(g, "exact")
    assert (g.num_nodes, lifted.num_nodes) == (4, 3)
    assert rep.nodes_after == 3
    out = int(lifted.output_node[0])
    edges = _edges(lifted, out)
    assert len(edges) == 2
    assert edges[0] == edges[1]
    child, label, count = edges[0]
    assert (label, count) == ("w2", 1)
    assert _edges(lifted, child) == [(int(np.flatnonzero(lifted.is_leaf)[0]), "w1", 1)]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.floats(-3, 3, allow_nan=False), st.floats(-3, 3, allow_nan=False))
def test_example1_value(w1, w2):
    """The lifted Example 1 computes (w1*w2)*cos(w1*w2), like the original."""
    g = _example1()
    lifted, _ = compress(g, "exact")
    params = {"w1": torch.tensor(w1, dtype=torch.float64), "w2": torch.tensor(w2, dtype=torch.float64)}
    expected = (w1 * w2) * math.cos(w1 * w2)
    assert float(evaluate(lifted, params)[0, 0]) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert float(evaluate(g, params)[0, 0]) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    verify(g, lifted, trials=3, tolerance=1e-12)


# ---------------------------------------------------------------------------- multiplicities

XA, XB, W = np.array([0.7, -1.2]), np.array([-1.3, 0.4]), np.array([0.9, -0.6])
HAND = {
    "sum": lambda a, b: 2 * a + b,
    "mean": lambda a, b: (2 * a + b) / 3,
    "max": np.maximum,
    "min": np.minimum,
    "prod": lambda a, b: a**2 * b,
}


@pytest.mark.parametrize("combine", sorted(HAND))
def test_duplicate_child_multiplicity(combine):
    """combine(a, a, b): lifting folds a into one edge of count 2 (1 for max/min); values follow the formula."""
    b = GraphBuilder()
    xa, xb = b.input(XA), b.input(XB)
    p = b.node([(xa, "w"), (xb, "w"), (xa, "w")], combine)
    b.output(p)
    b.weight("w", (2,))
    g = b.build()
    lifted, _ = compress(g, "exact")
    assert lifted.num_nodes == 3
    out = int(lifted.output_node[0])
    counts = {child: count for child, _, count in _edges(lifted, out)}
    assert len(counts) == 2
    leaf_a = next(i for i in np.flatnonzero(lifted.is_leaf) if np.allclose(lifted.leaf_value(i), XA))
    assert counts[leaf_a] == (1 if combine in ("max", "min") else 2)
    assert sum(counts.values()) == (2 if combine in ("max", "min") else 3)
    params = {"w": torch.tensor(W)}
    expected = HAND[combine](W * XA, W * XB)
    for graph in (g, lifted):
        np.testing.assert_allclose(evaluate(graph, params)[0].detach().numpy(), expected, rtol=1e-12)
    verify(g, lifted, trials=3, tolerance=1e-12)


def test_concat_keeps_order_and_does_not_fold():
    """concat(a, a, b) keeps three count-1 edges in argument order; concat(a, a) keeps two;
    concat(a, b) and concat(b, a) are not merged."""
    b = GraphBuilder()
    xa, xb = b.input([1.0, 2.0]), b.input([3.0])
    aab = b.node([(xa, None), (xa, None), (xb, None)], "concat")
    aa = b.node([(xa, "s"), (xa, "s")], "concat")
    ab = b.node([xa, xb], "concat")
    ba = b.node([xb, xa], "concat")
    b.outputs([aab, aa, ab, ba], [0, 0, 0, 0])  # compress() does not need equal output dimensions
    g = b.build()
    lifted, rep = compress(g, "exact")
    assert rep.nodes_after == g.num_nodes == 6  # nothing is equivalent, nothing is an identity
    la, lb = (int(i) for i in np.flatnonzero(lifted.is_leaf))
    out = [int(o) for o in lifted.output_node]
    assert _edges(lifted, out[0]) == [(la, None, 1), (la, None, 1), (lb, None, 1)]
    assert _edges(lifted, out[1]) == [(la, "s", 1), (la, "s", 1)]
    assert _edges(lifted, out[2]) == [(la, None, 1), (lb, None, 1)]
    assert _edges(lifted, out[3]) == [(lb, None, 1), (la, None, 1)]


def test_concat_value_order():
    """The lifted concat(a, a, b) evaluates to [a; a; b] exactly."""
    b = GraphBuilder()
    xa, xb = b.input([1.0, 2.0]), b.input([3.0])
    b.output(b.node([(xa, "s"), (xa, "s"), (xb, "s")], "concat"))
    g = b.build()
    lifted, _ = compress(g, "exact")
    params = {"s": torch.tensor(2.0, dtype=torch.float64)}
    np.testing.assert_array_equal(evaluate(lifted, params)[0].detach().numpy(), [2, 4, 2, 4, 6])
    assert lifted.num_edges == 3


# ---------------------------------------------------------------------------- pruning


def test_identity_chain_is_pruned():
    """A chain of identity nodes disappears; parents and outputs are redirected to the leaf."""
    b = GraphBuilder()
    x = b.input([0.5, -1.0])
    i1 = b.node([x])
    i2 = b.node([(i1, None)])
    i3 = b.node([i2], "sum", "identity", None)
    p = b.node([(i3, "w")], "sum", "sigmoid")
    b.output(i3)
    b.output(p)
    g = b.build()
    lifted, rep = compress(g, "exact", prune=True)
    assert rep.pruned == 3
    assert lifted.num_nodes == 2
    leaf = int(np.flatnonzero(lifted.is_leaf)[0])
    assert int(lifted.output_node[0]) == leaf
    assert _edges(lifted, int(lifted.output_node[1])) == [(leaf, "w", 1)]
    verify(g, lifted, trials=2)
    kept, rep_off = compress(g, "exact", prune=False)
    assert (kept.num_nodes, rep_off.pruned) == (5, 0)


def _single_input_node(kind: str) -> Graph:
    b = GraphBuilder()
    x = b.input([0.5, -1.0])
    node = {
        "weight": lambda: b.node([(x, "w")]),
        "bias": lambda: b.node([x], bias="b"),
        "relu": lambda: b.node([x], act="relu"),
        "count2-sum": lambda: b.node([x, x], "sum"),
        "count2-mean": lambda: b.node([x, x], "mean"),
        "count2-prod": lambda: b.node([x, x], "prod"),
        "custom": lambda: b.node([x], "example1_xcosy_one"),
    }[kind]()
    b.output(node)
    return b.build()


register_combine("example1_xcosy_one", lambda t: t[:, 0] * 2.0, symmetric=False, replace=True)


@pytest.mark.parametrize("kind", ["weight", "bias", "relu", "count2-sum", "count2-mean", "count2-prod", "custom"])
def test_non_identity_nodes_are_not_pruned(kind):
    """A node with a weight, a bias, a non-identity activation, count 2 or a custom combine survives pruning."""
    g = _single_input_node(kind)
    lifted, rep = compress(g, "exact", prune=True)
    assert rep.pruned == 0
    assert lifted.num_nodes == 2
    params = init_params(g, seed=3, dtype=torch.float64, default_shape=())
    _assert_close(evaluate(lifted, params), reference_evaluate(g, params), rtol=1e-12)


def test_max_of_same_child_twice_is_pruned():
    """max(x, x) folds to one count-1 identity edge and is then removed as an identity."""
    b = GraphBuilder()
    x = b.input([0.5, -1.0])
    b.output(b.node([x, x], "max"))
    g = b.build()
    lifted, rep = compress(g, "exact", prune=True)
    assert (lifted.num_nodes, lifted.num_edges, rep.pruned) == (1, 0, 1)
    np.testing.assert_array_equal(reference_evaluate(lifted, {})[0].numpy(), [0.5, -1.0])


def test_lifted_graph_of_only_leaves_evaluates():
    """When pruning leaves only leaves, the lifted graph still evaluates to the original rows.

    Minimal reproducer of an engine bug: evaluate() on any graph without edges
    raises ``ValueError: zip() argument 2 is longer than argument 1`` in
    compile_plan (the edge-group loop zips an empty ``cuts`` with ``[E]``).
    """
    b = GraphBuilder()
    x = b.input([0.5, -1.0])
    b.output(b.node([x]))
    g = b.build()
    lifted, _ = compress(g, "exact", prune=True)
    assert lifted.num_edges == 0
    np.testing.assert_array_equal(evaluate(lifted, {}).numpy(), [[0.5, -1.0]])


def test_verify_accepts_graphs_without_weights():
    """verify() of a weightless graph compares outputs and passes (no gradients to compare).

    Minimal reproducer of a verify bug: with no labels, torch.autograd.grad is
    called with an empty input list and raises ``RuntimeError: `inputs` argument
    to `grad()` cannot be empty``.
    """
    b = GraphBuilder()
    x = b.input([0.5, -1.0])
    b.output(b.node([x, x], "sum", act="relu"))
    g = b.build()
    lifted, _ = compress(g, "exact")
    result = verify(g, lifted, trials=1)
    assert result.ok and result.max_output_error == 0.0


def test_pruning_then_merging_is_complete():
    """After pruning identity a, sigmoid(w*a) equals sigmoid(w*x): one lifting pass should merge them.

    Minimal reproducer of a lifting bug: the pruned node's parent stays on its
    original topological level, so it is never compared with the equal node one
    level lower; a second compress() merges them (not idempotent).
    """
    b = GraphBuilder()
    x = b.input(1.0)
    a = b.node([x])
    p = b.node([(a, "w")], act="sigmoid")
    q = b.node([(x, "w")], act="sigmoid")
    b.output(p)
    b.output(q)
    g = b.build()
    once, _ = compress(g, "exact")
    twice, _ = compress(once, "exact")
    assert twice.num_nodes == 2
    assert once.num_nodes == twice.num_nodes


def test_class_is_kept_as_its_lowest_id_even_when_visited_last():
    """u = sigmoid(w·identity(x)) has a lower id but a higher level than its equal q = sigmoid(w·x): the pass
    meets q first, yet u represents the class, and a sum over both and other nodes lists its inputs in
    canonical order over the kept ids (one edge of multiplicity 2 for u and q)."""
    b = GraphBuilder()
    x = b.input(1.0)
    y = b.input(2.0)
    a = b.node([x])
    u = b.node([(a, "w")], act="sigmoid")
    r = b.node([(y, "w")], act="sigmoid")
    q = b.node([(x, "w")], act="sigmoid")
    top = b.node([q, r, u, (y, "v")])
    b.output(top)
    g = b.build()
    res = exact_pass(g)
    assert res.rep[q] == u and res.rep[a] == x and res.pruned == 1
    lifted, _ = compress(g)
    assert _edges(lifted, lifted.num_nodes - 1) == [(1, "v", 1), (2, None, 2), (3, None, 1)]
    assert verify(g, lifted, trials=2).ok


@pytest.mark.parametrize("combine", ["sum", "max", "concat"])
def test_long_input_lists_fold_like_short_ones(combine):
    """A node with 60 inputs over 7 children (sorted by the general path, not insertion): a symmetric
    node keeps one edge per (child, label) with the summed multiplicity (1 under max); an ordered one
    keeps all 60 in order."""
    b = GraphBuilder()
    xs = [b.input(float(i)) for i in range(7)]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, 7, size=60).tolist()
    labels = ["w" if i % 2 else None for i in range(60)]
    top = b.node([(xs[k], lab) for k, lab in zip(picks, labels, strict=True)], combine)
    b.output(top)
    g = b.build()
    lifted, _ = compress(g, prune=False)
    edges = _edges(lifted, lifted.num_nodes - 1)
    if combine == "concat":
        assert edges == [(k, lab, 1) for k, lab in zip(picks, labels, strict=True)]
    else:
        from collections import Counter

        seen = Counter(zip(picks, labels, strict=True))
        want = sorted(((k, lab, 1 if combine == "max" else c) for (k, lab), c in seen.items()),
                      key=lambda t: (t[0], -1 if t[1] is None else 0))
        assert edges == want
    assert verify(g, lifted, trials=2).ok


# ---------------------------------------------------------------------------- max over ReLU zeros


def test_max_over_relu_zeros_is_lossless():
    """Many ReLU children are exactly zero; exact lifting of max/min parents stays lossless (values and grads)."""
    b = GraphBuilder()
    leaves = [b.input(v) for v in (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, -1.0, 0.5)]  # repeated values merge
    relus = [b.node([(x, "w")], act="relu", bias=bias) for x in leaves for bias in (None, "b")]
    relus += [b.node([(x, "w")], act="relu") for x in leaves]  # structural duplicates
    parents = []
    for k in range(len(relus) - 2):
        parents.append(b.node([(relus[k], "v"), (relus[k + 1], "v"), (relus[k], "v")], "max"))
        parents.append(b.node([relus[k + 2], relus[k]], "min", act="relu"))
    top = b.node([(p, "u") for p in parents], "max")
    b.outputs(relus + parents + [top], [0] * (len(relus) + len(parents) + 1))
    g = b.build()
    for scope in ("sample", "dataset"):
        lifted, rep = compress(g, "exact", scope=scope)
        assert rep.nodes_after < rep.nodes_before
        verify(g, lifted, trials=5, tolerance=1e-12)
    params = init_params(g, seed=0, dtype=torch.float64, default_shape=())
    y = evaluate(g, params).detach()
    assert int((y[: len(relus)] == 0).sum()) >= len(relus) // 4  # the test really exercises zeros


def test_verify_accepts_weights_that_outputs_do_not_use():
    """verify() passes when a weight exists but no output depends on it (its gradient is zero).

    Minimal reproducer of a verify bug: with ``w`` used only by a node that is
    not an output, the outputs do not require grad and torch.autograd.grad
    raises ``RuntimeError: element 0 of tensors does not require grad``. Value
    lifting produces such graphs (it can replace ``w * 0`` by the leaf ``0``).
    """
    b = GraphBuilder()
    x = b.input(1.0)
    b.node([(x, "w")])  # uses w, but is no output
    b.output(b.node([x], act="sigmoid"))
    g = b.build()
    result = verify(g, g, trials=1)
    assert result.ok and result.max_gradient_error == 0.0


@settings(max_examples=60, deadline=None, derandomize=True)
@given(random_graphs())
def test_exact_pass_equals_plain_dictionary_algorithm(gs):
    """The compiled pass keeps exactly as many nodes and edges as the paper's algorithm
    written with a dictionary over nodes in topological order, and its result is a fixpoint
    of that algorithm (nothing left to merge or prune)."""
    g, _ = gs
    for scope in ("sample", "dataset"):
        for prune in (True, False):
            lifted, _ = compress(g, "exact", scope=scope, prune=prune)
            assert reference_exact_sizes(g, scope, prune) == (lifted.num_nodes, lifted.num_edges), (scope, prune)
            assert reference_exact_sizes(lifted, scope, prune) == (lifted.num_nodes, lifted.num_edges)


def test_random_graphs_cover_every_function_and_weight_kind():
    """The property tests above see every built-in combine and activation, the registered test
    functions, every weight kind (none, scalar, elementwise, square and rectangular matrix,
    scalar and vector bias) and unlabelled or scalar-weighted dimension-1 broadcast."""
    from collections import Counter

    from hypothesis import event

    from liftnn.graph import activation_names, combine_names

    seen: Counter = Counter()

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(random_graphs())
    def collect(gs):
        g, shapes = gs
        inner = ~g.is_leaf
        seen.update(f"act:{g.activations[a]}" for a in set(g.node_act[inner].tolist()))
        seen.update(f"combine:{g.combines[c]}" for c in set(g.node_combine[inner].tolist()))
        kind = {0: "scalar", 1: "elementwise"}
        d = int(np.diff(g.value_ptr).max())  # the leaves' widest dimension is the node dimension
        for e in range(g.num_edges):
            lab = int(g.edge_label[e])
            shape = shapes[g.labels[lab]] if lab >= 0 else None
            seen["weight:" + ("none" if shape is None else kind.get(len(shape))
                              or ("square" if shape[0] == shape[1] else "rectangular"))] += 1
            child, parent = int(g.edge_child[e]), int(g.edge_parent[e])
            dim_one = g.is_leaf[child] and g.leaf_value(child).size == 1 and (shape is None or len(shape) == 0)
            if dim_one and d > 1 and g.combines[g.node_combine[parent]] != "concat":
                seen["broadcast"] += 1
                event("broadcast")
        seen.update(f"bias:{kind[len(shapes[g.labels[b]])]}" for b in set(g.node_bias[inner].tolist()) if b >= 0)

    collect()
    builtin_acts = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "exp", "log", "sqrt",
                    "square", "inverse", "abs", "reverse", "softmax"}
    assert builtin_acts <= set(activation_names())
    wanted = {f"act:{a}" for a in builtin_acts | {SOFTSIGN}}
    wanted |= {f"combine:{c}" for c in ("sum", "mean", "max", "min", "prod", "concat", ORDERED, SYMMETRIC)}
    wanted |= {f"weight:{k}" for k in ("none", "scalar", "elementwise", "square", "rectangular")}
    wanted |= {"bias:scalar", "bias:elementwise", "broadcast"}
    assert set(combine_names()) >= {c.split(":")[1] for c in wanted if c.startswith("combine:")}
    missing = wanted - set(seen)
    assert not missing, f"never generated: {sorted(missing)}"
    print("random_graphs coverage:", dict(sorted(seen.items())))
