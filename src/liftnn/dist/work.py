"""Workloads: samples ``0..n-1`` and how a worker grounds any shard of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..data import GraphSet, graph_facts, load
from ..data.gi50_all import (
    Screens,
    multitask_facts,
    multitask_template,
    read_gi50_screens,
    sample_facts,
    sample_template,
)
from ..graph import Graph
from ..logic import Template, build, load_template
from ..logic.facts import FactBase, QuerySet
from ..models import MODELS
from ..pipeline import ModelSpec, _zoo_graph_template

#: The lifting paper's model, the default of sharded lifting: a 2-layer GCN, sigmoid, width 10.
PAPER_GCN = ModelSpec("gcn", dim=10, activation="sigmoid")

#: Named workloads over the folder of all NCI-GI50 screens (``<data>/molecules/nci_gi50``).
GI50_WORKLOADS = {"GI50_ALL": "samples", "GI50_TASKS": "multitask"}


@dataclass(frozen=True)
class Workload:
    """``num_samples`` samples, one output each; ``facts(ids)`` grounds the samples ``ids``
    (renumbered ``0..len(ids)-1``) for ``template``; ``targets[n]`` or ``targets[n, tasks]``
    (NaN: no target)."""

    name: str
    num_samples: int
    template: Template
    facts: Callable[[np.ndarray], tuple[FactBase, QuerySet]]
    targets: np.ndarray

    def build(self, ids: np.ndarray) -> Graph:
        """The (unlifted) computation graph of the samples ``ids``, in that order."""
        return build(self.template, *self.facts(np.asarray(ids, dtype=np.int64))).graph


def _subset_facts(data: GraphSet, ids: np.ndarray) -> tuple[FactBase, QuerySet]:
    return graph_facts(data.subset(ids))


def graph_workload(data: GraphSet, template: Template) -> Workload:
    """One sample per graph of ``data``."""
    return Workload(data.name, data.num_graphs, template, partial(_subset_facts, data), data.y)


def screens_workload(screens: Screens, template: Template, multitask: bool) -> Workload:
    """The screenings as samples (cell-line fact), or the multi-task set (one sample per molecule)."""
    if multitask:
        return Workload(f"{screens.molecules.name} multi-task", screens.molecules.num_graphs, template,
                        partial(multitask_facts, screens), screens.tasks())
    return Workload(f"{screens.molecules.name} screenings", screens.num_samples, template,
                    partial(sample_facts, screens), screens.label)


def resolve(dataset: str | Path, spec: ModelSpec | None = None, data_root: Path | None = None) -> Workload:
    """The workload of a dataset argument: ``GI50_ALL`` (213,612 screenings) or ``GI50_TASKS``
    (the multi-task set) read from ``data_root/molecules/nci_gi50``, or any set of graphs that
    :func:`liftnn.data.load` reads; the model of ``spec`` (a zoo name or a template file; by
    default :data:`PAPER_GCN`), unset sizes taken from its preset as in :mod:`liftnn.pipeline`."""
    spec = (spec or PAPER_GCN).resolved(knowledge_base=False)
    if spec.model not in MODELS and not Path(spec.model).is_file():
        raise ValueError(f"--model {spec.model!r}: sharded lifting takes a zoo model ({', '.join(MODELS)}) "
                         "or a template file")
    file_template = load_template(spec.model) if spec.model not in MODELS else None
    if str(dataset).upper() in GI50_WORKLOADS:
        if data_root is None:
            from ..bench.results import data_dir

            data_root = data_dir()
        screens = read_gi50_screens(Path(data_root) / "molecules" / "nci_gi50")
        multitask = GI50_WORKLOADS[str(dataset).upper()] == "multitask"
        make = multitask_template if multitask else sample_template
        template = file_template or make(screens, spec.model, spec.layers, spec.dim, spec.activation)
        return screens_workload(screens, template, multitask)
    data = load(dataset)
    if not isinstance(data, GraphSet):
        raise ValueError(f"{dataset}: sharded lifting takes a set of graphs (samples are sharded); "
                         f"this is a {type(data).__name__}")
    return graph_workload(data, file_template or _zoo_graph_template(data, spec))
