"""liftnn.fit: presets, settings routed to the model or to training, PyG lists in, checkpoints out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import liftnn
from liftnn.pipeline import PRESETS, ModelSpec


def test_presets_default_learns_and_paper_is_one_flag_away() -> None:
    default, paper = ModelSpec().resolved(False), ModelSpec(preset="paper").resolved(False)
    assert (default.model, default.activation, PRESETS["default"].loss) == ("gine", "relu", "bce")
    assert (paper.model, paper.activation, paper.dim, PRESETS["paper"].loss) == ("gcn", "sigmoid", 10, "mse")
    assert ModelSpec(preset="paper").resolved(True).model == "kbe"
    assert ModelSpec("sage", dim=7, preset="paper").resolved(False).dim == 7  # flags override the preset
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        ModelSpec(preset="fast").resolved(False)


def test_fit_routes_settings_and_rejects_unknown_ones(tmp_path: Path) -> None:
    result = liftnn.fit("MUTAG", "gcn", layers=1, dim=3, epochs=2, lr=0.05, preset="paper")
    assert result.config["epochs"] == 2 and result.config["lr"] == 0.05 and result.config["loss"] == "mse"
    assert result.model.meta["model"]["dim"] == 3 and len(result.folds) == 1
    assert "test accuracy" in str(result)
    with pytest.raises(TypeError, match="unknown setting"):
        liftnn.fit("MUTAG", epoch=3)
    with pytest.raises(ValueError, match="mp model has no template"):
        liftnn.fit("MUTAG", "mp", epochs=1, checkpoint=tmp_path / "m.pt")


def test_fit_on_a_pyg_list_with_continuous_features(tmp_path: Path) -> None:
    data = pytest.importorskip("torch_geometric.data")
    g = torch.Generator().manual_seed(1)
    graphs = []
    for i in range(12):
        n = 3 + i % 3
        a = torch.arange(n)
        ei = torch.stack([torch.cat([a, (a + 1) % n]), torch.cat([(a + 1) % n, a])])
        x = torch.randn(n, 4, generator=g) + (2.0 if i % 2 else -2.0)  # the class shows in the features
        graphs.append(data.Data(x=x, edge_index=ei, y=torch.tensor([i % 2])))
    result = liftnn.fit(graphs, folds=3, epochs=60, checkpoint=tmp_path / "m.pt")
    assert result.summary["train_accuracy"]["mean"] > 0.9  # real-valued features reach the model
    model = liftnn.load(tmp_path / "m.pt")
    assert model.predict(graphs).tolist() == result.model.predict(graphs).tolist()
