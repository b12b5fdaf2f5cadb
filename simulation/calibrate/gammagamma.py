"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013,
"The Gamma-Gamma Model of Monetary Value"): a customer's transaction amounts are gamma(p, nu)
around their own mean p / nu, and nu is gamma(q, gamma) across customers. Fitted on the
customers with at least one repeat transaction (x, mean repeat amount)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .optimize import fit_positive

NAMES = ("p", "q", "gamma")


def log_likelihood(params, x, m) -> np.ndarray:
    p, q, g = params
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g) + (p * x - 1) * np.log(m)
            + p * x * np.log(x) - (p * x + q) * np.log(g + m * x))  # fmt: skip


def fit(x, m) -> dict[str, float]:
    keep = (x > 0) & (m > 0)
    x, m = x[keep].astype(float), m[keep]
    return fit_positive(lambda prm: -np.sum(log_likelihood(prm, x, m)), (2.0, 2.0, float(np.mean(m))), NAMES)


def mean_spend(params: dict) -> float:
    """The population mean of customers' mean transaction amounts: p gamma / (q - 1)."""
    return params["p"] * params["gamma"] / (params["q"] - 1) if params["q"] > 1 else float("nan")


def expected_spend(params: dict, x, m) -> np.ndarray:
    """E[mean amount | x repeat transactions averaging m] (the population mean when x = 0)."""
    p, q, g = (params[n] for n in NAMES)
    return (g + m * x) * p / (p * x + q - 1)
