"""Maximum likelihood of the agent model's own customer parameters on a transaction log.

The agent model without a program, with its ladder held still (no experiences, no drift:
`customers.ladder.positive_experience = negative_experience = drift_without_contact = 0`),
is, for one customer on level `L` of segment `s`: purchases each month Poisson at
`r * mult[L]` with `r ~ Gamma(shape a_s, mean m_s)` (docs/model.md sections 3.2 and 4),
and leaving at the end of each month with `h = churn_per_month[L] * churn_multiplier_s`
(section 6). The starting level is drawn from the segment's starting ladder. Given a
customer's repeat purchases by month of age (months since the first purchase, cut at the
calibration end), the rate integrates out in closed form and the month of leaving is a sum
over at most the months observed:

    L = sum_L ladder[L] * mult[L]^X * Gamma(a+X) / Gamma(a) * b^a *
        [ sum_{d=l}^{J-2} h_L (1-h_L)^d (b + mult[L] E_d)^-(a+X) + (1-h_L)^(J-1) (b + mult[L] E)^-(a+X) ]

with `b = a / m`, `X` the repeat purchases, `l` the month of the last one, `J` the months
observed, `E_d` the exposure (in months) through month `d` and `E` the whole exposure. So it
depends on the history through (X, l, first-purchase day) only: the full CDNOW log
(23,570 customers) has about 1,500 such patterns. The ladder's purchase-rate multipliers and
churn by level are the scenario's; the starting ladder is fitted (or set from an NPS survey),
and so are each segment's rate, rate shape and churn multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln, logsumexp

from ..schema import LEVELS, Scenario
from .transactions import MONTH_DAYS, Summary

N_LEVELS = len(LEVELS)


@dataclass
class Histories:
    """The distinct (repeat purchases, month of the last one, first-purchase day) patterns."""

    x: np.ndarray  # repeat purchases
    last: np.ndarray  # month of age of the last purchase (0: the first purchase's)
    exposure: np.ndarray  # (patterns, months): share of each month of age before the calibration end
    weight: np.ndarray  # customers per pattern
    pattern: np.ndarray  # each customer's pattern (summary order)

    @property
    def months(self) -> np.ndarray:
        """Months observed per pattern (the last one partly)."""
        return (self.exposure > 0).sum(axis=1)


def histories(log: pd.DataFrame, summary: Summary) -> Histories:
    cust = summary.customers
    t_days = (summary.calibration_end - cust["first"]).dt.days.to_numpy()
    last_day = np.rint(cust.t_x.to_numpy() * 7).astype(np.int64)
    last = (last_day // MONTH_DAYS).astype(np.int64)
    keys, pattern, weight = np.unique(
        np.column_stack([cust.x.to_numpy(), last, t_days]), axis=0, return_inverse=True, return_counts=True
    )
    n_months = max(1, int(np.ceil((t_days.max() + 1) / MONTH_DAYS)))
    start = np.arange(n_months) * MONTH_DAYS
    exposure = np.clip((keys[:, 2:3] + 1 - start) / MONTH_DAYS, 0.0, 1.0)  # (day t_days counts: + 1)
    return Histories(keys[:, 0].astype(float), keys[:, 1], exposure, weight.astype(float), pattern.ravel())


@dataclass(frozen=True)
class Ladder:
    """The scenario's purchase-rate multipliers and churn by level."""

    rate: np.ndarray
    churn: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario) -> Ladder:
        lad = scenario.customers.ladder
        return cls(np.array(lad.purchase_rate_multiplier.as_tuple()), np.array(lad.churn_per_month.as_tuple()))


@dataclass
class SegmentFit:
    share: float
    purchases_per_month: float  # mean base rate (a satisfied customer's)
    purchase_rate_shape: float
    churn_multiplier: float
    ladder: np.ndarray  # starting shares by level


