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

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from .. import portable as P
from ..schema import LEVELS, Scenario
from .optimize import one_blas_thread
from .transactions import MONTH_DAYS, Summary

N_LEVELS = len(LEVELS)
# Starts of the fit: churn multipliers spread over these shares of the cap, from the
# scenario's starting ladder (True) or a flat one; the first SCOUT_EVALUATIONS evaluations of
# each decide which one goes on, to convergence or MAX_EVALUATIONS. The optimiser is scipy's
# truncated Newton (TNC): its C code does its own arithmetic, where L-BFGS-B calls the BLAS and
# LAPACK kernels of the CPU at hand, so the same log gives the same fit on every x86-64 machine
# (with simulation/portable.py's logs and exponentials; measured on the CDNOW files: L-BFGS-B's
# fits differed from AVX-512 to AVX2 machines, TNC's agree to the bit, at about twice the time)
START_CHURN = (((0.02, 0.6), True), ((0.02, 0.6), False), ((0.05, 0.5), False))
SCOUT_EVALUATIONS = 50
MAX_EVALUATIONS = 8000
MIN_SHARE = 0.0005  # a fitted segment smaller than this is dropped (and the rest rescaled)


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


@dataclass(frozen=True)
class RateTerms:
    """The parts of the likelihood that depend on the purchase rate's gamma (shape a, rate b)
    only, shared by segments that differ in churn: per pattern and level, the log of the
    rate's integral `head` (P, 6), `-(a+X) log(b + mult E_d)` by month `by_month` (P, 6, months)
    and over the whole exposure `whole` (P, 6), and the staying customers' posterior rate
    parameter `posterior_b` (P, 6) (their shape is a + X)."""

    head: np.ndarray
    by_month: np.ndarray
    whole: np.ndarray
    posterior_b: np.ndarray

    @classmethod
    def of(cls, shape: float, mean: float, h: Histories, ladder: Ladder) -> RateTerms:
        a, b = shape, shape / mean
        mult = ladder.rate[None, :]
        big_a = (a + h.x)[:, None]
        head = h.x[:, None] * P.log(mult) + (gammaln(big_a) - gammaln(a) + a * P.log(b))
        cum = np.cumsum(h.exposure, axis=1)  # E_d
        by_month = -big_a[:, :, None] * P.log(b + mult[:, :, None] * cum[:, None, :])
        posterior_b = b + mult * cum[:, -1:]
        return cls(head, by_month, -big_a * P.log(posterior_b), posterior_b)


def churn_terms(hazard: np.ndarray, h: Histories) -> tuple[np.ndarray, np.ndarray]:
    """log P(leaving at the end of month d, staying until then) (6, months), -inf outside the
    months a customer of each pattern may have left in (P, 1, months) mask applied by the
    caller; and log P(staying through every observed month's end but the last) (P, 6)."""
    month = np.arange(h.exposure.shape[1])[None, :]
    with np.errstate(divide="ignore"):
        log_stay, log_leave = P.log1p(-hazard)[:, None], P.log(hazard)[:, None]
    return month * log_stay + log_leave, (h.months - 1)[:, None] * log_stay[:, 0][None, :]


def leave_window(h: Histories) -> np.ndarray:
    """(P, 1, months): the months a customer of each pattern may have left at the end of
    (from the month of the last purchase to the one before the last observed)."""
    month = np.arange(h.exposure.shape[1])[None, None, :]
    return (month >= h.last[:, None, None]) & (month < (h.months - 1)[:, None, None])


def level_terms(seg: SegmentFit, h: Histories, ladder: Ladder, rate: RateTerms | None = None):
    """Per pattern and level: log P(history, level) split into leaving before the end (by
    month, (P, 6, months)) and staying (P, 6); and the staying customers' gamma posterior
    rate parameter (P, 6)."""
    rate = rate or RateTerms.of(seg.purchase_rate_shape, seg.purchases_per_month, h, ladder)
    leave_by_month, stay_churn = churn_terms(hazard(ladder, seg.churn_multiplier), h)
    with np.errstate(divide="ignore"):
        head = rate.head + P.log(seg.ladder)[None, :]
    leave = np.where(leave_window(h), head[:, :, None] + rate.by_month + leave_by_month[None], -np.inf)
    return leave, head + stay_churn + rate.whole, rate.posterior_b


def hazard(ladder: Ladder, churn_multiplier: float) -> np.ndarray:
    """Monthly churn by level (the engine's: a hazard above 1 acts as 1)."""
    return np.minimum(ladder.churn * churn_multiplier, 1.0)


