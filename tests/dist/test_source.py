"""Workers read their own shard: line files scanned once, then read line range by line range."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from dist.test_keys import key_multiset
from liftnn import compress, evaluate, init_params
from liftnn.data import DatasetError, read_nci_gi50
from liftnn.data.gi50_all import multitask_facts, multitask_template, read_gi50_screens, sample_facts, sample_template
from liftnn.dist.source import LineShard, iter_lines
from liftnn.dist.work import PAPER_GCN, build_shard, graph_workload, resolve
from liftnn.logic import build
from liftnn.pipeline import _zoo_graph_template


@pytest.fixture(scope="module")
def mda_lines(mda_path: Path) -> list[str]:
    with gzip.open(mda_path, "rt") as fh:
        return [line for line in fh if line.strip()][:60]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))
    return path


def _same_graph(a, b) -> None:  # noqa: ANN001
    """Equal lifted graphs (by key) and equal outputs on random weights."""
    la, lb = compress(a, scope="dataset")[0], compress(b, scope="dataset")[0]
    assert (a.num_nodes, a.num_edges) == (b.num_nodes, b.num_edges)
    assert key_multiset(la) == key_multiset(lb)
    params = init_params(a, seed=1, dtype=torch.float64)
    np.testing.assert_allclose(evaluate(a, params).detach().numpy(), evaluate(b, params).detach().numpy(), rtol=1e-12)


def test_a_shard_reads_its_own_lines_and_no_others(tmp_path, mda_lines):
    """A shard carries line numbers, not molecules; it parses only its lines: a line broken
    after the scan breaks the shards that hold it, and only those, with its file and line."""
    path = _write(tmp_path / "mda.txt", mda_lines)
    work = resolve(path)
    assert work.num_samples == 60
    reader = work.shard(np.arange(20, 40))
    assert isinstance(reader, LineShard) and reader.num_samples == 20
    assert len(pickle.dumps(reader)) < 1_500 < path.stat().st_size
    before = build_shard(work.template, reader)
    _write(path, mda_lines[:5] + ["+ not a molecule (\n"] + mda_lines[6:])
    _same_graph(build_shard(work.template, reader), before)
    with pytest.raises(DatasetError, match=r"mda\.txt:6: malformed fact list"):
        work.build(np.arange(0, 10))


def test_line_shards_equal_the_file_read_whole(tmp_path, mda_lines):
    """Any samples, in any order: the graph of the line reader equals that of the whole file in memory."""
    path = _write(tmp_path / "mda.txt", mda_lines[:30])
    data = read_nci_gi50(path)
    whole = graph_workload(data, _zoo_graph_template(data, PAPER_GCN.resolved(knowledge_base=False)))
    work = resolve(path)
    np.testing.assert_array_equal(work.targets, data.y)
    ids = np.array([7, 3, 29, 0, 12])
    _same_graph(work.build(ids), whole.build(ids))


def test_gi50_workloads_from_lines_equal_the_screens(tmp_path, data_dir):
    """GI50_ALL and GI50_TASKS over two screen files, read by line: the samples, targets and
    graphs of the in-memory :class:`Screens` (shards straddle the two files)."""
    files = sorted((data_dir / "molecules/nci_gi50").glob("gi50_screen_*.txt.gz"))[:2]
    folder = tmp_path / "molecules" / "nci_gi50"
    folder.mkdir(parents=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    screens = read_gi50_screens(folder)
    every = resolve("GI50_ALL", data_root=tmp_path)
    assert every.num_samples == screens.num_samples
    np.testing.assert_array_equal(every.targets, screens.label)
    ids = np.arange(screens.num_samples)[np.flatnonzero(screens.cell == 0)[-3] :][:6]  # across the file boundary
    expected = build(sample_template(screens), *sample_facts(screens, ids)).graph
    _same_graph(every.build(ids), expected)
    tasks = resolve("GI50_TASKS", data_root=tmp_path)
    assert tasks.num_samples == screens.molecules.num_graphs
    np.testing.assert_array_equal(tasks.targets, screens.tasks())
    ids = np.array([0, 1, tasks.num_samples - 1])
    expected = build(multitask_template(screens), *multitask_facts(screens, ids)).graph
    _same_graph(tasks.build(ids), expected)


def test_unreadable_lines_name_their_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"+ c(1)\n\n+ c(\xff1)\n")
    with pytest.raises(DatasetError, match=r"bad\.txt:3: byte b'\\xff' at column 5 is not UTF-8"):
        list(iter_lines(bad))
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(b"+ c(1)\n" * 1000)[:40])
    with pytest.raises(DatasetError, match=r"broken\.txt\.gz.*not a readable gzip file"):
        list(iter_lines(broken))
    with pytest.raises(DatasetError, match="empty"):
        resolve(_write(tmp_path / "empty.txt", ["\n"]))
