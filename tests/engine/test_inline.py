"""Inlined sums: which nodes the native tape reads through, and that it computes the same."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import liftnn
from engine.test_native import assert_same, builtin_only
from lift.strategies import random_graphs
from liftnn import Graph, GraphBuilder
from liftnn.engine.inline import inline_sums
from liftnn.engine.plan import prepare
from liftnn.engine.tape import compile_tape, kind_codes


def _graph() -> tuple[Graph, dict, dict[str, int], set[str]]:
    """Every case of the rule: the nodes by name, and the names of those that inline."""
    b = GraphBuilder()
    x, y, z = b.input([0.5, 0.25, 0.75]), b.input([0.2, 0.9, 0.4]), b.input([0.6, 0.1, 0.3])
    one = b.input([0.3])
    n = {}
    n["deep"] = b.node([(x, None), (y, None), (x, None)], combine="sum")  # chain: deep -> mid -> a mean's matrix
    n["mid"] = b.node([(n["deep"], None), (z, None), (z, None)], combine="sum")
    n["dense"] = b.node([(n["mid"], "M"), (z, "M")], combine="mean", act="relu")
    n["bcast"] = b.node([(y, None), (one, None)], combine="sum")  # a constant broadcast: inlines into a sum
    n["plain_reader"] = b.node([(n["bcast"], None), (x, None)], combine="sum", act="tanh")
    n["bcast_w"] = b.node([(z, None), (one, None)], combine="sum")  # and through M: the run's constant
    n["weighted_reader"] = b.node([(n["bcast_w"], "M")], combine="sum", act="tanh")
    n["var"] = b.node([(one, "s")], combine="sum")  # a 1-wide node: a variable broadcast
    n["bcast_var"] = b.node([(z, None), (n["var"], None)], combine="sum")  # inlines into a sum only
    n["var_reader"] = b.node([(n["bcast_var"], "M")], combine="sum", act="tanh")
    n["through"] = b.node([(z, None), (one, None), (one, None)], combine="sum")  # z + 2·one, read by two sums
    n["through_a"] = b.node([(n["through"], "M"), (x, None)], combine="sum", act="tanh")
    n["through_b"] = b.node([(n["through"], None), (y, None)], combine="mean", act="sigmoid")
    n["through_max"] = b.node([(y, None), (one, None)], combine="sum")  # read by a max too: stays
    n["max_reader"] = b.node([(n["through_max"], None), (x, None)], combine="max")
    n["sum_reader"] = b.node([(n["through_max"], "M")], combine="sum")
    n["two_vars"] = b.node([(x, None), (z, None), (one, None)], combine="sum")  # two variable inputs, read twice
    n["two_vars_a"] = b.node([(n["two_vars"], "M")], combine="sum", act="tanh")
    n["two_vars_b"] = b.node([(n["two_vars"], None)], combine="sum", act="relu")
    n["scaled"] = b.node([(x, None), (z, None)], combine="sum")  # through a scalar weight
    n["scalar_reader"] = b.node([(n["scaled"], "s"), (y, "s")], combine="mean", act="sigmoid")
    n["shared"] = b.node([(x, None), (y, None)], combine="sum")  # read by two edges: stays
    n["read_twice_a"] = b.node([(n["shared"], "M")], combine="sum", act="tanh")
    n["read_twice_b"] = b.node([(n["shared"], "M")], combine="sum", act="sigmoid")
    n["into_max"] = b.node([(x, None), (z, None)], combine="sum")  # read by max: stays
    n["max"] = b.node([(n["into_max"], None), (y, None)], combine="max")
    n["biased"] = b.node([(x, None), (y, None)], combine="sum", bias="bv")  # a bias: stays
    n["activated"] = b.node([(x, None), (z, None)], combine="sum", act="tanh")  # an activation: stays
    n["weighted_in"] = b.node([(x, "M"), (z, None)], combine="sum")  # a weighted input: stays
    n["mean"] = b.node([(x, None), (z, None)], combine="mean")  # a mean: stays
    n["out"] = b.node([(x, None), (y, None)], combine="sum")  # an output: stays
    n["top"] = b.node([(n[k], "T") for k in ("dense", "plain_reader", "weighted_reader", "scalar_reader",
                                               "read_twice_a", "read_twice_b", "max", "var_reader", "through_a",
                                               "through_b", "max_reader", "sum_reader", "two_vars_a", "two_vars_b")]
                      + [(n[k], None) for k in ("biased", "activated", "weighted_in", "mean")] + [(n["out"], "e")],
                      combine="sum", act="sigmoid")
    b.output(n["top"], 0)
    b.output(n["out"], 1)
    shapes = {"M": (3, 3), "T": (3, 3), "s": (), "e": (3,), "bv": (3,)}
    for label, shape in shapes.items():
        b.weight(label, shape)
    return b.build(), shapes, n, {"deep", "mid", "bcast", "bcast_w", "scaled", "through"}


def test_plain_sums_read_once_by_sums_and_means_inline() -> None:
    g, shapes, names, inlined = _graph()
    result = inline_sums(g, prepare(g, shapes), kind_codes(g))
    assert {k for k, v in names.items() if result.inlined[v]} == inlined
    p = result.prepared
    # the dense node reads x, y, x (deep's), z, z (mid's) and its own z, all through M
    dense = p.parent == names["dense"]
    assert sorted(p.child[dense].tolist()) == [0, 0, 1, 2, 2, 2]
    assert np.all(p.lab[dense] == g.labels.index("M"))
    # the mean still divides by its own inputs' multiplicity (2), not by what it reads through ``scaled``
    assert result.denom[names["dense"]] == 2 and result.denom[names["scalar_reader"]] == 2
    assert not np.isin(p.child, [names[k] for k in inlined]).any()
    # a constant broadcast moves up as a folded edge of the run it joins (3 wide), also through M
    for reader, want in (("weighted_reader", [(2, False, 1), (3, True, 1)]),
                         ("through_a", [(0, False, 1), (2, False, 1), (3, True, 1), (3, True, 1)]),
                         ("through_b", [(1, False, 1), (2, False, 1), (3, True, 1), (3, True, 1)])):
        e = np.flatnonzero(p.parent == names[reader])
        got = sorted(zip(p.child[e].tolist(), result.folded[e].tolist(), p.count[e].tolist(), strict=True))
        assert got == want, reader
        assert np.all(result.in_dim[e] == 3)
    # a variable broadcast inlines into a sum, never through a matrix
    assert not result.inlined[names["bcast_var"]] and result.inlined[names["var"]] is np.False_


def test_folded_constants_become_run_constants() -> None:
    """The tape keeps a folded constant as its run's constant: weighted_reader's run reads z alone and adds
    0.3 (one's value) to every component before M; through_a's M run reads z and adds 2 · 0.3."""
    g, shapes, names, _ = _graph()
    tape = compile_tape(g, shapes)
    t = tape.arrays
    tix = {int(v): i for i, v in enumerate(tape.node.tolist())}
    for reader, const in (("weighted_reader", 0.3), ("through_a", 0.6)):
        runs = range(t.rptr[tix[names[reader]]], t.rptr[tix[names[reader]] + 1])
        weighted = [r for r in runs if t.r_lab[r] >= 0]
        assert len(weighted) == 1
        r = weighted[0]
        assert t.r_const[r] == np.float64(const) or abs(t.r_const[r] - const) < 1e-12
        assert [int(tape.node[c]) for c in t.e_child[t.r_eptr[r] : t.r_eptr[r + 1]]] == [2]


def test_the_inlined_tape_computes_what_the_graph_does() -> None:
    g, shapes, names, inlined = _graph()
    tape, full = compile_tape(g, shapes), compile_tape(g, shapes, inline=False)
    assert tape.arrays.kind.size == full.arrays.kind.size - len(inlined)
    assert tape.arrays.e_child.size < full.arrays.e_child.size
    assert_same(g, shapes, seed=5)
    lifted = liftnn.compress(g, scope="dataset")[0]  # multiplicities: x twice in deep, z twice in mid
    result = inline_sums(lifted, prepare(lifted, shapes), kind_codes(lifted))
    dense = result.prepared.parent == np.flatnonzero(result.prepared.node_kind == "mean")[0]
    assert sorted(result.prepared.count[dense].tolist()) == [1, 1, 2, 2]
    assert_same(lifted, shapes, seed=6)


@settings(max_examples=40, deadline=None)
@given(data=random_graphs(), seed=st.integers(0, 2**16))
def test_inlining_never_adds_edges_and_keeps_outputs(data: tuple[Graph, dict], seed: int) -> None:
    g, shapes = data
    g = builtin_only(g)
    from liftnn.engine.native import NativeEngine

    inlined, plain = NativeEngine(g, shapes, inline=True), NativeEngine(g, shapes, inline=False)
    assert inlined.arrays.e_child.size <= plain.arrays.e_child.size
    params = liftnn.init_params(g, shapes=shapes, seed=seed)
    np.testing.assert_allclose(inlined.outputs(inlined.pack(params)), plain.outputs(plain.pack(params)),
                               rtol=1e-9, atol=1e-12, equal_nan=True)
