"""Past one machine: content-keyed exact lifting, sharded build and lift, data-parallel training."""

from __future__ import annotations

from .keys import content_keys
from .merge import KeyCollisionError, Shard, merge_shards

__all__ = ["KeyCollisionError", "Shard", "content_keys", "merge_shards"]
