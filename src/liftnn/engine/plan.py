"""Execution plans: a graph compiled once into level-wise tensor operations.

Nodes are partitioned into *blocks* that share (topological level, combine,
activation, dimension[, arity]), so a block is one ``[n, d]`` tensor computed
by a handful of tensor ops. The edges into a block are split into *groups*
by (source block, weight label); a group costs one gather, one weight
application and its share of one scatter-reduce per block:

* linear combines (``sum``, ``mean``) use linearity: with a matrix weight the
  inputs are first summed per (parent, label) and multiplied afterwards, or
  multiplied once per distinct child and then gathered, whichever touches
  fewer rows (``W·Σ c_i x_i = Σ c_i W·x_i``);
* multiplicities ``c`` scale (``sum``), enter numerator and denominator
  (``mean``), become powers (``prod``), are ignored (``max``, ``min``) or are
  expanded into repeated inputs (``concat`` and registered functions);
* many small groups reading one source through same-shaped weights (an
  embedding per atom type) run as one batched product with a weight per row.

Levels are the earliest (longest path from the leaves) or the latest (just
below the lowest consumer) schedule, whichever needs fewer blocks: fewer
blocks are fewer tensor ops per pass, which is what small graphs pay for.

This module is the compiler and the executor-neutral record; the executors read
it: :mod:`liftnn.engine.torch_exec` (tensor ops, autograd, any device) and
:mod:`liftnn.engine.native` (a compiled per-node interpreter on its flat form,
:mod:`liftnn.engine.tape`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .._segments import ranges, rank_in_segment, run_starts
from ..graph import LEAF, Combine, Graph, get_combine
from ..graph.topology import edges_by_level
from . import torch_exec
from .params import Shape, weight_io


@dataclass
class Group:
    """Edges into one block from one source block under one weight label."""

    src: int
    label: str | None
    gather: np.ndarray  # rows of the source block to read
    target: np.ndarray  # per message row: block row, input slot, or [rows, m] flat positions (concat)
    count: np.ndarray | None = None  # [rows, 1] multiplicity (None: all one or ignored)
    local: np.ndarray | None = None  # parent-first: aggregate slot of each gathered row
    n_local: int = 0
    expand: np.ndarray | None = None  # child-first: message row of each edge
    broadcast: bool = False  # dimension-1 messages into a wider block
    labels: tuple[str, ...] = ()  # stacked: one weight per row, ``labels[label_index[row]]``
    label_index: np.ndarray | None = None


@dataclass
class Block:
    """``n`` nodes of one level computed together into an ``[n, dim]`` tensor."""

    level: int
    combine: Combine | None  # None for leaves
    act: str
    dim: int
    arity: int
    nodes: np.ndarray  # graph node ids, in row order
    groups: list[Group]
    leaf: np.ndarray | None = None  # [n, dim] constants of a leaf block
    denom: np.ndarray | None = None  # [n, 1] total multiplicity (mean)
    bias_labels: tuple[str, ...] = ()
    bias_index: np.ndarray | None = None  # [n] 0 = no bias, j = bias_labels[j - 1]
    direct: bool = False  # one message per row, already in row order: no scatter

    @property
    def n(self) -> int:
        return int(self.nodes.shape[0])


class Plan:
    """A compiled graph for one assignment of weight shapes. Build with :func:`compile_plan`.

    ``blocks`` hold numpy arrays; :meth:`to` places them on a torch device and dtype
    (once, cached), :meth:`run` evaluates all blocks there and :meth:`outputs` reads
    the output rows from them.
    """

    def __init__(self, graph: Graph, shapes: Mapping[str, Shape], blocks: list[Block],
                 node_block: np.ndarray, node_row: np.ndarray) -> None:
        self.graph = graph
        self.shapes = dict(shapes)
        self.blocks = blocks
        self.node_block = node_block
        self.node_row = node_row
        out_block = node_block[graph.output_node]
        self.output_dims = {blocks[b].dim for b in np.unique(out_block)}
        #: output rows sorted by (block, row): one gather per block reads them all
        self.output_order = np.lexsort((node_row[graph.output_node], out_block))
        #: per-executor caches (placed blocks, output index tensors)
        self.cache: dict = {}

    @property
    def node_dims(self) -> np.ndarray:
        """``int64[N]`` the dimension of every node's value."""
        dims = np.array([b.dim for b in self.blocks], dtype=np.int64)
        return dims[self.node_block]

    def to(self, device: torch.device | str, dtype: torch.dtype) -> list[Block]:
        """The blocks as tensors on ``device`` in ``dtype`` (placed once, then cached)."""
        key = ("blocks", torch.device(device), dtype)
        if key not in self.cache:
            self.cache[key] = [torch_exec.place(b, torch.device(device), dtype) for b in self.blocks]
        return self.cache[key]

    def run(self, params: Mapping[str, torch.Tensor], dtype: torch.dtype | None = None,
            device: torch.device | str | None = None) -> list[torch.Tensor]:
        """Values of all blocks, in block order (``[n_b, dim_b]`` each)."""
        return torch_exec.run(self, params, dtype, device)

    def outputs(self, values: list[torch.Tensor]) -> torch.Tensor:
        """``[O, d]`` output rows in the graph's output order."""
        return torch_exec.outputs(self, values)

    def node_values(self, values: list[torch.Tensor], nodes: np.ndarray) -> list[torch.Tensor]:
        """Values of chosen nodes, one tensor each (for inspection and tests)."""
        return [values[self.node_block[i]][self.node_row[i]] for i in np.asarray(nodes).tolist()]


