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
