"""Building graphs: one node at a time, or vectorised in bulk.

    >>> b = GraphBuilder()
    >>> x = b.input([1.0, 0.0])
    >>> h = b.node([(x, "W1"), (x, "W1")], combine="sum", act="sigmoid", bias="b1")
    >>> b.output(h, sample=0)
    >>> g = b.build()

Both styles append *chunks* of arrays; :meth:`GraphBuilder.build` concatenates
them once, so building a million-node graph costs a few numpy calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .functions import LEAF, get_activation, get_combine
from .ir import Graph

Input = int | tuple[int, str | None]


class _Names:
    """Interning table name -> small integer code."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, name: str) -> int:
        if name not in self.codes:
            self.codes[name] = len(self.codes)
        return self.codes[name]

    def codes_of(self, names: str | None | Sequence[str | None] | np.ndarray, n: int) -> np.ndarray:
        """Codes for a single name (broadcast to ``n``) or one name per item; ``None`` -> -1."""
        if names is None or isinstance(names, str):
            return np.full(n, -1 if names is None else self.code(names), dtype=np.int32)
        arr = np.asarray(names, dtype=object)
        if arr.shape != (n,):
            raise ValueError(f"expected {n} names, got shape {arr.shape}")
        out = np.full(n, -1, dtype=np.int32)
        named = np.not_equal(arr, None)
        if named.any():
            uniq, inv = np.unique(arr[named].astype(str), return_inverse=True)
            out[named] = np.array([self.code(str(u)) for u in uniq], dtype=np.int32)[inv]
        return out

    def names(self) -> tuple[str, ...]:
        return tuple(self.codes)


def _concat(chunks: list[tuple[np.ndarray, ...]], fields: int) -> list[np.ndarray]:
    """Concatenate each field over a list of same-shaped chunk tuples."""
    return [np.concatenate([c[i] for c in chunks]) if chunks else np.zeros(0, np.int64) for i in range(fields)]


