"""Elementary functions that give the same bits on every x86-64 machine.

numpy works out exp, log, log1p, expm1, power and tanh with its own vectorised code (Intel's
SVML) on CPUs with AVX-512 and with the C library's functions elsewhere, and `a @ b` with the
BLAS kernel of the CPU at hand: the last bit differs from one kind of machine to the next
(measured 2026-12-03 by switching numpy's AVX-512 off, `NPY_DISABLE_CPU_FEATURES`; sums,
+ - * / and sqrt agree to the bit). One bit is nothing in a simulated month, but a fit that
follows its gradient over a flat likelihood amplifies it: the agent model's calibration of
the CDNOW sample came out with purchases/month 0.6127 on an AVX-512 machine and 0.6122 on an
AVX2 one, and the full file with 2 segments on one and 3 on the other. scipy.special's ufuncs
call the C library (or cephes) on every CPU, so the engine and the calibration do their logs,
exponentials and powers here and their dot products as sums (docs/model.md section 1, "The
same numbers on every machine"). The C library's exp costs ~10-12 ns a value where SVML's costs
~1.5 ns (on a CPU without AVX-512 numpy calls the C library too: nothing changes there).
"""

from __future__ import annotations

import numpy as np
from scipy import special

log1p = special.log1p
expm1 = special.expm1


def exp(x, out=None):
    """e ** x: the C library's exp (inv_boxcox with lambda 0 is exactly that)."""
    return special.inv_boxcox(x, 0.0, out=out)


def log(x):
    """The natural log: the C library's (1 x log(x), exactly)."""
    return special.xlogy(1.0, x)


def power(base, exponent):
    """base ** exponent for base >= 0, as exp(exponent log base); 0 ** 0 = 1 as in numpy.
    (A scalar base's log is taken once: the same value for every element.)"""
    exponent = np.asarray(exponent, float)
    if np.ndim(base) == 0:
        log_base = log(float(base))
    else:
        base, exponent = np.broadcast_arrays(np.asarray(base, float), exponent)
        log_base = log(base)
    with np.errstate(invalid="ignore"):
        out = exp(exponent * log_base)
    return np.where(exponent == 0, 1.0, out)


def logistic(z):
    """1 / (1 + e ** -z)."""
    return special.expit(z)


def logsumexp(a, axis=None):
    """log(sum(exp(a))) over `axis`, shifted by the maximum (-inf where every term is -inf)."""
    a = np.asarray(a, float)
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = log(np.sum(exp(a - top), axis=axis, keepdims=True)) + top
    return out.squeeze(axis=axis) if axis is not None else out.reshape(())[()]


def logaddexp(a, b):
    """log(e ** a + e ** b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    top = np.maximum(a, b)
    infinite = np.isinf(top)
    with np.errstate(invalid="ignore"):  # (inf - inf where both are infinite: not used)
        out = top + log1p(exp(-np.abs(np.where(infinite, 0.0, a - b))))
    return np.where(infinite, top, out)


def dot(a, b):
    """a @ b as a numpy sum over the last axis of a and the first of b (pairwise, the same on
    every CPU), for a vector b or a (n,) @ (n, m) / (p, n) @ (n,) product."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if b.ndim == 1:
        return np.sum(a * b, axis=-1)
    return np.sum(a[..., :, None] * b, axis=-2)


def lstsq(a, b):
    """The least-squares solution of a x = b (a: (n, k), n >= k) by the normal equations and
    Gaussian elimination with partial pivoting, in numpy sums and elementwise arithmetic (the
    same on every CPU; np.linalg.lstsq's LAPACK is not). Columns of zeros get 0; the rank
    regression of results.py's drivers (standardised ranks, nearly orthogonal) is well
    conditioned enough for the normal equations."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    used = np.flatnonzero(np.any(a != 0, axis=0))
    x = np.zeros(a.shape[1])
    if not used.size:
        return x
    u = a[:, used]
    g = np.sum(u[:, :, None] * u[:, None, :], axis=0)  # u'u
    m = np.concatenate([g, np.sum(u * b[:, None], axis=0)[:, None]], axis=1)  # [u'u | u'b]
    k = used.size
    for col in range(k):
        pivot = col + int(np.argmax(np.abs(m[col:, col])))
        if m[pivot, col] == 0:
            continue  # (collinear: this column's weight stays 0)
        m[[col, pivot]] = m[[pivot, col]]
        m[col] = m[col] / m[col, col]
        below = np.arange(k) != col
        m[below] = m[below] - m[below, col : col + 1] * m[col]
    solved = np.array([m[i, k] if m[i, i] != 0 else 0.0 for i in range(k)])
    x[used] = solved
    return x
