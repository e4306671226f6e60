"""The tape: a graph flattened for the native executor (:mod:`liftnn.engine.native`).

Nodes are renumbered in a topological order (*tape index* ``t``; graph node
``Tape.node[t]``), so any ascending list of tape indices is an evaluation
order. The order is sample-major (by the first output row that needs a node,
then by level), so the nodes of one batch of consecutive output rows lie
together in memory. A node's value occupies ``values[voff[t] : voff[t] + dim[t]]`` of one
flat buffer; leaves are filled once from the graph.

A node's inputs are grouped into *runs* (CSR ``rptr`` over nodes, ``r_eptr``
over edges). For ``sum`` and ``mean`` a run is every input of one label and one
input dimension, applied through the weight once, after summing (linearity)::

    m_r = W_r · Σ_{e in r} c_e · x_{child(e)}

For the other combines every edge is its own run. Weights live in one flat
parameter vector ``theta``: label ``l`` is ``theta[l_off[l] : l_off[l + 1]]`` of
kind ``0`` scalar, ``1`` elementwise or ``2`` matrix (``rows × cols``, row-major); the
label table ``lt`` holds (offset, kind, rows, cols) per label.

A plain sum read by one edge of a sum or mean node needs no value of its own: its reader reads its
inputs instead, and the tape leaves it out (:mod:`liftnn.engine.inline`).

A batch is the ascending list of the inner nodes its outputs need
(:func:`liftnn.engine.native_batches.restrict`); training copies every batch's
nodes into a batch-major tape of the same form (:func:`liftnn.engine.native_batches.localise`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._segments import lexsort_ints, ranges, run_starts
from ..graph import Graph, get_combine
from ..graph.topology import first_output
from .inline import Inlined, inline_sums, mean_denominators
from .params import Shape
from .plan import exclusive_segment_cumsum, prepare

#: Combine kinds the native executor runs, by code (0 is a leaf).
KINDS = ("leaf", "sum", "mean", "max", "min", "prod", "concat")
#: Activations the native executor runs, by code.
ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "exp", "log", "sqrt",
               "square", "inverse", "abs", "reverse", "softmax", "signum")


class NativeUnsupported(ValueError):
    """The graph uses something only the torch engine runs (a registered function); ``what`` names it."""


class TapeArrays(NamedTuple):
    """The arrays the compiled kernels read (``N`` nodes, ``R`` runs, ``E`` edges, ``L`` labels, ``O`` outputs).

    ``F`` is the value dtype (float32 or float64).
    """

    kind: np.ndarray  # int64[N] code in KINDS
    act: np.ndarray  # int64[N] code in ACTIVATIONS
    dim: np.ndarray  # int64[N] value dimension
    voff: np.ndarray  # int64[N + 1] value offsets
    bias: np.ndarray  # int64[N] bias label, -1 for none
    denom: np.ndarray  # F[N] total multiplicity of a mean node's inputs (1 elsewhere)
    rptr: np.ndarray  # int64[N + 1] runs of node t: rptr[t] : rptr[t + 1]
    r_eptr: np.ndarray  # int64[R + 1] edges of run r
    r_lab: np.ndarray  # int64[R] weight label, -1 for none
    r_in: np.ndarray  # int64[R] input dimension
    r_out: np.ndarray  # int64[R] message dimension (1 broadcasts into a wider node)
    r_buf: np.ndarray  # int64[R] offset of the run's stored vector (summed input, or message)
    r_col: np.ndarray  # int64[R] first column of the message in a concat node
    r_const: np.ndarray  # F[R] added to every component of the run's summed input (constants folded by inlining)
    e_child: np.ndarray  # int64[E] tape index of the input
    e_cnt: np.ndarray  # F[E] multiplicity
    l_off: np.ndarray  # int64[L + 1] parameter offsets
    lt: np.ndarray  # int64[L, 4] per label: offset, kind (0 scalar, 1 elementwise, 2 matrix), rows, columns
    out: np.ndarray  # int64[O] tape index of every output row
    level: np.ndarray  # int64[N] topological level (0 for leaves; a node sits above all its inputs)


@dataclass(frozen=True)
class Tape:
    """A graph compiled for the native executor under one assignment of weight shapes and one dtype."""

    arrays: TapeArrays
    node: np.ndarray  # int64[N] graph node of every tape index
    leaves: np.ndarray  # F[V] the value buffer with the leaves filled in
    buf_size: int  # size of the per-run vector buffer
    max_dim: int  # widest node, input or message
    labels: tuple[str, ...]
    shapes: dict[str, Shape]

    @property
    def num_params(self) -> int:
        return int(self.arrays.l_off[-1])

    def pack(self, params: Mapping[str, object]) -> np.ndarray:
        """The flat parameter vector of ``{label: array-like}`` (every label of the tape)."""
        theta = np.empty(self.num_params, dtype=self.leaves.dtype)
        for i, label in enumerate(self.labels):
            value = params[label]
            value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
            if tuple(value.shape) != tuple(self.shapes[label]):
                raise ValueError(f"weight {label!r} has shape {tuple(value.shape)}, the tape was compiled for "
                                 f"{tuple(self.shapes[label])}")
            theta[self.arrays.l_off[i] : self.arrays.l_off[i + 1]] = value.reshape(-1)
        return theta

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """``{label: array}`` views of a flat parameter (or gradient) vector."""
        off = self.arrays.l_off
        return {lb: theta[off[i] : off[i + 1]].reshape(self.shapes[lb]) for i, lb in enumerate(self.labels)}


def compile_tape(graph: Graph, shapes: Mapping[str, Shape], dtype: np.dtype | type = np.float64,
                 inline: bool = True) -> Tape:
    """Flatten ``graph`` for weights of the given shapes; :class:`NativeUnsupported` names a registered
    combine or activation (those run on the torch engine only). With ``inline``, parents read through
    plain sums read once, which the tape then leaves out (:func:`~liftnn.engine.inline.inline_sums`)."""
    g = graph
    dtype = np.dtype(dtype)
    problem = unsupported(g)
    if problem:
        raise NativeUnsupported(problem)
    p = prepare(g, shapes)
    kinds = kind_codes(g)
    if inline:
        inlined = inline_sums(g, p, kinds)
    else:
        inlined = Inlined(p, np.zeros(g.num_nodes, dtype=bool), mean_denominators(p, kinds), p.dim[p.child],
                          np.zeros(p.child.size, dtype=bool))
    p = inlined.prepared

    # sample-major topological order: by the first output that needs a node, then by level (a child is
    # needed no later than its parent and sits on a lower level), so one batch's nodes lie together
    order = np.lexsort((p.level, first_output(g)))
    order = order[~inlined.inlined[order]]
    tix = np.full(g.num_nodes, -1, dtype=np.int64)
    tix[order] = np.arange(order.size)
    kind = kinds[order]
    act_of = _codes(np.array(g.activations, dtype=object), ACTIVATIONS)
    act = np.where(g.is_leaf, 0, act_of[g.node_act] if act_of.size else 0)[order]
    dim = p.dim[order]
    voff = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(dim, out=voff[1:])

    leaves = np.zeros(int(voff[-1]), dtype=dtype)
    is_leaf = kind == 0
    leaf_t = np.flatnonzero(is_leaf)
    leaves[ranges(voff[leaf_t], dim[leaf_t])] = g.values[ranges(g.value_ptr[order[leaf_t]], dim[leaf_t])]

    # edges by tape parent; for linear combines, grouped by (label, input dimension) into runs
    parent, child = tix[p.parent], tix[p.child]
    lab = np.where(p.lab >= len(g.labels), -1, p.lab)
    col = exclusive_segment_cumsum(p.parent, p.msg_dim)  # concat columns, in argument order
    in_dim, folded = inlined.in_dim, inlined.folded
    linear = np.isin(kind[parent], (1, 2))
    # positions are distinct within a parent, so no two keys tie
    e_order = lexsort_ints((p.pos, np.where(linear, in_dim, 0), np.where(linear, lab + 1, 0), parent), stable=False)
    parent, child, lab, col, in_dim, linear, folded = (a[e_order] for a in (parent, child, lab, col, in_dim, linear,
                                                                            folded))
    count, msg_dim = p.count[e_order], p.msg_dim[e_order]
    # a folded constant leaf becomes its run's constant (every run keeps an input that is no constant)
    run = np.cumsum(run_starts(parent, lab, in_dim) | ~linear) - 1
    constant = np.bincount(run[folded], weights=count[folded] * g.values[g.value_ptr[p.child[e_order][folded]]],
                           minlength=int(run[-1]) + 1 if run.size else 0)
    parent, child, lab, col, in_dim, linear, count, msg_dim, run = (
        a[~folded] for a in (parent, child, lab, col, in_dim, linear, count, msg_dim, run))
    starts = run_starts(run)
    if np.count_nonzero(starts) != constant.size:
        raise AssertionError("inlining left a run of folded constants only")  # inline_sums never does
    r_first = np.flatnonzero(starts)
    r_eptr = np.append(r_first, parent.size).astype(np.int64)
    r_parent = parent[r_first]
    rptr = np.searchsorted(r_parent, np.arange(order.size + 1)).astype(np.int64)
    r_in, r_out, r_lin = in_dim[r_first], msg_dim[r_first], linear[r_first]
    # stored vectors: the summed input of a weighted run with several inputs (for the weight's gradient)
    # and every message of max, min and prod (for ties and products); other runs read values in place
    r_const = constant[run[r_first]].astype(dtype)
    single = (np.diff(r_eptr) == 1) & (count[r_first] == 1) & (r_const == 0)
    r_size = np.where(r_lin, np.where((lab[r_first] >= 0) & ~single, r_in, 0), np.where(kind[r_parent] == 6, 0, r_out))
    r_buf = np.cumsum(r_size) - r_size

    denom = inlined.denom[order].astype(dtype)

    bias = g.node_bias.astype(np.int64)[order]
    l_shapes = [tuple(shapes[lb]) for lb in g.labels]
    sizes = np.array([int(np.prod(s)) if s else 1 for s in l_shapes], dtype=np.int64)
    l_off = np.zeros(len(l_shapes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=l_off[1:])
    arrays = TapeArrays(
        kind=kind.astype(np.int64), act=act.astype(np.int64), dim=dim.astype(np.int64), voff=voff, bias=bias,
        denom=denom, rptr=rptr, r_eptr=r_eptr, r_lab=lab[r_first].astype(np.int64), r_in=r_in.astype(np.int64),
        r_out=r_out.astype(np.int64), r_buf=r_buf, r_col=col[r_first].astype(np.int64), r_const=r_const,
        e_child=child.astype(np.int64), e_cnt=count.astype(dtype),
        l_off=l_off, lt=_label_table(l_off, l_shapes),
        out=tix[g.output_node].astype(np.int64), level=p.level[order].astype(np.int64),
    )
    widest = max(int(dim.max(initial=1)), int(r_in.max(initial=1)), int(r_out.max(initial=1)))
    return Tape(arrays, order.astype(np.int64), leaves, int(r_size.sum()), widest, tuple(g.labels),
                {lb: s for lb, s in zip(g.labels, l_shapes, strict=True)})


def kind_codes(graph: Graph) -> np.ndarray:
    """``int64[N]`` every node's combine as its code in :data:`KINDS` (0 for a leaf)."""
    table = np.array([KINDS.index(get_combine(c).kind) for c in graph.combines] + [0], dtype=np.int64)
    return table[graph.node_combine]  # a leaf (-1) picks the last entry


