"""Shared helpers for the engine tests: small scenarios and paired comparisons."""

from __future__ import annotations

import numpy as np

import simulation
from simulation import Scenario

ALL_INSTRUMENTS = {"points": {}, "tiers": {}, "subscription": {}, "referral": {}}


def scenario(size: int = 2000, months: int = 24, replications: int = 4, seed: int = 7, **sections) -> Scenario:
    """A small valid scenario; keyword sections (customers=..., program=...) are merged in."""
    data: dict = {
        "customers": {"size": size, "acquisition": {"paid_per_month": size // 100}},
        "simulation": {"horizon_months": months, "replications": replications, "seed": seed},
    }
    for key, value in sections.items():
        base = data.setdefault(key, {})
        base.update(value)
    return simulation.validate(data)


def per_replication(results, metric: str, arm: str) -> np.ndarray:
    rows = results.replications
    rows = rows[(rows.metric == metric) & (rows.arm == arm)].sort_values("replication")
    return rows.value.to_numpy(dtype=float)


def paired_difference(a, b, metric: str, arm: str = "program") -> tuple[float, float]:
    """Mean and standard error of the per-replication difference a - b (same seeds)."""
    diff = per_replication(a, metric, arm) - per_replication(b, metric, arm)
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def assert_higher(a, b, metric: str, arm: str = "program", z: float = 3.0) -> None:
    """a's metric exceeds b's by more than z standard errors of the paired difference."""
    mean, se = paired_difference(a, b, metric, arm)
    assert mean > z * max(se, 1e-12), f"{metric}: expected higher, diff {mean:.6g} (se {se:.3g})"
