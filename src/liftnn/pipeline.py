"""From a dataset argument and a model name to a trainable :class:`~liftnn.train.Problem`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .data import GraphSet, KnowledgeBase, graph_facts, kb_facts, load
from .data.encode import edge_type_predicates, node_type_predicates
from .logic import Template, build, load_dataset, load_template
from .models import MODELS, infer_schema, kbe_template, message_passing_graph, molecule_facts, molecule_template
from .train import Problem

ZOO = (*MODELS, "kbe", "mp")


@dataclass(frozen=True)
class Preset:
    """Defaults of the model and of training; every field can be overridden on its own.

    ``default`` learns well out of the box: for graphs the zoo's ``gine`` (GIN with
    bond-type messages: ReLU, sum aggregation, biases, 3 layers of width 32, an average
    readout into a sigmoid output), binary cross-entropy, 200 epochs of Adam at lr
    0.01. ``paper`` is the lifting paper's set-up: a 2-layer GCN with sigmoids and
    width 10, MSE, 100 epochs at lr 0.01. Neither stops early unless asked.
    """

    graph_model: str
    dim: int
    activation: str
    epochs: int
    lr: float
    loss: str
    patience: int
    val_fraction: float

    def train_settings(self) -> dict[str, object]:
        """The :class:`~liftnn.train.TrainConfig` fields this preset sets."""
        return {"epochs": self.epochs, "lr": self.lr, "loss": self.loss, "patience": self.patience}


PRESETS = {
    "default": Preset("gine", 32, "relu", 200, 0.01, "bce", 0, 0.1),
    "paper": Preset("gcn", 10, "sigmoid", 100, 0.01, "mse", 0, 0.1),
}


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


@dataclass
class ModelSpec:
    """Which model to unfold: a zoo name (or ``mp``, the direct message-passing builder)
    or a template file, with its sizes. ``None`` takes the preset's value (the model:
    the preset's graph model for graphs, ``kbe`` for knowledge bases, the folder's
    ``template.txt`` for NeuraLogic files)."""

    model: str | None = None
    layers: int | None = None
    dim: int | None = None
    activation: str | None = None
    negatives: int = 1
    seed: int = 0
    preset: str = "default"
    allow_underivable: bool = False  # queries nothing derives output 0 instead of being an error

    def resolved(self, knowledge_base: bool) -> ModelSpec:
        """Every ``None`` replaced by the preset's value."""
        p = preset(self.preset)
        return replace(self, model=self.model or ("kbe" if knowledge_base else p.graph_model),
                       dim=self.dim or p.dim, activation=self.activation or p.activation)

    @staticmethod
    def field_names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(ModelSpec))


@dataclass
class Loaded:
    """A problem, its statistics, and (for templates) the template and knowledge base it came from."""

    problem: Problem
    stats: dict[str, object] = field(default_factory=dict)
    template: Template | None = None
    kb: KnowledgeBase | None = None
    graphs: GraphSet | None = None
    spec: ModelSpec | None = None


def neuralogic_files(folder: Path) -> tuple[Path, Path | None] | None:
    """A folder's NeuraLogic examples and queries files (``None`` for queries written into the examples)."""
    for ex, q in (("examples.txt", "queries.txt"), ("examples", "queries"), ("trainExamples.txt", "trainQueries.txt")):
        if (folder / ex).exists() and (folder / q).exists():
            return folder / ex, folder / q
    for ex in ("examples.txt", "trainExamples.txt"):
        if (folder / ex).is_file():
            return folder / ex, None
    return None


