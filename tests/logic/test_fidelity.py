"""liftnn against the reference implementation (PyNeuraLogic): same template, same
data, same weights -> the same outputs (float64, 1e-9) and the same neuron counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import liftnn
from liftnn.logic import build, load_dataset, load_template
from liftnn.models import molecule_template

neuralogic = pytest.importorskip("neuralogic", reason="the [test] extra installs the reference implementation")
if shutil.which("java") is None:
    pytest.skip("the reference implementation needs Java", allow_module_level=True)

from reference_neuralogic import run_reference  # noqa: E402

NL_DATA = Path(neuralogic.__file__).parent / "utils/data/datasets/molecules/mutagenesis"
ELEMENTS = ["c", "o", "br", "i", "f", "h", "n", "cl"]
BONDS = ["b_1", "b_2", "b_3", "b_4", "b_5", "b_7"]


def compare(template_path: Path, examples: Path, queries: Path) -> tuple[float, int, int]:
    ref = run_reference(template_path, examples, queries)
    net = build(load_template(template_path), *load_dataset(examples, queries), strict=False)
    shapes = net.graph.shapes
    params = {k: torch.tensor(ref.weights[k].reshape(shapes[k]), dtype=torch.float64) for k in net.graph.labels}
    ours = liftnn.evaluate(net.graph, params).detach().numpy()
    for scope in ("sample", "dataset"):
        lifted, _ = liftnn.compress(net.graph, scope=scope)
        assert np.allclose(liftnn.evaluate(lifted, params).detach().numpy(), ours, rtol=1e-12, atol=1e-12)
    return float(np.abs(ours - ref.outputs).max()), net.graph.num_nodes, ref.neurons


@pytest.fixture(scope="module")
def mutagenesis(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first 40 molecules of the reference's own Mutagenesis copy."""
    d = tmp_path_factory.mktemp("muta")
    lines = (NL_DATA / "examples.txt").read_text().splitlines()[:40]
    (d / "examples.txt").write_text("\n".join(lines) + "\n")
    (d / "queries.txt").write_text("\n".join((NL_DATA / "queries.txt").read_text().splitlines()[:40]) + "\n")
    return d / "examples.txt", d / "queries.txt"


def test_shipped_mutagenesis_template_matches_reference(mutagenesis: tuple[Path, Path]) -> None:
    err, ours, theirs = compare(NL_DATA / "templates/template.txt", *mutagenesis)
    assert err < 1e-9
    assert ours == theirs  # same neuron count: fact, rule, aggregation and atom neurons alike


@pytest.mark.parametrize("model", ["gcn", "gin", "gcn_bonds", "sage"])
def test_zoo_models_match_reference(model: str, mutagenesis: tuple[Path, Path], tmp_path: Path) -> None:
    layers = 2 if model != "gin" else 3
    template = molecule_template(model, ELEMENTS, BONDS, layers=layers, dim=3)
    path = tmp_path / "template.txt"
    path.write_text(str(template) + "\n")
    err, ours, theirs = compare(path, *mutagenesis)
    assert err < 1e-9
    assert ours == theirs
