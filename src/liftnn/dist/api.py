"""One call each: sharded lifting and data-parallel training of a dataset on a cluster."""

from __future__ import annotations

from pathlib import Path

from ..graph import Graph
from ..pipeline import ModelSpec
from .cluster import connect
from .shard import DistReport, sharded_compress
from .train import TrainResult, TrainSpec, data_parallel_train
from .work import resolve


def compress_dataset(dataset: str | Path, workers: int = 2, address: str | None = None, shards: int | None = None,
                     spec: ModelSpec | None = None, sample_scope: bool = False) -> tuple[Graph, DistReport]:
    """Build and lift ``dataset`` with the model of ``spec`` (see :func:`liftnn.dist.work.resolve`) in ``shards`` shards
    (default: one per worker) on a local cluster of ``workers`` processes, or on the cluster
    at ``address``; merged by content key into the dataset-lifted graph."""
    with connect(workers, address) as client:
        return sharded_compress(resolve(dataset, spec, client=client), client, shards, sample_scope)


def train_dataset(dataset: str | Path, train: TrainSpec, workers: int = 2, address: str | None = None,
                  spec: ModelSpec | None = None) -> TrainResult:
    """Full-batch data-parallel training of ``dataset``: one rank per worker, each on its
    shard's lifted graph, gradients all-reduced (see :mod:`liftnn.dist.train`)."""
    with connect(workers, address) as client:
        return data_parallel_train(resolve(dataset, spec, client=client), client, train)