def segment_ll(seg: SegmentFit, h: Histories, ladder: Ladder, rate: RateTerms | None = None) -> np.ndarray:
    leave, stay, _ = level_terms(seg, h, ladder, rate)
    return P.logaddexp(P.logsumexp(leave, axis=(1, 2)), P.logsumexp(stay, axis=1))


@dataclass
class AgentFit:
    segments: list[SegmentFit]
    log_likelihood: float
    n_params: int
    n_customers: int

    @property
    def bic(self) -> float:
        return self.n_params * P.log(self.n_customers) - 2 * self.log_likelihood


def _softmax(logits: np.ndarray) -> np.ndarray:
    full = np.concatenate([[0.0], logits])
    return P.exp(full - P.logsumexp(full))


class Likelihood:
    """The mixture's log-likelihood per pattern and its gradient, fast: segments share the
    purchase rate's gamma, so its terms (the costly logs and exponentials over patterns x
    levels x months) are worked out once per evaluation, and each segment's churn and
    starting ladder enter as weights on them (sums over levels and months, in linear space
    after a shift per pattern). The gradient is exact (analytic), so the optimiser needs one
    evaluation a step instead of one per parameter."""

    def __init__(self, h: Histories, ladder: Ladder):
        self.h, self.ladder = h, ladder
        self.window = np.where(leave_window(h), 0.0, -np.inf)
        self.cum = np.cumsum(h.exposure, axis=1)  # E_d
        self.month = np.arange(h.exposure.shape[1])[None, :]
        self.observed = (h.months - 1)[:, None]  # month ends a staying customer survived

    def per_pattern(self, segs: list[SegmentFit]) -> np.ndarray:
        return self.evaluate(segs)[0]

    def evaluate(self, segs: list[SegmentFit], gradient: bool = False):
        """log-likelihood per pattern; with `gradient`, also its derivatives per pattern by
        log mean rate, log rate shape (2, P), by each segment's churn multiplier (k, P: per
        unit of log multiplier), by each segment's share (k, P: of the mixture's log) and by
        the starting ladder's shares (6, P), for `Layout` to chain."""
        h, seg0 = self.h, segs[0]
        a, b = seg0.purchase_rate_shape, seg0.purchase_rate_shape / seg0.purchases_per_month
        mult = self.ladder.rate[None, :, None]
        big_a = (a + h.x)[:, None, None]
        base = b + mult * self.cum[:, None, :]  # (P, 6, months)
        log_base = P.log(base)
        head = h.x[:, None, None] * P.log(mult) + (gammaln(big_a) - gammaln(a) + a * P.log(b))
        leave = head - big_a * log_base + self.window
        stay = head[:, :, 0] - big_a[:, :, 0] * log_base[:, :, -1]
        shift = np.maximum(leave.max(axis=(1, 2)), stay.max(axis=1))
        leave = P.exp(leave - shift[:, None, None])
        stay = P.exp(stay - shift[:, None])
        terms = [(leave, stay)]
        if gradient:  # d/d log mean = -b d/db; d/d log shape = a d/da + b d/db
            d_b = a / b - big_a / base
            d_a = digamma(big_a) - digamma(a) + P.log(b) - log_base
            for d in (-b * d_b, a * d_a + b * d_b):
                terms.append((leave * d, stay * d[:, :, -1]))
        total, by_level, by_rate, by_churn = [], [], [], []
        for seg in segs:
            hz = hazard(self.ladder, seg.churn_multiplier)
            w_leave = hz[:, None] * P.power(1 - hz[:, None], self.month)  # (6, months)
            w_stay = P.power(1 - hz[None, :], self.observed)  # (P, 6)
            per_level = [np.einsum("plm,lm->pl", lv, w_leave) + st * w_stay for lv, st in terms]
            total.append(P.dot(per_level[0], seg.ladder))
            if gradient:
                by_level.append(per_level[0])
                by_rate.append([P.dot(x, seg.ladder) for x in per_level[1:]])
                dh = hz * (hz < 1)  # dh / d log multiplier (0 where it saturates)
                stay_pow = np.where(self.observed > 0, P.power(1 - hz[None, :], np.maximum(self.observed - 1, 0)), 0.0)
                dw_leave = np.where(
                    self.month == 0,
                    1.0,
                    P.power(1 - hz[:, None], np.maximum(self.month - 1, 0)) * (1 - hz[:, None] * (1 + self.month)),
                )
                d_churn = np.einsum("plm,lm->pl", leave, dw_leave * dh[:, None]) - stay * self.observed * stay_pow * dh
                by_churn.append(P.dot(d_churn, seg.ladder))
        total = np.stack(total, axis=1)  # (P, k)
        share = np.array([s.share for s in segs])
        mixture = P.dot(total, share)
        with np.errstate(divide="ignore"):
            ll = P.log(mixture) + shift
        if not gradient:
            return ll, None
        grad = {
            "rate": np.einsum("j,jrp->rp", share, np.array(by_rate)) / mixture,
            "churn": share[:, None] * np.array(by_churn) / mixture,
            "share": total.T / mixture,
            "level": np.einsum("j,jpl->lp", share, np.array(by_level)) / mixture,
        }
        return ll, grad