def unsupported(graph: Graph) -> str | None:
    """Why the native executor cannot run ``graph`` (a registered combine or activation), or ``None``."""
    for name in graph.combines:
        if get_combine(name).kind not in KINDS:
            return f"the native engine cannot run the registered combine function {name!r}"
    for name in graph.activations:
        if name not in ACTIVATIONS:
            return f"the native engine cannot run the registered activation {name!r}"
    return None


def _label_table(l_off: np.ndarray, shapes: list[tuple[int, ...]]) -> np.ndarray:
    """``int64[L, 4]``: offset, kind (the number of axes), rows and columns of every label's weight."""
    table = np.zeros((len(shapes), 4), dtype=np.int64)
    table[:, 0] = l_off[:-1]
    for i, s in enumerate(shapes):
        table[i, 1:] = (len(s), s[0] if s else 1, s[1] if len(s) == 2 else 1)
    return table


def _codes(names: np.ndarray, table: tuple[str, ...]) -> np.ndarray:
    """``int64``: ``table.index(name)`` for every name (all known), one lookup per distinct name."""
    if not names.size:
        return np.zeros(0, dtype=np.int64)
    distinct, inverse = np.unique(names.astype(str), return_inverse=True)
    return np.array([table.index(n) for n in distinct.tolist()], dtype=np.int64)[inverse.reshape(-1)]
