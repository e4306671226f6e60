"""``liftnn compress|train --workers/--address``: the commands on a cluster, and what they refuse."""

from __future__ import annotations

import json

from liftnn import compress
from liftnn.cli.main import main
from liftnn.dist.work import PAPER_GCN
from liftnn.pipeline import load_problem


def test_compress_and_train_on_a_running_cluster(client, capsys):
    address = client.scheduler.address
    assert main(["compress", "MUTAG", "--preset", "paper", "--address", address, "--shards", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    expected, _ = compress(load_problem("MUTAG", PAPER_GCN).problem.graph, scope="dataset")
    report = result["distributed"]
    assert (report["nodes_after"], report["edges_after"]) == (expected.num_nodes, expected.num_edges)
    assert len(report["shards"]) == 3 and report["samples"] == 188
    assert "sample scope" in result["runs"][0]["text"] and "shard scope" in result["runs"][0]["text"]
    assert "merge tree on the workers: 2 merge(s) in 2 level(s)" in result["runs"][0]["text"]
    assert main(["train", "MUTAG", "--preset", "paper", "--address", address, "--epochs", "4", "--dtype", "float64",
                 "--batch-size", "100"]) == 0
    text = capsys.readouterr().out
    assert "188 samples, 2 rank(s), 8 steps (4 epochs) of adam on mse" in text
    assert text.count("\nrank ") == 2 and "loss " in text


def test_flags_the_cluster_does_not_support_are_refused_by_name(capsys):
    assert main(["compress", "MUTAG", "--workers", "2", "--method", "value"]) == 2
    assert "liftnn: error: --method is not supported with --workers/--address" in capsys.readouterr().err
    assert main(["train", "MUTAG", "--workers", "2", "--checkpoint", "m.pt"]) == 2
    assert "--checkpoint is not supported with --workers/--address" in capsys.readouterr().err
