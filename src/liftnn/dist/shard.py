"""Sharded build and lift: each worker reads, grounds, neuralizes and lifts its shards; the
lifted shards are merged by key in a tree of pairwise merges on the workers.

The samples ``0..n-1`` are cut into contiguous shards. A worker receives a shard *reader*
(global line numbers of a line file, :mod:`liftnn.dist.source`), reads only those samples,
builds their graph, lifts it at dataset scope (within the shard) and keys the lifted nodes
(:mod:`liftnn.dist.keys`). The lifted shards are then merged pairwise (or ``fan_in`` at a
time), neighbours first, level by level (``S`` shards: ``S - 1`` pairwise merges in
``ceil(log2 S)`` levels), each merge a Dask task on the workers
(:func:`liftnn.dist.merge.merge_keyed`; associative, so the tree gives the one-pass
result node for node). The caller receives the final merged graph and the statistics only.
A worker holds one shard's unlifted graph at a time, its lifted shards, and while merging
two lifted inputs and their union (at the root: the whole lifted result).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np

from ..graph import Graph
from ..lift import compress
from ..logic import Template
from .cluster import peak_rss, worker_addresses, worker_name
from .keys import content_keys
from .merge import Shard, merge_keyed
from .source import ShardReader
from .work import Workload, build_shard


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
class MergeStats:
    """One pairwise merge on a worker: its level in the tree, input and output nodes and bytes, seconds."""

    level: int
    worker: str
    nodes_in: int
    nodes_out: int
    bytes_in: int
    bytes_out: int
    seconds: float
    peak_rss_bytes: int


@dataclass
class DistReport:
    """A sharded lift: totals, the merge, every shard's :class:`ShardStats` and every merge's
    :class:`MergeStats`. ``merge_seconds``: worker seconds of all merges; ``shuffle_bytes``: the
    bytes that enter the merges (the lifted shards and inner merge results with their keys, an
    upper bound on what crosses the network); ``merged_bytes``: the result the caller receives."""

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
    merges: list[MergeStats] = field(default_factory=list)

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


def lift_shard(template: Template, reader: ShardReader, shard: int = 0,
               sample_scope: bool = False) -> tuple[Shard, ShardStats]:
    """Read, build, lift (dataset scope within the shard) and key one shard (runs on a worker)."""
    t0 = time.perf_counter()
    graph = build_shard(template, reader)
    t1 = time.perf_counter()
    lifted, _ = compress(graph, scope="dataset")
    result = Shard(lifted, content_keys(lifted))
    t2 = time.perf_counter()
    per_sample = compress(graph, scope="sample")[0].num_nodes if sample_scope else None
    stats = ShardStats(shard, worker_name(), reader.num_samples, graph.num_nodes, graph.num_edges, per_sample,
                       lifted.num_nodes, lifted.num_edges, t1 - t0, t2 - t1, peak_rss(), result.nbytes)
    return result, stats


def merge_group(level: int, *parts: Shard) -> tuple[Shard, MergeStats]:
    """Merge neighbouring lifted shards by key (runs on a worker; a level of the merge tree)."""
    t0 = time.perf_counter()
    merged = merge_keyed(list(parts))
    stats = MergeStats(level, worker_name(), sum(p.graph.num_nodes for p in parts), merged.graph.num_nodes,
                       sum(p.nbytes for p in parts), merged.nbytes, time.perf_counter() - t0, peak_rss())
    return merged, stats


def tree_merge(client: Any, shards: list[Any], fan_in: int = 2) -> tuple[Any, list[Any]]:  # noqa: ANN401
    """Futures of the merged shard and of every merge's :class:`MergeStats`: ``shards``
    (futures of lifted shards, in order) merged ``fan_in`` neighbours at a time, level by
    level (``ceil(log_fan_in S)`` levels); a group of one goes up unmerged."""
    if fan_in < 2:
        raise ValueError(f"fan_in must be >= 2, got {fan_in}")
    stats = []
    level = 0
    while len(shards) > 1:
        level += 1
        nxt = []
        for i in range(0, len(shards), fan_in):
            group = shards[i : i + fan_in]
            if len(group) == 1:
                nxt.append(group[0])
                continue
            merged = client.submit(merge_group, level, *group, pure=False)
            nxt.append(client.submit(itemgetter(0), merged, pure=False))
            stats.append(client.submit(itemgetter(1), merged, pure=False))
        shards = nxt
    return shards[0], stats


def sharded_compress(work: Workload, client: Any, shards: int | None = None,  # noqa: ANN401
                     sample_scope: bool = False, fan_in: int = 2) -> tuple[Graph, DistReport]:
    """Lift ``work`` in shards on the cluster of ``client`` and merge them by key on the workers.

    ``shards`` defaults to the number of workers. The result is the graph that
    ``compress(work.build(all samples), scope="dataset")`` gives, node for node.
    ``sample_scope`` also reports each shard's size lifted per sample (one more lift per shard);
    ``fan_in``: shards per merge in the merge tree.
    """
    t0 = time.perf_counter()
    workers = len(worker_addresses(client))
    if not workers:
        raise RuntimeError("the cluster has no workers")
    ranges = shard_ranges(work.num_samples, shards or workers)
    template = client.scatter(work.template, broadcast=True)
    lifted = [client.submit(lift_shard, template, work.shard(ids), i, sample_scope, pure=False)
              for i, ids in enumerate(ranges)]
    root, merge_futures = tree_merge(client, [client.submit(itemgetter(0), f, pure=False) for f in lifted], fan_in)
    stats = client.gather([client.submit(itemgetter(1), f, pure=False) for f in lifted])
    merged = client.submit(attrgetter("graph"), root, pure=False).result()
    merges = client.gather(merge_futures)
    t2 = time.perf_counter()
    report = DistReport(
        workers=workers, samples=work.num_samples,
        nodes_before=sum(s.nodes for s in stats), edges_before=sum(s.edges for s in stats),
        nodes_shards=sum(s.nodes_lifted for s in stats),
        nodes_after=merged.num_nodes, edges_after=merged.num_edges,
        seconds=t2 - t0, merge_seconds=sum(m.seconds for m in merges), shuffle_bytes=sum(m.bytes_in for m in merges),
        merged_bytes=Shard(merged, np.zeros((merged.num_nodes, 2), np.uint64)).nbytes, shards=stats, merges=merges,
    )
    return merged, report
