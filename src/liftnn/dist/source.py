"""Where a worker's samples come from: each worker reads its own shard, never the whole input.

**Line files** (NCI-GI50 ``.txt`` / ``.txt.gz``, one molecule per line; the 70 screens of
``GI50_ALL`` and ``GI50_TASKS``): a sample is a non-empty line, numbered globally over the
files in order. Each file is *scanned* once (one task per file on the cluster): its count of
samples, labels, atom and bond type names (first appearance first), and for the multi-task
set a 128-bit digest of each line's fact list (a molecule is the text of its fact list). A
shard is then a list of global line numbers (:class:`LineShard`, ``8·k`` bytes for ``k``
samples): the worker streams the files that hold them and parses only those lines, so it
materialises its shard and nothing more.

**Other graph sets** (TUDataset folders, SMILES, SDF, bundled names): the caller holds the
set and a shard carries only its own graphs (:class:`SubsetShard`).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data import GraphSet, graph_facts
from ..data.gi50_all import cell_predicate, repeat_graphs
from ..data.nci import parse_nci_lines
from ..data.text import fail, require_file
from ..logic.facts import FactBase, QuerySet

#: Lines handled at a time while scanning (bounds a scan task's memory).
CHUNK = 20_000

#: A fact ``name(args)`` (only the name and whether it has two or more arguments matter to the scan).
_FACT = re.compile(r"([A-Za-z0-9_]+)\(([^()]*)\)")


class ShardReader(Protocol):
    """What a worker receives for a shard: enough to ground its samples, and no more."""

    @property
    def num_samples(self) -> int: ...

    def facts(self) -> tuple[FactBase, QuerySet]: ...


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of every non-empty line of ``path`` (gunzipped if ``.gz``), streamed;
    a broken gzip stream and bytes that are not UTF-8 are errors naming the file (and line)."""
    require_file(path)
    lineno = 0
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError as err:
                    fail(path, lineno, f"byte {raw[err.start:err.start + 1]!r} at column {err.start + 1} is not "
                         "UTF-8 text; save the file as UTF-8")
                if text.strip():
                    yield lineno, text
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        fail(path, lineno + 1 if lineno else None, f"not a readable gzip file ({err or 'truncated'})")


@dataclass(frozen=True)
class FileScan:
    """One line file: its sample ``count``, ``labels`` (``+``: 1), type names in order of first
    appearance, and (multi-task) ``digests``, ``uint64[count, 2]`` of each line's fact list."""

    path: str
    count: int
    labels: np.ndarray
    node_types: tuple[str, ...]
    edge_types: tuple[str, ...]
    digests: np.ndarray | None


def digest(body: str) -> tuple[int, int]:
    """A 128-bit digest of a fact list's text, as two unsigned 64-bit words."""
    d = hashlib.blake2b(body.encode(), digest_size=16).digest()
    return int.from_bytes(d[:8], "little"), int.from_bytes(d[8:], "little")


def scan_file(path: str | Path, digests: bool = False) -> FileScan:
    """Scan a line file (runs on a worker), streaming ``CHUNK`` lines at a time: the count, labels,
    type names and (if ``digests``) line digests. Only lines that bring a new fact name are
    parsed here; every line is parsed, and checked, when a shard reads it."""
    path = Path(path)
    nodes: dict[str, int] = {}
    edges: dict[str, int] = {}
    labels: list[bool] = []
    words: list[tuple[int, int]] = []
    chunk: list[tuple[int, str]] = []
    seen: set[tuple[str, bool]] = set()
    for item in iter_lines(path):
        chunk.append(item)
        if len(chunk) == CHUNK:
            _scan_chunk(path, chunk, nodes, edges, labels, words if digests else None, seen)
    if chunk:
        _scan_chunk(path, chunk, nodes, edges, labels, words if digests else None, seen)
    if not labels:
        fail(path, None, "the dataset is empty (no molecule lines)")
    return FileScan(str(path), len(labels), np.array(labels, dtype=bool), tuple(nodes), tuple(edges),
                    np.array(words, dtype=np.uint64).reshape(-1, 2) if digests else None)


def _scan_chunk(path: Path, chunk: list[tuple[int, str]], nodes: dict[str, int], edges: dict[str, int],
                labels: list[bool], words: list[tuple[int, int]] | None, seen: set[tuple[str, bool]]) -> None:
    """Labels and digests of every line; type names from the lines that bring a new one (parsed
    in full, in order, so the names are numbered by first appearance as a full parse does)."""
    for item in chunk:
        facts = {(name, "," in args) for name, args in _FACT.findall(item[1])}
        if not facts <= seen:
            parse_nci_lines(path, [item], nodes, edges)
            seen |= facts
    labels.extend(text.lstrip()[0] == "+" for _, text in chunk)
    if words is not None:
        words.extend(digest(text.strip()[1:].strip()) for _, text in chunk)
    chunk.clear()


def scan_files(files: list[Path], digests: bool, client: Any = None) -> list[FileScan]:  # noqa: ANN401
    """Scan ``files``: one task per file on ``client``'s cluster, or here without one."""
    if client is None:
        return [scan_file(f, digests) for f in files]
    return client.gather(client.map(scan_file, [str(f) for f in files], digests=digests, pure=False))


