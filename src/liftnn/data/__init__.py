"""Datasets: graph sets, knowledge bases, their readers and their fact encodings."""

from .download import download_tu
from .encode import graph_facts
from .graphs import GraphSet
from .kb import KnowledgeBase, corrupt, kb_facts, read_triples
from .nci import read_nci_gi50
from .pyg import from_pyg
from .registry import BUNDLED, bundled_path, load, load_graphs
from .text import DatasetError
from .tu import read_tu

__all__ = [
    "BUNDLED", "DatasetError", "GraphSet", "KnowledgeBase", "bundled_path", "corrupt", "download_tu", "from_pyg",
    "graph_facts", "kb_facts",
    "load", "load_graphs", "read_nci_gi50", "read_triples", "read_tu",
]
