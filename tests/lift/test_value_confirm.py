"""Value lifting merges on the rounded values themselves: a hash that collides on every node
costs merges, never correctness."""

from __future__ import annotations

import numpy as np
import pytest

from liftnn import GraphBuilder, compress, verify
from liftnn.lift import ValueClashWarning
from liftnn.lift import value as value_module


def _graph():
    """20 sigmoid nodes over 10 distinct leaves, each leaf used twice through different labels
    that carry equal values only when the labels' draws are equal (never)."""
    b = GraphBuilder()
    nodes = []
    for i in range(10):
        x = b.input(0.1 * (i + 1))
        nodes += [b.node([(x, "w")], act="sigmoid"), b.node([(x, "w")], "mean", act="sigmoid")]
    b.outputs(nodes, range(len(nodes)))
    return b.build()


def test_colliding_hashes_never_merge_different_values(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _graph()
    with pytest.warns(ValueClashWarning, match="merged 10 node"):
        honest, honest_report = compress(g, "value", digits=15, scope="dataset")
    monkeypatch.setattr(value_module.RoundedValues, "hashes", lambda self: np.zeros(self.start.size, np.uint64))
    colliding, report = compress(g, "value", digits=15, scope="dataset")
    assert report.hash_collisions > 0
    assert colliding.num_nodes >= honest.num_nodes  # merges may be missed, never invented
    assert verify(g, colliding).ok
    assert honest_report.clashes == 10 and verify(g, honest).ok  # mean(w·x) = sum(w·x): true merges
