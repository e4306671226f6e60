"""The command's error boundary: input errors become one line, ``liftnn: error: WHERE: WHAT``, exit 2.

Readers, templates and flags raise ``ValueError`` subclasses whose messages start with
the file and line (or name the flag or field); the operating system raises ``OSError``
with a file name; torch raises ``RuntimeError`` for devices and memory. None of them
is a bug in the caller's hands, so none prints a traceback (set ``LIFTNN_TRACEBACK=1``
to see one). Warnings print as one line, ``liftnn: warning: WHAT``, without the source
line Python would show.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

INPUT_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, ImportError, RuntimeError, RecursionError)


def describe(err: BaseException) -> str:
    """One line for an input error: its message, with the file name for an ``OSError``."""
    if isinstance(err, RecursionError):
        return f"input nested too deeply to process ({err})"
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror.lower()}"
    text = str(err).strip() or type(err).__name__
    return " ".join(line.strip() for line in text.splitlines()) if "\n" in text and "^" not in text else text


def _show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
          file: TextIO | None = None, line: str | None = None) -> None:
    print(f"liftnn: warning: {message}", file=file or sys.stderr)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print warnings as ``liftnn: warning: ...`` (no source line) while the block runs."""
    with warnings.catch_warnings():
        warnings.showwarning = _show
        yield


def run_command(command: Callable[[], dict]) -> tuple[dict | None, int]:
    """``(result, 0)``, or ``(None, 2)`` after printing ``liftnn: error: ...`` for an input error
    (``130`` on Ctrl-C)."""
    try:
        with one_line_warnings():
            return command(), 0
    except KeyboardInterrupt:
        print("liftnn: interrupted", file=sys.stderr)
        return None, 130
    except INPUT_ERRORS as err:
        if os.environ.get("LIFTNN_TRACEBACK"):
            raise
        print(f"liftnn: error: {describe(err)}", file=sys.stderr)
        return None, 2
