"""Workloads: samples ``0..n-1``, their template and targets, and how a shard of them is read.

The caller holds a :class:`Workload`; a worker receives only the template and a shard
reader (:mod:`liftnn.dist.source`), with which it reads and grounds its own samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data import GraphSet, load
from ..data.encode import predicate_name
from ..data.gi50_all import PATTERN, cell_line, cell_line_template, tasks_template
from ..graph import Graph
from ..logic import Template, build, load_template
from ..logic.facts import FactBase, QuerySet
from ..models import MODELS, molecule_template
from ..pipeline import ModelSpec, _zoo_graph_template
from .source import FileScan, GraphSetSource, LineSource, ShardReader, first_occurrences, scan_files

#: The lifting paper's model, the default of sharded lifting: a 2-layer GCN, sigmoid, width 10.
PAPER_GCN = ModelSpec("gcn", dim=10, activation="sigmoid")

#: Named workloads over the folder of all NCI-GI50 screens (``<data>/molecules/nci_gi50``).
GI50_WORKLOADS = {"GI50_ALL": "samples", "GI50_TASKS": "multitask"}

#: File suffixes :func:`liftnn.data.load` reads as something other than NCI-GI50 lines.
NOT_LINES = (".pt", ".pth", ".csv", ".sdf", ".sd")


class Source(Protocol):
    """The samples of a workload, caller side: ``shard(ids)`` is what a worker needs to read ``ids``."""

    def shard(self, ids: np.ndarray) -> ShardReader: ...


def build_shard(template: Template, reader: ShardReader) -> Graph:
    """The (unlifted) computation graph of a shard's samples, in shard order (runs on a worker)."""
    return build(template, *reader.facts()).graph


@dataclass(frozen=True)
class Workload:
    """``num_samples`` samples, one output each, for ``template``; ``source`` reads any shard of
    them; ``targets[n]`` or ``targets[n, tasks]`` (NaN: no target)."""

    name: str
    num_samples: int
    template: Template
    source: Source
    targets: np.ndarray

    def shard(self, ids: np.ndarray) -> ShardReader:
        """The reader of the samples ``ids`` (renumbered ``0..len(ids)-1``), to send to a worker."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_samples):
            raise IndexError(f"{self.name}: sample ids must lie in 0..{self.num_samples - 1}")
        return self.source.shard(ids)

    def facts(self, ids: np.ndarray) -> tuple[FactBase, QuerySet]:
        """Facts and queries of the samples ``ids`` (read here)."""
        return self.shard(ids).facts()

    def build(self, ids: np.ndarray) -> Graph:
        """The (unlifted) computation graph of the samples ``ids``, in that order (built here)."""
        return build_shard(self.template, self.shard(ids))


def graph_workload(data: GraphSet, template: Template) -> Workload:
    """One sample per graph of an in-memory ``data``."""
    return Workload(data.name, data.num_graphs, template, GraphSetSource(data), data.y)


def _types(scans: list[FileScan]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Atom and bond type names over all scans, first appearance first."""
    nodes = dict.fromkeys(t for s in scans for t in s.node_types)
    edges = dict.fromkeys(t for s in scans for t in s.edge_types)
    return tuple(nodes), tuple(edges)