def level_terms(seg: SegmentFit, h: Histories, ladder: Ladder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pattern and level: log P(history, level) split into leaving before the end (by
    month, (P, 6, months)) and staying (P, 6); and the staying customers' gamma rate posterior
    rate parameter (P, 6) (their shape is a + X)."""
    a, b = seg.purchase_rate_shape, seg.purchase_rate_shape / seg.purchases_per_month
    mult = ladder.rate[None, :]
    hazard = np.minimum(ladder.churn * seg.churn_multiplier, 1.0)[None, :, None]
    with np.errstate(divide="ignore"):
        log_share = np.log(seg.ladder)[None, :]
        log_stay, log_leave = np.log1p(-hazard), np.log(hazard)
    big_a = (a + h.x)[:, None]
    head = log_share + h.x[:, None] * np.log(mult) + (gammaln(big_a) - gammaln(a) + a * np.log(b))
    cum = np.cumsum(h.exposure, axis=1)  # E_d
    month = np.arange(h.exposure.shape[1])[None, None, :]
    left_in_time = (month >= h.last[:, None, None]) & (month < (h.months - 1)[:, None, None])
    leave = month * log_stay + log_leave - big_a[:, :, None] * np.log(b + mult[:, :, None] * cum[:, None, :])
    leave = np.where(left_in_time, head[:, :, None] + leave, -np.inf)
    posterior_b = b + mult * cum[:, -1:]
    stay = head + (h.months - 1)[:, None] * log_stay[:, :, 0] - big_a * np.log(posterior_b)
    return leave, stay, posterior_b


def segment_ll(seg: SegmentFit, h: Histories, ladder: Ladder) -> np.ndarray:
    leave, stay, _ = level_terms(seg, h, ladder)
    return np.logaddexp(logsumexp(leave, axis=(1, 2)), logsumexp(stay, axis=1))


@dataclass
class AgentFit:
    segments: list[SegmentFit]
    log_likelihood: float
    n_params: int
    n_customers: int

    @property
    def bic(self) -> float:
        return self.n_params * np.log(self.n_customers) - 2 * self.log_likelihood


def _softmax(logits: np.ndarray) -> np.ndarray:
    full = np.concatenate([[0.0], logits])
    return np.exp(full - logsumexp(full))


def fit(h: Histories, ladder: Ladder, n_segments: int = 1, ladders: list[np.ndarray] | None = None,
        shares: list[float] | None = None) -> AgentFit:  # fmt: skip
    """Segments by maximum likelihood. `ladders` (one per segment, e.g. from an NPS survey)
    fixes the starting ladders and `shares` the segments' shares; otherwise the segments
    share one fitted starting ladder and their shares are fitted."""
    k = len(ladders) if ladders is not None else n_segments
    fit_ladder, fit_shares = ladders is None, shares is None and k > 1
    n = h.weight.sum()
    rate = float(h.x @ h.weight / (h.exposure.sum(axis=1) @ h.weight))
    spread = np.geomspace(0.5, 2.0, k) if k > 1 else np.ones(1)
    x0 = [np.log(rate * spread), np.full(k, np.log(0.5)), np.zeros(k)]
    x0 += [np.zeros(N_LEVELS - 1)] if fit_ladder else []
    x0 += [np.zeros(k - 1)] if fit_shares else []
    x0 = np.concatenate(x0)

    def segments(theta: np.ndarray) -> list[SegmentFit]:
        rates, shapes, churns = np.exp(theta[:k]), np.exp(theta[k : 2 * k]), np.exp(theta[2 * k : 3 * k])
        rest = theta[3 * k :]
        common = _softmax(rest[: N_LEVELS - 1]) if fit_ladder else None
        weights = _softmax(rest[-(k - 1) :]) if fit_shares else (shares or [1.0])
        return [SegmentFit(float(weights[i]), float(rates[i]), float(shapes[i]), float(churns[i]),
                           common if fit_ladder else np.asarray(ladders[i], float)) for i in range(k)]  # fmt: skip

    def objective(theta: np.ndarray) -> float:  # (per customer: gradients of order 1)
        segs = segments(theta)
        with np.errstate(all="ignore"):
            per = np.stack([np.log(s.share) + segment_ll(s, h, ladder) for s in segs])
            value = -float(h.weight @ logsumexp(per, axis=0)) / n
        return value if np.isfinite(value) else 1e6

    bounds = [(v - 5.0, v + 5.0) for v in x0[:k]] + [(-5.0, 4.0)] * k + [(-6.0, 4.0)] * k
    bounds += [(-12.0, 12.0)] * (len(x0) - 3 * k)
    best = minimize(objective, x0, method="L-BFGS-B", bounds=bounds)
    # (Nelder-Mead from there: the likelihood has a kink where a level's churn reaches 1, at which
    # L-BFGS-B stalls; on the CDNOW sample it stopped 22 log-likelihood units short)
    best = minimize(objective, best.x, method="Nelder-Mead", options={"maxiter": 3000, "xatol": 1e-6, "fatol": 1e-10})
    return AgentFit(segments(best.x), -best.fun * n, len(x0), int(n))
