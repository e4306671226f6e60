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
    n["bcast"] = b.node([(y, None), (one, None)], combine="sum")  # broadcast: inlines into a sum, not through M
    n["plain_reader"] = b.node([(n["bcast"], None), (x, None)], combine="sum", act="tanh")
    n["bcast_w"] = b.node([(z, None), (one, None)], combine="sum")
    n["weighted_reader"] = b.node([(n["bcast_w"], "M")], combine="sum", act="tanh")
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
                                               "read_twice_a", "read_twice_b", "max")]
                      + [(n[k], None) for k in ("biased", "activated", "weighted_in", "mean")] + [(n["out"], "e")],
                      combine="sum", act="sigmoid")
    b.output(n["top"], 0)
    b.output(n["out"], 1)
    shapes = {"M": (3, 3), "T": (3, 3), "s": (), "e": (3,), "bv": (3,)}
    for label, shape in shapes.items():
        b.weight(label, shape)
    return b.build(), shapes, n, {"deep", "mid", "bcast", "scaled"}


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
