"""Filtered ranking of test triples, against a plain loop over candidates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import liftnn
from liftnn.data import load
from liftnn.data.kb import KnowledgeBase, triple_facts
from liftnn.logic import build
from liftnn.models import kbe_template
from liftnn.train import kbc_ranking


def test_filtered_ranking_matches_a_loop() -> None:
    full = load("NATIONS")
    kb = KnowledgeBase(full.entities, full.relations, {**full.splits, "test": full.splits["test"][:12]}, "n")
    template = kbe_template(kb.entities, kb.relations, dim=3)
    every = np.array(list(itertools.product(range(len(kb.entities)), range(len(kb.relations)),
                                            range(len(kb.entities)))))
    net = build(template, *triple_facts(kb, every, np.zeros(len(every))))
    params = net.weights.init_params(seed=5, dtype=torch.float64)
    with torch.no_grad():
        score = liftnn.evaluate(net.graph, params).numpy()[:, 0]
    table = {tuple(t): s for t, s in zip(every.tolist(), score, strict=True)}
    known = {tuple(t) for split in kb.splits.values() for t in split.tolist()}
    ranks = []
    for h, r, t in kb.splits["test"].tolist():
        for side in (2, 0):
            true = table[(h, r, t)]
            better = ties = 0
            for e in range(len(kb.entities)):
                cand = (h, r, e) if side == 2 else (e, r, t)
                if cand == (h, r, t) or cand in known:
                    continue
                better += table[cand] > true
                ties += table[cand] == true
            ranks.append(1 + better + ties / 2)
    ranks = np.array(ranks)
    got = kbc_ranking(kb, template, params)
    assert got["mrr"] == pytest.approx(np.mean(1 / ranks), rel=1e-9)
    assert got["hits@3"] == pytest.approx(np.mean(ranks <= 3))