def load_problem(dataset: str | Path | GraphSet | KnowledgeBase, spec: ModelSpec) -> Loaded:
    """Resolve ``dataset`` (a path, a bundled name, or data already read) and build ``spec``'s model over it."""
    t0 = time.perf_counter()
    path = Path(dataset) if isinstance(dataset, str | Path) else None
    files = neuralogic_files(path) if path is not None and path.is_dir() else None
    if files is not None and spec.model in MODELS:  # a zoo model on a molecule folder: infer its schema
        facts, queries = load_dataset(*files)
        schema = infer_schema(facts, queries, str(path))
        facts, queries = molecule_facts(facts, queries, schema)
        spec = spec.resolved(False)
        template = molecule_template(spec.model, schema.atom_types, schema.bond_types, spec.layers, spec.dim,
                                     spec.activation)
        # a zoo model's predict of a molecule without bonds (gcn) derives nothing: it outputs 0, as its PyG twin
        loaded = _from_template(template, facts, queries, path.name, t0, allow_underivable=True)
        loaded.stats = {"schema": schema.describe(), **loaded.stats}
        loaded.spec = spec
        return loaded
    if files is not None:
        template_path = Path(spec.model) if spec.model else path / "template.txt"
        if template_path.is_dir():
            raise ValueError(f"--model {template_path}: is a directory; pass the template file itself")
        if not template_path.is_file():
            raise ValueError(f"--model {template_path}: no such template file" if spec.model else
                             f"{path} holds NeuraLogic examples: pass --model TEMPLATE_FILE (no template.txt there)")
        template = load_template(template_path)
        facts, queries = load_dataset(*files)
        loaded = _from_template(template, facts, queries, path.name, t0, allow_underivable=spec.allow_underivable)
        loaded.spec = spec
        return loaded
    data = dataset if isinstance(dataset, GraphSet | KnowledgeBase) else load(dataset)
    spec = spec.resolved(isinstance(data, KnowledgeBase))
    template_file = Path(spec.model) if spec.model not in ZOO else None
    if template_file is not None and not template_file.is_file():
        what = "is a directory, not a template file" if template_file.is_dir() else "no such template file"
        raise ValueError(f"--model {spec.model}: {what}; give a zoo name ({', '.join(ZOO)}) or a template file")
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
        loaded = _from_template(template, facts, queries, data.name, t0, data.stats(),
                                allow_underivable=spec.allow_underivable)
        loaded.kb, loaded.spec = data, spec
        return loaded
    assert isinstance(data, GraphSet)
    if spec.model == "mp":
        graph = message_passing_graph(data, layers=spec.layers or 2, dim=spec.dim, act=spec.activation)
        problem = Problem.from_graph(graph, data.y, data.name)
        return Loaded(problem, {"dataset": data.stats(), "build_seconds": time.perf_counter() - t0},
                      graphs=data, spec=spec)
    if spec.model == "kbe":
        raise ValueError(f"{data.name} is a set of graphs: kbe is for knowledge bases")
    template = load_template(template_file) if template_file else _zoo_graph_template(data, spec)
    facts, queries = graph_facts(data)
    loaded = _from_template(template, facts, queries, data.name, t0, data.stats(),
                            allow_underivable=spec.allow_underivable or template_file is None)  # zoo: as above
    loaded.graphs, loaded.spec = data, spec
    return loaded


def _zoo_graph_template(data: GraphSet, spec: ModelSpec) -> Template:
    """A zoo model over ``data`` (one output per task); real-valued features enter as ``h0(X) <= {dim, F} feat(X)``
    (and, for models with bond embeddings, ``bond_embed(B) <= {dim, F_e} edge_feat(B)``)."""
    from .logic.dsl import R, V

    template = molecule_template(spec.model, node_type_predicates(data), edge_type_predicates(data), spec.layers,
                                 spec.dim, spec.activation, outputs=data.num_tasks)
    if data.node_features is not None:
        template += R.h0(V.X)[spec.dim, data.node_features.shape[1]] <= R.feat(V.X)
    if data.edge_features is not None and spec.model in ("gcn_bonds", "gine"):
        template += R.bond_embed(V.B)[spec.dim, data.edge_features.shape[1]] <= R.edge_feat(V.B)
    return template


def _from_template(
    template: Template,
    facts,
    queries,
    name: str,
    t0: float,
    data_stats: dict | None = None,
    allow_underivable: bool = False,
) -> Loaded:
    network = build(template, facts, queries, allow_underivable=allow_underivable)
    problem = Problem.from_network(network, name, str(template))
    stats = {
        "dataset": data_stats or facts.stats(),
        "network": network.stats,
        "build_seconds": time.perf_counter() - t0,
    }
    return Loaded(problem, stats, template)
