"""On a local 2-worker Dask cluster: sharded lifting of MDA and data-parallel training equal one process."""

from __future__ import annotations

import gzip
from dataclasses import replace

import numpy as np
import pytest
import torch

from dist.test_keys import key_multiset
from liftnn import compress, evaluate, init_params
from liftnn.dist import compress_dataset
from liftnn.dist.cluster import connect
from liftnn.dist.shard import sharded_compress
from liftnn.dist.train import TrainSpec, batch_schedule, data_parallel_train, initial_params
from liftnn.dist.work import PAPER_GCN, resolve
from liftnn.graph.subgraph import select_outputs
from liftnn.logic import build
from liftnn.pipeline import load_problem
from liftnn.train import Problem, TrainConfig, fit
from liftnn.train.metrics import loss_fn


def test_sharded_lifting_of_mda_equals_single_process(client, mda_path):
    work = resolve(mda_path)
    merged, report = sharded_compress(work, client)
    whole = load_problem(mda_path, PAPER_GCN).problem.graph
    expected, _ = compress(whole, scope="dataset")
    assert len({s.worker for s in report.shards}) == 2
    assert (report.nodes_before, report.edges_before) == (whole.num_nodes, whole.num_edges)
    assert (merged.num_nodes, merged.num_edges) == (expected.num_nodes, expected.num_edges)
    assert report.nodes_shards > merged.num_nodes  # the shards shared classes that the merge collapsed
    assert key_multiset(merged) == key_multiset(expected)
    params = init_params(expected, seed=5, dtype=torch.float64)
    a, b = evaluate(merged, params).detach().numpy(), evaluate(expected, params).detach().numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_key_merge_is_a_tree_on_the_workers(client, mda_path, tmp_path):
    """5 shards of a line file, each read by its worker: 4 pairwise merges in 3 levels, all on
    workers; the caller gets the graph of single-process dataset-scope lifting, node for node."""
    with gzip.open(mda_path, "rt") as fh:
        lines = [line for line in fh if line.strip()][:150]
    path = tmp_path / "mda150.txt"
    path.write_text("".join(lines))
    work = resolve(path, client=client)
    merged, report = sharded_compress(work, client, shards=5)
    workers = set(client.nthreads())
    assert sorted(m.level for m in report.merges) == [1, 1, 2, 3]
    assert {m.worker for m in report.merges} <= workers and {s.worker for s in report.shards} <= workers
    assert report.shuffle_bytes == sum(m.bytes_in for m in report.merges) > report.merged_bytes
    assert report.merges[-1].nodes_out == merged.num_nodes < report.nodes_shards
    expected, _ = compress(load_problem(path, PAPER_GCN).problem.graph, scope="dataset")
    assert (merged.num_nodes, merged.num_edges) == (expected.num_nodes, expected.num_edges)
    assert key_multiset(merged) == key_multiset(expected)
    params = init_params(expected, seed=2, dtype=torch.float64)
    np.testing.assert_allclose(evaluate(merged, params).detach().numpy(), evaluate(expected, params).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    wide, report = sharded_compress(work, client, shards=5, fan_in=3)  # [abc, de], then the root
    assert sorted(m.level for m in report.merges) == [1, 1, 2]
    assert key_multiset(wide) == key_multiset(expected) and wide.num_edges == expected.num_edges


def test_data_parallel_training_equals_single_process(client, mda_path):
    """2 ranks, each on its shard's lifted graph, 25 Adam steps: the parameters and losses of
    single-process full-batch training (liftnn.train.fit), float64, within 1e-9."""
    work = resolve(mda_path)
    n = 240
    work = replace(work, num_samples=n, targets=work.targets[:n])
    spec = TrainSpec(steps=25, lr=0.05, optimizer="adam", loss="mse", dtype="float64", seed=2)
    result = data_parallel_train(work, client, spec)
    assert [r["samples"] for r in result.ranks] == [n // 2, n // 2]
    problem = Problem.from_network(build(work.template, *work.facts(np.arange(n))))
    config = TrainConfig(epochs=spec.steps, lr=spec.lr, optimizer="adam", loss="mse", dtype="float64", seed=2,
                         engine="torch")
    params, history = fit(problem, np.arange(n), config)
    np.testing.assert_allclose(result.losses, history.step_loss, rtol=0, atol=1e-9)
    assert result.losses[-1] < result.losses[0]
    for label, value in params.items():
        np.testing.assert_allclose(result.params[label], value.detach().numpy(), rtol=0, atol=1e-9, err_msg=label)


def test_joining_a_running_cluster_by_address(client):
    """compress_dataset(address=...) joins the scheduler instead of starting a cluster."""
    merged, report = compress_dataset("MUTAG", address=client.scheduler.address, shards=3)
    assert report.workers == 2 and len(report.shards) == 3
    expected, _ = compress(load_problem("MUTAG", PAPER_GCN).problem.graph, scope="dataset")
    assert (merged.num_nodes, merged.num_edges) == (expected.num_nodes, expected.num_edges)
    assert key_multiset(merged) == key_multiset(expected)


def test_what_cannot_be_sharded_is_refused_clearly():
    with pytest.raises(ValueError, match="sharded lifting takes a set of graphs"):
        resolve("NATIONS")
    with pytest.raises(ValueError, match="--workers must be >= 1"), connect(workers=0):
        pass


def test_mini_batch_data_parallel_training_equals_single_process(client, mda_path):
    """Batches of 50 straddle the two shards unevenly; 24 Adam steps equal a plain single-process
    loop over the same batches on the dataset-lifted graph of all samples (float64, 1e-9)."""
    work = resolve(mda_path)
    n = 240
    work = replace(work, num_samples=n, targets=work.targets[:n])
    spec = TrainSpec(steps=24, lr=0.05, optimizer="adam", batch_size=50, seed=4)
    result = data_parallel_train(work, client, spec)
    whole, _ = compress(work.build(np.arange(n)), scope="dataset")
    params = initial_params(work, spec.seed)
    opt = torch.optim.Adam([p for p in params.values() if p.requires_grad], lr=spec.lr)
    targets = torch.as_tensor(work.targets, dtype=torch.float64)
    losses = []
    for batch in batch_schedule(n, 50, spec.steps, spec.seed):
        opt.zero_grad()
        loss = loss_fn("mse", evaluate(select_outputs(whole, batch), params), targets[batch])
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    np.testing.assert_allclose(result.losses, losses, rtol=0, atol=1e-9)
    for label, value in params.items():
        np.testing.assert_allclose(result.params[label], value.detach().numpy(), rtol=0, atol=1e-9, err_msg=label)