def first_occurrences(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, of)`` for the rows of ``uint64[n, 2]``: the first row of each distinct value,
    ascending (distinct values numbered by first appearance), and each row's number."""
    _, first, inverse = np.unique(words.view([("a", np.uint64), ("b", np.uint64)]).ravel(), return_index=True,
                                  return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(first.size, dtype=np.int64)
    number[order] = np.arange(first.size)
    return first[order], number[inverse.reshape(-1)]


@dataclass(frozen=True)
class LineSource:
    """Samples in line files (caller side): sample ``i`` is the global non-empty line ``lines[i]``
    (``lines`` ``None``: line ``i``); ``offsets[f]`` is the first global line of file ``f``;
    ``cells``: the cell line of each file, declared as a sample fact (screenings), or ``None``;
    ``multitask``: targets come from elsewhere (query targets NaN)."""

    files: tuple[str, ...]
    offsets: np.ndarray
    node_types: tuple[str, ...]
    edge_types: tuple[str, ...]
    cells: tuple[str, ...] | None = None
    multitask: bool = False
    lines: np.ndarray | None = None

    def shard(self, ids: np.ndarray) -> LineShard:
        return LineShard(self, ids if self.lines is None else self.lines[ids])


class LineShard:
    """The global line numbers of a shard's samples, with the (small) file table of the source;
    :meth:`facts` reads and parses exactly those lines (on a worker)."""

    def __init__(self, source: LineSource, lines: np.ndarray) -> None:
        self.source = LineSource(source.files, source.offsets, source.node_types, source.edge_types, source.cells,
                                 source.multitask, None)  # the file table, not the sample table
        self.lines = np.asarray(lines, dtype=np.int64)

    @property
    def num_samples(self) -> int:
        return int(self.lines.size)

    def read(self) -> tuple[GraphSet, np.ndarray]:
        """The shard's molecules in shard order, and the file of each."""
        src = self.source
        order = np.argsort(self.lines, kind="stable")
        lines = self.lines[order]
        file_of = np.searchsorted(src.offsets, lines, side="right") - 1
        parts = []
        for f in np.unique(file_of):
            path = Path(src.files[f])
            nodes = {n: i for i, n in enumerate(src.node_types)}
            edges = {n: i for i, n in enumerate(src.edge_types)}
            want = lines[file_of == f] - src.offsets[f]
            parts.append(parse_nci_lines(path, _pick(path, want), nodes, edges))
            if len(nodes) > len(src.node_types) or len(edges) > len(src.edge_types):
                fail(path, None, "has atom or bond types it did not have when it was scanned; was it changed?")
        data = _concat(parts)
        if np.any(order != np.arange(order.size)):
            data = repeat_graphs(data, np.argsort(order))
        return data, file_of[np.argsort(order)]

    def facts(self) -> tuple[FactBase, QuerySet]:
        data, file_of = self.read()
        facts, queries = graph_facts(data)
        if self.source.cells is not None:
            for c, name in enumerate(self.source.cells):  # every cell line, so that any shard grounds the template
                facts.add((cell_predicate(name), 0), np.flatnonzero(file_of == c)[:, None])
        if self.source.multitask:
            queries.target[:] = np.nan
        return facts, queries


def _pick(path: Path, want: np.ndarray) -> Iterator[tuple[int, str]]:
    """The non-empty lines of ``path`` with the ordinals ``want`` (ascending), streamed."""
    j, ordinal = 0, -1
    if not want.size:
        return
    for ordinal, item in enumerate(iter_lines(path)):
        if ordinal == want[j]:
            yield item
            j += 1
            if j == want.size:
                return
    fail(path, None, f"has fewer molecule lines ({ordinal + 1}) than when it was scanned; was it changed?")


def _concat(parts: list[GraphSet]) -> GraphSet:
    """The graph sets of ``parts`` one after another (they share their type tables)."""
    if len(parts) == 1:
        return parts[0]
    nodes = np.cumsum([0] + [p.num_nodes for p in parts])
    graphs = np.cumsum([0] + [p.num_graphs for p in parts])
    first = parts[0]
    return GraphSet(
        node_type=np.concatenate([p.node_type for p in parts]),
        graph=np.concatenate([p.graph + g for p, g in zip(parts, graphs[:-1], strict=True)]),
        edge_index=np.concatenate([p.edge_index + n for p, n in zip(parts, nodes[:-1], strict=True)], axis=1),
        edge_type=np.concatenate([p.edge_type for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        node_types=first.node_types, edge_types=first.edge_types, name=first.name,
    )


@dataclass(frozen=True)
class SubsetShard:
    """A shard of an in-memory graph set: only its own graphs."""

    data: GraphSet

    @property
    def num_samples(self) -> int:
        return self.data.num_graphs

    def facts(self) -> tuple[FactBase, QuerySet]:
        return graph_facts(self.data)


@dataclass(frozen=True)
class GraphSetSource:
    """Samples that are the graphs of an in-memory set (caller side)."""

    data: GraphSet

    def shard(self, ids: np.ndarray) -> SubsetShard:
        return SubsetShard(self.data.subset(ids))