class GraphBuilder:
    """Accumulates nodes, edges and outputs; :meth:`build` returns a validated :class:`Graph`."""

    def __init__(self) -> None:
        self._combines = _Names()
        self._acts = _Names()
        self._labels = _Names()
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._num_nodes = 0
        self._node_chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._value_chunks: list[np.ndarray] = []
        self._edge_chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._out_chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._num_samples = 0
        self._acts.code("identity")

    @property
    def num_nodes(self) -> int:
        return self._num_nodes

    # ---------------------------------------------------------------- leaves
    def input(self, value: float | Sequence[float] | np.ndarray) -> int:
        """Add a constant leaf holding a scalar or a vector; returns its node id."""
        vec = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if vec.ndim != 1 or vec.size == 0:
            raise ValueError(f"a leaf value must be a scalar or a non-empty vector, got shape {vec.shape}")
        return int(self.inputs(vec[None, :])[0])

    def inputs(self, values: np.ndarray | Sequence[Sequence[float]] | Sequence[np.ndarray]) -> np.ndarray:
        """Add one leaf per row of ``values`` (``[n, d]``, ``[n]`` for scalars, or a list of
        1-D arrays of any lengths); returns ids."""
        if isinstance(values, list | tuple) and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in values):
            lengths = np.array([v.size for v in values], dtype=np.int64)
            flat = np.concatenate(values).astype(np.float64) if values else np.zeros(0)
        else:
            vals = np.asarray(values, dtype=np.float64)
            if vals.ndim == 1:
                vals = vals[:, None]
            if vals.ndim != 2:
                raise ValueError(f"leaf values must have shape [n, d] with d >= 1, got {vals.shape}")
            lengths = np.full(vals.shape[0], vals.shape[1], dtype=np.int64)
            flat = vals.reshape(-1)
        if lengths.size and lengths.min() == 0:
            raise ValueError("leaf values must have shape [n, d] with d >= 1 (got an empty value)")
        n = lengths.size
        ids = np.arange(self._num_nodes, self._num_nodes + n, dtype=np.int64)
        self._add_nodes(np.full(n, LEAF, dtype=np.int32), np.zeros(n, np.int32), np.full(n, -1, np.int32), lengths)
        self._value_chunks.append(flat)
        return ids

    # ----------------------------------------------------------------- nodes
    def node(
        self,
        inputs: Iterable[Input],
        combine: str = "sum",
        act: str = "identity",
        bias: str | None = None,
    ) -> int:
        """Add ``act(combine([W·x for (x, W) in inputs]) + bias)``; an input without a
        label (a bare id or ``(id, None)``) is an identity edge. Returns the node id."""
        children: list[int] = []
        labels: list[str | None] = []
        for item in inputs:
            child, label = (item, None) if isinstance(item, int | np.integer) else item
            children.append(int(child))
            labels.append(label)
        if not children:
            raise ValueError("a node needs at least one input (use input() for constants)")
        return int(
            self.nodes(1, np.zeros(len(children), np.int64), np.asarray(children), labels, combine, act, bias)[0]
        )

    def nodes(
        self,
        count: int,
        parent: np.ndarray | None = None,
        child: np.ndarray | None = None,
        label: str | None | Sequence[str | None] | np.ndarray = None,
        combine: str | Sequence[str] = "sum",
        act: str | Sequence[str] = "identity",
        bias: str | None | Sequence[str | None] = None,
    ) -> np.ndarray:
        """Add ``count`` nodes at once.

        Args:
            count: number of new nodes ``n``.
            parent: ``int[E]`` the new node (``0..n-1``, local) each edge feeds;
                a node's edges keep their relative order as argument order. Omit
                ``parent`` and ``child`` to add the edges later with :meth:`connect`.
            child: ``int[E]`` global id of each edge's input node.
            label: weight label per edge (one name for all, or ``E`` names, ``None`` = identity).
            combine, act, bias: one name for all new nodes or ``n`` names.

        Returns:
            ``int64[n]`` the new node ids.
        """
        parent = np.asarray(() if parent is None else parent, dtype=np.int64)
        child = np.asarray(() if child is None else child, dtype=np.int64)
        if parent.shape != child.shape or parent.ndim != 1:
            raise ValueError("parent and child must be 1-D arrays of equal length")
        if parent.size and (parent.min() < 0 or parent.max() >= count):
            raise ValueError(f"parent indices must lie in 0..{count - 1}")
        if child.size and (child.min() < 0 or child.max() >= self._num_nodes):
            bad = child[(child < 0) | (child >= self._num_nodes)][0]
            raise ValueError(f"dangling edge: input node {bad} does not exist (yet)")
        base = self._num_nodes
        comb = self._names_checked(self._combines, combine, count, get_combine)
        acts = self._names_checked(self._acts, act, count, get_activation)
        self._add_nodes(comb, acts, self._labels.codes_of(bias, count), np.zeros(count, np.int64))
        labels = self._labels.codes_of(label, child.size)
        self._edge_chunks.append((child, parent + base, labels, np.ones(child.size, np.int64)))
        return np.arange(base, base + count, dtype=np.int64)

    def connect(self, child: np.ndarray, parent: np.ndarray, label: str | None = None) -> None:
        """Add edges ``child[e] -> parent[e]`` (global ids of existing nodes) under one label,
        after the parents' earlier edges; a cycle is reported by :meth:`build`."""
        child = np.asarray(child, dtype=np.int64)
        parent = np.asarray(parent, dtype=np.int64)
        if child.shape != parent.shape or child.ndim != 1:
            raise ValueError("connect: child and parent must be 1-D arrays of equal length")
        both = np.concatenate([child, parent])
        if both.size and (both.min() < 0 or both.max() >= self._num_nodes):
            bad = both[(both < 0) | (both >= self._num_nodes)][0]
            raise ValueError(f"dangling edge: node {bad} does not exist (yet)")
        labels = self._labels.codes_of(label, child.size)
        self._edge_chunks.append((child, parent, labels, np.ones(child.size, np.int64)))

    # --------------------------------------------------------------- outputs
    def output(self, node: int, sample: int = 0) -> None:
        """Mark ``node`` as an output of ``sample`` (outputs keep the order they are added)."""
        self.outputs([node], [sample])

    def outputs(self, nodes: Sequence[int] | np.ndarray, samples: Sequence[int] | np.ndarray) -> None:
        """Mark many outputs at once."""
        nodes = np.asarray(nodes, dtype=np.int64)
        samples = np.asarray(samples, dtype=np.int64)
        if nodes.shape != samples.shape:
            raise ValueError("outputs: nodes and samples must have the same length")
        if nodes.size and (nodes.min() < 0 or nodes.max() >= self._num_nodes):
            raise ValueError("outputs: a node id does not exist")
        if samples.size and samples.min() < 0:
            raise ValueError("outputs: sample ids must be >= 0")
        self._out_chunks.append((nodes, samples))
        if samples.size:
            self._num_samples = max(self._num_samples, int(samples.max()) + 1)

    def weight(self, label: str, shape: Sequence[int]) -> None:
        """Declare the shape of a weight or bias label: ``()``, ``(d,)`` or ``(out, in)``."""
        shape = tuple(int(d) for d in shape)
        if len(shape) > 2 or any(d < 1 for d in shape):
            raise ValueError(f"weight {label!r}: shape {shape} is not (), (d,) or (out, in)")
        self._shapes[label] = shape

    # ----------------------------------------------------------------- build
    def build(self, num_samples: int | None = None) -> Graph:
        """Concatenate all chunks into a validated, acyclic :class:`Graph`."""
        if not self._node_chunks:
            raise ValueError("the graph is empty: add inputs and nodes first")
        comb, act, bias, nvals = _concat(self._node_chunks, 4)
        value_ptr = np.zeros(self._num_nodes + 1, dtype=np.int64)
        np.cumsum(nvals, out=value_ptr[1:])
        values = np.concatenate(self._value_chunks) if self._value_chunks else np.zeros(0)
        child, parent, label, count = _concat(self._edge_chunks, 4)
        order = np.argsort(parent, kind="stable")
        outs = _concat(self._out_chunks, 2)
        samples = self._num_samples if num_samples is None else int(num_samples)
        if samples < self._num_samples:
            raise ValueError(f"num_samples={samples} but outputs use sample {self._num_samples - 1}")
        g = Graph(
            node_combine=comb.astype(np.int32),
            node_act=act.astype(np.int32),
            node_bias=bias.astype(np.int32),
            value_ptr=value_ptr,
            values=values.astype(np.float64),
            edge_child=child[order].astype(np.int64),
            edge_parent=parent[order].astype(np.int64),
            edge_label=label[order].astype(np.int32),
            edge_count=count[order].astype(np.int64),
            output_node=outs[0],
            output_sample=outs[1],
            num_samples=samples,
            combines=self._combines.names(),
            activations=self._acts.names(),
            labels=self._labels.names(),
            shapes=dict(self._shapes),
        )
        return g

    # --------------------------------------------------------------- helpers
    def _add_nodes(self, comb: np.ndarray, act: np.ndarray, bias: np.ndarray, nvals: np.ndarray) -> None:
        self._node_chunks.append((comb, act, bias, nvals))
        self._num_nodes += comb.shape[0]

    @staticmethod
    def _names_checked(table: _Names, names: str | Sequence[str], n: int, lookup) -> np.ndarray:
        for name in [names] if isinstance(names, str) else set(np.asarray(names, dtype=object).tolist()):
            lookup(name)
        return table.codes_of(names, n)
