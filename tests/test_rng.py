"""Random numbers: Poisson by inversion (common random numbers) and named streams."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.rng import Streams, poisson_from_uniform, poisson_scalar


@pytest.mark.parametrize("lam", [0.05, 0.7, 3.0, 25.0, 79.0, 81.0, 150.0, 2000.0])
def test_poisson_inversion_has_poisson_moments(lam):
    n = 40_000
    u = np.random.default_rng(3).random(n)
    k = poisson_from_uniform(np.full(n, lam), u)
    # standard errors of the sample mean and variance of a Poisson sample
    assert abs(k.mean() - lam) < 5 * np.sqrt(lam / n)
    assert abs(k.var() - lam) < 5 * lam * np.sqrt(2 / n) + 5 * np.sqrt(lam / n)


def test_poisson_inversion_is_monotone_and_shared_by_arms():
    rng = np.random.default_rng(5)
    u = rng.random(10_000)
    lam = rng.gamma(2.0, 1.0, 10_000)
    both = poisson_from_uniform(np.stack([lam, lam * 1.2]), u)
    assert (both[1] >= both[0]).all()  # a higher rate never gives fewer purchases for the same draw
    same = poisson_from_uniform(np.stack([lam, lam]), u)
    assert (same[0] == same[1]).all()
    assert (poisson_from_uniform(np.zeros(5), u[:5]) == 0).all()


def test_poisson_scalar_matches_the_array_version():
    u = np.random.default_rng(9).random(200)
    for lam in (0.3, 4.0, 60.0, 120.0):
        arr = poisson_from_uniform(np.full(200, lam), u)
        assert [poisson_scalar(lam, x) for x in u] == arr.tolist()


def test_streams_are_named_and_independent_of_order():
    a, b = Streams(1, 0), Streams(1, 0)
    x = a.uniform("purchase", 5, month=3)
    b.uniform("churn", 5, month=3)  # drawing another decision first changes nothing
    assert (b.uniform("purchase", 5, month=3) == x).all()
    assert (b.uniform("purchase", 9, month=3)[:5] == x).all()  # more slots: the same first draws
    assert not (a.uniform("purchase", 5, month=4) == x).all()
    assert not (Streams(1, 1).uniform("purchase", 5, month=3) == x).all()
    assert not (Streams(2, 0).uniform("purchase", 5, month=3) == x).all()


def test_a_sweeps_kept_uniforms_are_the_streams_own(monkeypatch):
    """The uniforms kept between a sweep's tasks (rng.KEPT) are the very numbers of the stream,
    for more slots too; read-only; dropped for another replication or a task that does not keep."""
    from simulation import rng

    kept = rng._Kept()
    monkeypatch.setattr(rng, "KEPT", kept)
    fresh, fresh3 = Streams(7, 2).uniform("churn", 40, month=5), Streams(7, 3).uniform("churn", 40, month=5)
    kept.keep(True, 7, 2)
    s = Streams(7, 2)
    first = s.kept("churn", 5, 30)
    assert (first == fresh[:30]).all() and not first.flags.writeable
    assert (s.kept("churn", 5, 40) == fresh).all() and (s.uniform("churn", 40, month=5) == fresh).all()
    assert s.uniform("churn", 40, month=5).flags.writeable  # (a copy: callers may write)
    assert not (s.kept("churn", 6, 30) == first).all() and not (s.kept("ladder", 5, 30) == first).all()
    assert Streams(7, 3).kept("churn", 5, 30) is None  # another replication: not these
    assert (7, 2, "churn", 5) in kept.draws
    kept.keep(True, 7, 3)
    assert not kept.draws and (Streams(7, 3).kept("churn", 5, 40) == fresh3).all()
    # another thread's task (a Dask worker's) switched to its replication while these are held:
    # it gets its own numbers, not these
    kept.owner = (7, 2)
    assert (Streams(7, 2).kept("churn", 5, 40) == fresh).all()
    kept.keep(True, 7, 3)
    kept.keep(False, 7, 3)
    assert not kept.draws and Streams(7, 3).kept("churn", 5, 40) is None
    monkeypatch.setattr(rng, "KEEP_BYTES", 100)  # over the budget: drawn, not kept
    kept.keep(True, 7, 3)
    assert (Streams(7, 3).kept("churn", 5, 40) == fresh3).all() and not kept.draws


def test_a_sweeps_kept_customers_are_the_ones_drawn_afresh(monkeypatch):
    """The customer templates kept between a sweep's tasks (rng.KEPT.block) give the task's own
    results, also for a design whose customers differ (they are drawn for it, not reused)."""
    import pickle
    from pathlib import Path

    import simulation
    from simulation import rng
    from simulation.runner import Task, run_task

    monkeypatch.setattr(rng, "KEPT", rng._Kept())
    coffee = Path(__file__).resolve().parents[1] / "scenarios" / "coffee-points-card.yaml"
    small = ["customers.size=3000", "simulation.horizon_months=12"]

    def result(overrides: list[str], keep: bool) -> bytes:
        sc = simulation.load(coffee, small + overrides)
        rep = run_task(Task(sc, 1, 5, 2, "program", light=True, keep_draws=keep))
        return pickle.dumps((rep.summary, rep.monthly, rep.flows))

    lever, customers = ["program.points.earn_rate=2.0"], ["customers.segments.0.basket_value=9.0"]
    fresh = {name: result(o, False) for name, o in (("lever", lever), ("customers", customers))}
    result([], True)  # the first design of the replication draws and keeps its customers
    assert any(key[2] == "customer_template_initial" for key in rng.KEPT.draws)
    assert any(key[2] == "customer_template" for key in rng.KEPT.draws)  # arrivals' blocks too
    assert result(lever, True) == fresh["lever"]  # the kept customers
    assert result(customers, True) == fresh["customers"]  # its own customers, not the kept ones
    assert fresh["customers"] != fresh["lever"]


# ---------------------------------------------------------------- exact against scipy
# The count is the smallest k with u <= F(k), which is what scipy's `poisson.ppf(u, rate)`
# returns; the two differ only where u is within round-off of a CDF step F(k). Ours sums the
# terms P(0) + P(1) + ... in float64 (at most ~200 terms below 1, so an error of a few 1e-14
# at most); scipy evaluates F by the regularised incomplete gamma function (error ~1e-15).
# A disagreement is accepted only when it is that edge: u within STEP_TOLERANCE of the
# step between the two counts, and the counts one apart (ours above scipy's: our summed
# F(k) fell a rounding short of u; below: ours reached u a rounding early).
STEP_TOLERANCE = 1e-12


def _disagreements(counts: np.ndarray, rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Positions where the counts differ from scipy's; fails on any that is not a round-off edge."""
    from scipy import stats

    expected = stats.poisson.ppf(u, rate)
    off = np.flatnonzero(counts != expected)
    for i in off:
        lower = min(counts[i], expected[i])
        step = stats.poisson.cdf(lower, rate[i])  # the step between the two counts
        assert abs(counts[i] - expected[i]) == 1 and abs(u[i] - step) <= STEP_TOLERANCE, (
            f"rate {rate[i]!r}, u {u[i]!r}: count {counts[i]}, scipy {expected[i]} (F({lower}) = {step!r})"
        )
    return off


