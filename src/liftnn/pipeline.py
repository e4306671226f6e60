"""From a dataset argument and a model name to a trainable :class:`~liftnn.train.Problem`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .data import GraphSet, KnowledgeBase, graph_facts, kb_facts, load
from .data.encode import edge_type_predicates, node_type_predicates
from .logic import Template, build, load_dataset, load_template
from .models import MODELS, kbe_template, message_passing_graph, molecule_template
from .train import Problem

ZOO = (*MODELS, "kbe", "mp")


@dataclass
class ModelSpec:
    """Which model to unfold: a zoo name (or ``mp``, the direct message-passing builder)
    or a template file, with its sizes. ``None``: ``gcn`` for graphs, ``kbe`` for knowledge
    bases, the folder's ``template.txt`` for NeuraLogic files."""

    model: str | None = None
    layers: int | None = None
    dim: int = 10
    activation: str = "sigmoid"
    negatives: int = 1
    seed: int = 0


@dataclass
class Loaded:
    """A problem, its statistics, and (for templates) the template and knowledge base it came from."""

    problem: Problem
    stats: dict[str, object] = field(default_factory=dict)
    template: Template | None = None
    kb: KnowledgeBase | None = None


def _neuralogic_files(folder: Path) -> tuple[Path, Path] | None:
    for ex, q in (("examples.txt", "queries.txt"), ("examples", "queries"), ("trainExamples.txt", "trainQueries.txt")):
        if (folder / ex).exists() and (folder / q).exists():
            return folder / ex, folder / q
    return None


def load_problem(dataset: str | Path, spec: ModelSpec) -> Loaded:
    """Resolve ``dataset`` (a path or a bundled name) and build ``spec``'s model over it."""
    t0 = time.perf_counter()
    path = Path(dataset)
    files = _neuralogic_files(path) if path.is_dir() else None
    if files is not None:
        template_path = Path(spec.model) if spec.model and Path(spec.model).is_file() else path / "template.txt"
        if not template_path.is_file():
            raise ValueError(f"{path} holds NeuraLogic examples: pass --model TEMPLATE_FILE (no template.txt there)")
        template = load_template(template_path)
        facts, queries = load_dataset(*files)
        return _from_template(template, facts, queries, path.name, t0)
    data = load(dataset)
    spec = replace(spec, model=spec.model or ("kbe" if isinstance(data, KnowledgeBase) else "gcn"))
    template_file = Path(spec.model) if spec.model not in ZOO else None
    if template_file is not None and not template_file.is_file():
        raise ValueError(f"unknown model {spec.model!r}: a zoo name ({', '.join(ZOO)}) or a template file")
    if isinstance(data, KnowledgeBase):
        facts, queries = kb_facts(data, negatives=spec.negatives, seed=spec.seed)
        if template_file is None and spec.model not in ("kbe",):
            raise ValueError(f"{data.name} is a knowledge base: use --model kbe or a template file")
        template = (
            load_template(template_file)
            if template_file
            else kbe_template(
                data.entities, data.relations, dim=spec.dim, layers=spec.layers or 1, activation=spec.activation
            )
        )
        loaded = _from_template(template, facts, queries, data.name, t0, data.stats())
        loaded.kb = data
        return loaded
    assert isinstance(data, GraphSet)
    if spec.model == "mp":
        graph = message_passing_graph(data, layers=spec.layers or 2, dim=spec.dim, act=spec.activation)
        problem = Problem.from_graph(graph, data.y, data.name)
        return Loaded(problem, {"dataset": data.stats(), "build_seconds": time.perf_counter() - t0})
    if spec.model == "kbe":
        raise ValueError(f"{data.name} is a set of graphs: kbe is for knowledge bases")
    template = (
        load_template(template_file)
        if template_file
        else molecule_template(
            spec.model, node_type_predicates(data), edge_type_predicates(data), spec.layers, spec.dim, spec.activation
        )
    )
    facts, queries = graph_facts(data)
    return _from_template(template, facts, queries, data.name, t0, data.stats())


def _from_template(
    template: Template,
    facts,
    queries,
    name: str,
    t0: float,  # noqa: ANN001
    data_stats: dict | None = None,
) -> Loaded:
    network = build(template, facts, queries)
    problem = Problem.from_network(network, name, str(template))
    stats = {
        "dataset": data_stats or facts.stats(),
        "network": network.stats,
        "build_seconds": time.perf_counter() - t0,
    }
    return Loaded(problem, stats, template)
