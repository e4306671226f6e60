"""Malformed dataset files: every reader fails with one error of the documented class that
names the file and, where there is one, the line."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from liftnn.data import GraphSet, load, load_graphs, read_nci_gi50, read_triples, read_tu
from liftnn.data.chem import read_sdf, read_smiles
from liftnn.data.text import DatasetError


def fails(cls: type[BaseException], where: str, call, *args, **kwargs) -> str:
    """Run ``call(*args, **kwargs)``; it must raise exactly ``cls`` with a message matching ``where``."""
    with pytest.raises(BaseException) as info:
        call(*args, **kwargs)
    assert info.type is cls, f"{info.type.__name__}: {info.value}"
    message = str(info.value)
    assert re.search(where, message), message
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------------- TUDataset

GOOD_TU = {
    "A": "1, 2\n2, 1\n3, 4\n4, 3\n",
    "graph_indicator": "1\n1\n2\n2\n",
    "graph_labels": "1\n-1\n",
    "node_labels": "0\n1\n0\n0\n",
    "edge_labels": "0\n0\n1\n1\n",
}


def tu_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "T"
    folder.mkdir(exist_ok=True)
    for name, text in {**GOOD_TU, **files}.items():
        if text is not None:
            (folder / f"T_{name}.txt").write_text(text)
    return folder


def test_good_tu_folder_reads(tmp_path: Path) -> None:
    d = read_tu(tu_folder(tmp_path))
    assert (d.num_graphs, d.num_nodes, d.num_edges) == (2, 4, 4) and d.y.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(("files", "where"), [
    ({"graph_labels": "1\n"}, r"T_graph_labels.txt: 1 graph labels for 2 graphs"),
    ({"graph_labels": "1\n-1\n1\n"}, r"T_graph_labels.txt:3: graph labels number 3, but there are only 2"),
    ({"graph_indicator": "1\n1\n3\n3\n"}, r"T_graph_indicator.txt:3: graph id jumps from 1 to 3"),
    ({"graph_indicator": "1\n2\n1\n2\n"}, r"T_graph_indicator.txt:3: graph 1 after graph 2"),
    ({"graph_indicator": "2\n2\n3\n3\n"}, r"T_graph_indicator.txt:1: .*graph ids start at 1"),
    ({"graph_indicator": "\n"}, r"T_graph_indicator.txt: no nodes"),
    ({"node_labels": "0\n1\n0\n"}, r"T_node_labels.txt: 3 node labels for 4 nodes"),
    ({"node_labels": "0\n1\n0\n0\n1\n"}, r"T_node_labels.txt:5: node labels number 5"),
    ({"A": "1, 2\n2, 9\n"}, r"T_A.txt:2: edge \(2, 9\) names a node outside 1..4"),
    ({"A": "0, 1\n"}, r"T_A.txt:1: edge \(0, 1\) names a node outside"),
    ({"A": "1, 2\n2, 3\n"}, r"T_A.txt:2: edge \(2, 3\) joins graph 1 and graph 2"),
    ({"A": "1, 2\n2, x\n"}, r"T_A.txt:2: expected 2 integer"),
    ({"A": "1, 2, 3\n"}, r"T_A.txt:1: expected 2 integer"),
    ({"edge_labels": "0\n0\n1\n"}, r"T_edge_labels.txt: 3 edge labels for 4 edges"),
    ({"graph_labels": "1\n0.5\n"}, r"T_graph_labels.txt:2: expected 1 integer"),
])
def test_tu_files_disagree(tmp_path: Path, files: dict[str, str], where: str) -> None:
    fails(DatasetError, where, read_tu, tu_folder(tmp_path, **files))


def test_tu_missing_indicator_and_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tu_folder(tmp_path, graph_indicator=None)
    fails(FileNotFoundError, r"T_graph_indicator.txt: no such dataset file", read_tu, folder)
    (folder / "T_graph_indicator.txt").mkdir()
    fails(DatasetError, r"T_graph_indicator.txt: is a directory", read_tu, folder)


def test_tu_undecodable_bytes_name_file_and_line(tmp_path: Path) -> None:
    folder = tu_folder(tmp_path)
    (folder / "T_node_labels.txt").write_bytes(b"0\n1\n\xff\xfe\n0\n")
    fails(DatasetError, r"T_node_labels.txt:3: byte b'\\xff' at column 1 is not UTF-8", read_tu, folder)


def test_tu_folder_without_a_file(tmp_path: Path) -> None:
    fails(FileNotFoundError, r"no T_A.txt \(not a TUDataset folder\)", read_tu, tu_folder(tmp_path, A=None))


# ----------------------------------------------------------------------------------- NCI-GI50

@pytest.mark.parametrize(("line", "where"), [
    ("* car(1)", "a line must start with the label"),
    ("+ car(1), ar_bond(1, 9)", r"bond \(1, 9\) refers to an atom without a type"),
    ("+ car(1) ar_bond(1, 1", "malformed fact list"),
    ("+ car(1), foo(1, 2, 3)", "unexpected fact foo"),
    ("+ car(1), o2(1)", "atom 1 has two types"),
    ("+", "malformed fact list"),
    ("- car()", "unexpected fact car"),
    ("+ car(1), x_bond(1, )", "unexpected fact x_bond"),
])
def test_nci_bad_line(tmp_path: Path, line: str, where: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("+ car(1), car(2), ar_bond(1, 2), ar_bond(2, 1)\n" + line + "\n")
    fails(DatasetError, rf"bad.txt:2: {where}", read_nci_gi50, path)


def test_nci_truncated_and_fake_gzip(tmp_path: Path) -> None:
    text = "".join(f"+ car({i}), c3({i + 100}), 1_bond({i}, {i + 100}), 1_bond({i + 100}, {i})\n" for i in range(300))
    data = gzip.compress(text.encode())
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    fails(DatasetError, r"cut.txt.gz: not a readable gzip file", read_nci_gi50, tmp_path / "cut.txt.gz")
    (tmp_path / "plain.txt.gz").write_text(text)
    fails(DatasetError, r"plain.txt.gz: not a readable gzip file .*drop the .gz", read_nci_gi50,
          tmp_path / "plain.txt.gz")


def test_nci_undecodable_empty_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"+ car(1)\n+ car(2)\n- c\xe9(3)\n")
    fails(DatasetError, r"latin.txt:3: byte b'\\xe9' at column 4", read_nci_gi50, path)
    (tmp_path / "empty.txt").write_text("\n\n")
    fails(DatasetError, r"empty.txt: the dataset is empty", read_nci_gi50, tmp_path / "empty.txt")
    (tmp_path / "dir.txt").mkdir()
    fails(DatasetError, r"dir.txt: is a directory", read_nci_gi50, tmp_path / "dir.txt")
    fails(FileNotFoundError, r"nope.txt: no such dataset file", read_nci_gi50, tmp_path / "nope.txt")


# ----------------------------------------------------------------------------------- SMILES / SDF

@pytest.mark.parametrize(("text", "where"), [
    ("smiles,label\nCCO,1\n,0\n", r"m.csv:3: the 'smiles' cell is empty"),
    ("smiles,label\nCCO,yes\n", r"m.csv:2: label 'yes' is not a number"),
    ("smiles,label\nCCO,inf\n", r"m.csv:2: label 'inf' is not a finite number"),
    ("smi,label\nCCO,1\n", r"m.csv:1: no column 'smiles'"),
    ("smiles,label\nC1CC,1\n", r"m.csv:2: RDKit cannot parse this molecule"),
    ("smiles,label\nCCO,1\nCCC\n", r"m.csv:3: expected 2 columns"),
    ("smiles,label\n", r"m.csv: the dataset is empty"),
])
def test_smiles_bad_rows(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "m.csv").write_text(text)
    fails(DatasetError, where, read_smiles, tmp_path / "m.csv")


def test_smiles_undecodable(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_bytes(b"smiles,label\nCCO,1\nC\xffC,0\n")
    fails(DatasetError, r"m.csv:3: byte b'\\xff'", read_smiles, tmp_path / "m.csv")


def _sdf(props: list[str]) -> str:
    from rdkit import Chem

    out = []
    for smi, prop in zip(["CCO", "c1ccccc1", "CC"], props, strict=False):
        mol = Chem.MolFromSmiles(smi)
        if prop is not None:
            mol.SetProp("act", prop)
        out.append(Chem.MolToMolBlock(mol) + (f">  <act>\n{prop}\n\n" if prop is not None else "") + "$$$$\n")
    return "".join(out)


def test_sdf_reads_and_names_the_record_line(tmp_path: Path) -> None:
    path = tmp_path / "m.sdf"
    path.write_text(_sdf(["1", "0"]))
    assert read_sdf(path, "act").y.tolist() == [1.0, 0.0]
    second = path.read_text().splitlines().index("$$$$") + 2
    path.write_text(_sdf(["1", "abc"]))
    fails(DatasetError, rf"m.sdf:{second}: molecule 2: property 'act' = 'abc' is not a number", read_sdf, path, "act")
    path.write_text(_sdf(["1", None]))
    fails(DatasetError, rf"m.sdf:{second}: molecule 2 has no property 'act'", read_sdf, path, "act")


def test_sdf_empty_garbage_and_directory(tmp_path: Path) -> None:
    (tmp_path / "e.sdf").write_text("")
    fails(DatasetError, r"e.sdf: the file is empty", read_sdf, tmp_path / "e.sdf")
    (tmp_path / "g.sdf").write_text("this is not\na molecule\n")
    fails(DatasetError, r"g.sdf: no molecules \(is it an SDF file\?\)", read_sdf, tmp_path / "g.sdf")
    text = _sdf(["1", "0"]).splitlines(keepends=True)
    second = text.index("$$$$\n") + 2
    text[second + 2] = "  6 99  0  0  0  0  0  0  0  0999 V2000\n"  # the second record's counts line lies
    (tmp_path / "bad.sdf").write_text("".join(text))
    fails(DatasetError, rf"bad.sdf:{second}: molecule 2: RDKit cannot parse", read_sdf, tmp_path / "bad.sdf")
    (tmp_path / "d.sdf").mkdir()
    fails(DatasetError, r"d.sdf: is a directory", read_sdf, tmp_path / "d.sdf")


# ----------------------------------------------------------------------------------- knowledge bases

def kb_folder(tmp_path: Path, **files: str) -> Path:
    base = {"train": "a\tr\tb\nb\ts\tc\n", "test": "a\ts\tc\n"}
    for name, text in {**base, **files}.items():
        (tmp_path / f"{name}.txt").write_text(text)
    return tmp_path


@pytest.mark.parametrize(("files", "where"), [
    ({"test": "a\ts\tc\nz\tr\ta\n"}, r"test.txt:2: entity 'z' does not occur in train.txt"),
    ({"valid": "a\tq\tb\n"}, r"valid.txt:1: relation 'q' does not occur in train.txt"),
    ({"train": "a\tr\tb\na r b\n"}, r"train.txt:2: expected head<TAB>relation<TAB>tail"),
    ({"train": "a\t\tb\n"}, r"train.txt:1: expected head<TAB>relation<TAB>tail"),
    ({"train": "\n"}, r"train.txt: the dataset is empty"),
])
def test_kb_bad_files(tmp_path: Path, files: dict[str, str], where: str) -> None:
    fails(DatasetError, where, read_triples, kb_folder(tmp_path, **files))


def test_kb_train_directory_undecodable_and_missing(tmp_path: Path) -> None:
    (tmp_path / "train.txt").mkdir()
    fails(DatasetError, r"train.txt: is a directory", read_triples, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "train.txt").write_bytes(b"a\tr\tb\n\xc3\x28\tr\tb\n")
    fails(DatasetError, r"train.txt:2: byte b'\\xc3'", read_triples, other)
    fails(FileNotFoundError, r"no train.txt", read_triples, tmp_path / "none")


# ----------------------------------------------------------------------------------- GraphSet and load

def _set(**kw) -> GraphSet:
    base = dict(node_type=np.array([0, 0, 1]), graph=np.array([0, 0, 1]), edge_index=np.array([[0], [1]]),
                edge_type=np.array([0]), y=np.array([1.0, 0.0]), node_types=("a", "b"), edge_types=("e",), name="S")
    return GraphSet(**{**base, **kw})


@pytest.mark.parametrize(("change", "where"), [
    ({"graph": np.array([0, 0, 0])}, r"S: graph 1 has no nodes"),
    ({"graph": np.array([1, 0, 1])}, r"S: node graph ids must be non-decreasing"),
    ({"y": np.array([1.0, np.nan])}, r"S: graph 1 has a non-finite label"),
    ({"node_type": np.array([0, 0, 2])}, r"S: a node type id lies outside 0..1"),
    ({"edge_index": np.array([[0], [2]])}, r"S: an edge joins nodes of two different graphs"),
    ({"edge_index": np.array([[0], [3]])}, r"S: an edge refers to a node that does not exist"),
    ({"y": np.array([])}, r"S: .*"),
])
def test_graphset_consistency(change: dict, where: str) -> None:
    fails(ValueError, where, _set, **change)


def test_load_missing_and_kb_as_graphs(tmp_path: Path) -> None:
    fails(FileNotFoundError, r"no such dataset: .*nope", load, tmp_path / "nope")
    fails(ValueError, r"is a knowledge base, not a set of graphs", load_graphs, kb_folder(tmp_path))