def screens_workload(folder: Path, spec: ModelSpec, template: Template | None, multitask: bool,
                     client: Any = None) -> Workload:  # noqa: ANN401
    """All ``gi50_screen_*`` files of ``folder``: the screenings as samples (cell-line fact), or
    the multi-task set (one sample per distinct molecule: its first screening's line, with the
    masked share of positive screenings per cell line as its target)."""
    files = sorted(folder.glob(PATTERN))
    if not files:
        raise FileNotFoundError(f"{folder}: no {PATTERN} files")
    scans = scan_files(files, multitask, client)
    nodes, edges = _types(scans)
    atoms, bonds = [predicate_name(t) for t in nodes], [predicate_name(t, "b_") for t in edges]
    offsets = np.cumsum([0] + [s.count for s in scans])
    cells = tuple(cell_line(f) for f in files)
    labels = np.concatenate([s.labels for s in scans]).astype(np.float64)
    if not multitask:
        template = template or cell_line_template(atoms, bonds, cells, spec.model, spec.layers, spec.dim,
                                                  spec.activation)
        source = LineSource(tuple(map(str, files)), offsets, nodes, edges, cells=cells)
        return Workload(f"{folder.name} screenings", int(offsets[-1]), template, source, labels)
    first, molecule = first_occurrences(np.concatenate([s.digests for s in scans]))
    cell = np.repeat(np.arange(len(files)), [s.count for s in scans])
    total = np.zeros((first.size, len(files)))
    count = np.zeros((first.size, len(files)))
    np.add.at(total, (molecule, cell), labels)
    np.add.at(count, (molecule, cell), 1.0)
    with np.errstate(invalid="ignore"):
        tasks = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    template = template or tasks_template(atoms, bonds, len(files), spec.model, spec.layers, spec.dim,
                                          spec.activation)
    source = LineSource(tuple(map(str, files)), offsets, nodes, edges, multitask=True, lines=first)
    return Workload(f"{folder.name} ({first.size} molecules) multi-task", int(first.size), template, source, tasks)


def line_workload(path: Path, spec: ModelSpec, template: Template | None, client: Any = None) -> Workload:  # noqa: ANN401
    """An NCI-GI50 line file, one sample per line; workers read their own line ranges."""
    scan = scan_files([path], False, client)[0]
    atoms = [predicate_name(t) for t in scan.node_types]
    bonds = [predicate_name(t, "b_") for t in scan.edge_types]
    template = template or molecule_template(spec.model, atoms, bonds, spec.layers, spec.dim, spec.activation)
    source = LineSource((str(path),), np.array([0, scan.count]), scan.node_types, scan.edge_types)
    return Workload(path.name, scan.count, template, source, scan.labels.astype(np.float64))


def resolve(dataset: str | Path, spec: ModelSpec | None = None, data_root: Path | None = None,
            client: Any = None) -> Workload:  # noqa: ANN401
    """The workload of a dataset argument: ``GI50_ALL`` (213,612 screenings) or ``GI50_TASKS``
    (the multi-task set) from ``data_root/molecules/nci_gi50``, an NCI-GI50 line file (both:
    scanned once, on ``client``'s cluster if given, then read by workers shard by shard), or
    any other set of graphs that :func:`liftnn.data.load` reads; the model of ``spec`` (a zoo
    name or a template file; by default :data:`PAPER_GCN`), unset sizes taken from its preset
    as in :mod:`liftnn.pipeline`."""
    spec = (spec or PAPER_GCN).resolved(knowledge_base=False)
    if spec.model not in MODELS and not Path(spec.model).is_file():
        raise ValueError(f"--model {spec.model!r}: sharded lifting takes a zoo model ({', '.join(MODELS)}) "
                         "or a template file")
    file_template = load_template(spec.model) if spec.model not in MODELS else None
    if str(dataset).upper() in GI50_WORKLOADS and not Path(dataset).exists():
        if data_root is None:
            from ..bench.results import data_dir

            data_root = data_dir()
        multitask = GI50_WORKLOADS[str(dataset).upper()] == "multitask"
        return screens_workload(Path(data_root) / "molecules" / "nci_gi50", spec, file_template, multitask, client)
    path = Path(dataset)
    if path.is_file() and not any(path.name.endswith(s) for s in NOT_LINES):
        return line_workload(path, spec, file_template, client)
    data = load(dataset)
    if not isinstance(data, GraphSet):
        raise ValueError(f"{dataset}: sharded lifting takes a set of graphs (samples are sharded); "
                         f"this is a {type(data).__name__}")
    return graph_workload(data, file_template or _zoo_graph_template(data, spec))
