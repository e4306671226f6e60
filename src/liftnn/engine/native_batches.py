"""Batches for the native executor: each batch's nodes restricted, copied together, and scheduled.

A batch runs every inner node its outputs need (:func:`restrict`). In a dataset-lifted tape
those nodes lie scattered, shared with other batches, so a step spent most of its time
waiting on memory: every node's and edge's record sat on its own cache line. A *batch-major
tape* (:func:`localise`) copies each batch's nodes, runs and edges into one contiguous stretch,
in the order given (the level order of :func:`liftnn.engine.native_dense.schedule`, so that a
dense segment's values lie side by side), with children renumbered (the leaves, read only, stay shared at the
front). Batch ``b`` then reads and writes only its own stretch, front to back. A node shared by
``k`` batches is stored ``k`` times: the tape grows to the sum of the batches' sizes (for
mini-batches of a dataset-lifted graph, about the sample-lifted size), and the steps compute
exactly what they computed on the shared tape.
"""

from __future__ import annotations

import numpy as np

from .._sorting import sort_ints
from .native_ops import jit
from .tape import TapeArrays


@jit
def restrict(tp, optr, rows):
    """For every batch (output rows ``rows[optr[b]:optr[b + 1]]``): the inner nodes its outputs need, in
    ascending tape order, and the labels they use. Returns ``(nptr, nodes, lptr, labels)``."""
    n = tp.kind.size
    nb = optr.size - 1
    stamp = np.full(n, -1, dtype=np.int64)
    lstamp = np.full(tp.lt.shape[0], -1, dtype=np.int64)
    stack = np.empty(max(n, 1), dtype=np.int64)
    nodes = np.empty(max(n, 16), dtype=np.int64)
    labels = np.empty(16, dtype=np.int64)
    nptr = np.zeros(nb + 1, dtype=np.int64)
    lptr = np.zeros(nb + 1, dtype=np.int64)
    count = 0
    lcount = 0
    for b in range(nb):
        sp = 0
        for j in range(optr[b], optr[b + 1]):
            t = tp.out[rows[j]]
            if stamp[t] != b:
                stamp[t] = b
                stack[sp] = t
                sp += 1
        start = count
        while sp > 0:
            sp -= 1
            t = stack[sp]
            if tp.kind[t] == 0:
                continue
            if count == nodes.size:
                nodes = np.concatenate((nodes, np.empty(nodes.size, dtype=np.int64)))
            nodes[count] = t
            count += 1
            lab = tp.bias[t]
            for r in range(tp.rptr[t], tp.rptr[t + 1] + 1):
                if r > tp.rptr[t]:
                    lab = tp.r_lab[r - 1]
                if lab >= 0 and lstamp[lab] != b:
                    lstamp[lab] = b
                    if lcount == labels.size:
                        labels = np.concatenate((labels, np.empty(labels.size, dtype=np.int64)))
                    labels[lcount] = lab
                    lcount += 1
                if r > tp.rptr[t]:
                    for e in range(tp.r_eptr[r - 1], tp.r_eptr[r]):
                        c = tp.e_child[e]
                        if stamp[c] != b:
                            stamp[c] = b
                            stack[sp] = c
                            sp += 1
        sort_ints(nodes[start:count])
        nptr[b + 1] = count
        lptr[b + 1] = lcount
    return nptr, nodes[:count].copy(), lptr, labels[:lcount].copy()


@jit
def _localise(tp, buf_size, nptr, nodes, optr, rows):
    """The arrays of :func:`localise` (see there), as a tuple in :class:`TapeArrays` order, and the
    local buffer size."""
    n_tape = tp.kind.size
    leaf = np.flatnonzero(tp.kind == 0)
    nl = leaf.size
    total = nl + nodes.size
    src = np.empty(total, dtype=np.int64)  # the tape node every local node copies
    src[:nl] = leaf
    src[nl:] = nodes
    n_runs = 0
    n_edges = 0
    for t in nodes:
        n_runs += tp.rptr[t + 1] - tp.rptr[t]
        n_edges += tp.r_eptr[tp.rptr[t + 1]] - tp.r_eptr[tp.rptr[t]]
    kind, act, dim, bias = tp.kind[src], tp.act[src], tp.dim[src], tp.bias[src]
    denom, level = tp.denom[src], tp.level[src]
    voff = np.zeros(total + 1, dtype=np.int64)
    for i in range(total):
        voff[i + 1] = voff[i] + dim[i]
    rptr = np.zeros(total + 1, dtype=np.int64)
    r_eptr = np.zeros(n_runs + 1, dtype=np.int64)
    r_lab = np.empty(n_runs, dtype=np.int64)
    r_in = np.empty(n_runs, dtype=np.int64)
    r_out = np.empty(n_runs, dtype=np.int64)
    r_buf = np.empty(n_runs, dtype=np.int64)
    r_col = np.empty(n_runs, dtype=np.int64)
    r_const = np.empty(n_runs, dtype=tp.r_const.dtype)
    e_child = np.empty(n_edges, dtype=np.int64)
    e_cnt = np.empty(n_edges, dtype=tp.e_cnt.dtype)
    local = np.zeros(n_tape, dtype=np.int64)
    for i in range(nl):
        local[leaf[i]] = i
    out = np.zeros(tp.out.size, dtype=np.int64)
    n_r = 0
    n_e = 0
    size = 0
    for b in range(nptr.size - 1):
        for i in range(nptr[b], nptr[b + 1]):  # a batch's children are in the batch (or leaves)
            local[nodes[i]] = nl + i
        for j in range(optr[b], optr[b + 1]):
            out[rows[j]] = local[tp.out[rows[j]]]
        for i in range(nptr[b], nptr[b + 1]):
            t = nodes[i]
            for r in range(tp.rptr[t], tp.rptr[t + 1]):
                r_lab[n_r] = tp.r_lab[r]
                r_in[n_r] = tp.r_in[r]
                r_out[n_r] = tp.r_out[r]
                r_col[n_r] = tp.r_col[r]
                r_const[n_r] = tp.r_const[r]
                end = tp.r_buf[r + 1] if r + 1 < tp.r_buf.size else buf_size
                r_buf[n_r] = size
                size += end - tp.r_buf[r]
                for e in range(tp.r_eptr[r], tp.r_eptr[r + 1]):
                    e_child[n_e] = local[tp.e_child[e]]
                    e_cnt[n_e] = tp.e_cnt[e]
                    n_e += 1
                n_r += 1
                r_eptr[n_r] = n_e
            rptr[nl + i + 1] = n_r
    return (kind, act, dim, voff, bias, denom, rptr, r_eptr, r_lab, r_in, r_out, r_buf, r_col, r_const, e_child, e_cnt,
            tp.l_off, tp.lt, out, level), size, src


def localise(tp: TapeArrays, buf_size: int, nptr: np.ndarray, nodes: np.ndarray, optr: np.ndarray,
             rows: np.ndarray) -> tuple[TapeArrays, int, np.ndarray]:
    """The batch-major tape of the batches ``nodes[nptr[b] : nptr[b + 1]]`` (output rows ``rows[optr[b] :
    optr[b + 1]]``): the leaves first, then every batch's nodes in its order. Returns the tape, its run
    buffer size and ``src`` (``int64[N']``, the node of ``tp`` each local node copies: batch ``b``'s
    nodes are ``len(leaves) + nptr[b] : len(leaves) + nptr[b + 1]``)."""
    arrays, size, src = _localise(tp, buf_size, nptr, nodes, optr, rows)
    return TapeArrays(*arrays), int(size), src
