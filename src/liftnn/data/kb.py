"""Knowledge bases: ``head<TAB>relation<TAB>tail`` triple files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..logic.facts import FactBase, QuerySet
from ..logic.relations import Symbols
from .text import fail, read_lines, require_file


@dataclass(frozen=True)
class KnowledgeBase:
    """Triples as ``int64[n, 3]`` (head, relation, tail) per split, with the name tables."""

    entities: tuple[str, ...]
    relations: tuple[str, ...]
    splits: dict[str, np.ndarray]
    name: str = ""

    def stats(self) -> dict[str, object]:
        return {
            "name": self.name,
            "entities": len(self.entities),
            "relations": len(self.relations),
            **{f"{k}_triples": int(v.shape[0]) for k, v in self.splits.items()},
        }


def _read(path: Path, ent: dict[str, int], rel: dict[str, int], new_names: bool) -> np.ndarray:
    """The file's triples as ids; ``new_names=False`` (valid and test files): every entity and
    relation must already occur in ``train.txt``."""
    rows = []
    for lineno, line in enumerate(read_lines(path, "triple file"), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            fail(path, lineno, f"expected head<TAB>relation<TAB>tail, got {line.strip()!r}")
        h, r, t = (p.strip() for p in parts)
        if not new_names:
            for kind, name, table in (("entity", h, ent), ("relation", r, rel), ("entity", t, ent)):
                if name not in table:
                    fail(path, lineno, f"{kind} {name!r} does not occur in train.txt: a model cannot learn "
                         "anything about it; remove the triple or add facts about it to train.txt")
        rows.append((ent.setdefault(h, len(ent)), rel.setdefault(r, len(rel)), ent.setdefault(t, len(ent))))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def read_triples(folder: str | Path, name: str | None = None) -> KnowledgeBase:
    """Read ``train.txt`` (required), ``valid.txt`` and ``test.txt`` from a folder, or one file as ``train``.

    Every entity and relation of ``valid.txt`` and ``test.txt`` must occur in ``train.txt``
    (an error names the file and line otherwise)."""
    folder = Path(folder)
    files = (
        {"train": folder}
        if folder.is_file()
        else {s: folder / f"{s}.txt" for s in ("train", "valid", "test") if (folder / f"{s}.txt").exists()}
    )
    if "train" not in files:
        raise FileNotFoundError(f"{folder}: no train.txt triple file")
    for path in files.values():
        require_file(path, "triple file")
    ent: dict[str, int] = {}
    rel: dict[str, int] = {}
    splits: dict[str, np.ndarray] = {}
    for split, path in files.items():  # train first: the other splits are checked against it
        splits[split] = _read(path, ent, rel, new_names=split == "train")
        if splits["train"].shape[0] == 0:
            fail(path, None, "the dataset is empty (no triples)")
    return KnowledgeBase(tuple(ent), tuple(rel), splits, name or folder.name)


def corrupt(kb: KnowledgeBase, triples: np.ndarray, negatives: int, seed: int) -> np.ndarray:
    """``negatives`` corrupted copies of each triple (head or tail replaced at random),
    never a triple of any split."""
    rng = np.random.default_rng(seed)
    known = np.concatenate(list(kb.splits.values()))
    n_ent = len(kb.entities)
    key = lambda t: (t[:, 0] * len(kb.relations) + t[:, 1]) * n_ent + t[:, 2]  # noqa: E731
    known_keys = np.unique(key(known))
    out = np.repeat(triples, negatives, axis=0)
    todo = np.ones(out.shape[0], dtype=bool)
    while todo.any():
        idx = np.flatnonzero(todo)
        side = rng.integers(0, 2, idx.size) * 2  # column 0 (head) or 2 (tail)
        out[idx, side] = rng.integers(0, n_ent, idx.size)
        todo[idx] = np.isin(key(out[idx]), known_keys)
    return out


def kb_facts(kb: KnowledgeBase, split: str = "train", negatives: int = 1, seed: int = 0) -> tuple[FactBase, QuerySet]:
    """The training triples as facts ``r(R, S, O)`` of one shared example and, as
    queries ``predict(S, R, O)``, the ``split`` triples (target 1) with ``negatives``
    corrupted triples each (target 0)."""
    pos = kb.splits[split]
    neg = corrupt(kb, pos, negatives, seed) if negatives else np.zeros((0, 3), np.int64)
    triples = np.concatenate([pos, neg])
    return triple_facts(kb, triples, np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]), split)


def triple_facts(
    kb: KnowledgeBase, triples: np.ndarray, target: np.ndarray, what: str = "query"
) -> tuple[FactBase, QuerySet]:
    """The training triples as facts ``r(R, S, O)`` and the given triples as queries ``predict(S, R, O)``."""
    symbols = Symbols()
    ent_ids = np.array([symbols.id(e) for e in kb.entities], dtype=np.int64)
    rel_ids = np.array([symbols.id(r) for r in kb.relations], dtype=np.int64)
    fb = FactBase(symbols, num_examples=1)
    train = kb.splits["train"]
    fb.add(
        ("r", 3),
        np.stack(
            [np.zeros(len(train), np.int64), rel_ids[train[:, 1]], ent_ids[train[:, 0]], ent_ids[train[:, 2]]], axis=1
        ),
    )
    rows = np.stack(
        [np.zeros(len(triples), np.int64), ent_ids[triples[:, 0]], rel_ids[triples[:, 1]], ent_ids[triples[:, 2]]],
        axis=1,
    )
    queries = QuerySet(
        [("predict", 3)] * len(triples),
        list(rows),
        np.asarray(target, dtype=np.float64),
        [f"{kb.name}:{what} triple {i}" for i in range(len(triples))],
    )
    return fb, queries
