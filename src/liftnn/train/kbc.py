"""Knowledge-base completion: filtered ranking of every test triple against its corruptions."""

from __future__ import annotations

import numpy as np
import torch

from ..data.kb import KnowledgeBase, triple_facts
from ..engine import evaluate
from ..lift import compress
from ..logic import Template, build
from .metrics import ranking


def _checked_split(kb: KnowledgeBase, split: str) -> np.ndarray:
    """The ``split`` triples, each of whose entities and relation occurs in the training triples."""
    if split not in kb.splits:
        raise ValueError(f"{kb.name}: no {split!r} split to rank (splits: {', '.join(kb.splits)})")
    test = kb.splits[split]
    if test.shape[0] == 0:
        raise ValueError(f"{kb.name}: the {split!r} split has no triples to rank")
    train = kb.splits["train"]
    seen_ent = np.zeros(len(kb.entities), dtype=bool)
    seen_ent[train[:, [0, 2]].ravel()] = True
    seen_rel = np.zeros(len(kb.relations), dtype=bool)
    seen_rel[train[:, 1]] = True
    bad = np.flatnonzero(~seen_ent[test[:, 0]] | ~seen_rel[test[:, 1]] | ~seen_ent[test[:, 2]])
    if bad.size:
        h, r, t = test[bad[0]]
        raise ValueError(f"{kb.name}: {split} triple {bad[0]} ({kb.entities[h]}, {kb.relations[r]}, {kb.entities[t]}) "
                         "names an entity or relation that no training triple has: it has no trained embedding")
    return test


def kbc_ranking(
    kb: KnowledgeBase,
    template: Template,
    params: dict[str, torch.Tensor],
    split: str = "test",
    ks: tuple[int, ...] = (1, 3, 10),
) -> dict[str, float]:
    """MRR and Hits@k of the ``split`` triples, each ranked against all its head and tail
    corruptions that are not known triples of any split (the *filtered* setting).

    The candidate triples are scored by one network built from ``template`` (weights
    ``params``, as trained) and lifted at dataset scope before evaluation.
    """
    test = _checked_split(kb, split)
    n_ent, n_rel = len(kb.entities), len(kb.relations)
    ents = np.arange(n_ent)
    cands = []
    for side in (2, 0):  # tail corruptions, then head corruptions
        c = np.repeat(test, n_ent, axis=0)
        c[:, side] = np.tile(ents, len(test))
        cands.append(c)
    cand = np.concatenate(cands)  # [2 * T * E, 3]
    key = lambda t: (t[:, 0] * n_rel + t[:, 1]) * n_ent + t[:, 2]  # noqa: E731
    uniq_keys, first, inverse = np.unique(key(cand), return_index=True, return_inverse=True)
    network = build(template, *triple_facts(kb, cand[first], np.zeros(first.size), "candidate"))
    graph = compress(network.graph, scope="dataset")[0]
    missing = sorted(set(graph.labels) - set(params))
    if missing:
        raise ValueError(f"params lack the weight(s) {missing[:5]} of the template: pass the trained parameters "
                         "of this template")
    with torch.no_grad():
        scores = evaluate(graph, {k: params[k] for k in graph.labels}).double().numpy()[:, 0]
    score = scores[inverse].reshape(2 * len(test), n_ent)
    true_key = np.tile(key(test), 2)
    known = np.isin(key(cand), np.unique(key(np.concatenate(list(kb.splits.values()))))).reshape(2 * len(test), n_ent)
    is_true = (key(cand) == np.repeat(true_key, n_ent)).reshape(2 * len(test), n_ent)
    true_score = score[is_true]
    candidates = np.where(known | is_true, -np.inf, score)  # filtered: other known triples do not compete
    return ranking(true_score, candidates, ks)
