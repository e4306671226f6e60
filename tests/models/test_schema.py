"""Zoo models on NeuraLogic-format molecule folders: the schema is inferred and reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from liftnn.cli import main
from liftnn.logic import load_dataset
from liftnn.models import SchemaError, infer_schema


def write_molecules(folder: Path, count: int = 24, relation: str = "bond") -> Path:
    """Small random molecules in the Mutagenesis layout, every fact valued ``<1>``: atom-type facts,
    ``bond(A, B, BondId)`` both ways with a bond-type fact on the id, one ``predict`` query each."""
    rng = np.random.default_rng(0)
    examples, queries = [], []
    for m in range(count):
        n = int(rng.integers(3, 7))
        facts = [f"<1> {rng.choice(['c', 'o', 'n', 'h'])}(m{m}_{i})" for i in range(n)]
        pairs = [(i, i + 1) for i in range(n - 1)] + ([(0, n - 1)] if n > 3 else [])
        for k, (i, j) in enumerate(pairs):
            facts += [f"<1> {relation}(m{m}_{i}, m{m}_{j}, {k})", f"<1> {relation}(m{m}_{j}, m{m}_{i}, {k})",
                      f"<1> {rng.choice(['b_1', 'b_2', 'b_7'])}({k})"]
        examples.append(", ".join(facts) + ".")
        queries.append(f"{float(m % 2)} predict.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "examples.txt").write_text("\n".join(examples) + "\n")
    (folder / "queries.txt").write_text("\n".join(queries) + "\n")
    return folder


def test_schema_of_a_mutagenesis_style_folder(tmp_path: Path) -> None:
    d = write_molecules(tmp_path / "m", relation="link")
    facts, queries = load_dataset(d / "examples.txt", d / "queries.txt")
    schema = infer_schema(facts, queries, str(d))
    assert schema.relation == ("link", 3)
    assert set(schema.atom_types) <= {"c", "o", "n", "h"} and len(schema.atom_types) >= 3
    assert set(schema.bond_types) <= {"b_1", "b_2", "b_7"} and schema.bond_types
    assert schema.query == ("predict", 0)


@pytest.mark.parametrize("model", ["gcn", "gin", "sage", "gcn_bonds"])
def test_zoo_commands_on_a_neuralogic_folder(model: str, tmp_path: Path, capsys) -> None:
    d = str(write_molecules(tmp_path / "m"))
    assert main(["info", d, "--model", model, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema"]["bond_relation"] == "bond/3" and "b_1" in info["schema"]["bond_types"]
    assert info["graph"]["samples"] == 24
    assert main(["compress", d, "--model", model, "--json", "--layers", "2", "--dim", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(r["verify"]["ok"] for r in out["runs"])
    sizes = ["--layers", "2", "--dim", "3"]
    assert main(["train", d, "--model", model, "--epochs", "2", *sizes, "--folds", "2", "--json"]) == 0
    capsys.readouterr()


def test_what_cannot_be_inferred_is_named(tmp_path: Path) -> None:
    (tmp_path / "examples.txt").write_text("c(a), o(b).\n")
    (tmp_path / "queries.txt").write_text("1.0 predict.\n")
    facts, queries = load_dataset(tmp_path / "examples.txt", tmp_path / "queries.txt")
    with pytest.raises(SchemaError, match="no bond relation"):
        infer_schema(facts, queries, str(tmp_path))
    (tmp_path / "examples.txt").write_text("bond(a, b, 1), bond(b, a, 1).\n")
    facts, queries = load_dataset(tmp_path / "examples.txt", tmp_path / "queries.txt")
    with pytest.raises(SchemaError, match="no atom-type facts"):
        infer_schema(facts, queries, str(tmp_path))
