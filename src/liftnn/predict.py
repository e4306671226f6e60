"""A trained model that predicts on new data: :class:`Model`, saved and :func:`load`-ed as a checkpoint.

A model is its template text and its weights. Predicting grounds the template over
the new data's facts (graphs: :func:`~liftnn.data.graph_facts`; knowledge bases:
the training triples as facts and the asked triples as queries; NeuraLogic folders:
their examples and queries), lifts the network at dataset scope (exact, so the
outputs are unchanged) and evaluates it with the trained weights.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import GraphSet, KnowledgeBase, graph_facts
from .data import load as load_data
from .data.kb import triple_facts
from .engine import evaluate
from .lift import compress
from .logic import build, load_dataset, parse_template
from .models import infer_schema, molecule_facts
from .pipeline import neuralogic_files
from .train import checkpoint as ckpt


@dataclass
class Table:
    """Predictions as rows: ``sample``, the model's output(s), the predicted class, and the label when known."""

    columns: list[str]
    rows: list[list[object]]

    def write_csv(self, path: str | Path) -> None:
        with Path(path).open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.columns)
            writer.writerows(self.rows)


@dataclass
class Model:
    """A template with trained weights; ``meta`` says what data it was trained on (``kind``:
    ``graphs``, ``kb`` or ``examples``; for knowledge bases the entity and relation names)."""

    template: str
    params: dict[str, torch.Tensor]
    meta: dict
    config: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    kb_train: np.ndarray | None = None

    @staticmethod
    def from_training(loaded, params: dict[str, torch.Tensor], config: dict, history: dict) -> Model:
        """The model :func:`liftnn.fit` trained on ``loaded`` (a :class:`liftnn.pipeline.Loaded`)."""
        if loaded.problem.template is None:
            raise ValueError(f"{loaded.problem.name}: only template models can be saved and reloaded "
                             "(the mp builder has no template)")
        meta: dict = {"name": loaded.problem.name, "loss": config.get("loss", "mse"), "kind": "examples"}
        if loaded.problem.targets.ndim == 2:
            meta["tasks"] = int(loaded.problem.targets.shape[1])
        kb_train = None
        if loaded.kb is not None:
            meta.update(kind="kb", entities=list(loaded.kb.entities), relations=list(loaded.kb.relations))
            kb_train = loaded.kb.splits["train"]
        elif loaded.graphs is not None:
            meta.update(kind="graphs", node_types=list(loaded.graphs.node_types),
                        edge_types=list(loaded.graphs.edge_types))
        if loaded.spec is not None:
            meta["model"] = {k: v for k, v in vars(loaded.spec).items()}
        if "schema" in loaded.stats:
            meta["schema"] = loaded.stats["schema"]
        return Model(loaded.problem.template, {k: v.detach().clone() for k, v in params.items()}, meta, config,
                     history, kb_train)

    def save(self, path: str | Path, force: bool = False) -> Path:
        """Write a checkpoint (atomically; an existing file that is not a checkpoint only with ``force``)."""
        target = ckpt.check_target(path, force)
        tensors = {} if self.kb_train is None else {"kb_train": torch.as_tensor(self.kb_train)}
        return ckpt.write(target, self.params, template=self.template, config=self.config, history=self.history,
                          meta=self.meta, tensors=tensors)

    # ------------------------------------------------------------------ prediction

    def _network(self, data: object):
        """Facts and queries of ``data`` for this model, and the labels the data carries (or None)."""
        kind = self.meta.get("kind")
        if kind == "kb":
            triples = _triples(data, self.meta)
            kb = KnowledgeBase(tuple(self.meta["entities"]), tuple(self.meta["relations"]),
                               {"train": self.kb_train}, self.meta["name"])
            return triple_facts(kb, triples, np.zeros(len(triples)), "predicted"), None
        files = neuralogic_files(Path(data)) if isinstance(data, str | Path) and Path(data).is_dir() else None
        if kind == "examples" or files is not None:
            if files is None:
                raise ValueError(f"{data}: this model reads NeuraLogic examples; give a folder with examples.txt "
                                 "and queries.txt")
            facts, queries = load_dataset(*files)
            if self.meta.get("schema"):  # a zoo model on molecule files: the same encoding as in training
                facts, queries = molecule_facts(facts, queries, infer_schema(facts, queries, str(data)))
            return (facts, queries), None
        graphs = _graphs(data)
        return graph_facts(graphs), graphs.y

    def outputs(self, data: object) -> np.ndarray:
        """The model's raw outputs on ``data``, ``[samples, d]`` (a probability for BCE/MSE
        models, logits for cross-entropy).

        ``data``: for graph models a :class:`GraphSet`, a PyG dataset or list of ``Data``,
        or anything :func:`liftnn.data.load` reads; for knowledge-base models an array
        of ``(head, relation, tail)`` names, a triples file or folder (its ``test.txt``);
        for NeuraLogic models a folder with ``examples.txt`` and ``queries.txt``.
        """
        (facts, queries), _ = self._network(data)
        return self._evaluate(facts, queries)

    def _evaluate(self, facts, queries) -> np.ndarray:
        network = build(parse_template(self.template, "<checkpoint template>"), facts, queries)
        graph = compress(network.graph, scope="dataset")[0]
        missing = sorted(set(graph.labels) - set(self.params))
        if missing:
            raise ValueError(f"the data uses weights the model never trained: {missing[:5]} (new node or edge "
                             "types, or relations, the training data did not have)")
        with torch.no_grad():
            y = evaluate(graph, {k: self.params[k] for k in graph.labels})
        return y.double().cpu().numpy()

    def predict(self, data: object) -> np.ndarray:
        """Predicted values: the class (0/1, or the argmax for cross-entropy) per sample; for a
        multi-task model ``[samples, T]``, 0/1 per task."""
        return self._classes(self.outputs(data))

    def _classes(self, y: np.ndarray) -> np.ndarray:
        if self.meta.get("tasks"):
            return (y > 0.5).astype(np.int64)
        return (y[:, 0] > 0.5).astype(np.int64) if y.shape[1] == 1 else y.argmax(1)

    def predict_table(self, data: object) -> Table:
        """:meth:`outputs` and :meth:`predict` as a table (with the data's labels, where it has them; a
        multi-task model has a score, a prediction and a label column per task, an unmeasured label empty)."""
        (facts, queries), labels = self._network(data)
        y = self._evaluate(facts, queries)
        cls = self._classes(y).reshape(y.shape[0], -1)
        score_cols = ["score"] if y.shape[1] == 1 else [f"score_{i}" for i in range(y.shape[1])]
        suffix = [""] if cls.shape[1] == 1 else [f"_{k}" for k in range(cls.shape[1])]
        columns = ["sample", *score_cols, *(f"predicted{s}" for s in suffix)]
        columns += [f"label{s}" for s in suffix] if labels is not None else []
        rows = []
        for i in range(y.shape[0]):
            row: list[object] = [queries.where[i], *(float(v) for v in y[i]), *(int(c) for c in cls[i])]
            if labels is not None:
                row += [None if np.isnan(v) else float(v) for v in np.atleast_1d(labels[i])]
            rows.append(row)
        return Table(columns, rows)


