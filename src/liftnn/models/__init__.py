"""Model families unfolded into computation graphs."""

from .gnn import message_passing_graph

__all__ = ["message_passing_graph"]
