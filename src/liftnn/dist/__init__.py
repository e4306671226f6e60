"""Past one machine: content-keyed exact lifting, sharded build and lift on Dask, data-parallel training."""

from __future__ import annotations

from .api import compress_dataset, train_dataset
from .keys import content_keys
from .merge import KeyCollisionError, Shard, merge_keyed, merge_shards
from .shard import DistReport, MergeStats, ShardStats, sharded_compress
from .train import TrainResult, TrainSpec, data_parallel_train
from .work import Workload, resolve

__all__ = [
    "DistReport",
    "KeyCollisionError",
    "MergeStats",
    "Shard",
    "ShardStats",
    "TrainResult",
    "TrainSpec",
    "Workload",
    "compress_dataset",
    "content_keys",
    "data_parallel_train",
    "merge_keyed",
    "merge_shards",
    "resolve",
    "sharded_compress",
    "train_dataset",
]
