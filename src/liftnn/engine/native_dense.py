"""Dense segments of the native executor: nodes of one class on one level, run together.

Most of a GNN's arithmetic sits in nodes of one shape, ``y_i = act(W · s_i + b)`` with
``s_i = (Σ_e c_e x_e) / den_i``: a sum or mean node with one weighted run of a matrix
``W`` (its *dense class* is the triple (``W``, ``act``, ``b``), :func:`dense_classes`). Run one
by one, each is a small matrix-vector product wrapped in interpreter work, and a 10-wide
product does not fill a vector register. Nodes on one topological level do not depend on
each other, so :func:`schedule` puts a batch's nodes in level order with each class's nodes
together, and every *dense segment* of up to :data:`CHUNK` of them runs as small matrix
products whose inner loops run across nodes (``n`` lanes, vectorised)::

    X[c, i] = s_i[c]                         (gathered, transposed)
    Z = W · X + b,  Y = act(Z)               (scattered back into the nodes' values)

and, backward, with ``G[:, i] = act'(z_i) ⊙ ∂L/∂y_i``::

    ∂L/∂b += Σ_i G[:, i],   ∂L/∂W += G · Xᵀ,   ∂L/∂x_e += (c_e / den_i) · (Wᵀ G)[:, i].

The other nodes run one by one, in *plain segments*. A batch's segments are in level order,
so running them forward (and in reverse, backward) respects every dependency. The panels
live in a scratch buffer of ``3 · max_dim · CHUNK`` values (:func:`dense_scratch_size`).
"""

from __future__ import annotations

import numpy as np

from .native_ops import act_slope, act_value, inline, jit, needs_pre
from .tape import TapeArrays

#: the most nodes one dense segment runs at once (three ``[dim, CHUNK]`` panels stay in the L1 cache)
CHUNK = 128
#: a class's nodes on one level of a batch run densely from this many on (fewer run one by one); measured
#: with ``python benchmarks/native_tapes.py``
DENSE_MIN = 4


def dense_scratch_size(max_dim: int) -> int:
    """The size of the dense scratch buffer for nodes, inputs and weights at most ``max_dim`` wide."""
    return 3 * max_dim * CHUNK


def dense_classes(tp: TapeArrays) -> np.ndarray:
    """``int64[N]``: the dense class of every node (``-1`` where it runs one by one). A sum or mean node
    with one run, weighted by a matrix whose rows fill the node, has the class of its
    (weight, activation, bias); softmax (across the node's components) runs one by one."""
    nruns = np.diff(tp.rptr)
    first = np.minimum(tp.rptr[:-1], max(tp.r_lab.size - 1, 0))
    lab = tp.r_lab[first] if tp.r_lab.size else np.full(tp.kind.size, -1)
    matrix = (lab >= 0) & (tp.lt[np.maximum(lab, 0), 1] == 2) if tp.lt.size else np.zeros(tp.kind.size, bool)
    eligible = (np.isin(tp.kind, (1, 2)) & (nruns == 1) & matrix & (tp.act != 14)
                & (tp.r_out[first] == tp.dim if tp.r_out.size else False))
    cls = np.full(tp.kind.size, -1, dtype=np.int64)
    if eligible.any():
        keys = np.stack([lab[eligible], tp.act[eligible], tp.bias[eligible]], axis=1)
        cls[eligible] = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
    return cls


@jit
def schedule(level, cls, nptr, nodes, dense_min):
    """Reorder every batch's nodes ``nodes[nptr[b] : nptr[b + 1]]`` (a topological order) by (level,
    dense class, node) and cut each batch into segments. Returns ``(nodes, sptr, sstart, sdense)``:
    batch ``b`` is segments ``sptr[b] : sptr[b + 1]``, segment ``s`` the nodes
    ``nodes[sstart[s] : sstart[s + 1]]``, dense when ``sdense[s]`` (at most :data:`CHUNK` nodes of one
    class and level)."""
    n_tape = level.size
    n_cls = cls.max() + 2 if cls.size else 1
    out = np.empty_like(nodes)
    nb = nptr.size - 1
    sptr = np.zeros(nb + 1, dtype=np.int64)
    cap = nodes.size + nb + 1
    sstart = np.empty(cap, dtype=np.int64)
    sdense = np.zeros(cap, dtype=np.bool_)
    ns = 0
    for b in range(nb):
        lo, hi = nptr[b], nptr[b + 1]
        keys = np.empty(hi - lo, dtype=np.int64)
        for i in range(lo, hi):
            t = nodes[i]
            keys[i - lo] = (level[t] * n_cls + cls[t] + 1) * n_tape + t
        keys.sort()
        i = lo
        while i < hi:
            group = keys[i - lo] // n_tape
            j = i
            while j < hi and keys[j - lo] // n_tape == group:
                out[j] = keys[j - lo] % n_tape
                j += 1
            if cap < ns + (j - i) // CHUNK + 2:  # more segments than nodes never happens; keep it safe
                sstart = np.concatenate((sstart, np.empty(cap, dtype=np.int64)))
                sdense = np.concatenate((sdense, np.zeros(cap, dtype=np.bool_)))
                cap *= 2
            if group % n_cls != 0 and j - i >= dense_min:
                for a in range(i, j, CHUNK):
                    sstart[ns] = a
                    sdense[ns] = True
                    ns += 1
            elif ns == sptr[b] or sdense[ns - 1]:  # a new plain segment (else the previous plain one grows)
                sstart[ns] = i
                ns += 1
            i = j
        sptr[b + 1] = ns
    sstart[ns] = nodes.size
    return out, sptr, sstart[: ns + 1].copy(), sdense[:ns].copy()


