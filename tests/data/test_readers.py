"""Dataset readers: real files parse with the documented counts; bad lines fail with file:line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from liftnn.data import load_graphs, read_nci_gi50, read_tu


def test_nci_gi50_mda(mda_path: Path) -> None:
    d = read_nci_gi50(mda_path)
    assert d.num_graphs == 2946
    assert d.num_edges % 2 == 0  # bonds appear in both directions
    assert set(d.edge_types) == {"1_bond", "2_bond", "3_bond", "ar_bond", "am_bond"}
    assert np.all(np.diff(d.graph) >= 0)
    assert np.all(d.graph[d.edge_index[0]] == d.graph[d.edge_index[1]])


def test_nci_gzip_and_plain_agree(tmp_path: Path) -> None:
    text = "+ car(1), car(2), ar_bond(1, 2), ar_bond(2, 1)\n- o2(5), c3(7), 2_bond(5, 7), 2_bond(7, 5)\n"
    (tmp_path / "a.txt").write_text(text)
    with gzip.open(tmp_path / "a.txt.gz", "wt") as fh:
        fh.write(text)
    a, b = read_nci_gi50(tmp_path / "a.txt"), read_nci_gi50(tmp_path / "a.txt.gz")
    assert a.y.tolist() == [1.0, 0.0] == b.y.tolist()
    assert np.array_equal(a.edge_index, b.edge_index)
    assert a.node_types == ("car", "o2", "c3")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("* car(1)", "label"),
        ("+ car(1), ar_bond(1, 9)", "without a type"),
        ("+ car(1) ar_bond(1, 1", "malformed"),
        ("+ car(1), foo(1, 2, 3)", "unexpected fact"),
    ],
)
def test_nci_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("+ car(1)\n" + line + "\n")
    with pytest.raises(ValueError, match=rf"bad.txt:2: .*{message}"):
        read_nci_gi50(path)


def test_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        read_nci_gi50(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError, match="nope"):
        load_graphs(tmp_path / "nope")


def test_tu_mutag(data_dir: Path) -> None:
    d = read_tu(data_dir / "molecules/tudataset/MUTAG")
    assert (d.num_graphs, d.num_nodes, d.num_edges) == (188, 3371, 7442)
    assert int(d.y.sum()) == 125
    assert len(d.node_types) == 7 and len(d.edge_types) == 4


def test_bundled_mutag_equals_shared_copy(data_dir: Path) -> None:
    a, b = load_graphs("MUTAG"), read_tu(data_dir / "molecules/tudataset/MUTAG")
    assert np.array_equal(a.edge_index, b.edge_index) and np.array_equal(a.y, b.y)


def test_tu_bad_line(tmp_path: Path) -> None:
    for name, text in (("A", "1, 2\n2, x\n"), ("graph_indicator", "1\n1\n"), ("graph_labels", "1\n"),
                       ("node_labels", "0\n0\n")):
        (tmp_path / f"T_{name}.txt").write_text(text)
    with pytest.raises(ValueError, match=r"T_A.txt:2"):
        read_tu(tmp_path, "T")


def test_subset_renumbers(mda_path: Path) -> None:
    d = read_nci_gi50(mda_path)
    s = d.subset(np.array([5, 2]))
    assert s.num_graphs == 2 and s.y.tolist() == [d.y[5], d.y[2]]
    assert s.num_nodes == int(np.sum(d.graph == 5) + np.sum(d.graph == 2))
    assert np.all(s.graph[s.edge_index[0]] == s.graph[s.edge_index[1]])
