"""Knowledge bases, SMILES/SDF, PyG objects, bundled names and the checked TU download."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import liftnn
from liftnn.data import bundled_path, download_tu, graph_facts, kb_facts, load, read_triples
from liftnn.data.chem import read_sdf, read_smiles
from liftnn.data.encode import node_type_predicates
from liftnn.data.pyg import from_pyg
from liftnn.logic import build, load_dataset
from liftnn.models import kbe_template, molecule_template


def test_triples_folder_and_bundled_copy_agree(data_dir: Path) -> None:
    kb = read_triples(data_dir / "kbc/nations")
    assert kb.stats()["train_triples"] == 1592 and len(kb.entities) == 14
    bundled = load("NATIONS")
    assert bundled.stats() == {**kb.stats(), "name": "nations"}


def test_triples_bad_line(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("a\tr\tb\na r b\n")
    with pytest.raises(ValueError, match=r"train.txt:2: expected head<TAB>relation<TAB>tail"):
        read_triples(tmp_path)


def test_kb_queries_negatives_are_never_known_triples(data_dir: Path) -> None:
    kb = read_triples(data_dir / "kbc/kinships")
    facts, queries = kb_facts(kb, negatives=2, seed=1)
    assert len(queries) == 3 * kb.splits["train"].shape[0]
    assert queries.target.sum() == kb.splits["train"].shape[0]
    known = {tuple(t) for s in kb.splits.values() for t in s.tolist()}
    ent = {facts.symbols.id(e): i for i, e in enumerate(kb.entities)}
    rel = {facts.symbols.id(r): i for i, r in enumerate(kb.relations)}
    negatives = [q for q, t in zip(queries.rows, queries.target, strict=True) if t == 0]
    assert all((ent[q[1]], rel[q[2]], ent[q[3]]) not in known for q in negatives)


def test_kbe_builds_and_lifts_losslessly() -> None:
    kb = load("NATIONS")
    net = build(kbe_template(kb.entities, kb.relations, dim=3), *kb_facts(kb, negatives=1))
    assert net.graph.num_samples == 2 * 1592
    lifted, report = liftnn.compress(net.graph, scope="dataset")
    assert report.ratio > 2
    liftnn.verify(net.graph, lifted, trials=1)


def test_paper_kb_encoding_loads(data_dir: Path) -> None:
    folder = data_dir / "kbc/nations/neuralifting_lrnn"
    facts, queries = load_dataset(folder / "examples", folder / "queries")
    assert facts.num_examples == 1 and len(queries) == 5347
    assert set(queries.target.tolist()) == {0.0, 1.0}


def test_smiles_and_sdf(tmp_path: Path) -> None:
    csv = tmp_path / "mols.csv"
    csv.write_text("smiles,label\nCCO,1\nc1ccccc1,0\n")
    d = read_smiles(csv)
    assert d.num_graphs == 2 and d.num_nodes == 9 and d.num_edges == 2 * (2 + 6)
    assert "c_ar" in d.node_types and "aromatic" in d.edge_types
    (tmp_path / "bad.csv").write_text("smiles,label\nCCO,1\nC1CC,0\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: RDKit cannot parse"):
        read_smiles(tmp_path / "bad.csv")
    (tmp_path / "nolabel.csv").write_text("smiles,y\nCCO,1\n")
    with pytest.raises(ValueError, match=r"nolabel.csv:1: no column 'label'"):
        read_smiles(tmp_path / "nolabel.csv")
    nci = load("NCI200")
    assert nci.num_graphs == 200
    assert np.array_equal(read_sdf(bundled_path("NCI200")).edge_index, nci.edge_index)
    net = build(molecule_template("gcn", node_type_predicates(nci), dim=3), *graph_facts(nci))
    assert net.graph.num_samples == 200


def test_pyg_objects_in() -> None:
    from torch_geometric.data import Data

    graphs = [
        Data(x=torch.eye(3)[[0, 1, 1]], edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), y=torch.tensor([1.0])),
        Data(x=torch.eye(3)[[2, 2]], edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([0.0])),
    ]
    d = from_pyg(graphs)
    assert d.node_type.tolist() == [0, 1, 1, 2, 2]
    assert d.edge_index.tolist() == [[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]]
    assert d.y.tolist() == [1.0, 0.0]


def test_tu_download_checks_sums(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "molecules/tudataset/MUTAG"
    archive = tmp_path / "MUTAG.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in src.glob("MUTAG_*.txt"):
            zf.write(f, f"MUTAG/{f.name}")
    folder = download_tu("MUTAG", tmp_path / "root", url=archive.as_uri())
    assert load(folder).num_graphs == 188
    shutil.rmtree(folder)
    with zipfile.ZipFile(archive, "a") as zf:  # a tampered copy: later entries win on extraction
        zf.writestr("MUTAG/MUTAG_graph_labels.txt", "1\n")
    with pytest.raises(ValueError, match=r"MUTAG_graph_labels.txt: SHA-256"):
        download_tu("MUTAG", tmp_path / "root", url=archive.as_uri())
    assert not (tmp_path / "root/MUTAG/MUTAG_A.txt").exists()  # nothing unverified is kept


def test_unknown_dataset_names_the_options(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="NATIONS"):
        load(tmp_path / "nothing")
    assert np.isfinite(load("MUTAG").y).all()