_EXPANDED = ("concat", "custom")


class WeightShapeError(ValueError):
    """A weight or bias whose shape does not fit the nodes it acts on; ``label`` names it."""

    def __init__(self, message: str, label: str) -> None:
        super().__init__(message)
        self.label = label


class Prepared(NamedTuple):
    """Edges with multiplicities expanded where needed, and every node's and message's dimension."""

    node_kind: np.ndarray
    child: np.ndarray
    parent: np.ndarray
    count: np.ndarray
    pos: np.ndarray
    lab: np.ndarray
    io: np.ndarray
    level: np.ndarray
    dim: np.ndarray
    msg_dim: np.ndarray


def node_dimensions(graph: Graph, shapes: Mapping[str, Shape]) -> np.ndarray:
    """``int64[N]`` the dimension of every node's value under these weight shapes; a clear
    ``ValueError`` (naming the weight or node) where a shape does not fit its inputs."""
    return prepare(graph, shapes).dim


def prepare(graph: Graph, shapes: Mapping[str, Shape]) -> Prepared:
    """Edges (multiplicities expanded for concat and registered combines), levels, and every node's and
    message's dimension, checked: the first step of :func:`compile_plan` and of the native tape."""
    g = graph
    labels = g.labels
    for label in labels:
        if label not in shapes:
            raise ValueError(f"no value or shape for weight label {label!r}")
        declared = g.shapes.get(label)
        if declared is not None and tuple(shapes[label]) != tuple(declared):
            raise WeightShapeError(
                f"weight {label!r} has shape {tuple(shapes[label])} but the graph declares {tuple(declared)} "
                "(a value-lifted graph declares the shapes its merges were checked under: lift again with "
                "those shapes, or use method='exact')", label)
    combines = [get_combine(c) for c in g.combines]
    kind_names = np.array([c.kind for c in combines] + ["leaf"])
    node_kind = kind_names[g.node_combine]  # LEAF (-1) picks "leaf"

    # concat and registered functions see repeated inputs: expand multiplicities
    expand = np.isin(node_kind[g.edge_parent], _EXPANDED)
    reps = np.where(expand, g.edge_count, 1)
    eidx = np.repeat(np.arange(g.num_edges), reps)
    child, parent, label = g.edge_child[eidx], g.edge_parent[eidx], g.edge_label[eidx]
    count = np.where(expand[eidx], 1, g.edge_count[eidx])
    pos = rank_in_segment(parent)

    lab = np.where(label < 0, len(labels), label)
    io = np.array(
        [(*weight_io(tuple(shapes[lb])), len(shapes[lb]) == 2) for lb in labels] + [(-1, -1, 0)], dtype=np.int64
    ).reshape(-1, 3)
    level = g.levels()
    dim, msg_dim = _dims(g, level, (child, parent, lab), io, node_kind)
    _check_bias(g, shapes, dim)
    return Prepared(node_kind, child, parent, count, pos, lab, io, level, dim, msg_dim)


