"""Checkpoints: safe to load (weights_only), atomic to write, validated before training."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from liftnn.train import checkpoint as ckpt


def _write(path: Path, value: float = 1.0) -> Path:
    return ckpt.write(path, {"w0": torch.full((2, 3), value)}, template="{2,3} h(X) :- a(X).",
                      config={"epochs": 3}, history={"epoch_loss": [0.5]}, meta={"kind": "graphs"},
                      tensors={"kb_train": torch.arange(6).reshape(2, 3)})


def test_round_trip_with_weights_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.pt")
    raw = torch.load(path, weights_only=True)  # plain tensors and strings: nothing to execute
    assert raw["format"] == ckpt.FORMAT
    back = ckpt.read(path)
    assert torch.equal(back["params"]["w0"], torch.ones(2, 3))
    assert back["config"] == {"epochs": 3} and back["history"]["epoch_loss"] == [0.5]
    assert back["template"].startswith("{2,3} h(X)") and back["meta"]["kind"] == "graphs"
    assert torch.equal(back["tensors"]["kb_train"], torch.arange(6).reshape(2, 3))


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickles_are_refused_without_running_them(tmp_path: Path, capsys) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"params": {}, "x": _Payload()}, path)
    with pytest.raises(ValueError, match="evil.pt: not a liftnn checkpoint"):
        ckpt.read(path)
    assert "code ran" not in capsys.readouterr().out
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="text.pt"):
        ckpt.read(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        ckpt.read(tmp_path / "absent.pt")


def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path / "m.pt", 1.0)
    before = path.read_bytes()

    def broken_save(obj, fh) -> None:
        fh.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        _write(path, 2.0)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind
    monkeypatch.undo()
    _write(path, 2.0)
    assert torch.equal(ckpt.read(path)["params"]["w0"], torch.full((2, 3), 2.0))


def test_target_is_checked_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        ckpt.check_target(tmp_path / "no" / "m.pt")
    with pytest.raises(ValueError, match="is a folder"):
        ckpt.check_target(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    with pytest.raises(ValueError, match="not a liftnn checkpoint; not replacing it"):
        ckpt.check_target(notes)
    assert ckpt.check_target(notes, force=True) == notes and notes.read_text() == "my notes"
    old = _write(tmp_path / "old.pt")
    assert ckpt.check_target(old) == old  # replacing a checkpoint is fine
    pickle_file = tmp_path / "model.pkl"
    pickle_file.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="--force"):
        ckpt.check_target(pickle_file)
