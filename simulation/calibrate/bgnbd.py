"""BG/NBD (Fader, Hardie & Lee 2005): Poisson purchases at a gamma(r, alpha) rate; after
each purchase the customer drops out with a beta(a, b) probability. Time in weeks."""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from .optimize import distinct, fit_positive

NAMES = ("r", "alpha", "a", "b")


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    gone = betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    gone = np.where(x > 0, gone, -np.inf)
    return common + np.logaddexp(alive, gone)


def fit(x, t_x, T, weights=None) -> dict[str, float]:
    x, t_x, T, w = distinct(x, t_x, T, weights)
    return fit_positive(
        lambda p: -np.sum(w * log_likelihood(p, x, t_x, T)), (0.5, float(np.mean(T)) / 4, 1.0, 2.0), NAMES
    )


def expected_unconditional(params: dict, t) -> np.ndarray:
    """E[X(t)]: repeat transactions of a new customer in t weeks after the first purchase."""
    r, alpha, a, b = (params[n] for n in NAMES)
    t = np.asarray(t, float)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def expected_conditional(params: dict, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: transactions in the next t weeks given the history."""
    r, alpha, a, b = (params[n] for n in NAMES)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return head * tail / (1 + odds)


def p_alive(params: dict, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = (params[n] for n in NAMES)
    odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return 1 / (1 + odds)
