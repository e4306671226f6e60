"""The native executor: compiled steps over a :class:`~liftnn.engine.tape.Tape`.

Small graphs (one lifted molecule is ~50 nodes) cost a torch engine ~100 op
dispatches per step whatever their size; here a step is plain compiled loops
(numba, cached on disk), and a whole epoch of steps is one call:

* forward, segment by segment in level order (:mod:`liftnn.engine.native_dense`: dense
  segments as small matrix products across nodes, unweighted sums straight into their
  values) and otherwise node by node: ``m_r = W_r · s_r`` per run, ``a = combine(m)``,
  ``z = a + b``, ``y = act(z)``;
* the loss (MSE, BCE, CE) seeds ``∂L/∂y`` of the batch's outputs;
* backward in reverse order: ``g = ∂L/∂z = act'(z) ⊙ ∂L/∂y``, then per run
  ``∂L/∂m_r`` from the combine (``c·g`` for sum, ``c·g / Σc`` for mean, ``g`` split
  evenly over tied maxima, ``g · c m^{c-1} Π_{others}`` for prod, the slice of
  ``g`` for concat), ``∂L/∂W += ∂L/∂m ⊗ s`` and ``∂L/∂s = Wᵀ ∂L/∂m``;
* the optimiser: Adam with torch's semantics (one step count per parameter, a
  parameter the batch does not use is not stepped) or SGD.

Every built-in combine and activation, every weight kind (scalar, elementwise,
matrix, none, dimension-1 broadcast), biases and multiplicities, in float32 or
float64; registered functions stay on the torch engine. Training runs on a
batch-major copy of the tape in its schedule's order (:mod:`liftnn.engine.native_batches`);
``z`` is kept only for activations whose slope needs it, and a combine's result only
for max, min, prod and concat.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from .._segments import ranges
from ..graph import Graph
from .native_batches import localise, restrict
from .native_dense import (
    CHAIN,
    DENSE,
    DENSE_MIN,
    INNER,
    PLAIN,
    SUMS,
    classes,
    dense_backward,
    dense_forward,
    dense_save_size,
    dense_scratch_size,
    schedule,
    sum_backward,
    sum_forward,
)
from .native_ops import act_slope, activate, axpy, fill, inline, kernel, needs_pre
from .params import Shape
from .tape import Tape, TapeArrays, compile_tape

LOSS_CODES = {"mse": 0, "bce": 1, "ce": 2}
OPTIMIZER_CODES = {"adam": 0, "sgd": 1}
#: ``batches(layout="auto")`` copies batches into a batch-major tape unless the copy would hold more than this
#: many times the tape's inner nodes. Measured (``python benchmarks/native_tapes.py``, segments): the copy wins
#: where it grows the tape 2-5x (GIN per-sample 1.12x faster at 2.4x the nodes, mini-batches of 32 1.08-1.63x
#: faster at 1.9-4.9x) and loses or ties where it grows a small tape 10x (GCN per-sample 0.90x at 10.3x the
#: nodes, GraphSAGE 1.00x at 10.4x)
MAX_COPY_GROWTH = 8


class Work(NamedTuple):
    """Buffers of one executor: node values, pre-activations and combine results ``[V]``, run vectors,
    value gradients ``[V]``, parameter gradients ``[P]``, per-node scratch ``[5 · max_dim]``, the
    panels of dense segments (:func:`~liftnn.engine.native_dense.dense_scratch_size`) and their inputs
    kept from forward to backward (:func:`~liftnn.engine.native_dense.dense_save_size`)."""

    val: np.ndarray
    pre: np.ndarray
    agg: np.ndarray
    buf: np.ndarray
    gval: np.ndarray
    gtheta: np.ndarray
    scratch: np.ndarray
    dense: np.ndarray
    xsave: np.ndarray


class BatchSet(NamedTuple):
    """Batches restricted to what their outputs need, as CSR lists over batches: the inner nodes (in
    level order, :func:`~liftnn.engine.native_dense.schedule`), the output rows, and the labels used
    (weights and biases); each batch's nodes cut into segments (``sstart``) of a kind (``skind``)."""

    nptr: np.ndarray
    nodes: np.ndarray
    optr: np.ndarray
    rows: np.ndarray
    lptr: np.ndarray
    labels: np.ndarray
    sptr: np.ndarray  # int64[B + 1] segments of batch b: sptr[b] : sptr[b + 1]
    sstart: np.ndarray  # int64[S + 1] nodes of segment s: nodes[sstart[s] : sstart[s + 1]]
    skind: np.ndarray  # int64[S] how segment s runs: PLAIN, DENSE, SUMS, CHAIN or INNER (liftnn.engine.native_dense)


