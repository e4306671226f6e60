"""Datasets: graph sets, knowledge bases, their readers and their fact encodings.

Names are imported on first use, so listing datasets (``liftnn datasets``,
:func:`liftnn.data.registry.catalogue`) does not pay for importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "download_tu": "download", "graph_facts": "encode", "GraphSet": "graphs",
    "KnowledgeBase": "kb", "corrupt": "kb", "kb_facts": "kb", "read_triples": "kb",
    "read_nci_gi50": "nci", "from_pyg": "pyg",
    "BUNDLED": "registry", "bundled_path": "registry", "load": "registry", "load_graphs": "registry",
    "DatasetError": "text", "read_tu": "tu",
}

if TYPE_CHECKING:
    from .download import download_tu
    from .encode import graph_facts
    from .graphs import GraphSet
    from .kb import KnowledgeBase, corrupt, kb_facts, read_triples
    from .nci import read_nci_gi50
    from .pyg import from_pyg
    from .registry import BUNDLED, bundled_path, load, load_graphs
    from .text import DatasetError
    from .tu import read_tu


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "BUNDLED", "DatasetError", "GraphSet", "KnowledgeBase", "bundled_path", "corrupt", "download_tu", "from_pyg",
    "graph_facts", "kb_facts",
    "load", "load_graphs", "read_nci_gi50", "read_triples", "read_tu",
]
