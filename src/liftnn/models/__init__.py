"""Model families: the template zoo and a direct message-passing graph builder."""

from .gnn import message_passing_graph
from .schema import MoleculeSchema, SchemaError, infer_schema, molecule_facts
from .zoo import DEFAULT_LAYERS, MODELS, kbe_template, molecule_template

__all__ = [
    "DEFAULT_LAYERS",
    "MODELS",
    "MoleculeSchema",
    "SchemaError",
    "infer_schema",
    "kbe_template",
    "message_passing_graph",
    "molecule_facts",
    "molecule_template",
]
