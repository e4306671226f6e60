"""The native executor: a compiled per-node interpreter of a :class:`~liftnn.engine.tape.Tape`.

Small graphs (one lifted molecule is ~50 nodes) cost a torch engine ~100 op
dispatches per step whatever their size; here a step is plain compiled loops
(numba, cached on disk), and a whole epoch of steps is one call:

* forward, node by node in tape order: ``m_r = W_r · s_r`` per run,
  ``a = combine(m)``, ``z = a + b``, ``y = act(z)``;
* the loss (MSE, BCE, CE) seeds ``∂L/∂y`` of the batch's outputs;
* backward in reverse order: ``g = ∂L/∂z = act'(z) ⊙ ∂L/∂y``, then per run
  ``∂L/∂m_r`` from the combine (``c·g`` for sum, ``c·g / Σc`` for mean, ``g`` split
  evenly over tied maxima, ``g · c m^{c-1} Π_{others}`` for prod, the slice of
  ``g`` for concat), ``∂L/∂W += ∂L/∂m ⊗ s`` and ``∂L/∂s = Wᵀ ∂L/∂m``;
* the optimiser: Adam with torch's semantics (one step count per parameter, a
  parameter the batch does not use is not stepped) or SGD.

Every built-in combine and activation, every weight kind (scalar, elementwise,
matrix, none, dimension-1 broadcast), biases and multiplicities, in float32 or
float64; registered functions stay on the torch engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numba
import numpy as np

from ..graph import Graph
from .params import Shape
from .tape import Tape, TapeArrays, compile_tape

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
#: inner kernels are inlined into their callers: no call boundaries, no reference counting per call
_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")

LOSS_CODES = {"mse": 0, "bce": 1, "ce": 2}
OPTIMIZER_CODES = {"adam": 0, "sgd": 1}


class Work(NamedTuple):
    """Buffers of one executor: node values, pre-activations and combine results ``[V]``, run vectors,
    value gradients ``[V]``, parameter gradients ``[P]`` and per-node scratch ``[5, max_dim]``."""

    val: np.ndarray
    pre: np.ndarray
    agg: np.ndarray
    buf: np.ndarray
    gval: np.ndarray
    gtheta: np.ndarray
    scratch: np.ndarray


class BatchSet(NamedTuple):
    """Batches restricted to what their outputs need, as CSR lists over batches: the inner nodes
    (ascending tape indices), the output rows, and the labels used (weights and biases)."""

    nptr: np.ndarray
    nodes: np.ndarray
    optr: np.ndarray
    rows: np.ndarray
    lptr: np.ndarray
    labels: np.ndarray


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


@_inline
def _act_value(code, x):
    if code == 0:
        return x
    if code == 1:
        return 1.0 / (1.0 + math.exp(-x))
    if code == 2:
        return math.tanh(x)
    if code == 3:
        return x if x > 0 else 0.0
    if code == 4:
        return x if x > 0 else 0.01 * x
    if code == 5:
        return x if x > 0 else math.expm1(x)
    if code == 6:
        return x if x > 20.0 else math.log1p(math.exp(x))
    if code == 7:
        return math.exp(x)
    if code == 8:
        return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
    if code == 9:
        return math.sqrt(x) if x >= 0 else math.nan
    if code == 10:
        return x * x
    if code == 11:
        return 1.0 / x
    if code == 12:
        return abs(x)
    if code == 13:
        return 1.0 - x
    # 15: signum
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


@_inline
def _act_slope(code, x, y):
    """``act'(x)`` given ``y = act(x)`` (torch's conventions at the kinks)."""
    if code == 0:
        return 1.0
    if code == 1:
        return y * (1.0 - y)
    if code == 2:
        return 1.0 - y * y
    if code == 3:
        return 1.0 if y > 0 else 0.0
    if code == 4:
        return 1.0 if x > 0 else 0.01
    if code == 5:
        return 1.0 if x > 0 else math.exp(x)
    if code == 6:
        if x > 20.0:
            return 1.0
        z = math.exp(x)
        return z / (z + 1.0)
    if code == 7:
        return y
    if code == 8:
        return 1.0 / x
    if code == 9:
        return 1.0 / (2.0 * y)
    if code == 10:
        return 2.0 * x
    if code == 11:
        return -1.0 / (x * x)
    if code == 12:
        return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
    if code == 13:
        return -1.0
    return 0.0  # signum


@_inline
def _activate(code, z, y, d):
    """``y[:d] = act(z[:d])`` (views of one node's pre-activation and value)."""
    if code == 14:  # softmax over the node's components
        mx = z[0]
        for k in range(1, d):
            mx = max(mx, z[k])
        s = 0.0
        for k in range(d):
            e = math.exp(z[k] - mx)
            y[k] = e
            s += e
        for k in range(d):
            y[k] /= s
        return
    for k in range(d):
        y[k] = _act_value(code, z[k])


@_inline
def _apply(tp, theta, lab, x, n_in, out):
    """``out = W_lab · x[:n_in]`` (all arguments views; indices are loop counters, so nothing wraps)."""
    if lab < 0:
        for k in range(n_in):
            out[k] = x[k]
        return
    off = tp.l_off[lab]
    kind = tp.l_kind[lab]
    if kind == 0:
        w = theta[off]
        for k in range(n_in):
            out[k] = w * x[k]
    elif kind == 1:
        w = theta[off : off + n_in]
        for k in range(n_in):
            out[k] = w[k] * x[k]
    else:
        rows, cols = tp.l_rows[lab], tp.l_cols[lab]
        w = theta[off : off + rows * cols].reshape((rows, cols))
        for r in range(rows):
            acc = w[r, 0] * x[0]
            for c in range(1, cols):
                acc += w[r, c] * x[c]
            out[r] = acc


@_inline
def _apply_back(tp, theta, gtheta, lab, x, n_in, gm, gs):
    """``gs[:n_in] = W_labᵀ · gm`` and ``∂L/∂W_lab += gm ⊗ x[:n_in]``."""
    if lab < 0:
        for k in range(n_in):
            gs[k] = gm[k]
        return
    off = tp.l_off[lab]
    kind = tp.l_kind[lab]
    if kind == 0:
        w = theta[off]
        acc = gm[0] * x[0]
        gs[0] = w * gm[0]
        for k in range(1, n_in):
            gs[k] = w * gm[k]
            acc += gm[k] * x[k]
        gtheta[off] += acc
    elif kind == 1:
        w = theta[off : off + n_in]
        gw = gtheta[off : off + n_in]
        for k in range(n_in):
            gs[k] = w[k] * gm[k]
            gw[k] += gm[k] * x[k]
    else:
        rows, cols = tp.l_rows[lab], tp.l_cols[lab]
        w = theta[off : off + rows * cols].reshape((rows, cols))
        gw = gtheta[off : off + rows * cols].reshape((rows, cols))
        for c in range(cols):
            gs[c] = 0.0
        for r in range(rows):
            gr = gm[r]
            for c in range(cols):
                gs[c] += w[r, c] * gr
                gw[r, c] += gr * x[c]


@_inline
def _forward_node(tp, theta, t, wk):
    kind = tp.kind[t]
    d = tp.dim[t]
    vo = tp.voff[t]
    voff, e_child, e_cnt = tp.voff, tp.e_child, tp.e_cnt
    val, buf = wk.val, wk.buf
    a = wk.agg[vo : vo + d]
    m = wk.scratch[0]
    if kind == 1 or kind == 2:  # sum, mean: sum inputs per run, then apply the weight once
        for k in range(d):
            a[k] = 0.0
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            ni, no, lab = tp.r_in[r], tp.r_out[r], tp.r_lab[r]
            e0, e1 = tp.r_eptr[r], tp.r_eptr[r + 1]
            if lab < 0 and no == d:  # unweighted inputs of the node's width: straight into the sum
                for e in range(e0, e1):
                    co = voff[e_child[e]]
                    x = val[co : co + d]
                    cnt = e_cnt[e]
                    if cnt == 1.0:
                        for k in range(d):
                            a[k] += x[k]
                    else:
                        for k in range(d):
                            a[k] += cnt * x[k]
                continue
            if e1 - e0 == 1 and e_cnt[e0] == 1.0:  # one input: weigh it where it lies
                co = voff[e_child[e0]]
                _apply(tp, theta, lab, val[co : co + ni], ni, m)
            else:
                bo = tp.r_buf[r]
                s = buf[bo : bo + ni]
                for k in range(ni):
                    s[k] = 0.0
                for e in range(e0, e1):
                    co = voff[e_child[e]]
                    x = val[co : co + ni]
                    cnt = e_cnt[e]
                    for k in range(ni):
                        s[k] += cnt * x[k]
                _apply(tp, theta, lab, s, ni, m)
            if no == d:
                for k in range(d):
                    a[k] += m[k]
            else:
                for k in range(d):
                    a[k] += m[0]
        if kind == 2:
            den = tp.denom[t]
            for k in range(d):
                a[k] /= den
    elif kind == 6:  # concat
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            co = voff[e_child[tp.r_eptr[r]]]
            col, ni, no = tp.r_col[r], tp.r_in[r], tp.r_out[r]
            _apply(tp, theta, tp.r_lab[r], val[co : co + ni], ni, a[col : col + no])
    else:  # max, min, prod: one message per edge, kept for the backward pass
        first = True
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            e = tp.r_eptr[r]
            ni, no, bo = tp.r_in[r], tp.r_out[r], tp.r_buf[r]
            co = voff[e_child[e]]
            msg = buf[bo : bo + no]
            _apply(tp, theta, tp.r_lab[r], val[co : co + ni], ni, msg)
            cnt = e_cnt[e]
            for k in range(d):
                mk = msg[k] if no == d else msg[0]
                if kind == 5 and cnt != 1.0:
                    mk = mk**cnt
                if first:
                    a[k] = mk
                elif kind == 3:
                    if mk > a[k]:
                        a[k] = mk
                elif kind == 4:
                    if mk < a[k]:
                        a[k] = mk
                else:
                    a[k] *= mk
            first = False
    b = tp.bias[t]
    z = wk.pre[vo : vo + d]
    if b >= 0:
        boff = tp.l_off[b]
        if tp.l_off[b + 1] - boff > 1:
            bias = theta[boff : boff + d]
            for k in range(d):
                z[k] = a[k] + bias[k]
        else:
            for k in range(d):
                z[k] = a[k] + theta[boff]
    else:
        for k in range(d):
            z[k] = a[k]
    _activate(tp.act[t], z, val[vo : vo + d], d)


@_inline
def _backward_node(tp, theta, gtheta, t, wk):
    kind = tp.kind[t]
    d = tp.dim[t]
    vo = tp.voff[t]
    voff, e_child, e_cnt, kinds = tp.voff, tp.e_child, tp.e_cnt, tp.kind
    val, buf, gval = wk.val, wk.buf, wk.gval
    y, z, a, gy = val[vo : vo + d], wk.pre[vo : vo + d], wk.agg[vo : vo + d], gval[vo : vo + d]
    g, gm, gs, ties = wk.scratch[1], wk.scratch[2], wk.scratch[3], wk.scratch[4]
    code = tp.act[t]
    if code == 14:  # softmax: g = y ⊙ (gy - <gy, y>)
        dot = 0.0
        for k in range(d):
            dot += gy[k] * y[k]
        for k in range(d):
            g[k] = y[k] * (gy[k] - dot)
    elif code == 0:
        for k in range(d):
            g[k] = gy[k]
    else:
        for k in range(d):
            g[k] = gy[k] * _act_slope(code, z[k], y[k])
    b = tp.bias[t]
    if b >= 0:
        boff = tp.l_off[b]
        if tp.l_off[b + 1] - boff > 1:
            gb = gtheta[boff : boff + d]
            for k in range(d):
                gb[k] += g[k]
        else:
            acc = 0.0
            for k in range(d):
                acc += g[k]
            gtheta[boff] += acc
    if kind == 1 or kind == 2:
        scale = 1.0 / tp.denom[t] if kind == 2 else 1.0
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            ni, no, lab = tp.r_in[r], tp.r_out[r], tp.r_lab[r]
            e0, e1 = tp.r_eptr[r], tp.r_eptr[r + 1]
            if no == d:
                if kind == 2:
                    for k in range(d):
                        gm[k] = g[k] * scale
                else:
                    for k in range(d):
                        gm[k] = g[k]
            else:
                acc = 0.0
                for k in range(d):
                    acc += g[k]
                gm[0] = acc * scale
            grad = gm
            if lab >= 0:
                if e1 - e0 == 1 and e_cnt[e0] == 1.0:
                    co = voff[e_child[e0]]
                    _apply_back(tp, theta, gtheta, lab, val[co : co + ni], ni, gm, gs)
                else:
                    bo = tp.r_buf[r]
                    _apply_back(tp, theta, gtheta, lab, buf[bo : bo + ni], ni, gm, gs)
                grad = gs
            for e in range(e0, e1):
                c = e_child[e]
                if kinds[c] == 0:
                    continue
                co = voff[c]
                gx = gval[co : co + ni]
                cnt = e_cnt[e]
                if cnt == 1.0:
                    for k in range(ni):
                        gx[k] += grad[k]
                else:
                    for k in range(ni):
                        gx[k] += cnt * grad[k]
        return
    if kind == 6:
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            c = e_child[tp.r_eptr[r]]
            co = voff[c]
            ni, no, col = tp.r_in[r], tp.r_out[r], tp.r_col[r]
            for k in range(no):
                gm[k] = g[col + k]
            _apply_back(tp, theta, gtheta, tp.r_lab[r], val[co : co + ni], ni, gm, gs)
            _add_child(tp, gval, c, gs, ni)
        return
    if kind == 3 or kind == 4:  # ties share the gradient evenly (as torch's scatter_reduce does)
        for k in range(d):
            ties[k] = 0.0
        for r in range(tp.rptr[t], tp.rptr[t + 1]):
            no, bo = tp.r_out[r], tp.r_buf[r]
            for k in range(d):
                if (buf[bo + k] if no == d else buf[bo]) == a[k]:
                    ties[k] += 1.0
    for r in range(tp.rptr[t], tp.rptr[t + 1]):
        e = tp.r_eptr[r]
        c = e_child[e]
        co = voff[c]
        ni, no, bo = tp.r_in[r], tp.r_out[r], tp.r_buf[r]
        msg = buf[bo : bo + no]
        for k in range(no):
            gm[k] = 0.0
        if kind == 5:
            cnt = e_cnt[e]
            for k in range(d):
                mk = msg[k] if no == d else msg[0]
                other = 1.0
                for r2 in range(tp.rptr[t], tp.rptr[t + 1]):
                    if r2 != r:
                        m2 = buf[tp.r_buf[r2] + k] if tp.r_out[r2] == d else buf[tp.r_buf[r2]]
                        c2 = e_cnt[tp.r_eptr[r2]]
                        other *= m2 if c2 == 1.0 else m2**c2
                slope = 1.0 if cnt == 1.0 else cnt * mk ** (cnt - 1.0)
                gm[k if no == d else 0] += g[k] * slope * other
        else:
            for k in range(d):
                if (msg[k] if no == d else msg[0]) == a[k]:
                    gm[k if no == d else 0] += g[k] / ties[k]
        _apply_back(tp, theta, gtheta, tp.r_lab[r], val[co : co + ni], ni, gm, gs)
        _add_child(tp, gval, c, gs, ni)


@_inline
def _add_child(tp, gval, c, gs, n):
    if tp.kind[c] != 0:
        co = tp.voff[c]
        gx = gval[co : co + n]
        for k in range(n):
            gx[k] += gs[k]


@_inline
def _forward(tp, theta, nodes, lo, hi, wk):
    for i in range(lo, hi):
        _forward_node(tp, theta, nodes[i], wk)


@_inline
def _backward(tp, theta, nodes, lo, hi, wk):
    for i in range(hi - 1, lo - 1, -1):
        _backward_node(tp, theta, wk.gtheta, nodes[i], wk)


@_inline
def _zero_value_grads(tp, nodes, lo, hi, gval):
    for i in range(lo, hi):
        t = nodes[i]
        gv = gval[tp.voff[t] : tp.voff[t + 1]]
        for k in range(gv.size):
            gv[k] = 0.0


@_inline
def _loss(tp, loss, rows, lo, hi, targets, wk):
    """The batch's mean loss; adds ``∂L/∂y`` of its output rows into ``wk.gval``."""
    n = hi - lo
    total = 0.0
    val, gval = wk.val, wk.gval
    for j in range(lo, hi):
        row = rows[j]
        t = tp.out[row]
        vo = tp.voff[t]
        inner = tp.kind[t] != 0
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
            d = tp.dim[t]
            ys = val[vo : vo + d]
            mx = ys[0]
            for k in range(1, d):
                mx = max(mx, ys[k])
            s = 0.0
            for k in range(d):
                s += math.exp(ys[k] - mx)
            cls = int(target)
            total += mx + math.log(s) - ys[cls]
            if inner:
                gy = gval[vo : vo + d]
                for k in range(d):
                    p = math.exp(ys[k] - mx) / s
                    gy[k] += (p - (1.0 if k == cls else 0.0)) / n
    return total / n


@_inline
def _optimise(tp, theta, gtheta, labels, lo, hi, opt):
    """One Adam or SGD step on the labels ``labels[lo:hi]`` (those the batch used) that learn."""
    lr, b1, b2, eps = opt.hyper[0], opt.hyper[1], opt.hyper[2], opt.hyper[3]
    for i in range(lo, hi):
        lab = labels[i]
        if not opt.learnable[lab]:
            continue
        a, z = tp.l_off[lab], tp.l_off[lab + 1]
        p, gp = theta[a:z], gtheta[a:z]
        if opt.code == 1:
            for k in range(z - a):
                p[k] -= lr * gp[k]
            continue
        opt.steps[lab] += 1
        step = opt.steps[lab]
        bc1 = 1.0 - b1**step
        bc2_sqrt = math.sqrt(1.0 - b2**step)
        size = lr / bc1
        m1, m2 = opt.m1[a:z], opt.m2[a:z]
        for k in range(z - a):
            gk = gp[k]
            m1[k] += (gk - m1[k]) * (1.0 - b1)
            m2[k] = m2[k] * b2 + (1.0 - b2) * gk * gk
            p[k] -= size * m1[k] / (math.sqrt(m2[k]) / bc2_sqrt + eps)


TRAIN, FORWARD, GRADIENT = 0, 1, 2


@_jit
def run(tp, bs, theta, opt, wk, task):
    """The one compiled entry point (one compilation per dtype serves every use), for batches
    ``task.order[j]`` of ``bs``:

    * ``TRAIN``: forward, loss, backward and an optimiser step per batch; ``task.losses[j]`` its loss;
    * ``FORWARD``: the values of the batches' nodes into ``wk.val``;
    * ``GRADIENT``: also ``wk.gtheta = ∂/∂θ Σ_{o,k} grad_out[o, k] · y[o, k]`` over the batches' output rows.
    """
    for j in range(task.order.size):
        b = task.order[j]
        lo, hi = bs.nptr[b], bs.nptr[b + 1]
        _forward(tp, theta, bs.nodes, lo, hi, wk)
        if task.mode == FORWARD:
            continue
        _zero_value_grads(tp, bs.nodes, lo, hi, wk.gval)
        for i in range(bs.lptr[b], bs.lptr[b + 1]):
            lab = bs.labels[i]
            gp = wk.gtheta[tp.l_off[lab] : tp.l_off[lab + 1]]
            for k in range(gp.size):
                gp[k] = 0.0
        if task.mode == TRAIN:
            task.losses[j] = _loss(tp, task.loss, bs.rows, bs.optr[b], bs.optr[b + 1], task.targets, wk)
        else:
            for i in range(bs.optr[b], bs.optr[b + 1]):
                o = bs.rows[i]
                t = tp.out[o]
                if tp.kind[t] != 0:
                    gy = wk.gval[tp.voff[t] : tp.voff[t + 1]]
                    for k in range(gy.size):
                        gy[k] += task.grad_out[o, k]
        _backward(tp, theta, bs.nodes, lo, hi, wk)
        if task.mode == TRAIN:
            _optimise(tp, theta, wk.gtheta, bs.labels, bs.lptr[b], bs.lptr[b + 1], opt)


@_jit
def restrict(tp, optr, rows):
    """For every batch (output rows ``rows[optr[b]:optr[b + 1]]``): the inner nodes its outputs need, in
    ascending tape order, and the labels they use. Returns ``(nptr, nodes, lptr, labels)``."""
    n = tp.kind.size
    nb = optr.size - 1
    stamp = np.full(n, -1, dtype=np.int64)
    lstamp = np.full(tp.l_kind.size, -1, dtype=np.int64)
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
        nodes[start:count] = np.sort(nodes[start:count])
        nptr[b + 1] = count
        lptr[b + 1] = lcount
    return nptr, nodes[:count].copy(), lptr, labels[:lcount].copy()


# ------------------------------------------------------------------------------------------------ the executor


class NativeEngine:
    """A graph compiled for the native executor: evaluation, gradients and whole training epochs.

    ``NativeEngine(graph, shapes, dtype)`` compiles the tape once; parameters are
    passed as ``{label: array or tensor}`` (:meth:`pack`) or as the flat vector.
    """

    def __init__(self, graph: Graph, shapes: Mapping[str, Shape], dtype: str | np.dtype = "float64") -> None:
        self.graph = graph
        self.tape: Tape = compile_tape(graph, shapes, np.dtype(dtype))
        t = self.tape
        f = t.leaves.dtype
        v = t.leaves.size
        self.work = Work(val=t.leaves.copy(), pre=np.zeros(v, f), agg=np.zeros(v, f), buf=np.zeros(t.buf_size, f),
                         gval=np.zeros(v, f), gtheta=np.zeros(t.num_params, f),
                         scratch=np.zeros((5, t.max_dim), f))
        inner = np.flatnonzero(t.arrays.kind != 0).astype(np.int64)
        n_out, n_lab = t.arrays.out.size, len(t.labels)
        #: one batch of every inner node and output row: evaluation and gradients of the whole graph
        self.whole = BatchSet(np.array([0, inner.size]), inner, np.array([0, n_out]), np.arange(n_out),
                              np.array([0, n_lab]), np.arange(n_lab))
        self._idle = self.optimizer("sgd", 0.0, [False] * n_lab)  # never stepped (outputs, gradients)

    @property
    def arrays(self) -> TapeArrays:
        return self.tape.arrays

    def pack(self, params: Mapping[str, object]) -> np.ndarray:
        """The flat parameter vector (in the tape's dtype)."""
        return self.tape.pack(params)

    def outputs(self, theta: np.ndarray) -> np.ndarray:
        """``[O, d]`` output values in the graph's output order."""
        self._run(theta, self.whole, self._task(FORWARD))
        return self._read_outputs()

    def gradients(self, theta: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Outputs ``y[O, d]`` and ``∂/∂W Σ grad_out ⊙ y`` per label."""
        f = self.tape.leaves.dtype
        self._run(theta, self.whole, self._task(GRADIENT, grad_out=np.ascontiguousarray(grad_out, dtype=f)))
        return self._read_outputs(), {k: v.copy() for k, v in self.tape.unpack(self.work.gtheta).items()}

    def batches(self, rows: Sequence[np.ndarray]) -> BatchSet:
        """Restrict the graph to every batch of output rows at once (one compiled pass)."""
        sizes = np.array([len(r) for r in rows], dtype=np.int64)
        optr = np.zeros(sizes.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=optr[1:])
        flat = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0, np.int64)
        nptr, nodes, lptr, labels = restrict(self.arrays, optr, flat)
        return BatchSet(nptr, nodes, optr, flat, lptr, labels)

    def optimizer(self, name: str, lr: float, learnable: Sequence[bool]) -> Optimizer:
        """Fresh Adam (torch's defaults: betas 0.9, 0.999, eps 1e-8) or SGD state."""
        p = self.tape.num_params
        f = self.tape.leaves.dtype
        return Optimizer(OPTIMIZER_CODES[name], np.zeros(p, f), np.zeros(p, f),
                         np.zeros(len(self.tape.labels), np.int64), np.asarray(learnable, dtype=np.bool_),
                         np.array([lr, 0.9, 0.999, 1e-8], dtype=np.float64))

    def epoch(self, theta: np.ndarray, batches: BatchSet, order: np.ndarray, targets: np.ndarray, loss: str,
              opt: Optimizer) -> np.ndarray:
        """One training step per batch in ``order``, updating ``theta`` and ``opt`` in place; the step losses."""
        task = self._task(TRAIN, order, np.ascontiguousarray(targets, dtype=np.float64), loss=LOSS_CODES[loss])
        run(self.arrays, batches, theta, opt, self.work, task)
        return task.losses

    def _task(self, mode: int, order: np.ndarray | None = None, targets: np.ndarray | None = None,
              grad_out: np.ndarray | None = None, loss: int = 0) -> Task:
        f = self.tape.leaves.dtype
        order = np.zeros(1, np.int64) if order is None else np.asarray(order, dtype=np.int64)
        return Task(mode, loss, order, np.zeros(1) if targets is None else targets,
                    np.zeros((1, 1), f) if grad_out is None else grad_out, np.zeros(order.size))

    def _run(self, theta: np.ndarray, batches: BatchSet, task: Task) -> None:
        run(self.arrays, batches, np.ascontiguousarray(theta, dtype=self.tape.leaves.dtype), self._idle, self.work,
            task)

    def _read_outputs(self) -> np.ndarray:
        t = self.arrays
        d = t.dim[t.out]
        if d.size and np.any(d != d[0]):
            raise ValueError(f"outputs have different dimensions {sorted(set(d.tolist()))}")
        width = int(d[0]) if d.size else 0
        idx = t.voff[t.out][:, None] + np.arange(width)
        return self.work.val[idx].copy()


def native_for(graph: Graph, shapes: Mapping[str, Shape], dtype: str | np.dtype = "float64") -> NativeEngine:
    """The native executor of ``graph`` for these weight shapes and dtype, compiled once and cached on the graph."""
    key = (tuple(sorted((k, tuple(v)) for k, v in shapes.items() if k in graph.labels)), np.dtype(dtype).str)
    engines = graph._cache.setdefault("native", {})
    if key not in engines:
        engines[key] = NativeEngine(graph, dict(key[0]), dtype)
    return engines[key]
