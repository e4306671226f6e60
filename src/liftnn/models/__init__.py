"""Model families: the template zoo and a direct message-passing graph builder."""

from .gnn import message_passing_graph
from .zoo import DEFAULT_LAYERS, MODELS, kbe_template, molecule_template

__all__ = ["DEFAULT_LAYERS", "MODELS", "kbe_template", "message_passing_graph", "molecule_template"]
