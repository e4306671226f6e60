"""Reading dataset files as text: every failure is one :class:`DatasetError` naming the file (and line).

Missing files, directories where a file is expected, gzip files that are truncated
or not gzip at all, and bytes that are not UTF-8 all end here, so a reader never
lets a bare ``IsADirectoryError``, ``EOFError`` or codec error escape.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import NoReturn


class DatasetError(ValueError):
    """A dataset file that cannot be read as documented; the message starts with ``FILE[:LINE]:``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line = str(path), line
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def fail(path: str | Path, line: int | None, message: str) -> NoReturn:
    raise DatasetError(path, line, message)


def require_file(path: Path, what: str = "dataset file") -> None:
    """``FileNotFoundError`` for a missing path, :class:`DatasetError` for a directory or other non-file."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such {what}")
    if path.is_dir():
        fail(path, None, f"is a directory, but a {what} is expected here")
    if not path.is_file():
        fail(path, None, f"is not a regular file, but a {what} is expected here")


def read_bytes(path: Path, what: str = "dataset file") -> bytes:
    """The file's bytes, gunzipped when its name ends in ``.gz``."""
    require_file(path, what)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        fail(path, None, f"not a readable gzip file ({err or 'truncated'}); re-download it, or drop the .gz "
             "suffix if it is plain text")
    except OSError as err:
        fail(path, None, f"cannot be read: {err.strerror or err}")


def read_text(path: Path, what: str = "dataset file") -> str:
    """The file as UTF-8 text (a BOM is dropped); undecodable bytes are reported with their line."""
    data = read_bytes(path, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - data.rfind(b"\n", 0, err.start)
        fail(path, line, f"byte {data[err.start:err.start + 1]!r} at column {column} is not UTF-8 text; "
             "save the file as UTF-8")


def read_lines(path: Path, what: str = "dataset file") -> list[str]:
    """The file's lines (without line ends); line ``i`` of the file is ``lines[i - 1]``."""
    return read_text(path, what).splitlines()