def test_poisson_counts_equal_scipy_ppf_for_rates_up_to_80():
    rng = np.random.default_rng(11)
    n = 300_000
    rate = np.concatenate([rng.uniform(0, 80, n - 2000), rng.choice([0.0, 1e-9, 0.5, 1.0, 10.0, 79.999, 80.0], 2000)])
    u = 1.0 - rng.random(n)  # (0, 1]: scipy's ppf(0) is -1 by convention
    u[u == 1.0] = 0.5
    counts = poisson_from_uniform(rate, u)
    off = _disagreements(counts, rate, u)
    assert off.size <= 2  # random uniforms land within 1e-12 of a step about once in 1e10 draws
    # the same for the scalar version (used by the instruments and for large rates)
    few = slice(0, 5000)
    scalar = np.array([poisson_scalar(r, x) for r, x in zip(rate[few], u[few], strict=True)])
    _disagreements(scalar, rate[few], u[few])


def test_poisson_counts_on_the_cdf_steps_themselves():
    """Uniforms placed exactly on scipy's F(k): the edge case, where either count is right."""
    from scipy import stats

    rate = np.repeat([0.3, 2.0, 7.5, 33.0, 80.0], 40)
    k = np.tile(np.arange(40), 5) % (rate + 3 * np.sqrt(rate) + 2).astype(int)
    u = stats.poisson.cdf(k, rate)
    counts = poisson_from_uniform(rate, u)
    _disagreements(counts, rate, u)  # each is k or k + 1 (never further)
    assert ((counts == k) | (counts == k + 1)).all()


@pytest.mark.parametrize("lam", [80.5, 120.0, 500.0, 5000.0])
def test_poisson_normal_approximation_above_80_is_close_to_scipy(lam):
    """Above LARGE_RATE the count is round(lambda + sqrt(lambda) z): off from the exact quantile
    by the skewness term (z^2 - 1) / 6 and the rounding, so within 2 counts for u in 1-99 %,
    within 5 out to 1e-6 of either tail; never negative; unbiased."""
    from scipy import stats

    u = np.random.default_rng(4).uniform(1e-6, 1 - 1e-6, 50_000)
    counts = poisson_from_uniform(np.full(u.size, lam), u)
    diff = counts - stats.poisson.ppf(u, lam)
    central = (u > 0.01) & (u < 0.99)
    assert np.abs(diff[central]).max() <= 2
    assert np.abs(diff).max() <= 5
    assert counts.min() >= 0
    assert abs(counts.mean() - lam) < 5 * np.sqrt(lam / u.size)