class Batches(NamedTuple):
    """Batches ready to run: their tape (a batch-major copy, or the engine's own), its index
    (:class:`BatchSet`) and its buffers."""

    arrays: TapeArrays
    index: BatchSet
    work: Work
    src: np.ndarray  # int64[N'] the node of the engine's tape every node of ``arrays`` copies


class Task(NamedTuple):
    """What :func:`run` does: ``mode`` (``TRAIN``, ``FORWARD``, ``GRADIENT``), the loss code, the batch
    order, the targets of the output rows ``[O]``, the output gradients ``[O, d]`` (``GRADIENT``) and
    the step losses ``[len(order)]`` it fills (``TRAIN``)."""

    mode: int
    loss: int
    order: np.ndarray
    targets: np.ndarray
    grad_out: np.ndarray
    losses: np.ndarray


class Optimizer(NamedTuple):
    """State of Adam/SGD over the flat parameters: moments ``[P]``, step count per label ``[L]``,
    which labels learn ``[L]``, and ``hyper = [lr, beta1, beta2, eps]``."""

    code: int
    m1: np.ndarray
    m2: np.ndarray
    steps: np.ndarray
    learnable: np.ndarray
    hyper: np.ndarray


# ------------------------------------------------------------------------------------------------ kernels

# The node-level kernels take the tape and work records and read their arrays once, at the top; everything
# they call per run, edge or component takes plain arrays (see :mod:`liftnn.engine.native_ops`). Scratch slots
# of the flat ``[5 · max_dim]`` buffer ``wk.scratch``: the message ``m``, ``g = ∂L/∂z``, ``∂L/∂m``, ``∂L/∂s``
# and the tie counts.
_M, _G, _GM, _GS, _TIES = 0, 1, 2, 3, 4
#: forward, the slot ``∂L/∂m`` holds a linear node's combine result ``a``, and slot ``g`` its ``z``
_A = _GM


