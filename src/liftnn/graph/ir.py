"""The computation-graph record: plain columnar numpy arrays.

A :class:`Graph` is the disjoint union of the computation graphs of one or
more samples. Node ``i`` computes

    value(i) = act_i( combine_i([W_{L_1}·value(c_1), ..., W_{L_m}·value(c_m)]) + b_i )

over its ordered inputs ``c_1..c_m`` (edges ``(c_j, i, L_j)``), or is a *leaf*
holding a constant feature vector. Every field is documented with its shape;
``N`` nodes, ``E`` edges, ``O`` outputs, ``V`` stored leaf values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from .._segments import pointers
from .functions import LEAF, get_activation, get_combine


@dataclass(frozen=True, eq=False)
class Graph:
    """A computation graph over many samples (immutable).

    Attributes:
        node_combine: ``int32[N]`` index into :attr:`combines`; ``-1`` marks a leaf.
        node_act: ``int32[N]`` index into :attr:`activations` (ignored for leaves).
        node_bias: ``int32[N]`` index into :attr:`labels` of the node's bias, ``-1`` for none.
        value_ptr: ``int64[N + 1]``: leaf ``i`` holds ``values[value_ptr[i]:value_ptr[i + 1]]``
            (a scalar is a vector of length one); inner nodes hold an empty range.
        values: ``float64[V]`` the leaves' feature values, concatenated.
        edge_child: ``int64[E]`` the input node of each edge.
        edge_parent: ``int64[E]`` the consuming node, non-decreasing: a parent's
            edges are contiguous and their order is the argument order. (The
            constructor sorts unsorted edges stably by parent, so any edge
            arrays can be passed: this is the vectorised bulk constructor.)
        edge_label: ``int32[E]`` index into :attr:`labels` of the shared weight, ``-1``
            for an identity edge.
        edge_count: ``int64[E]`` multiplicity ``k >= 1``: the edge stands for ``k``
            identical inputs (set by lifting; an edge with ``k > 1`` counts once
            in :attr:`num_edges`).
        output_node: ``int64[O]`` node of each output, in the order outputs were added.
        output_sample: ``int64[O]`` sample id (``0 .. num_samples - 1``) of each output.
        num_samples: number of samples in the union.
        combines: names of the combine functions used (see :mod:`liftnn.graph.functions`).
        activations: names of the activations used.
        labels: names of the weight and bias labels.
        shapes: declared shapes of some labels: ``()`` scalar, ``(d,)`` elementwise,
            ``(out, in)`` matrix. :func:`liftnn.init_params` fills in the rest.
    """

    node_combine: np.ndarray
    node_act: np.ndarray
    node_bias: np.ndarray
    value_ptr: np.ndarray
    values: np.ndarray
    edge_child: np.ndarray
    edge_parent: np.ndarray
    edge_label: np.ndarray
    edge_count: np.ndarray
    output_node: np.ndarray
    output_sample: np.ndarray
    num_samples: int
    combines: tuple[str, ...]
    activations: tuple[str, ...]
    labels: tuple[str, ...]
    shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, dtype in (("node_combine", np.int32), ("node_act", np.int32), ("node_bias", np.int32),
                            ("value_ptr", np.int64), ("values", np.float64), ("edge_child", np.int64),
                            ("edge_parent", np.int64), ("edge_label", np.int32), ("edge_count", np.int64),
                            ("output_node", np.int64), ("output_sample", np.int64)):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
        if self.edge_parent.size and np.any(np.diff(self.edge_parent) < 0):
            order = np.argsort(self.edge_parent, kind="stable")
            for name in ("edge_child", "edge_parent", "edge_label", "edge_count"):
                object.__setattr__(self, name, getattr(self, name)[order])
        _validate(self)
        self.levels()  # raises ValueError on a cycle

    # ------------------------------------------------------------------ sizes
    @property
    def num_nodes(self) -> int:
        return int(self.node_combine.shape[0])

    @property
    def num_edges(self) -> int:
        """Stored edges; an edge with multiplicity ``k`` counts once."""
        return int(self.edge_child.shape[0])

    @property
    def num_outputs(self) -> int:
        return int(self.output_node.shape[0])

    @property
    def is_leaf(self) -> np.ndarray:
        """``bool[N]``: the node is a constant leaf."""
        return self.node_combine == LEAF

    @property
    def edge_ptr(self) -> np.ndarray:
        """``int64[N + 1]`` CSR pointers: node ``i``'s edges are ``edge_ptr[i]:edge_ptr[i + 1]``."""
        if "edge_ptr" not in self._cache:
            self._cache["edge_ptr"] = pointers(self.edge_parent, self.num_nodes)
        return self._cache["edge_ptr"]

    def leaf_value(self, node: int) -> np.ndarray:
        """The constant vector of a leaf."""
        return self.values[self.value_ptr[node] : self.value_ptr[node + 1]]

    def levels(self) -> np.ndarray:
        """``int64[N]`` topological level: 0 for leaves, else 1 + max level of the inputs."""
        from .topology import topological_levels

        if "levels" not in self._cache:
            self._cache["levels"] = topological_levels(self)
        return self._cache["levels"]

    def node_samples(self) -> np.ndarray:
        """``int64[N]`` the sample a node serves: ``s >= 0`` if only sample ``s``'s
        outputs depend on it, ``-1`` if several do (shared), ``-2`` if none."""
        from .topology import node_samples

        if "samples" not in self._cache:
            self._cache["samples"] = node_samples(self)
        return self._cache["samples"]

    def summary(self) -> dict[str, Any]:
        """Nodes, edges, samples, depth and per-function counts."""
        from .topology import summary

        return summary(self)

    def __repr__(self) -> str:
        return (
            f"Graph(nodes={self.num_nodes}, edges={self.num_edges}, "
            f"samples={self.num_samples}, outputs={self.num_outputs})"
        )


