"""Reordering every output equals selecting every output: the same rows, samples and values."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import liftnn
from lift.strategies import random_graphs
from liftnn.graph.subgraph import reorder_outputs, select_outputs


@settings(max_examples=30, deadline=None)
@given(data=random_graphs(), seed=st.integers(0, 2**16))
def test_reorder_outputs_equals_select_outputs(data: tuple, seed: int) -> None:
    g, shapes = data
    perm = np.random.default_rng(seed).permutation(g.num_outputs)
    a, b = reorder_outputs(g, perm), select_outputs(g, perm)
    np.testing.assert_array_equal(a.output_sample, b.output_sample)
    assert a.num_samples == b.num_samples
    params = liftnn.init_params(g, shapes=shapes, seed=seed, dtype=torch.float64)
    torch.testing.assert_close(liftnn.evaluate(a, params), liftnn.evaluate(b, params))
    torch.testing.assert_close(liftnn.evaluate(a, params), liftnn.evaluate(g, params)[perm])
