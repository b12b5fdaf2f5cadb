"""Shifted-beta-geometric retention (Fader & Hardie 2007, "How to Project Customer
Retention"): each customer renews with their own probability, churn probability theta
beta(alpha, beta) across customers. Fitted on the survivors at the start of each year."""

from __future__ import annotations

import numpy as np

from .optimize import fit_positive

NAMES = ("alpha", "beta")


def churn_probabilities(alpha: float, beta: float, years: int) -> np.ndarray:
    """P(T = t), t = 1 .. years: the share lost in year t (the recursion of the paper)."""
    p = np.empty(years)
    p[0] = alpha / (alpha + beta)
    for t in range(2, years + 1):
        p[t - 1] = p[t - 2] * (beta + t - 2) / (alpha + beta + t - 1)
    return p


def survival(alpha: float, beta: float, years: int) -> np.ndarray:
    """S(t), t = 0 .. years - 1: the share still a customer at the start of year t."""
    return np.concatenate([[1.0], 1 - np.cumsum(churn_probabilities(alpha, beta, years - 1))])


def log_likelihood(params, survivors: np.ndarray) -> float:
    alpha, beta = params
    k = len(survivors) - 1
    lost = -np.diff(survivors)
    p = churn_probabilities(alpha, beta, k)
    return float(np.sum(lost * np.log(p)) + survivors[-1] * np.log(max(1 - p.sum(), 1e-300)))


def fit(survivors) -> dict[str, float]:
    s = np.asarray(survivors, float)
    return fit_positive(lambda p: -log_likelihood(p, s), (1.0, 1.0), NAMES)