def _fail(msg: str) -> NoReturn:
    raise ValueError(msg)


def _validate(g: Graph) -> None:
    """Cheap, vectorised consistency checks run on every construction."""
    n, e = g.node_combine.shape[0], g.edge_child.shape[0]
    for name, arr, size in (
        ("node_combine", g.node_combine, n),
        ("node_act", g.node_act, n),
        ("node_bias", g.node_bias, n),
        ("value_ptr", g.value_ptr, n + 1),
        ("edge_child", g.edge_child, e),
        ("edge_parent", g.edge_parent, e),
        ("edge_label", g.edge_label, e),
        ("edge_count", g.edge_count, e),
        ("output_sample", g.output_sample, g.output_node.shape[0]),
    ):
        if arr.ndim != 1 or arr.shape[0] != size:
            _fail(f"Graph field {name} must have shape ({size},), got {arr.shape}")
    for name in g.combines:
        get_combine(name)
    for name in g.activations:
        get_activation(name)
    if n and (g.node_combine.min() < LEAF or g.node_combine.max() >= len(g.combines)):
        _fail("Graph field node_combine indexes outside `combines`")
    if n and (g.node_act.min() < 0 or g.node_act.max() >= len(g.activations)):
        _fail("Graph field node_act indexes outside `activations`")
    nl = len(g.labels)
    if n and (g.node_bias.min() < -1 or g.node_bias.max() >= nl):
        _fail("Graph field node_bias indexes outside `labels`")
    if e:
        for name, arr in (("edge_child", g.edge_child), ("edge_parent", g.edge_parent)):
            bad = np.flatnonzero((arr < 0) | (arr >= n))
            if bad.size:
                _fail(f"dangling edge {bad[0]}: {name}={arr[bad[0]]} is not a node (0..{n - 1})")
        if g.edge_label.min() < -1 or g.edge_label.max() >= nl:
            _fail("Graph field edge_label indexes outside `labels`")
        bad = np.flatnonzero(g.edge_count < 1)
        if bad.size:
            _fail(f"edge {bad[0]} has multiplicity {g.edge_count[bad[0]]} < 1")
    if np.any(np.diff(g.value_ptr) < 0) or (n and g.value_ptr[0] != 0) or g.value_ptr[-1] != g.values.shape[0]:
        _fail("Graph field value_ptr is not a valid pointer array over `values`")
    leaf = g.node_combine == LEAF
    nvals = np.diff(g.value_ptr)
    has_edges = np.bincount(g.edge_parent, minlength=n) > 0
    bad = np.flatnonzero(leaf & (nvals == 0))
    if bad.size:
        _fail(f"leaf node {bad[0]} has no value")
    bad = np.flatnonzero(leaf & has_edges)
    if bad.size:
        _fail(f"leaf node {bad[0]} has input edges")
    bad = np.flatnonzero(~leaf & ~has_edges)
    if bad.size:
        _fail(f"node {bad[0]} ({g.combines[g.node_combine[bad[0]]]}) has no inputs and is not a leaf")
    bad = np.flatnonzero(~leaf & (nvals > 0))
    if bad.size:
        _fail(f"inner node {bad[0]} holds leaf values")
    if not np.all(np.isfinite(g.values)):
        pos = int(np.flatnonzero(~np.isfinite(g.values))[0])
        node = int(np.searchsorted(g.value_ptr, pos, side="right") - 1)
        _fail(f"leaf node {node} holds a non-finite value ({g.values[pos]})")
    o = g.output_node
    if o.size and (o.min() < 0 or o.max() >= n):
        _fail("Graph field output_node indexes a node that does not exist")
    s = g.output_sample
    if s.size and (s.min() < 0 or s.max() >= g.num_samples):
        _fail(f"output sample ids must lie in 0..{g.num_samples - 1}")
    for label, shape in g.shapes.items():
        if label not in g.labels:
            continue
        if len(shape) > 2 or any(int(d) < 1 for d in shape):
            _fail(f"weight {label!r}: shape {tuple(shape)} is not (), (d,) or (out, in)")
