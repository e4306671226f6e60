"""Train, save, load with weights_only, predict: equal to the in-memory model, for graphs and triples."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import liftnn
from liftnn.cli import main
from liftnn.data import load as load_data
from liftnn.engine import evaluate
from liftnn.pipeline import ModelSpec, load_problem


def test_graph_model_round_trip_equals_in_memory(tmp_path: Path) -> None:
    result = liftnn.fit("MUTAG", "gcn", layers=1, dim=4, epochs=3, checkpoint=tmp_path / "m.pt")
    assert result.checkpoint == str(tmp_path / "m.pt")
    problem = load_problem("MUTAG", ModelSpec("gcn", layers=1, dim=4)).problem
    with torch.no_grad():
        in_memory = evaluate(problem.graph, {k: result.model.params[k] for k in problem.graph.labels}).double()
    model = liftnn.load(tmp_path / "m.pt")  # reads with torch.load(weights_only=True)
    assert set(model.params) == set(result.model.params)
    np.testing.assert_allclose(model.outputs("MUTAG"), in_memory.numpy(), rtol=1e-6, atol=1e-7)
    some = load_data("MUTAG").subset(np.array([5, 0, 17]))  # new graphs: any subset, in any order
    np.testing.assert_allclose(model.outputs(some)[:, 0], in_memory.numpy()[[5, 0, 17], 0], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(model.predict(some), (in_memory.numpy()[[5, 0, 17], 0] > 0.5).astype(int))


def test_knowledge_base_model_scores_triples(tmp_path: Path) -> None:
    result = liftnn.fit("NATIONS", dim=4, epochs=2)
    result.model.save(tmp_path / "kb.pt")
    model = liftnn.load(tmp_path / "kb.pt")
    triples = [("usa", "treaties", "uk"), ("uk", "treaties", "usa"), ("china", "embassy", "india")]
    scores = model.outputs(triples)[:, 0]
    np.testing.assert_allclose(scores, result.model.outputs(triples)[:, 0], rtol=1e-6)
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    with pytest.raises(ValueError, match="triples:1: unknown entity 'atlantis'"):
        model.outputs([("atlantis", "treaties", "uk")])


def test_cli_train_then_predict_csv_and_json(tmp_path: Path, capsys) -> None:
    ck = tmp_path / "mutag.pt"
    assert main(["train", "MUTAG", "--model", "gcn", "--layers", "1", "--dim", "4", "--epochs", "2",
                 "--checkpoint", str(ck), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["checkpoint"] == str(ck)
    out = tmp_path / "preds.csv"
    assert main(["predict", str(ck), "MUTAG", "--out", str(out)]) == 0
    assert "188 predictions written to" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 188 and set(rows[0]) == {"sample", "score", "predicted", "label"}
    assert main(["predict", str(ck), "MUTAG", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r[1] for r in payload["rows"]] == pytest.approx([float(r["score"]) for r in rows])


def test_cli_checkpoint_errors_come_before_training(tmp_path: Path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    assert main(["train", "MUTAG", "--epochs", "1000000", "--checkpoint", str(notes)]) == 2
    assert "not a liftnn checkpoint; not replacing it" in capsys.readouterr().err
    assert notes.read_text() == "keep me"
    assert main(["predict", str(notes), "MUTAG"]) == 2
    assert "notes.txt: not a liftnn checkpoint" in capsys.readouterr().err


def test_zoo_model_on_neuralogic_molecule_files_round_trip(tmp_path: Path, data_dir: Path) -> None:
    folder = data_dir / "molecules/mutagenesis/element_types"
    result = liftnn.fit(folder, "gcn", layers=1, dim=3, epochs=2, checkpoint=tmp_path / "m.pt")
    problem = load_problem(folder, ModelSpec("gcn", layers=1, dim=3)).problem
    with torch.no_grad():
        in_memory = evaluate(problem.graph, {k: result.model.params[k] for k in problem.graph.labels}).double()
    np.testing.assert_allclose(liftnn.load(tmp_path / "m.pt").outputs(folder), in_memory.numpy(), rtol=1e-6,
                               atol=1e-7)


def test_template_folder_round_trip(tmp_path: Path) -> None:
    folder = Path(__file__).resolve().parents[1] / "examples/molecules"
    result = liftnn.fit(folder, epochs=3, checkpoint=tmp_path / "m.pt")
    table = liftnn.load(tmp_path / "m.pt").predict_table(folder)
    assert len(table.rows) == 10
    np.testing.assert_allclose([r[1] for r in table.rows], result.model.outputs(folder)[:, 0], rtol=1e-6)
