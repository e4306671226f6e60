"""Dense segments of the native executor: nodes of one class on one level, run together.

Most of a GNN's arithmetic sits in nodes of one shape, ``y_i = act(W · s_i + b)`` with
``s_i = (Σ_e c_e x_e + k_i) / den_i`` (``k_i`` the run's folded constant, :mod:`liftnn.engine.inline`):
a sum or mean node with one weighted run of a matrix ``W`` (its *dense class* is the triple
(``W``, ``act``, ``b``), :func:`dense_classes`). Run one
by one, each is a small matrix-vector product wrapped in interpreter work, and a 10-wide
product does not fill a vector register. Nodes on one topological level do not depend on
each other, so :func:`schedule` puts a batch's nodes in level order with each class's nodes
together, and every *dense segment* of up to :data:`CHUNK` of them runs as small matrix
products whose inner loops run across nodes (``n`` lanes, vectorised)::

    X[c, i] = s_i[c]                         (gathered, transposed)
    Z = W · X + b,  Y = act(Z)               (scattered back into the nodes' values)

and, backward, with ``G[:, i] = act'(z_i) ⊙ ∂L/∂y_i``::

    ∂L/∂b += Σ_i G[:, i],   ∂L/∂W += G · Xᵀ,   ∂L/∂x_e += (c_e / den_i) · (Wᵀ G)[:, i].

Two such layers in a row, where nothing else reads the inner one (a GIN layer's MLP,
:func:`chains`), run as one *chain segment*: ``X₂ = act₁(W₁ · X₁ + b₁)`` stays in a panel, and
the inner nodes' values are never written, read back, or given a gradient of their own.
A chain's outer and inner nodes run as such only where the batch has ``dense_min`` of them on
a level (else each layer runs by itself).

Unweighted sum and mean nodes (aggregations the tape does not read through) run in
*sum segments*, straight into their values (:func:`sum_forward`, :func:`sum_backward`); the
other nodes run one by one, in *plain segments*. A batch's segments are in level order, so
running them forward (and in reverse, backward) respects every dependency. ``Z`` (then ``G``)
and ``Wᵀ G`` live in a scratch buffer of ``2 · max_dim · CHUNK`` values
(:func:`dense_scratch_size`); every segment's ``X`` is kept from forward to backward in a buffer
of ``cols · CHUNK`` values per dense segment of the largest batch (a chain's ``X₁`` and ``X₂``,
:func:`dense_save_size`), so backward reads it as one contiguous panel instead of gathering the
inputs again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._sorting import sort_ints
from .native_ops import act_slope, act_value, activate, axpy, inline, jit, lanes, needs_pre
from .tape import TapeArrays

#: the most nodes one dense segment runs at once (three ``[dim, CHUNK]`` panels stay in the L1 cache)
CHUNK = 128
#: a class's nodes on one level of a batch run densely from this many on (fewer run one by one). Chosen on an
#: earlier tape, where with 4 per-sample GIN (segments of ~25 molecule nodes) ran 0.82x the node-by-node
#: schedule and GraphSAGE 0.94x, while GIN mini-batches of 32 (~465 nodes per class and level) and every full
#: batch kept their speed-up. On the current tape (inlined sums, chains) ``python benchmarks/native_tapes.py
#: --dense-min 4`` gives per-sample GIN 1.23x and GraphSAGE 0.91x (benchmarks/results/native_tapes_dense_min_4),
#: so a lower value may now pay for GIN; that is not yet measured against 32 side by side
DENSE_MIN = 32
#: segment kinds (:func:`schedule`): node by node, dense, unweighted sums, dense two-layer chains, and the chains'
#: inner nodes (never run on their own)
PLAIN, DENSE, SUMS, CHAIN, INNER = 0, 1, 2, 3, 4


def dense_scratch_size(max_dim: int) -> int:
    """The size of the dense scratch buffer for nodes and weights at most ``max_dim`` wide."""
    return 2 * max_dim * CHUNK


def dense_save_size(tp: TapeArrays, nodes: np.ndarray, sptr: np.ndarray, sstart: np.ndarray,
                    skind: np.ndarray) -> int:
    """The size of the buffer keeping every dense segment's input panel ``X`` (``cols · CHUNK`` values; a
    chain's two) from forward to backward, for the batch that needs most (segments as :func:`schedule`
    returns them)."""
    dense = np.flatnonzero((skind == DENSE) | (skind == CHAIN))
    if not dense.size:
        return 0
    first = nodes[sstart[dense]]
    cols = tp.lt[tp.r_lab[tp.rptr[first]], 3]
    chain = skind[dense] == CHAIN  # also the inner node's input panel
    inner = tp.e_child[tp.r_eptr[tp.rptr[first[chain]]]]
    cols[chain] += tp.lt[tp.r_lab[tp.rptr[inner]], 3]
    batch = np.searchsorted(sptr, dense, side="right") - 1
    return int(np.bincount(batch, weights=cols).max()) * CHUNK


def dense_classes(tp: TapeArrays) -> tuple[np.ndarray, int]:
    """The class of every node, ``int64[N]``, and the number ``K`` of dense classes. A sum or mean node
    with one run, weighted by a matrix whose rows fill the node, has dense class ``0 ≤ c < K``, one per
    (weight, activation, bias); an unweighted sum or mean node (every run unweighted, full-width or
    broadcast) has class ``K``; the others (and softmax, across a node's components) ``-1``."""
    n = tp.kind.size
    nruns = np.diff(tp.rptr)
    run_node = np.repeat(np.arange(n), nruns)
    weighted = np.bincount(run_node, weights=tp.r_lab >= 0, minlength=n) if tp.r_lab.size else np.zeros(n)
    first = np.minimum(tp.rptr[:-1], max(tp.r_lab.size - 1, 0))
    lab = tp.r_lab[first] if tp.r_lab.size else np.full(n, -1)
    matrix = (lab >= 0) & (tp.lt[np.maximum(lab, 0), 1] == 2) if tp.lt.size else np.zeros(n, bool)
    linear = np.isin(tp.kind, (1, 2)) & (tp.act != 14) & (nruns >= 1)
    dense = linear & (nruns == 1) & matrix & (tp.r_out[first] == tp.dim if tp.r_out.size else False)
    cls = np.full(n, -1, dtype=np.int64)
    k = 0
    if dense.any():
        n_lab = tp.l_off.size  # labels and "no bias"
        key = (lab[dense] * (int(tp.act.max()) + 1) + tp.act[dense]) * n_lab + tp.bias[dense] + 1
        distinct, inverse = np.unique(key, return_inverse=True)
        cls[dense] = inverse.reshape(-1)
        k = distinct.size
    cls[linear & (weighted == 0)] = k
    return cls, k


class Classes(NamedTuple):
    """How :func:`schedule` groups a tape's nodes (:func:`classes`)."""

    cls: np.ndarray  # int64[N] dense class 0 <= c < n_dense, n_dense for unweighted sums and means, -1 else
    n_dense: int
    chain: np.ndarray  # int64[N] chain class 0 <= f < n_chain of a chain's outer node, -1 else
    n_chain: int
    inner: np.ndarray  # int64[N] the inner node of a chain's outer node (its one input), -1 else


def chains(tp: TapeArrays, cls: np.ndarray, n_dense: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Two dense nodes in a row, ``y = act₂(W₂ · act₁(W₁ · s + b₁) + b₂)`` (a GIN layer's MLP): the outer
    node's one input is the inner node, whole (``c / den = 1``, no constant), and nothing else reads the
    inner node, which is no output and whose slope is a function of its value (:func:`needs_pre` false).
    A chain runs as one segment (:func:`dense_forward`): the inner values stay in the segment's panels,
    never written to their nodes or read back. Nodes are outer or inner, never both (lower levels
    first). Returns the chain class of every node (``int64[N]``, one per pair of dense classes, ``-1``
    for the others), the number of chain classes, and every outer node's inner node (``-1`` else)."""
    n = tp.kind.size
    chain = np.full(n, -1, dtype=np.int64)
    inner = np.full(n, -1, dtype=np.int64)
    if not n_dense or not tp.e_child.size:  # no matrix-weighted node, no chain
        return chain, 0, inner
    dense = (cls >= 0) & (cls < n_dense)
    r = np.minimum(tp.rptr[:-1], tp.r_lab.size - 1)  # a dense node's one run
    e0 = tp.r_eptr[r]
    one = dense & (tp.r_eptr[r + 1] - e0 == 1)
    e0 = np.minimum(e0, tp.e_child.size - 1)
    child = np.where(one, tp.e_child[e0], 0)
    readers = np.bincount(tp.e_child, minlength=n)
    output = np.zeros(n, bool)
    output[tp.out] = True
    from_value = ~np.array([needs_pre.py_func(c) for c in range(int(tp.act.max(initial=0)) + 1)])[tp.act]
    cols = tp.lt[np.maximum(tp.r_lab[r], 0), 3]
    candidate = (one & dense[child] & (readers[child] == 1) & ~output[child] & from_value[child]
                 & (tp.dim[child] == cols) & (tp.r_const[r] == 0) & (tp.e_cnt[e0] == tp.denom))
    outer = np.zeros(n, bool)
    for level in np.unique(tp.level[candidate]):  # an inner node already outer stays outer
        at = candidate & (tp.level == level)
        outer[at & ~outer[child]] = True
    if not outer.any():
        return chain, 0, inner
    pairs, index = np.unique(cls[child[outer]] * n_dense + cls[outer], return_inverse=True)
    chain[outer] = index.reshape(-1)
    inner[outer] = child[outer]
    return chain, int(pairs.size), inner


def classes(tp: TapeArrays) -> Classes:
    """The dense classes (:func:`dense_classes`) and chains (:func:`chains`) of a tape's nodes."""
    cls, k = dense_classes(tp)
    return Classes(cls, k, *chains(tp, cls, k))


@jit
def schedule(level, cls, n_dense, chain, n_chain, inner, nptr, nodes, dense_min):
    """Reorder every batch's nodes ``nodes[nptr[b] : nptr[b + 1]]`` by (level, class, node) and cut each
    batch into segments (classes from :func:`classes`: ``n_dense`` dense ones, ``n_chain`` chains).
    Returns ``(nodes, sptr, sstart, skind)``: batch ``b`` is segments ``sptr[b] : sptr[b + 1]``,
    segment ``s`` the nodes ``nodes[sstart[s] : sstart[s + 1]]``, of kind ``skind[s]``:

    * :data:`CHAIN`: at most :data:`CHUNK` outer nodes of one chain class and level, where the batch has
      at least ``dense_min`` of them; their inner nodes form one :data:`INNER` segment, last, never run
      (the outer and inner nodes of smaller groups run as the classes they are of by themselves);
    * :data:`DENSE`: at most :data:`CHUNK` nodes of one dense class and level, where a level holds at
      least ``dense_min`` of them;
    * :data:`SUMS`: unweighted sum and mean nodes; :data:`PLAIN`: the others."""
    n_tape = level.size
    n_cls = n_dense + n_chain + 3  # -1 (plain), dense, sums, chains, inner: from 0 in the keys
    n_level = level.max() + 1 if n_tape else 1
    count = np.zeros(n_level * max(n_chain, 1), dtype=np.int64)
    stamp = np.full(n_tape, -1, dtype=np.int64)  # an inner node of batch b not run: b
    out = np.empty_like(nodes)
    nb = nptr.size - 1
    sptr = np.zeros(nb + 1, dtype=np.int64)
    sstart = np.empty(nodes.size + nb + 1, dtype=np.int64)  # segments never outnumber nodes
    skind = np.zeros(nodes.size + nb + 1, dtype=np.int64)
    ns = 0
    for b in range(nb):
        lo, hi = nptr[b], nptr[b + 1]
        for i in range(lo, hi):  # the size of every group of chains
            t = nodes[i]
            if chain[t] >= 0:
                count[level[t] * n_chain + chain[t]] += 1
        for i in range(lo, hi):
            t = nodes[i]
            if chain[t] >= 0 and count[level[t] * n_chain + chain[t]] >= dense_min:
                stamp[inner[t]] = b
        keys = np.empty(hi - lo, dtype=np.int64)
        for i in range(lo, hi):
            t = nodes[i]
            c, lv = cls[t], level[t]
            if stamp[t] == b:  # last, out of the way of the nodes that run
                c, lv = n_dense + n_chain + 1, n_level
            elif chain[t] >= 0 and stamp[inner[t]] == b:  # its group chains
                c = n_dense + 1 + chain[t]
            keys[i - lo] = (lv * n_cls + c + 1) * n_tape + t
        for i in range(lo, hi):
            t = nodes[i]
            if chain[t] >= 0:
                count[level[t] * n_chain + chain[t]] = 0
        sort_ints(keys)
        i = lo
        while i < hi:
            group = keys[i - lo] // n_tape
            j = i
            while j < hi and keys[j - lo] // n_tape == group:
                out[j] = keys[j - lo] % n_tape
                j += 1
            c = group % n_cls - 1
            if c > n_dense:  # chains, or inner nodes
                kind = INNER if c == n_dense + n_chain + 1 else CHAIN
                for a in range(i, j, CHUNK if kind == CHAIN else j - i):
                    sstart[ns] = a
                    skind[ns] = kind
                    ns += 1
            elif 0 <= c < n_dense and j - i >= dense_min:
                for a in range(i, j, CHUNK):
                    sstart[ns] = a
                    skind[ns] = DENSE
                    ns += 1
            elif c == n_dense:
                sstart[ns] = i
                skind[ns] = SUMS
                ns += 1
            elif ns == sptr[b] or skind[ns - 1] != PLAIN:  # a new plain segment (else the last one grows)
                sstart[ns] = i
                skind[ns] = PLAIN
                ns += 1
            i = j
        sptr[b + 1] = ns
    sstart[ns] = nodes.size
    return out, sptr, sstart[: ns + 1].copy(), skind[:ns].copy()


# ------------------------------------------------------------------------------------------------ kernels


@inline
def _panel(ds, k):
    """Panel ``k`` (0 ``Z`` or ``G``, 1 ``Wᵀ G``) of the dense scratch buffer ``ds``."""
    p = ds.size // 2
    return ds[k * p : (k + 1) * p]


@inline
def _sum(a, n):
    """``Σ_{i < n} a[i]`` (``n >= 1``; vectorised where sums may be reassociated, see :data:`lanes`)."""
    s = a[0]
    for i in range(1, n):
        s += a[i]
    return s


@inline
def _dot(a, b, n):
    """``Σ_{i < n} a[i] · b[i]`` (``n >= 1``; vectorised as :func:`_sum`)."""
    s = a[0] * b[0]
    for i in range(1, n):
        s += a[i] * b[i]
    return s


@inline
def _gather(tp, val, t, x, i, cols):
    """Column ``i`` of the panel ``x``: node ``t``'s input ``(Σ_e c_e x_e + k) / den`` (``k``: the run's
    constant)."""
    voff, e_child, e_cnt = tp.voff, tp.e_child, tp.e_cnt
    r = tp.rptr[t]
    e0, e1 = tp.r_eptr[r], tp.r_eptr[r + 1]
    xo = voff[e_child[e0]]
    xv = val[xo : xo + cols]
    scale = e_cnt[e0] / tp.denom[t]
    kc = tp.r_const[r]
    if e1 - e0 == 1 and scale == 1.0 and kc == 0.0:
        for c in range(cols):
            x[c * CHUNK + i] = xv[c]
        return
    kc /= tp.denom[t]
    for c in range(cols):
        x[c * CHUNK + i] = scale * xv[c] + kc
    for e in range(e0 + 1, e1):
        scale = e_cnt[e] / tp.denom[t]
        xo = voff[e_child[e]]
        xv = val[xo : xo + cols]
        for c in range(cols):
            x[c * CHUNK + i] += scale * xv[c]


@inline
def _axpy4(z, x, w, off, stride, c, n):
    """``z[:n] += Σ_{k < 4} w[off + k·stride] · x[(c + k)·CHUNK :][:n]`` (four products per load of ``z``)."""
    w0, w1, w2, w3 = w[off], w[off + stride], w[off + 2 * stride], w[off + 3 * stride]
    x0, x1 = x[c * CHUNK : c * CHUNK + n], x[(c + 1) * CHUNK : (c + 1) * CHUNK + n]
    x2, x3 = x[(c + 2) * CHUNK : (c + 2) * CHUNK + n], x[(c + 3) * CHUNK : (c + 3) * CHUNK + n]
    for i in range(n):
        z[i] += (w0 * x0[i] + w1 * x1[i]) + (w2 * x2[i] + w3 * x3[i])


@inline
def _axpy1(z, x, wk, c, n):
    xc = x[c * CHUNK : c * CHUNK + n]
    for i in range(n):
        z[i] += wk * xc[i]


@inline
def _input(tp, t):
    """The first input node of node ``t`` (a chain's outer node: its inner node)."""
    return tp.e_child[tp.r_eptr[tp.rptr[t]]]


@inline
def _affine(tp, theta, lab, b, x, z, n):
    """``Z = W · X + b``: the ``rows × n`` panel ``z`` from the ``cols × n`` panel ``x``, ``W`` the matrix of
    label ``lab``, ``b`` a bias label (``-1``: none)."""
    l_off = tp.l_off
    off, rows, cols = tp.lt[lab, 0], tp.lt[lab, 2], tp.lt[lab, 3]
    for r in range(rows):
        zr = z[r * CHUNK : r * CHUNK + n]
        bias = theta[off] * 0.0
        if b >= 0:
            bias = theta[l_off[b] + r] if l_off[b + 1] - l_off[b] > 1 else theta[l_off[b]]
        for i in range(n):
            zr[i] = bias
        wo = off + r * cols
        c = 0
        while c + 4 <= cols:
            _axpy4(zr, x, theta, wo + c, 1, c, n)
            c += 4
        for c2 in range(c, cols):
            _axpy1(zr, x, theta[wo + c2], c2, n)


@inline
def _act_panel(code, z, rows, n):
    """``Z = act(Z)`` in place over the ``rows × n`` panel ``z``."""
    if code != 0:
        for r in range(rows):
            zr = z[r * CHUNK : r * CHUNK + n]
            if code == 3:
                for i in range(n):
                    zr[i] = zr[i] if zr[i] > 0 else 0.0
            else:
                for i in range(n):
                    zr[i] = act_value(code, zr[i])


@inline
def _affine_back(tp, theta, gtheta, lab, b, g, x, gx, n):
    """Backward through ``Z = W · X + b`` given ``G = ∂L/∂Z`` (panel ``g``) and the input panel ``x``:
    ``∂L/∂b += Σ_i G[:, i]``, ``∂L/∂W += G · Xᵀ``, and ``∂L/∂X = Wᵀ G`` into the panel ``gx``."""
    l_off = tp.l_off
    off, rows, cols = tp.lt[lab, 0], tp.lt[lab, 2], tp.lt[lab, 3]
    if b >= 0:
        boff, wide = l_off[b], l_off[b + 1] - l_off[b] > 1
        for r in range(rows):
            gtheta[boff + (r if wide else 0)] += _sum(g[r * CHUNK : r * CHUNK + n], n)
    for r in range(rows):  # ∂L/∂W[r, :] += G[r] · Xᵀ
        gr = g[r * CHUNK : r * CHUNK + n]
        gw = gtheta[off + r * cols : off + (r + 1) * cols]
        for c in range(cols):
            gw[c] += _dot(gr, x[c * CHUNK : c * CHUNK + n], n)
    for c in range(cols):  # (Wᵀ G)[c] = Σ_r W[r, c] G[r]
        gxc = gx[c * CHUNK : c * CHUNK + n]
        for i in range(n):
            gxc[i] = 0.0
        r = 0
        while r + 4 <= rows:
            _axpy4(gxc, g, theta, off + r * cols + c, cols, r, n)
            r += 4
        for r2 in range(r, rows):
            _axpy1(gxc, g, theta[off + r2 * cols + c], r2, n)


@lanes
def dense_forward(tp, theta, nodes, lo, hi, wk, xo, chain):
    """Values of the dense segment ``nodes[lo:hi]``: ``Z = W · X + b``, ``y = act(Z)`` (``z`` kept where the
    slope needs it), with ``X`` kept at ``wk.xsave[xo:]``; returns where the next segment keeps its ``X``.
    A ``chain`` segment (:func:`chains`) first forms its outer nodes' input from their inner nodes'
    inputs ``X₁``: ``X = act₁(W₁ · X₁ + b₁)``, with ``X₁`` kept before ``X``."""
    val, pre, voff = wk.val, wk.pre, tp.voff
    n = hi - lo
    t0 = nodes[lo]
    lab = tp.r_lab[tp.rptr[t0]]
    rows, cols = tp.lt[lab, 2], tp.lt[lab, 3]
    code = tp.act[t0]
    if chain:
        m0 = _input(tp, t0)
        lab1 = tp.r_lab[tp.rptr[m0]]
        cols1 = tp.lt[lab1, 3]
        x1 = wk.xsave[xo : xo + cols1 * CHUNK]
        for i in range(n):
            _gather(tp, val, _input(tp, nodes[lo + i]), x1, i, cols1)
        xo += cols1 * CHUNK
        x = wk.xsave[xo : xo + cols * CHUNK]
        _affine(tp, theta, lab1, tp.bias[m0], x1, x, n)
        _act_panel(tp.act[m0], x, cols, n)
    else:
        x = wk.xsave[xo : xo + cols * CHUNK]
        for i in range(n):
            _gather(tp, val, nodes[lo + i], x, i, cols)
    z = _panel(wk.dense, 0)
    _affine(tp, theta, lab, tp.bias[t0], x, z, n)
    if needs_pre(code):
        for i in range(n):
            pv = pre[voff[nodes[lo + i]] :]
            for r in range(rows):
                pv[r] = z[r * CHUNK + i]
    _act_panel(code, z, rows, n)
    for i in range(n):
        yv = val[voff[nodes[lo + i]] :]
        for r in range(rows):
            yv[r] = z[r * CHUNK + i]
    return xo + cols * CHUNK


@lanes
def dense_backward(tp, theta, gtheta, nodes, lo, hi, wk, xo, chain):
    """Given ``∂L/∂y`` of the dense segment ``nodes[lo:hi]``, whose ``X`` forward kept just below
    ``wk.xsave[xo]``: the gradients of its weight and bias, added into its inputs' ``∂L/∂y`` (a ``chain``
    segment's: through ``G₁ = act₁'(X) ⊙ (Wᵀ G)`` to ``W₁``, ``b₁`` and its inner nodes' inputs); returns
    where the segment before it kept its ``X``."""
    val, pre, gval = wk.val, wk.pre, wk.gval
    voff, e_child, e_cnt, kinds = tp.voff, tp.e_child, tp.e_cnt, tp.kind
    n = hi - lo
    t0 = nodes[lo]
    lab = tp.r_lab[tp.rptr[t0]]
    rows, cols = tp.lt[lab, 2], tp.lt[lab, 3]
    code = tp.act[t0]
    xo -= cols * CHUNK
    x, g, gx = wk.xsave[xo : xo + cols * CHUNK], _panel(wk.dense, 0), _panel(wk.dense, 1)
    keep = needs_pre(code)
    for i in range(n):  # G = act'(z) ⊙ ∂L/∂y
        t = nodes[lo + i]
        vo = voff[t]
        yv, gyv = val[vo : vo + rows], gval[vo : vo + rows]
        if code == 0:
            for r in range(rows):
                g[r * CHUNK + i] = gyv[r]
        elif code == 3:
            for r in range(rows):
                g[r * CHUNK + i] = gyv[r] if yv[r] > 0 else 0.0
        elif keep:
            pv = pre[vo : vo + rows]
            for r in range(rows):
                g[r * CHUNK + i] = gyv[r] * act_slope(code, pv[r], yv[r])
        else:
            for r in range(rows):
                g[r * CHUNK + i] = gyv[r] * act_slope(code, yv[r], yv[r])
    _affine_back(tp, theta, gtheta, lab, tp.bias[t0], g, x, gx, n)
    if chain:  # G₁ = act₁'(X) ⊙ (Wᵀ G), X = act₁(Z₁) the inner nodes' values
        m0 = _input(tp, t0)
        lab1, code1 = tp.r_lab[tp.rptr[m0]], tp.act[m0]
        for c in range(cols):
            g1, gxc, xc = g[c * CHUNK : c * CHUNK + n], gx[c * CHUNK : c * CHUNK + n], x[c * CHUNK : c * CHUNK + n]
            if code1 == 0:
                for i in range(n):
                    g1[i] = gxc[i]
            elif code1 == 3:
                for i in range(n):
                    g1[i] = gxc[i] if xc[i] > 0 else 0.0
            else:
                for i in range(n):
                    g1[i] = gxc[i] * act_slope(code1, xc[i], xc[i])
        cols = tp.lt[lab1, 3]
        xo -= cols * CHUNK
        _affine_back(tp, theta, gtheta, lab1, tp.bias[m0], g, wk.xsave[xo : xo + cols * CHUNK], gx, n)
    for i in range(n):
        t = nodes[lo + i]
        if chain:
            t = _input(tp, t)
        r = tp.rptr[t]
        den = tp.denom[t]
        for e in range(tp.r_eptr[r], tp.r_eptr[r + 1]):
            ch = e_child[e]
            if kinds[ch] == 0:
                continue
            scale = e_cnt[e] / den
            gv = gval[voff[ch] : voff[ch] + cols]
            if scale == 1.0:
                for c in range(cols):
                    gv[c] += gx[c * CHUNK + i]
            else:
                for c in range(cols):
                    gv[c] += scale * gx[c * CHUNK + i]
    return xo


@inline
def sum_forward(tp, theta, t, wk):
    """An unweighted sum or mean node, straight into its value: ``y = act((Σ_e c_e x_e) / den + b)`` (a
    1-wide input adds to every component; ``z`` kept where the slope needs it)."""
    val, voff, e_child, e_cnt, r_eptr, r_out = wk.val, tp.voff, tp.e_child, tp.e_cnt, tp.r_eptr, tp.r_out
    d, vo, code, b = tp.dim[t], voff[t], tp.act[t], tp.bias[t]
    yv = val[vo : vo + d]
    for k in range(d):
        yv[k] = 0.0
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        wide = r_out[r] == d
        kc = tp.r_const[r]
        if kc != 0.0:
            for k in range(d):
                yv[k] += kc
        for e in range(r_eptr[r], r_eptr[r + 1]):
            c, xo = e_cnt[e], voff[e_child[e]]
            if wide:
                axpy(c, val, xo, val, vo, d)
            else:
                s = c * val[xo]
                for k in range(d):
                    yv[k] += s
    if tp.kind[t] == 2:
        den = tp.denom[t]
        for k in range(d):
            yv[k] /= den
    if b >= 0:
        bo, wide_b = tp.l_off[b], tp.l_off[b + 1] - tp.l_off[b] > 1
        for k in range(d):
            yv[k] += theta[bo + (k if wide_b else 0)]
    if code != 0:
        if needs_pre(code):
            pv = wk.pre[vo : vo + d]
            for k in range(d):
                pv[k] = yv[k]
        activate(code, val, vo, val, vo, d)  # elementwise, so in place (softmax is never a sum segment)


@inline
def sum_backward(tp, gtheta, t, wk):
    """Given ``∂L/∂y`` of an unweighted sum or mean node: ``g = act'(z) ⊙ ∂L/∂y`` (in place of ``∂L/∂y``,
    which nothing reads again), the bias gradient, and ``∂L/∂x_e += (c_e / den) · g`` (summed over the
    components for a 1-wide input)."""
    val, gval, voff, e_child, e_cnt, r_eptr, r_out = wk.val, wk.gval, tp.voff, tp.e_child, tp.e_cnt, tp.r_eptr, tp.r_out
    kinds = tp.kind
    d, vo, code, b = tp.dim[t], voff[t], tp.act[t], tp.bias[t]
    gv = gval[vo : vo + d]
    if code != 0:
        yv = val[vo : vo + d]
        if needs_pre(code):
            pv = wk.pre[vo : vo + d]
            for k in range(d):
                gv[k] *= act_slope(code, pv[k], yv[k])
        else:
            for k in range(d):
                gv[k] *= act_slope(code, yv[k], yv[k])
    total = gv[0]
    for k in range(1, d):
        total += gv[k]
    if b >= 0:
        bo = tp.l_off[b]
        if tp.l_off[b + 1] - bo > 1:
            for k in range(d):
                gtheta[bo + k] += gv[k]
        else:
            gtheta[bo] += total
    scale = 1.0 / tp.denom[t] if kinds[t] == 2 else 1.0
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        wide = r_out[r] == d
        for e in range(r_eptr[r], r_eptr[r + 1]):
            ch = e_child[e]
            if kinds[ch] == 0:
                continue
            c, xo = e_cnt[e] * scale, voff[ch]
            if wide:
                axpy(c, gval, vo, gval, xo, d)
            else:
                gval[xo] += c * total
