"""Primitives the native executor's kernels share: the numba decorators, activations and their
slopes, and small vector loops (:mod:`liftnn.engine.native`, :mod:`liftnn.engine.native_batches`).

Kernels take (flat array, offset) and loop over views of it indexed from zero: with no reference
counting (the step kernel runs without it) a view costs nothing, and indices known to be
non-negative let the compiler vectorise (an offset index ``o + k`` would need numpy's
negative-index wrap check).
"""

from __future__ import annotations

import math

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
#: the step kernel allocates nothing, so it runs without numba's reference counting: every array it touches is
#: owned by the caller for the whole call, and counting references to them (an atomic call per array variable
#: per helper) tripled the time of a small step
kernel = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
#: inner kernels are inlined into their callers: no call boundaries, no reference counting per call
inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
#: kernels over many nodes at once (dense segments), called, not inlined: their sums may be reassociated
#: (so that sums across nodes run in vector lanes) and products contracted into fused multiply-adds
lanes = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False, fastmath={"reassoc", "contract"})


@inline
def act_value(code, x):
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
    # 15: signum, the reference's step (liftnn.logic.functions): 1 where x > 0, else 0
    return 1.0 if x > 0 else 0.0


@inline
def needs_pre(code):
    """Whether :func:`act_slope` of activation ``code`` reads ``x`` (leaky_relu, elu, softplus, log, square,
    inverse, abs); the other slopes are functions of ``y = act(x)``, so their ``x`` need not be kept."""
    return code == 4 or code == 5 or code == 6 or code == 8 or code == 10 or code == 11 or code == 12


@inline
def act_slope(code, x, y):
    """``act'(x)`` given ``y = act(x)`` (torch's conventions at the kinks); ``x`` is read only where
    :func:`needs_pre`."""
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



@inline
def axpy(c, x, xo, y, yo, n):
    """``y[yo : yo + n] += c · x[xo : xo + n]`` (a plain add when ``c == 1``)."""
    xv, yv = x[xo : xo + n], y[yo : yo + n]
    if c == 1.0:
        for k in range(n):
            yv[k] += xv[k]
    else:
        for k in range(n):
            yv[k] += c * xv[k]


@inline
def fill(y, yo, n, c):
    yv = y[yo : yo + n]
    for k in range(n):
        yv[k] = c


@inline
def activate(code, z, zo, y, yo, d):
    """``y[yo : yo + d] = act(z[zo : zo + d])``."""
    zv, yv = z[zo : zo + d], y[yo : yo + d]
    if code == 14:  # softmax over the node's components
        mx = zv[0]
        for k in range(1, d):
            mx = max(mx, zv[k])
        s = 0.0
        for k in range(d):
            e = math.exp(zv[k] - mx)
            yv[k] = e
            s += e
        for k in range(d):
            yv[k] /= s
    elif code == 0:
        for k in range(d):
            yv[k] = zv[k]
    else:
        for k in range(d):
            yv[k] = act_value(code, zv[k])

