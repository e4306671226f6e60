"""NeuraLogic's per-sample trainer (Table 1's reference column) runs the zoo template that liftnn
runs: the same outputs under the same weights (before and after training), with its
compression on, in a JVM that has the garbage-collector flag; and the exported example files
say exactly what :func:`liftnn.data.graph_facts` says."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

import liftnn
from liftnn.bench.neuralogic_timing import (
    GC_FLAG,
    configure_jvm,
    jvm_arguments,
    neuralogic_available,
    neuralogic_trainer,
    write_examples,
)
from liftnn.data import GraphSet, graph_facts, read_nci_gi50
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.logic import build, load_dataset, load_template, neuron_count
from liftnn.models import molecule_template

MOLECULES = 30
TOL = 1e-9


def _graphs(path: Path, folder: Path) -> GraphSet:
    """The first ``MOLECULES`` molecules of an NCI-GI50 file."""
    with gzip.open(path, "rt") as f:
        (folder / "head.txt").write_text("".join(itertools.islice(f, MOLECULES)))
    return read_nci_gi50(folder / "head.txt")


def _liftnn_outputs(data: GraphSet, model: str, layers: int, weights: dict[str, np.ndarray],
                    folder: Path) -> tuple[np.ndarray, int]:
    """liftnn's outputs of the zoo template under NeuraLogic's weights, and its neuron count."""
    path = folder / f"{model}.txt"
    path.write_text(str(molecule_template(model, node_type_predicates(data), edge_type_predicates(data),
                                          layers, 10)) + "\n")
    net = build(load_template(path), *graph_facts(data))
    shapes = net.graph.shapes
    params = {k: torch.tensor(weights[k].reshape(shapes[k]), dtype=torch.float64) for k in net.graph.labels}
    with torch.no_grad():
        return liftnn.evaluate(net.graph, params).numpy().ravel(), neuron_count(net)


def test_exported_files_state_the_same_facts(mda_path: Path, tmp_path: Path) -> None:
    """Re-read by liftnn's own parser, the files give the same network and outputs, node
    features (valued facts) included."""
    data = _graphs(mda_path, tmp_path)
    features = np.random.default_rng(0).normal(size=(data.num_nodes, 3)).round(6)
    data = dataclasses.replace(data, node_features=features)
    path = tmp_path / "template.txt"
    path.write_text(str(molecule_template("gcn", node_type_predicates(data), edge_type_predicates(data), 2, 4))
                    + "\n{4,3} h0(X) :- feat(X).\n")
    template = load_template(path)
    direct = build(template, *graph_facts(data))
    examples, queries = write_examples(*graph_facts(data), tmp_path / "files")
    assert examples.read_text().count("\n") == MOLECULES
    assert "feat(a0)" in examples.read_text() and "[" in examples.read_text()
    reread = build(template, *load_dataset(examples, queries))
    assert neuron_count(reread) == neuron_count(direct)
    params = direct.weights.init_params(dtype=torch.float64)
    with torch.no_grad():
        a = liftnn.evaluate(direct.graph, params).numpy()
        b = liftnn.evaluate(reread.graph, params).numpy()
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    assert float(np.abs(a - a.mean()).max()) > 1e-6  # the features matter: outputs differ between molecules


UNAVAILABLE = neuralogic_available()  # the [test] extra installs the reference implementation; Java is needed
needs_neuralogic = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))
if UNAVAILABLE is None:
    # Collection runs before any test: whichever test of the session starts the JVM, it starts with the flag.
    configure_jvm()


@pytest.fixture(scope="module")
def mda30(mda_path: Path, tmp_path_factory: pytest.TempPathFactory) -> GraphSet:
    return _graphs(mda_path, tmp_path_factory.mktemp("mda30"))


@needs_neuralogic
def test_jvm_runs_with_the_gc_flag() -> None:
    assert GC_FLAG in jvm_arguments()


@needs_neuralogic
@pytest.mark.parametrize(("model", "layers"), [("gcn", 2), ("sage", 2), ("gin", 1)])
def test_trainer_computes_the_zoo_template(model: str, layers: int, mda30: GraphSet, tmp_path: Path) -> None:
    """GIN with one layer: deeper ones saturate the sigmoid readout under NeuraLogic's
    initialisation (all outputs 1), which would compare nothing."""
    trainer = neuralogic_trainer(mda30, model, layers, 10, lr=0.01, seed=0)
    try:
        assert trainer.gc_flag and trainer.num_samples == MOLECULES and trainer.build_seconds > 0
        before = trainer.weights()
        theirs = trainer.outputs()
        ours, unlifted = _liftnn_outputs(mda30, model, layers, before, tmp_path)
        assert float(np.abs(ours - theirs).max()) < TOL
        assert float(theirs.std()) > 1e-4, "outputs do not depend on the molecule: nothing is compared"
        assert 0 < trainer.neurons < unlifted, "NeuraLogic's compression is off"
        assert abs(trainer.loss() - float(np.mean((theirs - mda30.y) ** 2))) < TOL

        losses = [trainer.epoch() for _ in range(2)]
        assert all(np.isfinite(loss) and loss > 0 for loss in losses)
        assert trainer.last_epoch_seconds > 0
        after = trainer.weights()
        assert max(float(np.abs(after[k] - before[k]).max()) for k in before) > 1e-4, "training moved nothing"
        ours, _ = _liftnn_outputs(mda30, model, layers, after, tmp_path)
        outputs = trainer.outputs()
        assert float(np.abs(ours - outputs).max()) < TOL
        assert abs(trainer.loss() - float(np.mean((outputs - mda30.y) ** 2))) < TOL
    finally:
        trainer.close()
