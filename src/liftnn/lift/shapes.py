"""The weight shapes a graph declares, checked against the shapes it is evaluated with.

A value-lifted graph declares a shape for every label: its merges were decided on
draws of those shapes (scalars where nothing else was declared), and nodes equal for
scalar weights, such as ``prod(A·x, B·y)`` and ``prod(B·x, A·y)``, can differ for
matrices. Evaluating it with other shapes is therefore an error, not a silent loss.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine.params import Shape
from ..engine.plan import WeightShapeError
from ..graph import Graph


def check_shapes(graph: Graph, shapes: Mapping[str, Shape]) -> None:
    """Raise :class:`~liftnn.engine.plan.WeightShapeError` (a ``ValueError``) naming the first
    label whose shape in ``shapes`` differs from the shape ``graph`` declares for it."""
    for label in graph.labels:
        declared = graph.shapes.get(label)
        given = shapes.get(label)
        if declared is None or given is None or tuple(given) == tuple(declared):
            continue
        raise WeightShapeError(
            f"weight {label!r} has shape {tuple(given)} but the graph declares {tuple(declared)}; a value-lifted "
            f"graph's merges hold only for the shapes it was lifted with: lift again with "
            f"compress(..., shapes={{{label!r}: {tuple(given)}}}) or use method='exact'",
            label,
        )