@dataclass(frozen=True)
class Layout:
    """How the fit's parameter vector makes segments: log mean rate, log rate shape (shared),
    one churn logit per segment (multiplier `cap * logistic(z)`), share logits (when fitted:
    the first segment's is 0) and starting-ladder logits (when fitted: the bottom level's is 0)."""

    k: int
    cap: float
    ladders: tuple[np.ndarray, ...]
    shares: tuple[float, ...] | None  # fixed shares, or None: fitted
    fit_ladder: bool

    def segments(self, theta: np.ndarray) -> list[SegmentFit]:
        mean, shape = P.exp(theta[:2])
        churns = self.cap * P.logistic(theta[2 : 2 + self.k])
        rest = theta[2 + self.k :]
        n_share = self.k - 1 if self.shares is None else 0
        weights = _softmax(rest[:n_share]) if self.shares is None else self.shares
        common = _softmax(rest[n_share:]) if self.fit_ladder else None
        return [SegmentFit(float(weights[i]), float(mean), float(shape), float(churns[i]),
                           common if self.fit_ladder else self.ladders[i]) for i in range(self.k)]  # fmt: skip

    def chain(self, theta: np.ndarray, grad: dict, segs: list[SegmentFit]) -> np.ndarray:
        """d log-likelihood / d theta, per pattern (len(theta), P)."""
        z = theta[2 : 2 + self.k]
        parts = [grad["rate"], grad["churn"] * (1 - P.logistic(z))[:, None]]  # (d log c / dz = 1 - logistic)
        if self.shares is None:
            w = np.array([s.share for s in segs])
            parts.append(w[1:, None] * (grad["share"][1:] - 1.0))  # (softmax: dw_i/db_i = w_i (delta - w))
        if self.fit_ladder:
            pi = segs[0].ladder
            parts.append(pi[1:, None] * (grad["level"][1:] - 1.0))
        return np.concatenate(parts)


def fit(h: Histories, ladder: Ladder, ladders: list[np.ndarray], n_segments: int = 3,
        shares: list[float] | None = None, fit_ladder: bool = False, on_step=None) -> AgentFit:  # fmt: skip
    """Segments by maximum likelihood, sharing one purchase-rate gamma (mean, shape) and
    each with its own churn multiplier, so churn varies independently of the purchase rate
    (as in Pareto/NBD: a finite mixture of dropout rates stands for its gamma of them).
    `ladders` gives the starting ladders: one for all (`n_segments` segments, shares fitted)
    or one per segment (e.g. from an NPS survey, with their `shares`). `fit_ladder` fits one
    common starting ladder instead. A churn multiplier is `cap * logistic(z)`, the cap
    putting the bottom level's churn at 1 (the engine's hazards saturate there): smooth, so
    the gradient method converges (a plain cap has a kink a fit stalls at). `on_step(n)` is
    called after each step of the optimiser, `n` the steps so far (for a progress display)."""
    k = n_segments if len(ladders) == 1 else len(ladders)
    ladders = tuple(np.asarray(lad, float) for lad in (ladders * k if len(ladders) == 1 else ladders))
    layout = Layout(k, 1.0 / float(ladder.churn.max()), ladders,
                    None if shares is None and k > 1 else tuple(shares or [1.0]), fit_ladder)  # fmt: skip
    n = h.weight.sum()
    mean_mult = float(P.dot(ladders[0], ladder.rate))
    rate = float(P.dot(h.x, h.weight) / P.dot(h.exposure.sum(axis=1), h.weight)) / mean_mult
    starts = [_start(rate, k, churn, layout.shares is None, ladders[0] if fit_ladder and from_base else None,
                     fit_ladder) for churn, from_base in START_CHURN]  # fmt: skip
    starts = list({tuple(x0): x0 for x0 in starts}.values())  # (without a fitted ladder, two are the same)
    likelihood = Likelihood(h, ladder)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:  # (per customer: gradients of order 1)
        segs = layout.segments(theta)
        with np.errstate(all="ignore"):
            ll, grad = likelihood.evaluate(segs, gradient=True)
            value = -float(P.dot(ll, h.weight)) / n
            jac = -P.dot(layout.chain(theta, grad, segs), h.weight) / n
        if not (np.isfinite(value) and np.all(np.isfinite(jac))):
            return 1e6, np.zeros_like(theta)
        return value, jac

    bounds = [(P.log(rate) - 6.0, P.log(rate) + 6.0), (-5.0, 5.0)] + [(-15.0, 15.0)] * (len(starts[0]) - 2)
    # (the likelihood has several local optima: a few short runs from different starts, then
    # the best of them to convergence)
    steps = 0

    def step(_x) -> None:
        nonlocal steps
        steps += 1
        if on_step is not None:
            on_step(steps)

    with one_blas_thread():
        trials = [minimize(objective, x0, jac=True, method="TNC", bounds=bounds,
                           options={"maxfun": SCOUT_EVALUATIONS}, callback=step) for x0 in starts]  # fmt: skip
        best = min(trials, key=lambda r: r.fun)
        best = minimize(objective, best.x, jac=True, method="TNC", bounds=bounds,
                        options={"maxfun": MAX_EVALUATIONS}, callback=step)  # fmt: skip
    found = AgentFit(_without_empty(layout.segments(best.x)), -best.fun * n, len(best.x), int(n))
    if layout.shares is not None:  # (segments given with their shares, a survey's: kept as they are)
        return found
    return _fewer(found, likelihood, h)


