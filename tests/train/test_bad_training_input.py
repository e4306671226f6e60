"""Bad input to training's Python API: losses that cannot fit the targets, knowledge bases whose
test triples have no trained embedding, type names that collide as predicates."""

from __future__ import annotations

import numpy as np
import pytest

from liftnn.data import GraphSet, KnowledgeBase, graph_facts
from liftnn.train import kbc_ranking
from liftnn.train.metrics import check_loss


@pytest.mark.parametrize(("loss", "targets", "dim", "match"), [
    ("ce", [0.0, 1.0], 1, r"loss 'ce' \(--loss ce\) needs one output column per class, but the model has 1"),
    ("ce", [0.0, 3.0], 3, r"sample 1 has target 3, not a class index 0..2"),
    ("ce", [0.5, 1.0], 2, r"sample 0 has target 0.5"),
    ("bce", [0.0, 2.0], 1, r"loss 'bce' \(--loss bce\) needs targets in \[0, 1\], got values in \[0, 2\]"),
    ("bce", [-1.0, 1.0], 1, r"needs targets in \[0, 1\]"),
    ("bce", [1.0, 1.0, 1.0], 1, r"all 3 samples have the target 1: there is nothing to learn"),
    ("mse", [0.0, 0.0], 1, r"all 2 samples have the target 0"),
])
def test_loss_that_cannot_fit_the_targets(loss: str, targets: list[float], dim: int, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        check_loss(loss, np.array(targets), dim)
    assert info.type is ValueError


def test_fitting_losses_pass() -> None:
    check_loss("ce", np.array([0.0, 2.0, 1.0]), 3)
    check_loss("bce", np.array([0.0, 1.0]), 1)
    check_loss("mse", np.array([-5.0, 7.0]), 1)


def _kb(test: list[list[int]]) -> KnowledgeBase:
    return KnowledgeBase(("a", "b", "c", "z"), ("r", "s"),
                         {"train": np.array([[0, 0, 1], [1, 0, 2]]), "test": np.array(test, dtype=np.int64)}, "toy")


@pytest.mark.parametrize(("test", "split", "match"), [
    ([[0, 0, 2], [3, 0, 1]], "test", r"toy: test triple 1 \(z, r, b\) names an entity or relation that no training"),
    ([[0, 1, 2]], "test", r"toy: test triple 0 \(a, s, c\)"),
    ([[0, 0, 2]], "valid", r"toy: no 'valid' split to rank"),
    (np.zeros((0, 3)), "test", r"toy: the 'test' split has no triples"),
])
def test_ranking_a_triple_without_embeddings(test, split: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        kbc_ranking(_kb(test), None, {}, split)  # fails before the template is used
    assert info.type is ValueError


def test_two_type_names_that_become_one_predicate() -> None:
    data = GraphSet(np.array([0, 1]), np.array([0, 0]), np.array([[0], [1]]), np.array([0]), np.array([1.0]),
                    ("1_x", "t_1_x"), ("b",), "toy")
    with pytest.raises(ValueError, match=r"toy: node type 't_1_x' and node type '1_x' both become the predicate"):
        graph_facts(data)
