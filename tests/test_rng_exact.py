"""Random streams pinned to exact numbers: renaming a stream, or changing how a stream is
seeded, changes every result of the model without breaking any statistical property, so
only golden values catch it (docs/mutation.md). If a change of these numbers is intended,
update the golden values here and say so in the CHANGELOG: all results move with them."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from helpers import ALL_INSTRUMENTS, scenario

import simulation
from simulation import portable, rng
from simulation.rng import LARGE_RATE, Streams, poisson_from_uniform, poisson_scalar, stable_hash


def test_stable_hash_is_the_first_eight_bytes_of_sha256_little_endian():
    assert stable_hash("purchase") == 8160072444617181296
    assert stable_hash("churn") == 14086722240289157768


GOLDEN_UNIFORMS = {  # Streams(7, 2).uniform(name, 3, month=5)
    "purchase": [0.7192386977507965, 0.8616293178989035, 0.8241075902792224],
    "churn": [0.6708491157223722, 0.5261601929439228, 0.7552790795922794],
    "ladder": [0.33405709637152303, 0.7549382761068245, 0.7822960175711074],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_UNIFORMS))
def test_named_uniforms_are_pinned(name):
    assert Streams(7, 2).uniform(name, 3, month=5).tolist() == GOLDEN_UNIFORMS[name]


def test_running_generator_is_pinned_and_keeps_running():
    s = Streams(7, 2)
    assert s.generator("word_of_mouth_counts").random(2).tolist() == [0.06882786331780977, 0.9861386108701395]
    assert s.generator("word_of_mouth_counts").random(1).tolist() == [0.17570277743751717]  # the same generator
    assert Streams(7, 2).fresh("customer_template", 1).random(2).tolist() == [0.6880906183046872, 0.42094740594029556]


def test_seed_and_replication_are_kept_as_ints():
    s = Streams(np.int64(7), np.int32(2))
    assert (s.seed, s.replication) == (7, 2)
    assert type(s.seed) is int and type(s.replication) is int


# Every stream the engine and the instruments draw from (a run with all instruments on).
# A renamed stream changes all the numbers silently; this list makes it a visible change.
ENGINE_STREAMS = {
    "purchase",
    "enrolment",
    "membership_activity",
    "ladder",
    "churn",
    "word_of_mouth_counts",
    "club_uptake",
    "club_cancel_base",
    "club_cancel_value",
    "referral",
    "referral_conversion",
    "points_activity",
    "points_redeem",
    "customer_template_initial",
    "customer_template",
}


def test_the_engine_draws_from_the_named_streams(monkeypatch):
    used: set[str] = set()
    fresh = Streams.fresh

    def recording(self, name, *key):
        used.add(name)
        return fresh(self, name, *key)

    monkeypatch.setattr(Streams, "fresh", recording)
    program = {**ALL_INSTRUMENTS, "points": {"activity_bonus_points": 10.0}}
    sc = scenario(size=300, months=6, replications=1, program=program)
    simulation.run(sc)
    missing = ENGINE_STREAMS - used
    assert not missing, f"streams no longer drawn (renamed?): {sorted(missing)}; drawn: {sorted(used)}"


# ---------------------------------------------------------------- Poisson by inversion
def _poisson_cdf_count(lam: float, u: float) -> int:
    """The smallest k with CDF(k) >= u, from scratch (math only)."""
    import math

    k, p = 0, math.exp(-lam)
    cdf = p
    while u > cdf:
        k += 1
        p *= lam / k
        cdf += p
    return k


@pytest.mark.parametrize("lam", [0.0, 0.2, 1.0, 4.5, 30.0, 79.9])
def test_poisson_scalar_is_the_cdf_inverse(lam):
    us = [0.0, 1e-9, 0.05, 0.3679, 0.5, 0.9, 0.999, 0.9999999]
    assert [poisson_scalar(lam, u) for u in us] == [_poisson_cdf_count(lam, u) if lam > 0 else 0 for u in us]


def test_poisson_scalar_boundaries():
    # at u exactly P(0) the count is 0 (u > cdf, strictly)
    p0 = float(np.exp(-2.0))
    assert poisson_scalar(2.0, p0) == 0
    assert poisson_scalar(2.0, np.nextafter(p0, 1)) == 1
    assert poisson_scalar(-1.0, 0.99) == 0
    # exactly LARGE_RATE is still inverted exactly; above it, the normal approximation
    for u in (1e-6, 0.5, 0.999999):  # (in the tails the normal approximation is off by several counts)
        assert poisson_scalar(LARGE_RATE, u) == _poisson_cdf_count(LARGE_RATE, u)
    lam = 400.0
    for u, z in ((0.5, 0.0), (0.8413447460685429, 1.0), (0.022750131948179195, -2.0), (0.3, -0.5244005127080407)):
        assert poisson_scalar(lam, u) == round(lam + 20.0 * z)
    # a uniform of 0 or 1 is clipped to 1e-12 from the ends, not an infinite count
    z_max = NormalDist().inv_cdf(1 - 1e-12)
    assert poisson_scalar(lam, 1.0) == round(lam + 20.0 * z_max) == 541
    assert poisson_scalar(10_000.0, 1.0) == round(10_000.0 + 100.0 * z_max) == 10_703
    assert poisson_scalar(10_000.0, 0.0) == round(10_000.0 - 100.0 * 7.034483825301132) == 9297
    assert poisson_scalar(81.0, 1e-300) == 81 - 63  # 81 + 9 * (-7.0345)
    assert poisson_scalar(81.0, 0.0) == 18
    assert poisson_scalar(100.0, 0.0) == 30
    assert poisson_scalar(1e6, 0.75) == round(1e6 + 1000 * NormalDist().inv_cdf(0.75))
    # a count is never negative, even where the normal approximation goes below 0
    assert poisson_scalar(81.0 + 1e-9, 0.0) >= 0
    # the cap on terms: a uniform beyond the CDF's rounding stops at 1000 terms
    assert poisson_scalar(1.0, 1.5) == 1000


def test_poisson_array_matches_scalar_on_every_path():
    """Whole-array passes, compacted passes and term blocks: the same counts as the
    scalar inversion, for rates that need each path, and for rates above LARGE_RATE."""
    g = np.random.default_rng(11)
    n = 3000
    lam = np.concatenate([g.gamma(0.5, 2.0, n), g.uniform(20, 80, 300), [0.0, 80.0, 80.5, 95.0, 500.0]])
    u = g.random(lam.size)
    u[:5] = [0.0, 1e-12, 0.5, 0.999999999, 0.9999999999999]
    k = poisson_from_uniform(lam, u)
    assert k.dtype.kind == "i"
    assert k.tolist() == [poisson_scalar(x, v) for x, v in zip(lam, u, strict=True)]


def test_poisson_array_broadcasts_uniforms_over_the_arms():
    g = np.random.default_rng(12)
    n = 500
    lam = np.stack([g.gamma(2.0, 3.0, n), g.gamma(2.0, 3.0, n)])
    lam[1, :5] = [85.0, 120.0, 300.0, 81.0, 90.0]  # some large rates in the second arm only
    u = g.random(n)
    k = poisson_from_uniform(lam, u)
    assert k.shape == (2, n)
    for arm in (0, 1):
        assert k[arm].tolist() == [poisson_scalar(x, v) for x, v in zip(lam[arm], u, strict=True)]
    # a uniform per cell (same shape) and one broadcast from a column also work
    full = g.random((2, n))
    assert poisson_from_uniform(lam, full)[1, :5].tolist() == [
        poisson_scalar(x, v) for x, v in zip(lam[1, :5], full[1, :5], strict=True)
    ]
    col = g.random((2, 1))
    assert poisson_from_uniform(lam, col)[1, :5].tolist() == [poisson_scalar(x, col[1, 0]) for x in lam[1, :5]]


def test_poisson_array_handles_a_few_customers_far_in_the_tail():
    """Most customers at low rates and a few at high rates with uniforms near 1: the
    last of them are done by the term blocks; counts must still equal the scalar's."""
    g = np.random.default_rng(13)
    n = 5000
    lam = np.full(n, 0.3)
    lam[:40] = g.uniform(40, 79, 40)
    u = g.random(n)
    u[:40] = 1 - g.random(40) * 1e-9
    k = poisson_from_uniform(lam, u)
    assert k.tolist() == [poisson_scalar(x, v) for x, v in zip(lam, u, strict=True)]