def _fewer(found: AgentFit, likelihood: Likelihood, h: Histories) -> AgentFit:
    """The fit with its two segments of the nearest churn multipliers merged, again and again,
    while that lowers the BIC: a fit of k segments often finds one segment twice (the CDNOW
    master file's: churn multipliers 0.292 and 0.295), and from its own starts the optimiser of
    k - 1 segments may stop at a worse optimum (there, the high-churn segment at its bound)."""
    while True:
        pairs = [(abs(a.churn_multiplier - b.churn_multiplier) / max(a.churn_multiplier, b.churn_multiplier, 1e-12), i, j)
                 for i, a in enumerate(found.segments) for j, b in enumerate(found.segments)
                 if i < j and np.array_equal(a.ladder, b.ladder)]  # fmt: skip
        if not pairs:
            return found
        _, i, j = min(pairs)
        segs = _merged(found.segments, i, j)
        with np.errstate(all="ignore"):
            ll = float(P.dot(likelihood.evaluate(segs)[0], h.weight))
        fewer = AgentFit(segs, ll, found.n_params - 2, found.n_customers)  # (a churn multiplier and a share)
        if not fewer.bic < found.bic:
            return found
        found = fewer


def _start(rate: float, k: int, churn: tuple[float, float], fit_shares: bool, ladder: np.ndarray | None,
           fit_ladder: bool) -> np.ndarray:  # fmt: skip
    """A starting point: the mean rate, shape 0.5, churn multipliers spread geometrically over
    `churn` (shares of the cap), equal shares, the given starting ladder or a flat one."""
    spread = np.geomspace(*churn, k) if k > 1 else np.array([np.sqrt(churn[0] * churn[1])])
    x0 = [[P.log(rate), P.log(0.5)], P.log(spread / (1 - spread))]
    x0 += [np.zeros(k - 1)] if fit_shares else []
    if fit_ladder:
        x0 += [
            np.zeros(N_LEVELS - 1) if ladder is None else P.log(np.maximum(ladder[1:], 1e-4) / max(ladder[0], 1e-4))
        ]
    return np.concatenate(x0)


def _merged(segs: list[SegmentFit], i: int, j: int) -> list[SegmentFit]:
    """Segment j added to segment i (i < j): their shares summed, the churn multiplier weighted
    by share; the others as they were, in their order."""
    a, b = segs[i], segs[j]
    share = a.share + b.share
    churn = (a.share * a.churn_multiplier + b.share * b.churn_multiplier) / share
    merged = replace(a, share=share, churn_multiplier=churn)
    return [merged if k == i else s for k, s in enumerate(segs) if k != j]


def _without_empty(segs: list[SegmentFit]) -> list[SegmentFit]:
    """The segments without those the fit left (nearly) empty: a scenario's shares have 4
    decimals, and a segment of no one would be refused."""
    kept = [s for s in segs if s.share >= MIN_SHARE]
    total = sum(s.share for s in kept)
    return [replace(s, share=s.share / total) for s in kept]
