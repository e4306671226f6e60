"""Datasets: graph collections and their readers."""

from .graphs import GraphSet
from .nci import read_nci_gi50
from .registry import BUNDLED, load_graphs
from .tu import read_tu

__all__ = ["BUNDLED", "GraphSet", "load_graphs", "read_nci_gi50", "read_tu"]