def test_tail_cap_is_pinned():
    """A uniform beyond the CDF (within rounding of 1) stops at a cap that must never
    change (counts would): TAIL_TERMS after the first pass at which at most 1/16 of the
    customers were left, or after TAIL_TERMS passes if that never happens."""
    assert rng.TAIL_TERMS == 217
    for n in (1, 64, 5000):  # nobody ever done: the cap is 2 * TAIL_TERMS terms
        assert (poisson_from_uniform(np.full(n, 2.0), np.full(n, 1.5)) == 2 * 217 + 1).all()
    # 1/16 of the customers left after the first pass: the cap is TAIL_TERMS after it
    n = 1600
    u = np.zeros(n)
    u[: n // 16] = 1.5
    k = poisson_from_uniform(np.full(n, 2.0), u)
    assert (k[: n // 16] == 217 + 1).all() and (k[n // 16 :] == 0).all()
    u[n // 16] = np.exp(-2.0) + 0.01  # one more left after the first pass, done after the second
    k = poisson_from_uniform(np.full(n, 2.0), u)
    assert k[n // 16] == 1
    assert (k[: n // 16] == 217 + 2).all()  # so the cap comes a pass later


def _own_step(rate: float, k: int) -> float:
    """F(k) as the inversion works it out: P(0) by the C library's exp, then each term the last
    times the rate times 1/j, added in order (Python floats round as numpy's float64 ops do)."""
    p = float(portable.exp(np.array([-rate]))[0])
    cdf = p
    for j in range(1, k + 1):
        p = p * rate
        p = p * (1.0 / j)
        cdf = cdf + p
    return cdf


def test_a_uniform_on_the_inversions_own_step_counts_the_lower_count_on_every_path():
    """A count is the number of CDF steps strictly below the uniform, on the whole-array passes,
    the compacted passes and the term blocks alike: a uniform exactly on its own F(k) counts k,
    the next float above it k + 1."""
    g = np.random.default_rng(5)
    n = 4000
    rate, u = np.full(n, 3.0), g.random(n)  # most customers need 3-6 passes: whole, then compacted
    cases = {10: (3.0, 1), 11: (3.0, 2), 12: (3.0, 6), 13: (45.0, 60), 14: (70.0, 95), 15: (0.4, 0)}
    for i, (r, k) in cases.items():
        rate[i], u[i] = r, _own_step(r, k)
    on = poisson_from_uniform(rate, u)
    assert [int(on[i]) for i in cases] == [k for _, k in cases.values()]
    for i in cases:
        u[i] = np.nextafter(u[i], 1.0)
    above = poisson_from_uniform(rate, u)
    assert [int(above[i]) for i in cases] == [k + 1 for _, k in cases.values()]


def test_integer_rates_count_as_the_same_rates_in_float64():
    u = np.array([0.1, 0.5, 0.9, 0.99, 0.3])
    whole = np.array([0, 2, 5, 40, 90])  # (90: above LARGE_RATE)
    assert poisson_from_uniform(whole, u).tolist() == poisson_from_uniform(whole.astype(float), u).tolist()
    small = np.array([0, 2, 5, 40, 7])  # (none above it: no float rate is made along the way)
    assert poisson_from_uniform(small, u).tolist() == poisson_from_uniform(small.astype(float), u).tolist()


def test_an_array_of_rates_at_exactly_large_rate_is_inverted_exactly():
    # as poisson_scalar: the normal approximation only above LARGE_RATE (in the far tails it
    # gives other counts than the exact inversion)
    u = np.array([1e-9, 0.001, 0.5, 0.999, 1 - 1e-9])
    counts = poisson_from_uniform(np.full(u.size, LARGE_RATE), u).tolist()
    assert counts == [_poisson_cdf_count(LARGE_RATE, v) for v in u]
    assert counts != [round(LARGE_RATE + np.sqrt(LARGE_RATE) * NormalDist().inv_cdf(v)) for v in u]


def test_rates_past_a_block_are_inverted_a_block_at_a_time_with_the_same_counts():
    """Both arms of more than rng.BLOCK customers: each row in blocks, the rates above
    LARGE_RATE by the normal approximation at their own positions."""
    g = np.random.default_rng(21)
    n = rng.BLOCK + 3000
    lam = g.gamma(2.0, 1.5, (2, n))
    lam[1, [5, n - 7]] = [95.0, 300.0]
    u = g.random(n)
    k = poisson_from_uniform(lam, u)
    assert k.shape == (2, n)
    for arm, at in ((1, 5), (1, n - 7), (0, 5), (0, n - 1), (1, rng.BLOCK), (0, rng.BLOCK - 1)):
        assert k[arm, at] == poisson_scalar(lam[arm, at], u[at]), (arm, at)
    assert (k[:, :2000] == poisson_from_uniform(lam[:, :2000], u[:2000])).all()
