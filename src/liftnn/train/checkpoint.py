"""Checkpoints: safe to open, written atomically.

A checkpoint is one ``torch.save`` file holding only tensors and strings: the
weights (``params``, a state dict), and as JSON text the training configuration,
the history and ``meta`` (what the data looked like: its kind, type names, the
knowledge base's names), plus the template text. It is read with
``torch.load(weights_only=True)``, so opening a file someone sent you runs no code.

Writing goes to a temporary file in the target's folder, then ``os.replace`` renames
it over the target: a failed write leaves the previous file as it was.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import torch

FORMAT = "liftnn-checkpoint"
VERSION = 1


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a file this module wrote."""
    try:
        read(path)
    except (ValueError, FileNotFoundError):
        return False
    return True


def check_target(path: str | Path, force: bool = False) -> Path:
    """Validate where a checkpoint will go, before any training: the folder exists and
    is writable, the path is not a folder, and an existing file there is a checkpoint
    (anything else is replaced only with ``force``)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"--checkpoint {path}: is a folder; give a file name, e.g. {path / 'model.pt'}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--checkpoint {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--checkpoint {path}: the folder {folder} is not writable")
    if path.exists() and not force and not is_checkpoint(path):
        raise ValueError(f"--checkpoint {path}: exists and is not a liftnn checkpoint; not replacing it "
                         "(choose another name, or pass --force / force=True)")
    return path


def write(path: str | Path, params: dict[str, torch.Tensor], *, template: str | None, config: dict,
          history: dict, meta: dict, tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Write a checkpoint atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "params": {k: v.detach().cpu().clone() for k, v in params.items()},
        "tensors": {k: v.detach().cpu() for k, v in (tensors or {}).items()},
        "template": template or "",
        "config": json.dumps(config, default=str),
        "history": json.dumps(history, default=float),
        "meta": json.dumps(meta, default=str),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | Path) -> dict:
    """A checkpoint as a dict: ``params``, ``tensors``, ``template`` (text), ``config``,
    ``history`` and ``meta`` (dicts); loaded with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    try:
        with warnings.catch_warnings():  # a foreign pickle may make torch warn about its protocol
            warnings.simplefilter("ignore")
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError, KeyError, IndexError,
            TypeError) as err:  # what unpickling arbitrary bytes raises (b"hello": a memo KeyError)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a liftnn checkpoint (or one written by an older, unsafe version): "
                         f"{first}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"{path}: not a liftnn checkpoint")
    if raw.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {raw.get('version')}; this liftnn reads version {VERSION}")
    return {
        "params": raw["params"],
        "tensors": raw["tensors"],
        "template": raw["template"] or None,
        "config": json.loads(raw["config"]),
        "history": json.loads(raw["history"]),
        "meta": json.loads(raw["meta"]),
    }
