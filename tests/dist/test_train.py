"""The pieces of data-parallel training that need no cluster: batch schedules and loss shares."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from liftnn.dist.shard import shard_ranges
from liftnn.dist.train import TrainSpec, batch_schedule, shard_share
from liftnn.train.metrics import loss_fn


def test_batch_schedule_visits_every_sample_once_per_epoch():
    steps = batch_schedule(23, 5, 10, seed=1)
    assert [b.size for b in steps[:5]].count(3) == 1
    epoch = np.sort(np.concatenate(steps[:5]))
    np.testing.assert_array_equal(epoch, np.arange(23))
    np.testing.assert_array_equal(np.sort(np.concatenate(steps[5:])), np.arange(23))
    assert [b.tolist() for b in steps[:5]] != [b.tolist() for b in steps[5:]]  # a fresh order each epoch
    assert all(b.size == 23 for b in batch_schedule(23, 0, 3, seed=1))


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_shares_of_the_shards_sum_to_the_batch_loss(loss):
    rng = np.random.default_rng(0)
    y = torch.as_tensor(rng.uniform(0.05, 0.95, (30, 1)))
    t = torch.as_tensor(rng.integers(0, 2, 30).astype(np.float64))
    batch = np.sort(rng.choice(30, 17, replace=False))
    total = sum(shard_share(loss, y[np.intersect1d(r, batch)], t[np.intersect1d(r, batch)],
                            np.intersect1d(r, batch).size / batch.size) for r in shard_ranges(30, 3))
    assert float(total) == pytest.approx(float(loss_fn(loss, y[batch], t[batch])), abs=1e-14)


def test_masked_multitask_shares_sum_to_the_mean_over_observed_targets():
    rng = np.random.default_rng(1)
    y = torch.as_tensor(rng.normal(size=(12, 4)))
    t = rng.normal(size=(12, 4))
    t[rng.random((12, 4)) < 0.4] = np.nan
    observed = ~np.isnan(t)
    expected = float(np.mean((y.numpy()[observed] - t[observed]) ** 2))
    total = sum(shard_share("mse", y[r], torch.as_tensor(t[r]), 1.0 / observed.sum()) for r in shard_ranges(12, 5))
    assert float(total) == pytest.approx(expected, abs=1e-14)


def test_bad_training_settings_are_refused():
    with pytest.raises(ValueError, match="optimizer"):
        TrainSpec(optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr"):
        TrainSpec(lr=0)
    with pytest.raises(ValueError, match="shards must be >= 1"):
        shard_ranges(10, 0)
