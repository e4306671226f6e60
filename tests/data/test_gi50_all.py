"""All NCI-GI50 screens: screenings as samples with a cell-line fact, and the multi-task set."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from liftnn import compress, evaluate
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.data.gi50_all import (
    cell_predicate,
    multitask_facts,
    multitask_template,
    read_gi50_screens,
    repeat_graphs,
    sample_facts,
    sample_template,
)
from liftnn.logic import build
from liftnn.logic.weights import number_weights
from liftnn.models import molecule_template


@pytest.fixture(scope="module")
def screens(data_dir):
    return read_gi50_screens(data_dir / "molecules/nci_gi50", cells=2)


def _lines(path) -> list[str]:
    with gzip.open(path, "rt") as fh:
        return [line.strip() for line in fh if line.strip()]


def test_screenings_and_distinct_molecules(screens, data_dir):
    files = sorted((data_dir / "molecules/nci_gi50").glob("gi50_screen_*.txt.gz"))[:2]
    lines = [_lines(f) for f in files]
    bodies = [line[1:].strip() for ls in lines for line in ls]
    assert screens.cell_lines == ("786_0", "A498")
    assert screens.num_samples == len(bodies)
    assert screens.molecules.num_graphs == len(set(bodies))
    np.testing.assert_array_equal(screens.label, [float(line[0] == "+") for ls in lines for line in ls])
    np.testing.assert_array_equal(screens.cell, np.repeat([0, 1], [len(ls) for ls in lines]))
    same = [i for i in range(len(bodies)) if bodies[i] == bodies[0]]
    assert set(screens.molecule[same]) == {screens.molecule[0]}


def test_tasks_are_masked_shares_of_positive_screenings(screens):
    tasks = screens.tasks()
    assert tasks.shape == (screens.molecules.num_graphs, 2)
    for m, c in [(screens.molecule[i], screens.cell[i]) for i in (0, 1, screens.num_samples - 1)]:
        sel = (screens.molecule == m) & (screens.cell == c)
        assert tasks[m, c] == pytest.approx(screens.label[sel].mean())
    screened = np.zeros(tasks.shape, dtype=bool)
    screened[screens.molecule, screens.cell] = True
    np.testing.assert_array_equal(np.isnan(tasks), ~screened)
    assert 0 < np.isnan(tasks).sum() < tasks.size


def _graph(data, k: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Node types and sorted (source, target, type) edges, in local ids, of graph ``k``."""
    nodes = np.flatnonzero(data.graph == k)
    e = np.flatnonzero(data.graph[data.edge_index[0]] == k)
    src, dst = data.edge_index[:, e] - nodes[0]
    return data.node_type[nodes].tolist(), sorted(zip(src.tolist(), dst.tolist(), data.edge_type[e].tolist(),
                                                      strict=True))


def test_repeat_graphs_lists_graphs_in_order_with_repeats(screens):
    data = screens.molecules
    order = [3, 1, 3, 0]
    rep = repeat_graphs(data, order)
    assert rep.num_graphs == 4 and np.all(np.diff(rep.graph) >= 0)
    for k, g in enumerate(order):
        assert _graph(rep, k) == _graph(data, g)
    np.testing.assert_array_equal(rep.y, data.y[order])


def test_cell_line_is_a_sample_fact_and_lifting_collapses_the_repeats(screens):
    """The same molecules screened on both cell lines: outputs differ only by the cell-line offset,
    and dataset-scope lifting adds at most one node per extra screening (plus the cell lines' own)."""
    both = np.flatnonzero(np.isfinite(screens.tasks()).all(axis=1))[:30]
    first_on = [{m: i for i, (m, c) in reversed(list(enumerate(zip(screens.molecule, screens.cell, strict=True))))
                 if c == cell} for cell in (0, 1)]
    one = np.array([first_on[0][m] for m in both])
    two = np.concatenate([one, [first_on[1][m] for m in both]])
    template = sample_template(screens)
    assert cell_predicate("MDA_MB_231_ATCC") == "cl_mda_mb_231_atcc"
    g1 = compress(build(template, *sample_facts(screens, one)).graph, scope="dataset")[0]
    g2 = compress(build(template, *sample_facts(screens, two)).graph, scope="dataset")[0]
    assert 0 < g2.num_nodes - g1.num_nodes <= both.size + 4
    params = number_weights(template).init_params(0, torch.float64)
    base = molecule_template("gcn", node_type_predicates(screens.molecules), edge_type_predicates(screens.molecules))
    labels = set(number_weights(template).order) - set(number_weights(base).order)
    assert len(labels) == len(screens.cell_lines)
    y = evaluate(g2, params).detach().numpy()[:, 0]
    assert not np.allclose(y[: both.size], y[both.size :])
    same = dict(params)
    for label in labels:
        same[label] = torch.zeros_like(params[label])
    y = evaluate(g2, same).detach().numpy()[:, 0]
    np.testing.assert_allclose(y[: both.size], y[both.size :], rtol=1e-12)


def test_multitask_set_has_one_output_per_cell_line(screens):
    template = multitask_template(screens)
    facts, queries = multitask_facts(screens, np.arange(20))
    assert np.isnan(queries.target).all()
    lifted, _ = compress(build(template, facts, queries).graph, scope="dataset")
    y = evaluate(lifted, number_weights(template).init_params(0, torch.float64))
    assert tuple(y.shape) == (20, 2)


def test_malformed_lines_name_their_file_and_line(tmp_path):
    (tmp_path / "gi50_screen_A.txt").write_text("+ car(1), car(2), 1_bond(1, 2), 1_bond(2, 1)\n* car(1)\n")
    with pytest.raises(ValueError, match=r"gi50_screen_A\.txt:2: a line must start with the label"):
        read_gi50_screens(tmp_path)
    (tmp_path / "gi50_screen_A.txt").write_text("+ car(1)\n")
    (tmp_path / "gi50_screen_B.txt").write_text("- car(1)\n\n+ car(1), 1_bond(1, 7)\n")
    with pytest.raises(ValueError, match=r"gi50_screen_B\.txt:3: bond \(1, 7\) refers to an atom without a type"):
        read_gi50_screens(tmp_path)
    with pytest.raises(FileNotFoundError, match="no gi50_screen_"):
        read_gi50_screens(tmp_path / "missing")