def compile_plan(graph: Graph, shapes: Mapping[str, Shape]) -> Plan:
    """Compile ``graph`` for weights of the given shapes (see :mod:`liftnn.engine.params`)."""
    g = graph
    labels = g.labels
    combines = [get_combine(c) for c in g.combines]
    node_kind, child, parent, count, pos, lab, io, level, dim, msg_dim = prepare(g, shapes)

    arity = np.where(node_kind == "custom", np.bincount(parent, minlength=g.num_nodes), 0)
    act = np.where(g.is_leaf, 0, g.node_act)
    level = _schedule(g, level, g.node_combine, act, dim, arity)
    block, row, order = _blocks(level, g.node_combine, act, dim, arity)
    col = exclusive_segment_cumsum(parent, msg_dim)
    nb = int(block.max()) + 1 if block.size else 0
    starts = np.flatnonzero(run_starts(block[order]))
    bounds = np.append(starts, order.size)
    blocks = []
    for b in range(nb):
        nodes = order[bounds[b] : bounds[b + 1]]
        first = nodes[0]
        is_leaf = g.node_combine[first] == LEAF
        blk = Block(
            level=int(level[first]),
            combine=None if is_leaf else combines[g.node_combine[first]],
            act="identity" if is_leaf else g.activations[g.node_act[first]],
            dim=int(dim[first]),
            arity=int(arity[first]),
            nodes=nodes,
            groups=[],
        )
        if is_leaf:
            blk.leaf = g.values[ranges(g.value_ptr[nodes], np.full(nodes.size, blk.dim))].reshape(-1, blk.dim)
        blocks.append(blk)

    # group edges by (target block, source block, label)
    pb, sb = block[parent], block[child]
    eorder = np.lexsort((np.arange(parent.size), lab, sb, pb))
    bounds = np.append(np.flatnonzero(run_starts(pb[eorder], sb[eorder], lab[eorder])), eorder.size)
    for a, z in zip(bounds[:-1], bounds[1:], strict=True):
        e = eorder[a:z]
        blk = blocks[pb[e[0]]]
        rows = GroupEdges(row[child[e]], row[parent[e]], count[e], pos[e], col[e], msg_dim[e])
        blk.groups.append(_group(blk, int(sb[e[0]]), lab[e[0]], labels, io, rows))
    shape_of = {lb: tuple(shapes[lb]) for lb in labels}
    for blk in blocks:
        if blk.combine is not None:
            blk.groups = _stack_small_groups(blk.groups, shape_of)
            _finish_block(blk, g, parent, count, labels)
    return Plan(g, shapes, blocks, block, row)


