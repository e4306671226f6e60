"""Content keys name exact-lifting classes; merging lifted shards by key equals lifting the union."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lift.strategies import random_graphs
from liftnn import GraphBuilder, compress, evaluate, init_params
from liftnn.dist import KeyCollisionError, Shard, content_keys, merge_keyed, merge_shards
from liftnn.graph.subgraph import select_outputs
from liftnn.lift import exact_pass

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)


def _classes(labels: np.ndarray) -> np.ndarray:
    """Canonical class ids (numbered by first occurrence) of a labelling of the rows."""
    _, first, inverse = np.unique(labels, axis=0, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse.reshape(-1)]


def key_multiset(g) -> list[tuple[int, int]]:  # noqa: ANN001
    return sorted(map(tuple, content_keys(g).tolist()))


@PROPERTY
@given(random_graphs())
def test_equal_keys_iff_exact_lifting_merges(gs):
    """Without pruning one exact pass is final: its classes are exactly the classes of equal keys."""
    g, _ = gs
    rep = exact_pass(g, scope="dataset", prune=False).rep
    np.testing.assert_array_equal(_classes(content_keys(g)), _classes(rep))


@PROPERTY
@given(random_graphs())
def test_lifted_nodes_have_distinct_keys(gs):
    g, _ = gs
    lifted, _ = compress(g, scope="dataset")
    assert len(set(key_multiset(lifted))) == lifted.num_nodes


@PROPERTY
@given(random_graphs(), st.data())
def test_merging_lifted_shards_equals_lifting_the_union(gs, data):
    """Cut the samples into contiguous shards, lift each, merge by key: the same nodes (by key),
    node and edge counts and outputs as lifting all samples at once."""
    g, shapes = gs
    order = np.lexsort((np.arange(g.num_outputs), g.output_sample))
    whole = select_outputs(g, order)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(whole.num_samples - 1, 1)), max_size=3)))
    bounds = [0, *[c for c in cuts if c < whole.num_samples], whole.num_samples]
    shards = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        part = select_outputs(whole, np.flatnonzero((whole.output_sample >= lo) & (whole.output_sample < hi)))
        lifted, _ = compress(part, scope="dataset")
        shards.append(Shard(lifted, content_keys(lifted)))
    merged = merge_shards(shards)
    tree = shards[0]
    for right in shards[1:]:  # pairwise, nested: what the merge tree on the workers does
        tree = merge_keyed([tree, right])
    assert _arrays(tree.graph) == _arrays(merged)
    np.testing.assert_array_equal(tree.keys, content_keys(merged))
    expected, _ = compress(whole, scope="dataset")
    assert (merged.num_nodes, merged.num_edges) == (expected.num_nodes, expected.num_edges)
    assert key_multiset(merged) == key_multiset(expected)
    np.testing.assert_array_equal(merged.output_sample, expected.output_sample)
    params = init_params(g, shapes, seed=3, dtype=torch.float64)
    a = evaluate(merged, {k: params[k] for k in merged.labels}).detach().numpy()
    b = evaluate(expected, {k: params[k] for k in expected.labels}).detach().numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(b).max(initial=0.0)))


def _arrays(g) -> list:  # noqa: ANN001
    """Every array and table of a graph, for node-for-node equality."""
    return [(f.name, x.tolist() if isinstance(x, np.ndarray) else x)
            for f in fields(g) if not f.name.startswith("_") for x in [getattr(g, f.name)]]


def _sum_graph(value: float, act: str) -> Shard:
    b = GraphBuilder()
    x = b.input([value])
    b.output(b.node([(x, "w")], combine="sum", act=act), sample=0)
    g = b.build()
    return Shard(g, content_keys(g))


def test_keys_do_not_depend_on_label_tables_or_ids():
    """Keys hash names, not table indices: the same node keyed in two differently built graphs agrees."""
    b = GraphBuilder()
    x, y = b.input([1.0]), b.input([2.0])
    b.output(b.node([(y, "v"), (x, "w")], combine="sum", act="tanh"), sample=0)
    b2 = GraphBuilder()
    y2, x2 = b2.input([2.0]), b2.input([1.0])
    b2.output(b2.node([(x2, "w"), (y2, "v")], combine="sum", act="tanh"), sample=0)
    g, g2 = b.build(), b2.build()
    assert key_multiset(g) == key_multiset(g2)
    merged = merge_shards([Shard(g, content_keys(g)), Shard(g2, content_keys(g2))])
    assert merged.num_nodes == 3 and merged.num_samples == 2


def test_different_nodes_get_different_keys_and_stay_apart():
    merged = merge_shards([_sum_graph(1.0, "tanh"), _sum_graph(1.0, "sigmoid"), _sum_graph(-0.0, "tanh"),
                           _sum_graph(0.0, "tanh")])
    # leaves 1.0 and 0.0 (-0.0 is 0.0); tanh and sigmoid on 1.0; tanh on 0.0 (twice, merged)
    assert merged.num_nodes == 2 + 3
    assert merged.num_samples == 4


def test_a_key_collision_is_refused_not_merged():
    one, other = _sum_graph(1.0, "tanh"), _sum_graph(1.0, "sigmoid")
    forged = Shard(other.graph, one.keys.copy())
    with pytest.raises(KeyCollisionError, match="content-key collision"):
        merge_shards([one, forged])
