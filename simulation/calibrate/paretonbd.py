"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie's note
"A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005): Poisson purchases
at a gamma(r, alpha) rate while alive, an exponential lifetime at a gamma(s, beta) rate.
Time in weeks."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from .optimize import distinct, fit_positive

NAMES = ("r", "alpha", "s", "beta")


def _log_a0(params, x, t_x, T) -> np.ndarray:
    """log A0 of the note (the integral over the dropout time before T)."""
    r, alpha, s, beta = params
    big, b2 = (alpha, s + 1) if alpha >= beta else (beta, r + x)
    diff = abs(alpha - beta)
    c = r + s + x

    def term(t):
        return np.log(hyp2f1(c, b2, c + 1, diff / (big + t))) - c * np.log(big + t)

    at_tx, at_T = term(t_x), term(T)
    with np.errstate(divide="ignore"):
        return at_tx + np.log1p(-np.exp(np.minimum(at_T - at_tx, 0.0)))


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    r, alpha, s, beta = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    gone = np.log(s / (r + s + x)) + _log_a0(params, x, t_x, T)
    return head + np.logaddexp(alive, gone)


def fit(x, t_x, T, weights=None) -> dict[str, float]:
    x, t_x, T, w = distinct(x, t_x, T, weights)
    return fit_positive(
        lambda p: -np.sum(w * log_likelihood(p, x, t_x, T)),
        (0.5, float(np.mean(T)) / 4, 0.5, float(np.mean(T)) / 4),
        NAMES,
    )


def p_alive(params: dict, x, t_x, T) -> np.ndarray:
    p = tuple(params[n] for n in NAMES)
    r, alpha, s, beta = p
    log_ratio = np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + _log_a0(p, x, t_x, T)
    return 1 / (1 + np.exp(log_ratio))


def expected_unconditional(params: dict, t) -> np.ndarray:
    r, alpha, s, beta = (params[n] for n in NAMES)
    t = np.asarray(t, float)
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def expected_conditional(params: dict, t, x, t_x, T) -> np.ndarray:
    r, alpha, s, beta = (params[n] for n in NAMES)
    rate = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
    return rate * (1 - ((beta + T) / (beta + T + t)) ** (s - 1)) * p_alive(params, x, t_x, T)
