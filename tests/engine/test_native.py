"""The native executor equals the torch executor: outputs, gradients, and whole training runs."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import liftnn
from lift.strategies import ORDERED, SYMMETRIC, random_graphs
from liftnn import Graph, GraphBuilder
from liftnn.engine.native import NativeEngine
from liftnn.engine.native_dense import CHAIN, DENSE, INNER, SUMS
from liftnn.engine.native_ops import needs_pre
from liftnn.engine.tape import ACTIVATIONS, KINDS, NativeUnsupported, compile_tape
from liftnn.graph import activation_names
from liftnn.train import Problem, TrainConfig, fit, runners
from liftnn.train.runners import choose_engine

BUILTIN_FOR = {SYMMETRIC: "max"}


def builtin_only(g: Graph) -> Graph:
    """The graph with the strategy's registered functions swapped for built-in ones (the native engine
    runs only built-ins)."""
    names = tuple("sum" if c == ORDERED else BUILTIN_FOR.get(c, c) for c in g.combines)
    acts = tuple(a if a in ACTIVATIONS else "tanh" for a in g.activations)
    return dataclasses.replace(g, combines=names, activations=acts, _cache={})


def torch_reference(g: Graph, params: dict[str, torch.Tensor], grad_out: np.ndarray | None = None):
    """Outputs and ``∂/∂W Σ grad_out ⊙ y`` by the torch engine and autograd."""
    p = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    y = liftnn.evaluate(g, p)
    r = torch.as_tensor(grad_out if grad_out is not None else np.ones(tuple(y.shape)), dtype=y.dtype)
    (y * r).sum().backward()
    return y.detach().numpy(), {k: (v.grad.numpy() if v.grad is not None else np.zeros(tuple(v.shape)))
                                for k, v in p.items()}


def assert_same(g: Graph, shapes: dict, seed: int, dtype: str = "float64", rtol: float = 1e-9) -> None:
    params = liftnn.init_params(g, shapes=shapes, seed=seed, dtype=getattr(torch, dtype))
    grad_out = np.random.default_rng(seed).normal(size=(g.num_outputs, _out_dim(g, shapes)))
    y_ref, g_ref = torch_reference(g, params, grad_out)
    atol = 1e-12 if dtype == "float64" else 1e-5
    rows = np.arange(g.num_outputs)
    # node by node (no dense segments), and with every class of two or more nodes on a level run densely
    for dense_min in (None, 2):
        engine = NativeEngine(g, shapes, dtype, dense_min=dense_min)
        theta = engine.pack(params)
        # on the tape itself, and on batch-major tapes: one batch of every row, and one batch per output row
        for batches in (None, engine.batches([rows], "batch-major"), engine.batches([rows], "shared")):
            y, grads = engine.gradients(theta, grad_out, batches)
            np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol, equal_nan=True)
            assert set(grads) == set(g_ref)
            for k in grads:
                np.testing.assert_allclose(grads[k], g_ref[k], rtol=rtol, atol=atol, equal_nan=True, err_msg=k)
        for layout in ("batch-major", "shared"):
            y = engine.outputs(theta, engine.batches([rows[i : i + 1] for i in rows[::-1]], layout))
            np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol, equal_nan=True)


def test_batches_stay_right_after_exact_lifting_sorted_in_the_same_process() -> None:
    """Exact lifting sorts long input lists in compiled code; a batch's restriction (also a compiled sort)
    must still list the batch's nodes. Regression: numba's ``np.argsort``, run in the lifting's cached
    module, made the executor's cached ``np.sort`` leave nodes unsorted, so a sigmoid node feeding the
    output was never computed (liftnn's compiled code now sorts with :mod:`liftnn._sorting` only)."""
    b = GraphBuilder()
    xs = [b.input(float(i % 5)) for i in range(40)]
    b.output(b.node([(x, "w") for x in xs]))
    liftnn.compress(b.build(), prune=False)  # a 40-input sum: the long-list sort
    b = GraphBuilder()
    hidden = b.node([b.input(0.0)], act="sigmoid")
    b.output(b.node([(hidden, "s")], bias="c"))
    assert_same(b.build(), {"s": (), "c": ()}, seed=0)


def _out_dim(g: Graph, shapes: dict) -> int:
    from liftnn.engine.plan import node_dimensions

    return int(node_dimensions(g, shapes)[g.output_node[0]])


@settings(max_examples=60, deadline=None)
@given(data=random_graphs(), seed=st.integers(0, 2**16), scope=st.sampled_from([None, "sample", "dataset"]))
def test_random_graphs_give_the_same_outputs_and_gradients(data: tuple[Graph, dict], seed: int,
                                                           scope: str | None) -> None:
    g, shapes = data
    g = builtin_only(g)
    if scope is not None:
        g = liftnn.compress(g, scope=scope)[0]
    assert_same(g, shapes, seed)


def _every_function_graph(act: str) -> tuple[Graph, dict]:
    """Every combine, weight kind (none, scalar, elementwise, matrix, dimension-1 broadcast), biases and
    multiplicities, with ``act`` on every inner node; positive inputs keep log and sqrt defined."""
    b = GraphBuilder()
    x, y = b.input([0.5, 0.25, 0.75]), b.input([0.2, 0.9, 0.4])
    one = b.input([0.3])
    h = {}
    for c in ("sum", "mean", "max", "min", "prod"):
        h[c] = b.node([(x, "M"), (y, "M"), (x, "M"), (one, "s"), (y, "e")], combine=c, act=act, bias="bv")
    cat = b.node([(h["sum"], None), (h["max"], "e"), (h["sum"], None)], combine="concat", act=act, bias="b")
    top = b.node([(cat, "R"), (h["mean"], None), (h["min"], "M"), (h["prod"], None), (one, None)],
                 combine="sum", act="sigmoid", bias="b")
    for node, sample in ((top, 0), (h["prod"], 1), (h["sum"], 2)):
        b.output(node, sample)
    shapes = {"M": (3, 3), "s": (), "e": (3,), "bv": (3,), "b": (), "R": (3, 9)}
    for label, shape in shapes.items():
        b.weight(label, shape)
    return b.build(), shapes


NATIVE_ACTS = [a for a in ACTIVATIONS if a in activation_names()]


@pytest.mark.parametrize("act", NATIVE_ACTS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_activation_combine_and_weight_kind(act: str, dtype: str) -> None:
    g, shapes = _every_function_graph(act)
    params = liftnn.init_params(g, shapes=shapes, seed=1, dtype=torch.float64)
    params = {k: (v.abs() * 0.5 + 0.1).detach() for k, v in params.items()}  # keep every value positive
    for scope in (None, "dataset"):
        graph = g if scope is None else liftnn.compress(g, scope=scope)[0]
        grad_out = np.random.default_rng(0).normal(size=(3, 3))
        y_ref, g_ref = torch_reference(graph, {k: v.to(getattr(torch, dtype)) for k, v in params.items()}, grad_out)
        engine = NativeEngine(graph, shapes, dtype)
        y, grads = engine.gradients(engine.pack(params), grad_out)
        tol = {"rtol": 1e-9, "atol": 1e-12} if dtype == "float64" else {"rtol": 2e-5, "atol": 1e-6}
        np.testing.assert_allclose(y, y_ref, **tol)
        for k in grads:
            np.testing.assert_allclose(grads[k], g_ref[k], **tol, err_msg=k)


@pytest.mark.parametrize("act", [a for a in NATIVE_ACTS if a != "softmax"])
def test_segments_equal_node_by_node_for_every_activation(act: str) -> None:
    """Nodes ``act(W · Σ c_e x_e / den + b)`` of one class on one level (sum and mean, multiplicities,
    a vector and a scalar bias, leaf and inner inputs, a rectangular ``W``) and unweighted sums and means
    ``act(Σ c_e x_e / den + b)``: run as segments and one by one."""
    b = GraphBuilder()
    xs = [b.input(v) for v in ([0.5, 0.25, 0.75], [0.2, 0.9, 0.4], [0.6, 0.1, 0.3])]
    inner = [b.node([(x, "E")], combine="sum", act="sigmoid") for x in xs]
    wide, narrow = [], []
    for i in range(7):
        a, c = (xs + inner)[i % 6], inner[(i + 1) % 3]
        combine = "mean" if i % 2 else "sum"
        wide.append(b.node([(a, "M")] * (1 + i % 3) + [(c, "M")], combine=combine, act=act, bias="bv"))
        narrow.append(b.node([(c, "R")], combine="sum", act=act, bias="b"))
    one = b.input([0.3])  # unweighted sums and means, a 1-wide input broadcast
    sums = [b.node([(wide[i], None), (wide[i + 1], None)] * (1 + i % 2) + [(one, None), (xs[i % 3], None)],
                   combine="mean" if i % 2 else "sum", act=act, bias="bv" if i % 3 else None) for i in range(5)]
    tops = [b.node([(v, "T") for v in wide + sums[:2]], combine="sum", act="sigmoid"),
            b.node([(v, "U") for v in narrow], combine="sum", act="sigmoid"),
            b.node([(v, "T") for v in wide[::2] + sums[2:]], combine="mean", act="sigmoid")]
    for s, top in enumerate(tops):
        b.output(top, s)
    shapes = {"E": (3,), "M": (3, 3), "R": (2, 3), "T": (1, 3), "U": (1, 2), "bv": (3,), "b": ()}
    for label, shape in shapes.items():
        b.weight(label, shape)
    g = b.build()
    kinds = NativeEngine(g, shapes, "float64", dense_min=2).batches([np.arange(3)], "batch-major").index.skind
    assert DENSE in kinds and SUMS in kinds  # the layers do run as dense segments and as sums
    assert_same(g, shapes, seed=3)


def _chain_graph(act: str) -> tuple[Graph, dict, int]:
    """Two dense layers in a row, ``act₂(B · act(A · Σ c_e x_e / den + a) + b)``: three such chains (sum and
    mean, multiplicities, a rectangular ``A`` and ``B``), three outer means listing their inner node twice
    (two edges: no chain), one chain of three layers (only its lower pair runs as a chain), an inner node
    read by two nodes and one that is an output (neither runs as a chain). Returns the graph, its
    shapes, and how many chains it holds where ``act``'s slope is a function of its value."""
    b = GraphBuilder()
    xs = [b.input(v) for v in ([0.5, 0.25, 0.75], [0.2, 0.9, 0.4], [0.6, 0.1, 0.3])]
    outer = []
    for i in range(6):
        inputs = [(xs[i % 3], "A"), (xs[(i + 1) % 3], "A")] * (1 + i % 2) + [(xs[(i + 2) % 3], "A")]
        inner = b.node(inputs, combine="mean" if i % 3 == 0 else "sum", act=act, bias="a")
        outer.append(b.node([(inner, "B")] * (1 + i % 2), combine="mean" if i % 2 else "sum", act="leaky_relu",
                            bias="b"))
    low = b.node([(xs[1], "A")], act=act, bias="a")
    middle = b.node([(low, "C")], act=act)
    outer.append(b.node([(middle, "B")], act="sigmoid"))
    shared = b.node([(xs[0], "A"), (xs[2], "A")], act=act)
    outer += [b.node([(shared, "B")], act="tanh"), b.node([(shared, "B")], act="tanh")]
    exposed = b.node([(xs[2], "A")], act=act, bias="a")
    outer.append(b.node([(exposed, "B")], act="tanh"))
    b.output(b.node([(h, "T") for h in outer[::2]], act="sigmoid"), 0)
    b.output(b.node([(h, "T") for h in outer[1::2]], act="sigmoid"), 1)
    b.output(exposed, 2)
    shapes = {"A": (4, 3), "a": (4,), "B": (2, 4), "b": (), "C": (4, 4), "T": (4, 2)}
    for label, shape in shapes.items():
        b.weight(label, shape)
    return b.build(), shapes, 0 if needs_pre.py_func(ACTIVATIONS.index(act)) else 4


@pytest.mark.parametrize("act", [a for a in NATIVE_ACTS if a != "softmax"])
def test_chains_of_two_dense_layers_run_as_one_segment(act: str) -> None:
    """A chain's inner values never reach their nodes, so the chain must compute what the two layers
    compute (outputs and gradients, against torch), in large groups (run as chains) and in small ones
    (batches of one output row: run layer by layer), on batch-major and shared tapes."""
    g, shapes, expected = _chain_graph(act)
    engine = NativeEngine(g, shapes, "float64", dense_min=2)
    found = engine.classes
    assert (found.inner >= 0).sum() == expected
    assert np.array_equal(found.chain >= 0, found.inner >= 0)
    kinds = engine.batches([np.arange(3)], "batch-major").index.skind
    assert (CHAIN in kinds and INNER in kinds) == (expected > 0)
    assert_same(g, shapes, seed=4)


def test_every_builtin_combine_and_activation_is_native() -> None:
    from liftnn.graph import combine_names, get_combine

    assert {get_combine(c).kind for c in combine_names() if get_combine(c).kind != "custom"} <= set(KINDS)
    assert set(NATIVE_ACTS) == {a for a in activation_names() if a in ACTIVATIONS}
    assert len(NATIVE_ACTS) >= 15


def test_ties_in_max_share_the_gradient_as_torch_does() -> None:
    b = GraphBuilder()
    x = b.input([1.0, 2.0])
    a1 = b.node([(x, None)], combine="sum", act="relu")
    a2 = b.node([(x, None)], combine="mean", act="relu")  # equal to a1: a tie in every component
    m = b.node([(a1, "w"), (a2, "w"), (x, "v")], combine="max", act="identity")
    b.output(m, 0)
    b.weight("w", ())
    b.weight("v", ())
    g = b.build()
    assert_same(g, {"w": (), "v": ()}, seed=0)


def _problem(samples: int = 24, seed: int = 0) -> Problem:
    """Random small molecules-like graphs: shared embeddings, two mean-aggregation layers, a sum readout."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    for lab, shape in {"E0": (4, 3), "E1": (4, 3), "W": (4, 4), "V": (4, 4), "r": (1, 4), "bh": (4,), "bo": ()}.items():
        b.weight(lab, shape)
    types = [b.input(row) for row in np.eye(3)]
    for s in range(samples):
        n = int(rng.integers(2, 6))
        atom = rng.integers(0, 3, n)
        h = [b.node([(types[t], f"E{t % 2}")], combine="sum", act="tanh", bias="bh") for t in atom]
        for layer, lab in enumerate(("W", "V")):
            nbrs = [[h[j] for j in range(n) if j != i and (i + j + layer) % 2 == 0] or [h[i]] for i in range(n)]
            h = [b.node([(h[i], lab)] + [(c, lab) for c in nbrs[i]], combine="mean", act="relu", bias="bh")
                 for i in range(n)]
        out = b.node([(v, "r") for v in h], combine="sum", act="sigmoid", bias="bo")
        b.output(out, s)
    g = b.build()
    return Problem.from_graph(g, rng.integers(0, 2, samples).astype(float))


@pytest.mark.parametrize("batch_size", [1, 5, 0])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("segments", [False, True])
def test_training_follows_the_torch_engine(batch_size: int, optimizer: str, loss: str, segments: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Step losses and final weights equal the torch engine's; with ``segments``, every class of two or more
    nodes on a level of a batch runs as a dense segment (these small batches stay below the default)."""
    problem = _problem()
    if segments:
        monkeypatch.setattr(runners, "NativeEngine", functools.partial(NativeEngine, dense_min=2))
        lifted = liftnn.compress(problem.graph, scope="dataset")[0]
        kinds = NativeEngine(lifted, dict(lifted.shapes), dense_min=2).batches([np.arange(5)]).index.skind
        assert DENSE in kinds and SUMS not in kinds  # the mean layers run densely
    rows = np.arange(problem.num_samples)
    epochs = 100 if batch_size == 0 else (5 if batch_size == 1 else 25)
    runs = {}
    for engine in ("torch", "native"):
        cfg = TrainConfig(epochs=epochs, lr=0.05, batch_size=batch_size, optimizer=optimizer, loss=loss,
                          dtype="float64", seed=4, engine=engine)
        params, hist = fit(problem, rows, cfg, test_rows=rows[:7])
        assert hist.engine == engine
        runs[engine] = (params, np.array(hist.step_loss), hist.test)
    assert runs["native"][1].size >= 100
    np.testing.assert_allclose(runs["native"][1], runs["torch"][1], rtol=1e-9, atol=1e-12)
    for k, v in runs["torch"][0].items():
        np.testing.assert_allclose(runs["native"][0][k].detach().numpy(), v.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert runs["native"][2]["loss"] == pytest.approx(runs["torch"][2]["loss"], rel=1e-9)


def test_cross_entropy_training_follows_the_torch_engine() -> None:
    problem = _problem()
    b = GraphBuilder()  # a 3-class head: readout rows of dimension 3 (logits)
    g = problem.graph
    shapes = dict(g.shapes)
    shapes["r"] = (3, 4)
    shapes["bo"] = (3,)
    g3 = dataclasses.replace(g, shapes=shapes, _cache={})
    del b
    targets = np.random.default_rng(1).integers(0, 3, problem.num_samples).astype(float)
    p3 = Problem.from_graph(g3, targets)
    curves = [np.array(fit(p3, np.arange(24), TrainConfig(epochs=6, lr=0.05, batch_size=4, loss="ce",
                                                           dtype="float64", engine=e))[1].step_loss)
              for e in ("torch", "native")]
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-9)


def test_untouched_weights_are_not_stepped_as_in_torch() -> None:
    """Adam's step count is per parameter: a weight the batch does not use keeps its moments and count."""
    b = GraphBuilder()
    x = b.input([1.0, -1.0])
    for s, lab in enumerate(("a", "b", "a", "a")):
        b.output(b.node([(x, lab)], combine="sum", act="tanh", bias="c"), s)
    for lab in "abc":
        b.weight(lab, (2,) if lab != "c" else ())
    problem = Problem.from_graph(b.build(), np.array([0.2, 0.9, -0.3, 0.5]))
    params = [fit(problem, np.arange(4), TrainConfig(epochs=20, lr=0.1, batch_size=1, dtype="float64",
                                                     engine=e, lift=False))[0] for e in ("torch", "native")]
    for k in "abc":
        np.testing.assert_allclose(params[1][k].detach().numpy(), params[0][k].detach().numpy(), rtol=1e-9)


def test_float32_training_agrees_within_rounding() -> None:
    problem = _problem(samples=40)
    curves = [np.array(fit(problem, np.arange(40), TrainConfig(epochs=10, lr=0.02, batch_size=4,
                                                               engine=e))[1].step_loss) for e in ("torch", "native")]
    np.testing.assert_allclose(curves[1], curves[0], rtol=2e-4, atol=1e-6)


def test_batches_restrict_to_exactly_what_their_outputs_need() -> None:
    from liftnn.graph.subgraph import select_outputs

    problem = _problem(samples=30)
    g = liftnn.compress(problem.graph, scope="dataset")[0]
    engine = NativeEngine(g, dict(g.shapes))
    rows = [np.arange(a, min(a + 7, 30)) for a in range(0, 30, 7)]
    batches = engine.batches(rows, layout="batch-major")
    index, leaves = batches.index, int(np.count_nonzero(batches.arrays.kind == 0))
    for k, r in enumerate(rows):
        sub = select_outputs(g, r)
        nodes = index.nodes[index.nptr[k] : index.nptr[k + 1]]
        assert np.array_equal(nodes, leaves + np.arange(index.nptr[k], index.nptr[k + 1]))  # one stretch each
        copied = batches.src[nodes]  # the engine's tape nodes the batch copies, each once
        assert np.unique(copied).size == copied.size == int(np.count_nonzero(~sub.is_leaf))
        # every input of a copied node is a shared leaf or a copy earlier in the same stretch
        a = batches.arrays
        for t in nodes:
            children = a.e_child[a.r_eptr[a.rptr[t]] : a.r_eptr[a.rptr[t + 1]]]
            assert np.all((children < leaves) | ((children >= nodes[0]) & (children < t)))
        used = {g.labels[i] for i in index.labels[index.lptr[k] : index.lptr[k + 1]]}
        assert used == {sub.labels[i] for i in np.unique(np.concatenate([sub.edge_label, sub.node_bias]))
                        if i >= 0}


def test_registered_functions_stay_on_the_torch_engine() -> None:
    liftnn.register_combine("test_native_lse", lambda t: torch.logsumexp(t, dim=1), symmetric=True, replace=True)
    b = GraphBuilder()
    x = b.input([1.0])
    b.output(b.node([(x, "w"), (x, None)], combine="test_native_lse"), 0)
    b.weight("w", ())
    g = b.build()
    with pytest.raises(NativeUnsupported, match="test_native_lse"):
        compile_tape(g, {"w": ()})
    assert choose_engine("auto", g, 1, "cpu") == "torch"
    with pytest.raises(ValueError, match="engine='torch'"):
        choose_engine("native", g, 1, "cpu")
    with pytest.raises(ValueError, match="CPU only"):
        choose_engine("native", _problem().graph, 1, "cuda")
    assert choose_engine("auto", _problem().graph, 3, "cpu") == "native"


def test_auto_engine_takes_torch_above_a_step_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _problem().graph
    assert runners.AUTO_NATIVE_MAX_NODES_PER_STEP is None  # measured: native wins every step on the CPU
    assert choose_engine("auto", graph, 1, "cpu") == "native"  # one step of every node
    monkeypatch.setattr(runners, "AUTO_NATIVE_MAX_NODES_PER_STEP", (graph.num_nodes + 1) // 2)
    assert choose_engine("auto", graph, 1, "cpu") == "torch"  # one step of every node: above the limit
    assert choose_engine("auto", graph, 2, "cpu") == "native"  # two steps of half: at it
    assert choose_engine("auto", graph, 1, "cpu", tasks=3) == "torch"


def test_zoo_models_on_real_molecules(mda_path: Path) -> None:
    from liftnn.data import graph_facts, read_nci_gi50
    from liftnn.data.encode import edge_type_predicates, node_type_predicates
    from liftnn.logic import build
    from liftnn.models import molecule_template

    data = read_nci_gi50(mda_path).subset(np.arange(40))
    for model, layers in (("gcn", 2), ("sage", 2), ("gin", 3), ("gcn_bonds", 2)):
        template = molecule_template(model, node_type_predicates(data), edge_type_predicates(data), layers, 4)
        problem = Problem.from_network(build(template, *graph_facts(data)), data.name)
        params = problem.init(0, torch.float64, None)
        shapes = {k: tuple(v.shape) for k, v in params.items()}
        g = liftnn.compress(problem.graph, scope="dataset")[0]
        y_ref, g_ref = torch_reference(g, params)
        engine = NativeEngine(g, shapes)
        y, grads = engine.gradients(engine.pack(params), np.ones_like(y_ref))
        np.testing.assert_allclose(y, y_ref, rtol=1e-9, atol=1e-12)
        for k in grads:
            np.testing.assert_allclose(grads[k], g_ref[k], rtol=1e-9, atol=1e-12, err_msg=f"{model} {k}")
        configs = [TrainConfig(epochs=3, lr=0.01, batch_size=1, dtype="float64", engine=e) for e in ("torch", "native")]
        curves = [np.array(fit(problem, np.arange(40), cfg)[1].step_loss) for cfg in configs]
        np.testing.assert_allclose(curves[1], curves[0], rtol=1e-9, err_msg=model)