# ------------------------------------------------------------------------------------------------ kernels


@inline
def _panel(ds, k):
    """Panel ``k`` (0 ``X``, 1 ``Z`` or ``G``, 2 ``Wᵀ G``) of the dense scratch buffer ``ds``."""
    p = ds.size // 3
    return ds[k * p : (k + 1) * p]


@inline
def _sum(a, n):
    """``Σ_{i < n} a[i]`` (``n >= 1``) in eight lanes, so that the compiler vectorises it."""
    if n < 8:
        s = a[0]
        for i in range(1, n):
            s += a[i]
        return s
    s0, s1, s2, s3, s4, s5, s6, s7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    full = n - n % 8
    for i in range(8, full, 8):
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
        s4 += a[i + 4]
        s5 += a[i + 5]
        s6 += a[i + 6]
        s7 += a[i + 7]
    for i in range(full, n):
        s0 += a[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@inline
def _dot(a, b, n):
    """``Σ_{i < n} a[i] · b[i]`` (``n >= 1``) in eight lanes."""
    if n < 8:
        s = a[0] * b[0]
        for i in range(1, n):
            s += a[i] * b[i]
        return s
    s0, s1, s2, s3 = a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3]
    s4, s5, s6, s7 = a[4] * b[4], a[5] * b[5], a[6] * b[6], a[7] * b[7]
    full = n - n % 8
    for i in range(8, full, 8):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
        s4 += a[i + 4] * b[i + 4]
        s5 += a[i + 5] * b[i + 5]
        s6 += a[i + 6] * b[i + 6]
        s7 += a[i + 7] * b[i + 7]
    for i in range(full, n):
        s0 += a[i] * b[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@inline
def _gather(tp, val, t, x, i, cols):
    """Column ``i`` of the panel ``x``: node ``t``'s input ``(Σ_e c_e x_e) / den``."""
    voff, e_child, e_cnt = tp.voff, tp.e_child, tp.e_cnt
    r = tp.rptr[t]
    e0, e1 = tp.r_eptr[r], tp.r_eptr[r + 1]
    xo = voff[e_child[e0]]
    xv = val[xo : xo + cols]
    scale = e_cnt[e0] / tp.denom[t]
    if e1 - e0 == 1 and scale == 1.0:
        for c in range(cols):
            x[c * CHUNK + i] = xv[c]
        return
    for c in range(cols):
        x[c * CHUNK + i] = scale * xv[c]
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
def dense_forward(tp, theta, nodes, lo, hi, wk):
    """Values of the dense segment ``nodes[lo:hi]``: ``Z = W · X + b``, ``y = act(Z)`` (``z`` kept where the
    slope needs it)."""
    val, pre, ds, l_off, voff = wk.val, wk.pre, wk.dense, tp.l_off, tp.voff
    n = hi - lo
    t0 = nodes[lo]
    lab = tp.r_lab[tp.rptr[t0]]
    off, rows, cols = tp.lt[lab, 0], tp.lt[lab, 2], tp.lt[lab, 3]
    code, b = tp.act[t0], tp.bias[t0]
    x, z = _panel(ds, 0), _panel(ds, 1)
    for i in range(n):
        _gather(tp, val, nodes[lo + i], x, i, cols)
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
    if needs_pre(code):
        for i in range(n):
            pv = pre[voff[nodes[lo + i]] :]
            for r in range(rows):
                pv[r] = z[r * CHUNK + i]
    if code != 0:
        for r in range(rows):
            zr = z[r * CHUNK : r * CHUNK + n]
            if code == 3:
                for i in range(n):
                    zr[i] = zr[i] if zr[i] > 0 else 0.0
            else:
                for i in range(n):
                    zr[i] = act_value(code, zr[i])
    for i in range(n):
        yv = val[voff[nodes[lo + i]] :]
        for r in range(rows):
            yv[r] = z[r * CHUNK + i]


@inline
def dense_backward(tp, theta, gtheta, nodes, lo, hi, wk):
    """Given ``∂L/∂y`` of the dense segment ``nodes[lo:hi]``: the gradients of its weight and bias, added
    into its inputs' ``∂L/∂y``."""
    val, pre, gval, ds, l_off = wk.val, wk.pre, wk.gval, wk.dense, tp.l_off
    voff, e_child, e_cnt, kinds = tp.voff, tp.e_child, tp.e_cnt, tp.kind
    n = hi - lo
    t0 = nodes[lo]
    lab = tp.r_lab[tp.rptr[t0]]
    off, rows, cols = tp.lt[lab, 0], tp.lt[lab, 2], tp.lt[lab, 3]
    code, b = tp.act[t0], tp.bias[t0]
    x, g, gx = _panel(ds, 0), _panel(ds, 1), _panel(ds, 2)
    keep = needs_pre(code)
    for i in range(n):  # G = act'(z) ⊙ ∂L/∂y, and the inputs again
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
        _gather(tp, val, t, x, i, cols)
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
    for i in range(n):
        t = nodes[lo + i]
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
