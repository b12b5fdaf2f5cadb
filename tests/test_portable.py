"""simulation/portable.py: the C library's elementary functions, the same bits on every CPU,
and within a few units in the last place of numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import portable as P

X = np.random.default_rng(0).random(20_000)


@pytest.mark.parametrize(
    ("ours", "theirs", "arg"),
    [
        (P.exp, np.exp, X * 60 - 30),
        (P.log, np.log, X * 100 + 1e-9),
        (P.log1p, np.log1p, X - 0.999),
        (P.expm1, np.expm1, X * 4 - 2),
        (P.logistic, lambda z: 1 / (1 + np.exp(-z)), X * 20 - 10),
    ],
)
def test_as_numpy_within_a_few_units_in_the_last_place(ours, theirs, arg):
    got, want = ours(arg), theirs(arg)
    assert np.all(np.abs(got - want) <= 4 * np.spacing(np.abs(want)))


def test_power_logsumexp_logaddexp_and_dot_and_their_edges():
    base, exponent = X, np.arange(X.size) % 30
    assert np.allclose(P.power(base, exponent), base**exponent, rtol=1e-13, atol=0)
    assert (
        P.power(0.0, 0.0) == 1.0 and P.power(0.0, 2.0) == 0.0 and P.power(2.0, 10.0) == pytest.approx(1024, rel=1e-15)
    )
    a = np.log(np.array([[1e-300, 1.0, 3.0], [1e-12, 2.0, 5.0]]))
    assert np.allclose(P.logsumexp(a, axis=1), np.log(np.exp(a).sum(axis=1)), rtol=1e-14)
    assert P.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert P.logaddexp(np.log(2.0), np.log(3.0)) == pytest.approx(np.log(5.0), rel=1e-15)
    assert P.logaddexp(-np.inf, 1.5) == 1.5 and P.logaddexp(-np.inf, -np.inf) == -np.inf
    m = np.arange(12.0).reshape(3, 4)
    assert np.allclose(P.dot(m, np.arange(4.0)), m @ np.arange(4.0))
    assert np.allclose(P.dot(np.arange(3.0), m), np.arange(3.0) @ m)


def test_least_squares_as_lapacks_with_zero_and_collinear_columns():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((60, 8)), rng.standard_normal(60)
    assert np.allclose(P.lstsq(a, b), np.linalg.lstsq(a, b, rcond=None)[0], rtol=0, atol=1e-12)
    a[:, 2] = 0.0  # a constant parameter's standardised ranks
    x = P.lstsq(a, b)
    assert x[2] == 0.0 and np.allclose(x, np.linalg.lstsq(a, b, rcond=None)[0], atol=1e-12)
    a[:, 5] = a[:, 4]  # two columns the same: the fit is still a least-squares one
    x = P.lstsq(a, b)
    best = np.linalg.lstsq(a, b, rcond=None)[0]
    assert np.sum((a @ x - b) ** 2) == pytest.approx(np.sum((a @ best - b) ** 2), rel=1e-9)
