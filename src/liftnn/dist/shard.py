"""Sharded build and lift: ground, neuralize and lift each shard of samples on a worker, merge by key.

The samples ``0..n-1`` are cut into contiguous shards. A worker builds its shard's graph,
lifts it at dataset scope (within the shard), computes the content keys of the lifted nodes
(:mod:`liftnn.dist.keys`) and sends back only the lifted shard; the client merges the lifted
shards by key (:func:`liftnn.dist.merge.merge_shards`). A worker holds one shard's unlifted
graph at a time; the client holds the lifted shards and the merged result.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..graph import Graph
from ..lift import compress
from .cluster import peak_rss, worker_addresses, worker_name
from .keys import content_keys
from .merge import Shard, merge_shards
from .work import Workload


@dataclass
class ShardStats:
    """One shard on its worker: sizes before and after lifting, seconds, peak memory."""

    shard: int
    worker: str
    samples: int
    nodes: int
    edges: int
    nodes_sample_scope: int | None
    nodes_lifted: int
    edges_lifted: int
    build_seconds: float
    lift_seconds: float
    peak_rss_bytes: int
    sent_bytes: int


@dataclass
class DistReport:
    """A sharded lift: totals, the merge, and every shard's :class:`ShardStats`."""

    workers: int
    samples: int
    nodes_before: int
    edges_before: int
    nodes_shards: int
    nodes_after: int
    edges_after: int
    seconds: float
    merge_seconds: float
    shuffle_bytes: int
    merged_bytes: int
    shards: list[ShardStats] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.nodes_before / max(self.nodes_after, 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (f"{self.samples} samples on {self.workers} worker(s), {len(self.shards)} shard(s): "
                f"{self.nodes_before:,} nodes, {self.edges_before:,} edges -> shards lifted {self.nodes_shards:,} "
                f"nodes -> merged {self.nodes_after:,} nodes, {self.edges_after:,} edges ({self.ratio:.1f}x) "
                f"in {self.seconds:.2f} s; shuffle {self.shuffle_bytes / 2**20:.1f} MiB")


def shard_ranges(n: int, shards: int) -> list[np.ndarray]:
    """``shards`` contiguous, near-equal ranges of ``0..n-1`` (empty ones dropped)."""
    if shards < 1:
        raise ValueError(f"shards must be >= 1, got {shards}")
    return [ids for ids in np.array_split(np.arange(n, dtype=np.int64), shards) if ids.size]


def lift_shard(work: Workload, ids: np.ndarray, shard: int = 0, sample_scope: bool = False) -> tuple[Shard, ShardStats]:
    """Build, lift (dataset scope within the shard) and key the samples ``ids`` (runs on a worker)."""
    t0 = time.perf_counter()
    graph = work.build(ids)
    t1 = time.perf_counter()
    lifted, _ = compress(graph, scope="dataset")
    result = Shard(lifted, content_keys(lifted))
    t2 = time.perf_counter()
    per_sample = compress(graph, scope="sample")[0].num_nodes if sample_scope else None
    stats = ShardStats(shard, worker_name(), int(ids.size), graph.num_nodes, graph.num_edges, per_sample,
                       lifted.num_nodes, lifted.num_edges, t1 - t0, t2 - t1, peak_rss(), result.nbytes)
    return result, stats


def sharded_compress(work: Workload, client: Any, shards: int | None = None,  # noqa: ANN401
                     sample_scope: bool = False) -> tuple[Graph, DistReport]:
    """Lift ``work`` in shards on the cluster of ``client`` and merge them by key.

    ``shards`` defaults to the number of workers. The result is the graph that
    ``compress(work.build(all samples), scope="dataset")`` gives, node for node.
    ``sample_scope`` also reports each shard's size lifted per sample (one more lift per shard).
    """
    t0 = time.perf_counter()
    workers = len(worker_addresses(client))
    if not workers:
        raise RuntimeError("the cluster has no workers")
    ranges = shard_ranges(work.num_samples, shards or workers)
    remote = client.scatter(work, broadcast=True)
    futures = [client.submit(lift_shard, remote, ids, i, sample_scope, pure=False) for i, ids in enumerate(ranges)]
    results = client.gather(futures)
    t1 = time.perf_counter()
    merged = merge_shards([s for s, _ in results])
    t2 = time.perf_counter()
    stats = [st for _, st in results]
    report = DistReport(
        workers=workers, samples=work.num_samples,
        nodes_before=sum(s.nodes for s in stats), edges_before=sum(s.edges for s in stats),
        nodes_shards=sum(s.nodes_lifted for s in stats),
        nodes_after=merged.num_nodes, edges_after=merged.num_edges,
        seconds=t2 - t0, merge_seconds=t2 - t1, shuffle_bytes=sum(s.sent_bytes for s in stats),
        merged_bytes=Shard(merged, np.zeros((merged.num_nodes, 2), np.uint64)).nbytes, shards=stats,
    )
    return merged, report