def _dims(g: Graph, level: np.ndarray, edges: tuple[np.ndarray, np.ndarray, np.ndarray], io: np.ndarray,
          node_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node and message dimensions, level by level (``edges`` = child, parent, label index), with clear
    errors on mismatches."""
    child, parent, lab = edges
    dim = np.where(g.is_leaf, np.diff(g.value_ptr), 0)
    msg_dim = np.zeros(child.size, dtype=np.int64)
    names = list(g.labels) + [None]
    for e in edges_by_level(level[parent]):
        cd = dim[child[e]]
        need, give = io[lab[e], 0], io[lab[e], 1]
        bad = np.flatnonzero((need >= 0) & (need != cd))
        if bad.size:
            i = e[bad[0]]
            raise WeightShapeError(
                f"weight {names[lab[i]]!r} expects inputs of dimension {need[bad[0]]}, but node "
                f"{child[i]} (input of node {parent[i]}) has dimension {cd[bad[0]]}",
                names[lab[i]],
            )
        md = np.where(give >= 0, give, cd)
        msg_dim[e] = md
        seg = np.flatnonzero(run_starts(parent[e]))
        pp = parent[e][seg]
        hi = np.maximum.reduceat(md, seg)
        is_cat = node_kind[pp] == "concat"
        mixed = np.flatnonzero(~is_cat & _mixed_dims(md, seg, hi))
        if mixed.size:
            i = mixed[0]
            err = ValueError(
                f"node {pp[i]} combines inputs of different dimensions (up to {hi[i]}); only concat "
                "accepts that (dimension-1 inputs broadcast)"
            )
            err.node = int(pp[i])  # for callers that map node ids back to their source
            raise err
        dim[pp] = np.where(is_cat, np.add.reduceat(md, seg), hi)
    return dim, msg_dim


def _mixed_dims(md: np.ndarray, seg: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per segment: some input dimension is neither 1 (broadcast) nor the segment's maximum."""
    seg_of = np.repeat(np.arange(seg.size), np.diff(np.append(seg, md.size)))
    bad = (md != 1) & (md != hi[seg_of])
    return np.add.reduceat(bad.astype(np.int64), seg) > 0 if seg.size else bad[:0]


def _check_bias(g: Graph, shapes: Mapping[str, Shape], dim: np.ndarray) -> None:
    has = np.flatnonzero(g.node_bias >= 0)
    if not has.size:
        return
    blen = np.array([int(np.prod(shapes[lb])) if len(shapes[lb]) <= 1 else -1 for lb in g.labels])
    size = blen[g.node_bias[has]]
    bad = np.flatnonzero((size != 1) & (size != dim[has]))
    if bad.size:
        i = has[bad[0]]
        lb = g.labels[g.node_bias[i]]
        raise WeightShapeError(f"bias {lb!r} has shape {tuple(shapes[lb])} but node {i} has dimension {dim[i]}", lb)


def _latest_levels(g: Graph, level: np.ndarray) -> np.ndarray:
    """As-late-as-possible levels: outputs and other roots at the top level, every other inner
    node one below its lowest parent (still strictly above all of its inputs); leaves at 0."""
    late = np.full(g.num_nodes, int(level.max(initial=0)), dtype=np.int64)
    for e in edges_by_level(level[g.edge_parent], top_down=True):  # one step per level, parents first
        np.minimum.at(late, g.edge_child[e], late[g.edge_parent[e]] - 1)
    return np.where(g.is_leaf, 0, late)  # constants stay together at the bottom


def _schedule(g: Graph, level: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Of the earliest and the latest levels, the one that needs fewer blocks (fewer tensor ops per pass)."""
    late = _latest_levels(g, level)

    def count(lv: np.ndarray) -> int:
        order = np.lexsort(tuple(reversed((lv, *keys))))
        return int(run_starts(*(k[order] for k in (lv, *keys))).sum())

    return late if count(late) < count(level) else level


def _blocks(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block id per node (sorted by the key tuple, level first), row within block, node order."""
    order = np.lexsort(tuple(reversed(keys)))
    start = run_starts(*(k[order] for k in keys))
    block = np.empty(order.size, dtype=np.int64)
    block[order] = np.cumsum(start) - 1
    row = np.empty(order.size, dtype=np.int64)
    row[order] = rank_in_segment(block[order])
    return block, row, order


def exclusive_segment_cumsum(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per edge, the sum of ``x`` over the earlier edges of the same parent."""
    c = np.cumsum(x) - x
    seg = np.flatnonzero(run_starts(parent))
    return c - np.repeat(c[seg], np.diff(np.append(seg, x.size)))


class GroupEdges(NamedTuple):
    """The edges of one group: child and parent rows in their blocks, multiplicity, argument position,
    first column (concat) and message dimension."""

    crow: np.ndarray
    prow: np.ndarray
    count: np.ndarray
    pos: np.ndarray
    col: np.ndarray
    mdim: np.ndarray


def _group(blk: Block, src: int, lab: int, labels: tuple[str, ...], io: np.ndarray, edges: GroupEdges) -> Group:
    label = labels[lab] if lab < len(labels) else None
    kind = blk.combine.kind
    group = _strategy(blk, src, lab, label, io, edges)
    group.broadcast = kind != "concat" and int(edges.mdim[0]) == 1 and blk.dim > 1
    return group


def _strategy(blk: Block, src: int, lab: int, label: str | None, io: np.ndarray, edges: GroupEdges) -> Group:
    """Choose how a group reads its inputs (see the module docstring)."""
    crow, prow, count, pos, col, mdim = edges
    kind = blk.combine.kind
    cnt = count[:, None].astype(np.float64) if (kind not in ("max", "min") and np.any(count != 1)) else None
    if kind == "concat":
        m = int(mdim[0])
        target = (prow * blk.dim + col)[:, None] + np.arange(m)
    elif kind == "custom":
        target = prow * blk.arity + pos
    else:
        target = prow
    matrix = bool(io[lab, 2])
    uc, inv = np.unique(crow, return_inverse=True)
    if kind in ("sum", "mean") and matrix:
        up, loc = np.unique(prow, return_inverse=True)
        i, o = io[lab, 0], io[lab, 1]
        if crow.size * i + up.size * i * o <= uc.size * i * o + crow.size * o:
            return Group(src, label, gather=crow, target=up, count=cnt, local=loc, n_local=up.size)
    if matrix and uc.size < crow.size:
        return Group(src, label, gather=uc, target=target, count=cnt, expand=inv)
    return Group(src, label, gather=crow, target=target, count=cnt)


#: Groups with at most this many weight rows are merged with same-shaped ones into one batched op.
STACK_ROWS = 64


def _stack_small_groups(groups: list[Group], shape_of: dict[str, tuple[int, ...]]) -> list[Group]:
    """Merge small groups that read the same source block through weights of the same shape
    (e.g. one embedding weight per atom type) into one group with a per-row weight index."""
    buckets: dict[tuple, list[Group]] = {}
    keep: list[Group] = []
    for g in groups:
        rows = g.n_local if g.local is not None else g.gather.size
        if g.label is None or g.expand is not None or rows > STACK_ROWS:
            keep.append(g)
            continue
        key = (g.src, shape_of[g.label], g.local is not None, g.broadcast, g.count is not None, g.target.ndim)
        buckets.setdefault(key, []).append(g)
    for bucket in buckets.values():
        if len(bucket) == 1:
            keep.append(bucket[0])
            continue
        rows = [g.n_local if g.local is not None else g.gather.size for g in bucket]
        labels = tuple(g.label for g in bucket)
        merged = Group(
            src=bucket[0].src, label=None, gather=np.concatenate([g.gather for g in bucket]),
            target=np.concatenate([g.target for g in bucket]),
            count=None if bucket[0].count is None else np.concatenate([g.count for g in bucket]),
            broadcast=bucket[0].broadcast, labels=labels,
            label_index=np.repeat(np.arange(len(bucket)), rows),
        )
        if bucket[0].local is not None:
            offsets = np.cumsum([0] + rows[:-1])
            merged.local = np.concatenate([g.local + o for g, o in zip(bucket, offsets, strict=True)])
            merged.n_local = int(sum(rows))
        keep.append(merged)
    return keep


def _finish_block(blk: Block, g: Graph, parent: np.ndarray, count: np.ndarray, labels: tuple[str, ...]) -> None:
    nodes = blk.nodes
    if blk.combine.kind == "mean":
        total = np.bincount(parent, weights=count, minlength=g.num_nodes)
        blk.denom = total[nodes][:, None]
    bias = g.node_bias[nodes]
    if np.any(bias >= 0):
        used = np.unique(bias[bias >= 0])
        blk.bias_labels = tuple(labels[u] for u in used)
        lookup = np.zeros(len(labels) + 1, dtype=np.int64)
        lookup[used] = np.arange(1, used.size + 1)
        blk.bias_index = None if (used.size == 1 and np.all(bias >= 0)) else np.where(bias >= 0, lookup[bias], 0)
    if len(blk.groups) == 1 and blk.combine.kind not in _EXPANDED:
        t = blk.groups[0].target
        blk.direct = t.shape == (blk.n,) and np.array_equal(t, np.arange(blk.n))