@inline
def _slot(sc, s):
    """Offset of scratch slot ``s`` in the scratch buffer ``sc``."""
    return s * (sc.size // 5)


@inline
def _apply(lt, theta, lab, x, xo, n_in, out, oo):
    """``out[oo : oo + rows] = W_lab · x[xo : xo + n_in]`` (a copy when ``lab < 0``); ``lt`` the label table."""
    kind = lt[lab, 1] if lab >= 0 else -1
    xv = x[xo : xo + n_in]
    if kind == 2:
        off, rows, cols = lt[lab, 0], lt[lab, 2], lt[lab, 3]
        ov = out[oo : oo + rows]
        r = 0
        while r + 4 <= rows:  # four rows at once: four independent sums in flight, each in column order
            b = off + r * cols
            w0, w1 = theta[b : b + cols], theta[b + cols : b + 2 * cols]
            w2, w3 = theta[b + 2 * cols : b + 3 * cols], theta[b + 3 * cols : b + 4 * cols]
            x0 = xv[0]
            a0, a1, a2, a3 = w0[0] * x0, w1[0] * x0, w2[0] * x0, w3[0] * x0
            for c in range(1, cols):
                xc = xv[c]
                a0 += w0[c] * xc
                a1 += w1[c] * xc
                a2 += w2[c] * xc
                a3 += w3[c] * xc
            ov[r], ov[r + 1], ov[r + 2], ov[r + 3] = a0, a1, a2, a3
            r += 4
        for rest in range(r, rows):
            w = theta[off + rest * cols : off + (rest + 1) * cols]
            acc = w[0] * xv[0]
            for c in range(1, cols):
                acc += w[c] * xv[c]
            ov[rest] = acc
    else:
        ov = out[oo : oo + n_in]
        if kind == 1:
            w = theta[lt[lab, 0] : lt[lab, 0] + n_in]
            for k in range(n_in):
                ov[k] = w[k] * xv[k]
        elif kind == 0:
            w0 = theta[lt[lab, 0]]
            for k in range(n_in):
                ov[k] = w0 * xv[k]
        else:
            for k in range(n_in):
                ov[k] = xv[k]


@inline
def _apply_back(lt, theta, gtheta, lab, x, xo, n_in, sc, go):
    """With ``gm = sc[go : …]`` (``∂L/∂m``): ``∂L/∂s = W_labᵀ · gm`` into scratch slot ``∂L/∂s``, and
    ``∂L/∂W_lab += gm ⊗ x[xo : xo + n_in]``."""
    gs = _slot(sc, _GS)
    kind = lt[lab, 1] if lab >= 0 else -1
    xv, gsv = x[xo : xo + n_in], sc[gs : gs + n_in]
    if kind == 2:
        off, rows, cols = lt[lab, 0], lt[lab, 2], lt[lab, 3]
        gmv = sc[go : go + rows]
        for c in range(cols):
            gsv[c] = 0.0
        for r in range(rows):
            gr = gmv[r]
            w = theta[off + r * cols : off + (r + 1) * cols]
            gw = gtheta[off + r * cols : off + (r + 1) * cols]
            for c in range(cols):
                gsv[c] += w[c] * gr
                gw[c] += gr * xv[c]
    elif kind == 1:
        off = lt[lab, 0]
        w, gw, gmv = theta[off : off + n_in], gtheta[off : off + n_in], sc[go : go + n_in]
        for k in range(n_in):
            gsv[k] = w[k] * gmv[k]
            gw[k] += gmv[k] * xv[k]
    elif kind == 0:
        off = lt[lab, 0]
        w0 = theta[off]
        gmv = sc[go : go + n_in]
        acc = gmv[0] * xv[0]
        gsv[0] = w0 * gmv[0]
        for k in range(1, n_in):
            gsv[k] = w0 * gmv[k]
            acc += gmv[k] * xv[k]
        gtheta[off] += acc
    else:
        gmv = sc[go : go + n_in]
        for k in range(n_in):
            gsv[k] = gmv[k]


@inline
def _linear_forward(tp, theta, t, wk):
    """Sum and mean: ``a = Σ_r W_r · Σ_{e in r} c_e x_e`` (divided by ``Σ c`` for mean) into scratch slot
    ``a`` (a linear node's combine result is not kept: its backward pass does not read it)."""
    voff, e_child, e_cnt, lt = tp.voff, tp.e_child, tp.e_cnt, tp.lt
    r_eptr, r_lab, r_in, r_out, r_buf, r_const = tp.r_eptr, tp.r_lab, tp.r_in, tp.r_out, tp.r_buf, tp.r_const
    val, buf, sc = wk.val, wk.buf, wk.scratch
    d = tp.dim[t]
    m, ao = _slot(sc, _M), _slot(sc, _A)
    fill(sc, ao, d, 0.0)
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        ni, no, lab, kc = r_in[r], r_out[r], r_lab[r], r_const[r]
        e0, e1 = r_eptr[r], r_eptr[r + 1]
        if lab < 0:  # unweighted: inputs straight into the sum (or into the message when it broadcasts)
            if no == d:
                for e in range(e0, e1):
                    axpy(e_cnt[e], val, voff[e_child[e]], sc, ao, d)
                if kc != 0.0:
                    av = sc[ao : ao + d]
                    for j in range(d):
                        av[j] += kc
                continue
            fill(sc, m, ni, kc)
            for e in range(e0, e1):
                axpy(e_cnt[e], val, voff[e_child[e]], sc, m, ni)
        elif e1 - e0 == 1 and e_cnt[e0] == 1.0 and kc == 0.0:  # one input: weigh it where it lies
            _apply(lt, theta, lab, val, voff[e_child[e0]], ni, sc, m)
        else:  # the weighted sum of inputs (and the run's constant) is kept for the weight's gradient
            bo = r_buf[r]
            fill(buf, bo, ni, kc)
            for e in range(e0, e1):
                axpy(e_cnt[e], val, voff[e_child[e]], buf, bo, ni)
            _apply(lt, theta, lab, buf, bo, ni, sc, m)
        if no == d:
            axpy(1.0, sc, m, sc, ao, d)
        else:
            mk = sc[m]
            av = sc[ao : ao + d]
            for k in range(d):
                av[k] += mk
    if tp.kind[t] == 2:
        den = tp.denom[t]
        av = sc[ao : ao + d]
        for k in range(d):
            av[k] /= den


@inline
def _other_forward(tp, theta, t, wk):
    """Concat (every message into its columns); max, min, prod (one message per edge, kept in
    ``wk.buf`` for the backward pass)."""
    voff, e_child, e_cnt, lt = tp.voff, tp.e_child, tp.e_cnt, tp.lt
    r_eptr, r_lab, r_in, r_out, r_buf, r_col = tp.r_eptr, tp.r_lab, tp.r_in, tp.r_out, tp.r_buf, tp.r_col
    val, buf, agg = wk.val, wk.buf, wk.agg
    kind, d, vo = tp.kind[t], tp.dim[t], tp.voff[t]
    first = True
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        e = r_eptr[r]
        if kind == 6:
            _apply(lt, theta, r_lab[r], val, voff[e_child[e]], r_in[r], agg, vo + r_col[r])
            continue
        no, bo = r_out[r], r_buf[r]
        _apply(lt, theta, r_lab[r], val, voff[e_child[e]], r_in[r], buf, bo)
        cnt = e_cnt[e]
        wide = 1 if no == d else 0
        for k in range(d):
            mk = buf[bo + wide * k]
            if kind == 5 and cnt != 1.0:
                mk = mk**cnt
            if first:
                agg[vo + k] = mk
            elif kind == 3:
                if mk > agg[vo + k]:
                    agg[vo + k] = mk
            elif kind == 4:
                if mk < agg[vo + k]:
                    agg[vo + k] = mk
            else:
                agg[vo + k] *= mk
        first = False


@inline
def _forward_node(tp, theta, t, wk):
    """``y_t = act(combine_r(W_r · s_r) + b)``; keeps ``a`` (the combine's result) where its backward pass
    reads it (max, min, prod, concat) and ``z`` (pre-activation) where ``act'`` needs it (:func:`needs_pre`)."""
    kind = tp.kind[t]
    l_off, sc = tp.l_off, wk.scratch
    d, vo, b, code = tp.dim[t], tp.voff[t], tp.bias[t], tp.act[t]
    if kind == 1 or kind == 2:
        _linear_forward(tp, theta, t, wk)
        ao = _slot(sc, _A)
        av = sc[ao : ao + d]
    else:
        _other_forward(tp, theta, t, wk)
        av = wk.agg[vo : vo + d]
    zo = _slot(sc, _G)
    zv = sc[zo : zo + d]
    if b >= 0 and l_off[b + 1] - l_off[b] > 1:
        bv = theta[l_off[b] : l_off[b] + d]
        for k in range(d):
            zv[k] = av[k] + bv[k]
    elif b >= 0:
        b0 = theta[l_off[b]]
        for k in range(d):
            zv[k] = av[k] + b0
    else:
        for k in range(d):
            zv[k] = av[k]
    if needs_pre(code):
        pv = wk.pre[vo : vo + d]
        for k in range(d):
            pv[k] = zv[k]
    activate(code, sc, zo, wk.val, vo, d)


@inline
def _node_delta(tp, gtheta, t, wk):
    """Scratch slot ``g = ∂L/∂z = act'(z) ⊙ ∂L/∂y``, and the bias gradient."""
    val, pre, gval, sc, l_off = wk.val, wk.pre, wk.gval, wk.scratch, tp.l_off
    d, vo, code, b = tp.dim[t], tp.voff[t], tp.act[t], tp.bias[t]
    g = _slot(sc, _G)
    gv, yv, zv, gyv = sc[g : g + d], val[vo : vo + d], pre[vo : vo + d], gval[vo : vo + d]
    if code == 14:  # softmax: g = y ⊙ (gy - <gy, y>)
        dot = 0.0
        for k in range(d):
            dot += gyv[k] * yv[k]
        for k in range(d):
            gv[k] = yv[k] * (gyv[k] - dot)
    elif code == 0:
        for k in range(d):
            gv[k] = gyv[k]
    elif needs_pre(code):
        for k in range(d):
            gv[k] = gyv[k] * act_slope(code, zv[k], yv[k])
    else:
        for k in range(d):
            gv[k] = gyv[k] * act_slope(code, yv[k], yv[k])
    if b >= 0:
        boff = l_off[b]
        if l_off[b + 1] - boff > 1:
            axpy(1.0, sc, g, gtheta, boff, d)
        else:
            acc = gv[0]
            for k in range(1, d):
                acc += gv[k]
            gtheta[boff] += acc


@inline
def _linear_backward(tp, theta, gtheta, t, wk):
    kinds, voff, e_child, e_cnt, lt = tp.kind, tp.voff, tp.e_child, tp.e_cnt, tp.lt
    r_eptr, r_lab, r_in, r_out, r_buf = tp.r_eptr, tp.r_lab, tp.r_in, tp.r_out, tp.r_buf
    val, buf, gval, sc = wk.val, wk.buf, wk.gval, wk.scratch
    d = tp.dim[t]
    g, gs, gsum = _slot(sc, _G), _slot(sc, _GS), _slot(sc, _TIES)  # the ties slot is free in a linear node
    # ∂L/∂m of every run: g / Σc for mean (g for sum), or its sum where a 1-wide message broadcasts
    gm = g
    if tp.kind[t] == 2:
        gm = _slot(sc, _GM)
        scale = 1.0 / tp.denom[t]
        for k in range(d):
            sc[gm + k] = sc[g + k] * scale
    acc = sc[gm]
    for k in range(1, d):
        acc += sc[gm + k]
    sc[gsum] = acc
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        ni, no, lab = r_in[r], r_out[r], r_lab[r]
        e0, e1 = r_eptr[r], r_eptr[r + 1]
        grad = gm if no == d else gsum
        if lab >= 0:
            if e1 - e0 == 1 and e_cnt[e0] == 1.0 and tp.r_const[r] == 0.0:  # weighed where it lay
                _apply_back(lt, theta, gtheta, lab, val, voff[e_child[e0]], ni, sc, grad)
            else:
                _apply_back(lt, theta, gtheta, lab, buf, r_buf[r], ni, sc, grad)
            grad = gs
        for e in range(e0, e1):
            c = e_child[e]
            if kinds[c] != 0:
                axpy(e_cnt[e], sc, grad, gval, voff[c], ni)


@inline
def _other_backward(tp, theta, gtheta, t, wk):
    """Concat: the message's columns of ``g``. Max/min: ``g`` where a message attains the extremum, split
    evenly over ties (torch's ``scatter_reduce``). Prod: ``g · c m^{c-1} Π_{others}``."""
    kinds, voff, e_child, e_cnt, lt = tp.kind, tp.voff, tp.e_child, tp.e_cnt, tp.lt
    r_eptr, r_lab, r_in, r_out, r_buf, r_col = tp.r_eptr, tp.r_lab, tp.r_in, tp.r_out, tp.r_buf, tp.r_col
    val, buf, agg, gval, sc = wk.val, wk.buf, wk.agg, wk.gval, wk.scratch
    kind, d, vo = tp.kind[t], tp.dim[t], tp.voff[t]
    g, gm, gs, ties = _slot(sc, _G), _slot(sc, _GM), _slot(sc, _GS), _slot(sc, _TIES)
    r0, r1 = tp.rptr[t], tp.rptr[t + 1]
    if kind == 3 or kind == 4:
        fill(sc, ties, d, 0.0)
        for r in range(r0, r1):
            bo, wide = r_buf[r], 1 if r_out[r] == d else 0
            for k in range(d):
                if buf[bo + wide * k] == agg[vo + k]:
                    sc[ties + k] += 1.0
    for r in range(r0, r1):
        e = r_eptr[r]
        c = e_child[e]
        ni, no, bo = r_in[r], r_out[r], r_buf[r]
        wide = 1 if no == d else 0
        if kind == 6:
            col = r_col[r]
            for k in range(no):
                sc[gm + k] = sc[g + col + k]
        elif kind == 5:
            fill(sc, gm, no, 0.0)
            cnt = e_cnt[e]
            for k in range(d):
                mk = buf[bo + wide * k]
                other = 1.0
                for r2 in range(r0, r1):
                    if r2 != r:
                        m2 = buf[r_buf[r2] + (k if r_out[r2] == d else 0)]
                        c2 = e_cnt[r_eptr[r2]]
                        other *= m2 if c2 == 1.0 else m2**c2
                slope = 1.0 if cnt == 1.0 else cnt * mk ** (cnt - 1.0)
                sc[gm + wide * k] += sc[g + k] * slope * other
        else:
            fill(sc, gm, no, 0.0)
            for k in range(d):
                if buf[bo + wide * k] == agg[vo + k]:
                    sc[gm + wide * k] += sc[g + k] / sc[ties + k]
        _apply_back(lt, theta, gtheta, r_lab[r], val, voff[c], ni, sc, gm)
        if kinds[c] != 0:
            axpy(1.0, sc, gs, gval, voff[c], ni)


@inline
def _backward_node(tp, theta, gtheta, t, wk):
    """Given ``∂L/∂y_t``: the gradients of the node's weights and bias, added into its inputs' ``∂L/∂y``."""
    _node_delta(tp, gtheta, t, wk)
    kind = tp.kind[t]
    if kind == 1 or kind == 2:
        _linear_backward(tp, theta, gtheta, t, wk)
    else:
        _other_backward(tp, theta, gtheta, t, wk)


@inline
def _loss(tp, loss, rows, lo, hi, targets, wk):
    """The batch's mean loss; adds ``∂L/∂y`` of its output rows into ``wk.gval``."""
    out, voff, dim, kind = tp.out, tp.voff, tp.dim, tp.kind
    val, gval = wk.val, wk.gval
    n = hi - lo
    total = 0.0
    for j in range(lo, hi):
        row = rows[j]
        t = out[row]
        vo = voff[t]
        inner = kind[t] != 0
        y = val[vo]
        target = targets[row]
        if loss == 0:
            diff = y - target
            total += diff * diff
            if inner:
                gval[vo] += 2.0 * diff / n
        elif loss == 1:
            yc = min(max(y, 1e-12), 1.0 - 1e-12)
            total -= target * max(math.log(yc), -100.0) + (1.0 - target) * max(math.log(1.0 - yc), -100.0)
            if inner and 1e-12 <= y <= 1.0 - 1e-12:
                gval[vo] += (yc - target) / max(yc * (1.0 - yc), 1e-12) / n
        else:
            d = dim[t]
            mx = val[vo]
            for k in range(1, d):
                mx = max(mx, val[vo + k])
            s = 0.0
            for k in range(d):
                s += math.exp(val[vo + k] - mx)
            cls = int(target)
            total += mx + math.log(s) - val[vo + cls]
            if inner:
                for k in range(d):
                    p = math.exp(val[vo + k] - mx) / s
                    gval[vo + k] += (p - (1.0 if k == cls else 0.0)) / n
    return total / n


@inline
def _optimise(tp, theta, gtheta, labels, lo, hi, opt):
    """One Adam or SGD step on the labels ``labels[lo:hi]`` (those the batch used) that learn."""
    lr, b1, b2, eps = opt.hyper[0], opt.hyper[1], opt.hyper[2], opt.hyper[3]
    m1, m2, steps, learnable, l_off, code = opt.m1, opt.m2, opt.steps, opt.learnable, tp.l_off, opt.code
    for i in range(lo, hi):
        lab = labels[i]
        if not learnable[lab]:
            continue
        a, z = l_off[lab], l_off[lab + 1]
        p, gp, v1, v2 = theta[a:z], gtheta[a:z], m1[a:z], m2[a:z]
        if code == 1:
            for k in range(z - a):
                p[k] -= lr * gp[k]
            continue
        steps[lab] += 1
        step = steps[lab]
        bc1 = 1.0 - b1**step
        bc2_sqrt = math.sqrt(1.0 - b2**step)
        size = lr / bc1
        for k in range(z - a):
            gk = gp[k]
            v1[k] += (gk - v1[k]) * (1.0 - b1)
            v2[k] = v2[k] * b2 + (1.0 - b2) * gk * gk
            p[k] -= size * v1[k] / (math.sqrt(v2[k]) / bc2_sqrt + eps)


TRAIN, FORWARD, GRADIENT = 0, 1, 2


@kernel
def run(tp, bs, theta, opt, wk, task):
    """The one compiled entry point (one compilation per dtype serves every use), for batches
    ``task.order[j]`` of ``bs``:

    * ``TRAIN``: forward, loss, backward and an optimiser step per batch; ``task.losses[j]`` its loss;
    * ``FORWARD``: the values of the batches' nodes into ``wk.val``;
    * ``GRADIENT``: also ``wk.gtheta = ∂/∂θ Σ_{o,k} grad_out[o, k] · y[o, k]`` over the batches' output rows.
    """
    nodes, rows, optr, labels, lptr = bs.nodes, bs.rows, bs.optr, bs.labels, bs.lptr
    sptr, sstart, skind = bs.sptr, bs.sstart, bs.skind
    voff, dim, kind, out, l_off = tp.voff, tp.dim, tp.kind, tp.out, tp.l_off
    gval, gtheta, grad_out, order, mode = wk.gval, wk.gtheta, task.grad_out, task.order, task.mode
    for j in range(order.size):
        b = order[j]
        xo = 0  # where the next dense segment keeps its inputs
        for s in range(sptr[b], sptr[b + 1]):
            if skind[s] == DENSE or skind[s] == CHAIN:
                xo = dense_forward(tp, theta, nodes, sstart[s], sstart[s + 1], wk, xo, skind[s] == CHAIN)
            elif skind[s] == SUMS:
                for i in range(sstart[s], sstart[s + 1]):
                    sum_forward(tp, theta, nodes[i], wk)
            elif skind[s] == PLAIN:
                for i in range(sstart[s], sstart[s + 1]):
                    _forward_node(tp, theta, nodes[i], wk)
        if mode == FORWARD:
            continue
        for s in range(sptr[b], sptr[b + 1]):  # ∂L/∂y = 0 (a chain's inner nodes have none)
            if skind[s] != INNER:
                for i in range(sstart[s], sstart[s + 1]):
                    fill(gval, voff[nodes[i]], dim[nodes[i]], 0.0)
        for i in range(lptr[b], lptr[b + 1]):
            lab = labels[i]
            fill(gtheta, l_off[lab], l_off[lab + 1] - l_off[lab], 0.0)
        if mode == TRAIN:
            task.losses[j] = _loss(tp, task.loss, rows, optr[b], optr[b + 1], task.targets, wk)
        else:
            for i in range(optr[b], optr[b + 1]):
                o = rows[i]
                t = out[o]
                if kind[t] != 0:
                    for k in range(dim[t]):
                        gval[voff[t] + k] += grad_out[o, k]
        for s in range(sptr[b + 1] - 1, sptr[b] - 1, -1):
            if skind[s] == DENSE or skind[s] == CHAIN:
                xo = dense_backward(tp, theta, gtheta, nodes, sstart[s], sstart[s + 1], wk, xo, skind[s] == CHAIN)
            elif skind[s] == SUMS:
                for i in range(sstart[s + 1] - 1, sstart[s] - 1, -1):
                    sum_backward(tp, gtheta, nodes[i], wk)
            elif skind[s] == PLAIN:
                for i in range(sstart[s + 1] - 1, sstart[s] - 1, -1):
                    _backward_node(tp, theta, gtheta, nodes[i], wk)
        if mode == TRAIN:
            _optimise(tp, theta, gtheta, labels, lptr[b], lptr[b + 1], opt)


# ------------------------------------------------------------------------------------------------ the executor


class NativeEngine:
    """A graph compiled for the native executor: evaluation, gradients and whole training epochs.

    ``NativeEngine(graph, shapes, dtype)`` compiles the tape once (reading through plain sums read once
    unless ``inline=False``, :mod:`liftnn.engine.inline`); parameters are passed as
    ``{label: array or tensor}`` (:meth:`pack`) or as the flat vector.
    """

    def __init__(self, graph: Graph, shapes: Mapping[str, Shape], dtype: str | np.dtype = "float64",
                 dense_min: int | None = DENSE_MIN, inline: bool = True) -> None:
        self.graph = graph
        self.tape: Tape = compile_tape(graph, shapes, np.dtype(dtype), inline)
        t = self.tape
        #: a class's nodes on one level of a batch run as a dense segment from this many on (``None``: never)
        self.dense_min = dense_min
        self.classes = classes(t.arrays)
        self.work = self._work(t.leaves.copy(), t.buf_size)
        inner = np.flatnonzero(t.arrays.kind != 0).astype(np.int64)
        n_out, n_lab = t.arrays.out.size, len(t.labels)
        #: one batch of every inner node and output row, node by node in tape order on the tape itself:
        #: evaluation and gradients of the whole graph without a copy
        self.whole = Batches(t.arrays, self._index(np.array([0, inner.size]), inner, np.array([0, n_out]),
                                                   np.arange(n_out), np.array([0, n_lab]), np.arange(n_lab),
                                                   scheduled=False),
                             self.work, np.arange(t.arrays.kind.size))
        self._idle = self.optimizer("sgd", 0.0, [False] * n_lab)  # never stepped (outputs, gradients)

    @property
    def arrays(self) -> TapeArrays:
        return self.tape.arrays

    def pack(self, params: Mapping[str, object]) -> np.ndarray:
        """The flat parameter vector (in the tape's dtype)."""
        return self.tape.pack(params)

    def outputs(self, theta: np.ndarray, batches: Batches | None = None) -> np.ndarray:
        """``[O, d]`` output values in the graph's output order; run batch by batch on ``batches`` (which must
        cover every output row) when given."""
        at = self.whole if batches is None else batches
        self._run(theta, at, self._task(FORWARD, np.arange(at.index.nptr.size - 1)))
        return self._read_outputs(at)

    def warm(self, theta: np.ndarray, batches: Batches) -> None:
        """Compile the executor (or load it from the disk cache) by running the first of ``batches`` forward."""
        if batches.index.nptr.size > 1:
            self._run(theta, batches, self._task(FORWARD))  # order: the first batch

    def gradients(self, theta: np.ndarray, grad_out: np.ndarray, batches: Batches | None = None
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Outputs ``y[O, d]`` and ``∂/∂W Σ grad_out ⊙ y`` per label; on ``batches`` when given (then of one
        batch covering every output row: each batch's gradient replaces the one before)."""
        f = self.tape.leaves.dtype
        at = self.whole if batches is None else batches
        task = self._task(GRADIENT, np.arange(at.index.nptr.size - 1), grad_out=np.ascontiguousarray(grad_out, dtype=f))
        self._run(theta, at, task)
        return self._read_outputs(at), {k: v.copy() for k, v in self.tape.unpack(at.work.gtheta).items()}

    def batches(self, rows: Sequence[np.ndarray], layout: str = "auto") -> Batches:
        """Every batch of output rows restricted to the nodes it needs (one compiled pass).

        Each batch's nodes are put in level order and cut into segments, dense where a class has at least
        :attr:`dense_min` nodes on a level (:func:`~liftnn.engine.native_dense.schedule`). ``layout``:
        ``"batch-major"`` copies every batch, in that order, into one stretch of a batch-major tape with
        its own buffers (:mod:`liftnn.engine.native_batches`); ``"shared"`` runs the batches as node lists
        of this tape; ``"auto"`` copies unless the copy would hold more than :data:`MAX_COPY_GROWTH` times
        the tape's inner nodes (then the small shared tape, which stays in cache, is faster)."""
        if layout not in ("auto", "batch-major", "shared"):
            raise ValueError(f"layout must be 'auto', 'batch-major' or 'shared', got {layout!r}")
        sizes = np.array([len(r) for r in rows], dtype=np.int64)
        optr = np.zeros(sizes.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=optr[1:])
        flat = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0, np.int64)
        nptr, nodes, lptr, labels = restrict(self.arrays, optr, flat)
        index = self._index(nptr, nodes, optr, flat, lptr, labels)
        grows = nodes.size > MAX_COPY_GROWTH * max(self.whole.index.nodes.size, 1)
        saved = dense_save_size(self.arrays, index.nodes, index.sptr, index.sstart, index.skind)
        if layout == "shared" or (layout == "auto" and grows):
            work = self.work._replace(xsave=np.zeros(saved, dtype=self.tape.leaves.dtype))
            return self.whole._replace(index=index, work=work)
        arrays, buf_size, src = localise(self.arrays, self.tape.buf_size, nptr, index.nodes, optr, flat)
        n_leaf = src.size - nodes.size
        leaf_vals = self.work.val[ranges(self.arrays.voff[src[:n_leaf]], self.arrays.dim[src[:n_leaf]])]
        val = np.zeros(int(arrays.voff[-1]), dtype=self.tape.leaves.dtype)
        val[: leaf_vals.size] = leaf_vals
        # the copy keeps the schedule's order, so its segments carry over
        index = index._replace(nodes=np.arange(n_leaf, src.size, dtype=np.int64))
        return Batches(arrays, index, self._work(val, buf_size, saved), src)

    def _index(self, nptr: np.ndarray, nodes: np.ndarray, optr: np.ndarray, rows: np.ndarray, lptr: np.ndarray,
               labels: np.ndarray, scheduled: bool = True) -> BatchSet:
        """The batches' nodes (``nodes[nptr[b] : nptr[b + 1]]``, a topological order) scheduled into
        segments, or one plain segment per batch in the given order when not ``scheduled`` or when
        :attr:`dense_min` is ``None``."""
        if not scheduled or self.dense_min is None:
            nb = nptr.size - 1
            return BatchSet(nptr, nodes, optr, rows, lptr, labels, np.arange(nb + 1), nptr.copy(),
                            np.full(nb, PLAIN))
        order, sptr, sstart, skind = schedule(self.arrays.level, *self.classes, nptr, nodes, self.dense_min)
        return BatchSet(nptr, order, optr, rows, lptr, labels, sptr, sstart, skind)

    def _work(self, val: np.ndarray, buf_size: int, saved: int = 0) -> Work:
        t, f, v = self.tape, val.dtype, val.size
        return Work(val=val, pre=np.zeros(v, f), agg=np.zeros(v, f), buf=np.zeros(buf_size, f), gval=np.zeros(v, f),
                    gtheta=np.zeros(t.num_params, f), scratch=np.zeros(5 * t.max_dim, f),
                    dense=np.zeros(dense_scratch_size(t.max_dim), f), xsave=np.zeros(saved, f))

    def optimizer(self, name: str, lr: float, learnable: Sequence[bool]) -> Optimizer:
        """Fresh Adam (torch's defaults: betas 0.9, 0.999, eps 1e-8) or SGD state."""
        p = self.tape.num_params
        f = self.tape.leaves.dtype
        return Optimizer(OPTIMIZER_CODES[name], np.zeros(p, f), np.zeros(p, f),
                         np.zeros(len(self.tape.labels), np.int64), np.asarray(learnable, dtype=np.bool_),
                         np.array([lr, 0.9, 0.999, 1e-8], dtype=np.float64))

    def epoch(self, theta: np.ndarray, batches: Batches, order: np.ndarray, targets: np.ndarray, loss: str,
              opt: Optimizer) -> np.ndarray:
        """One training step per batch in ``order``, updating ``theta`` and ``opt`` in place; the step losses."""
        task = self._task(TRAIN, order, np.ascontiguousarray(targets, dtype=np.float64), loss=LOSS_CODES[loss])
        run(batches.arrays, batches.index, theta, opt, batches.work, task)
        return task.losses

    def _task(self, mode: int, order: np.ndarray | None = None, targets: np.ndarray | None = None,
              grad_out: np.ndarray | None = None, loss: int = 0) -> Task:
        f = self.tape.leaves.dtype
        order = np.zeros(1, np.int64) if order is None else np.asarray(order, dtype=np.int64)
        return Task(mode, loss, order, np.zeros(1) if targets is None else targets,
                    np.zeros((1, 1), f) if grad_out is None else grad_out, np.zeros(order.size))

    def _run(self, theta: np.ndarray, at: Batches, task: Task) -> None:
        run(at.arrays, at.index, np.ascontiguousarray(theta, dtype=self.tape.leaves.dtype), self._idle, at.work, task)

    @staticmethod
    def _read_outputs(at: Batches) -> np.ndarray:
        t = at.arrays
        d = t.dim[t.out]
        if d.size and np.any(d != d[0]):
            raise ValueError(f"outputs have different dimensions {sorted(set(d.tolist()))}")
        width = int(d[0]) if d.size else 0
        idx = t.voff[t.out][:, None] + np.arange(width)
        return at.work.val[idx].copy()


def native_for(graph: Graph, shapes: Mapping[str, Shape], dtype: str | np.dtype = "float64") -> NativeEngine:
    """The native executor of ``graph`` for these weight shapes and dtype, compiled once and cached on the graph."""
    key = (tuple(sorted((k, tuple(v)) for k, v in shapes.items() if k in graph.labels)), np.dtype(dtype).str)
    engines = graph._cache.setdefault("native", {})
    if key not in engines:
        engines[key] = NativeEngine(graph, dict(key[0]), dtype)
    return engines[key]
