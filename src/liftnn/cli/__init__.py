"""The ``liftnn`` command."""

from .main import main

__all__ = ["main"]