def _graphs(data: object) -> GraphSet:
    if isinstance(data, GraphSet):
        return data
    if isinstance(data, str | Path):
        loaded = load_data(data)
        if not isinstance(loaded, GraphSet):
            raise ValueError(f"{data}: a knowledge base, but this model was trained on graphs")
        return loaded
    from .data.pyg import from_pyg

    return from_pyg(data, name=getattr(data, "name", None) or "pyg")


def _triples(data: object, meta: dict) -> np.ndarray:
    """``(head, relation, tail)`` names as an ``int64[n, 3]`` array over the model's entities and relations."""
    where = "triples"
    if isinstance(data, str | Path):
        path = Path(data)
        path = path / "test.txt" if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"no such triples file: {path}")
        where = str(path)
        data = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line.strip()]
    ent = {e: i for i, e in enumerate(meta["entities"])}
    rel = {r: i for i, r in enumerate(meta["relations"])}
    out = []
    for i, t in enumerate(data, start=1):
        if len(t) != 3:
            raise ValueError(f"{where}:{i}: expected head, relation, tail; got {t!r}")
        h, r, o = (str(v).strip() for v in t)
        for name, table, what in ((h, ent, "entity"), (r, rel, "relation"), (o, ent, "entity")):
            if name not in table:
                raise ValueError(f"{where}:{i}: unknown {what} {name!r} (the model knows {len(table)})")
        out.append((ent[h], rel[r], ent[o]))
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def load(path: str | Path) -> Model:
    """A :class:`Model` from a checkpoint (read with ``torch.load(weights_only=True)``)."""
    raw = ckpt.read(path)
    if raw["template"] is None:
        raise ValueError(f"{path}: the checkpoint has no template to predict with")
    meta = raw["meta"]
    kb_train = raw["tensors"].get("kb_train")
    return Model(raw["template"], raw["params"], meta, raw["config"], raw["history"],
                 None if kb_train is None else kb_train.numpy())
