"""The computation-graph IR, its builder and its function registries."""

from .builder import GraphBuilder
from .functions import (
    LEAF,
    Combine,
    activation_names,
    combine_names,
    get_activation,
    get_combine,
    register_activation,
    register_combine,
)
from .ir import Graph

__all__ = [
    "LEAF",
    "Combine",
    "Graph",
    "GraphBuilder",
    "activation_names",
    "combine_names",
    "get_activation",
    "get_combine",
    "register_activation",
    "register_combine",
]
