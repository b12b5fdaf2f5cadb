"""The engine's no-program arm matches the naive per-customer SimPy reference.

bench/reference_simpy.py implements the model core (purchases, ladder moves, churn) the
plain way: one SimPy process per customer, one timeout per purchase. The vectorised
engine draws differently (Poisson inversion, named streams, common random numbers), so
the two agree in distribution, not number by number. Each side is replicated with fixed
seeds; a quantity agrees when

    |mean_engine - mean_reference| < Z * sqrt(se_engine^2 + se_reference^2)

with the standard errors taken from the replications themselves (not a tuned constant).
`test_detects_a_wrong_churn_rate` shows the comparison has power: a reference whose
churn is 20 % higher fails it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import reference_simpy  # noqa: E402

import simulation  # noqa: E402
from simulation.scenario_io import override  # noqa: E402
from simulation.schema import LEVELS, Scenario  # noqa: E402

N_CUSTOMERS = 2_000
MONTHS = 24
ENGINE_REPS = 40  # ~0.04 s each
ENGINE_SEED = 7
REFERENCE_REPS = 12  # ~0.4 s each
WRONG_REPS = 6
BASELINE = 0  # row of the no-program arm in a replication's monthly ledger
Z = 4.0
CHECK_MONTHS = (6, 12, 24)
WRONG_CHURN_FACTOR = 1.2

ZERO_LEVELS = {name: 0 for name in LEVELS}
CORE = {
    "customers.size": N_CUSTOMERS,
    "simulation.horizon_months": MONTHS,
    "customers.acquisition.paid_per_month": 0,
    "customers.ladder.new_customer_months": 0,
    "customers.word_of_mouth.listeners_per_month": ZERO_LEVELS,
    "customers.word_of_mouth.complaint_listeners": ZERO_LEVELS,
}


def core_scenario() -> Scenario:
    return override(Scenario(), CORE)


def quantities(active: np.ndarray, purchases: np.ndarray, revenue: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    """The compared figures of one replication; arrays are indexed by month 1..T at [month - 1]."""
    out = {f"active_customers_m{m}": float(active[m - 1]) for m in CHECK_MONTHS}
    out["purchases_per_month"] = float(purchases.mean())
    out["purchases_last_month"] = float(purchases[-1])
    out["revenue_per_month"] = float(revenue.mean())
    for i, name in enumerate(LEVELS):
        out[f"share_{name}_end"] = float(levels[-1, i] / active[-1])
    return out


def engine_replication(scenario: Scenario, replication: int) -> dict[str, float]:
    """The baseline arm of one engine replication (`run_replication` keeps the monthly ledger)."""
    rep = simulation.run_replication(scenario, replication, seed=ENGINE_SEED)
    base = {k: np.asarray(v)[BASELINE, 1:] for k, v in rep.monthly.items()}  # index 0 is the start
    levels = np.column_stack([base[f"level_{name}"] for name in LEVELS])
    return quantities(base["active_customers"], base["purchases"], base["revenue"], levels)


def reference_replication(scenario: Scenario, seed: int) -> dict[str, float]:
    f = reference_simpy.simulate(scenario, seed=seed)
    levels = f[list(reference_simpy.LEVEL_COLUMNS)].to_numpy(dtype=float)
    return quantities(
        f.active_customers.to_numpy(float), f.purchases.to_numpy(float), f.revenue.to_numpy(float), levels
    )


def stack(reps: list[dict[str, float]]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in reps]) for k in reps[0]}


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, tuple[float, float, float, float]]:
    """Per quantity: (mean a, mean b, |diff| / combined standard error, combined standard error)."""
    out = {}
    for k in a:
        se = np.sqrt(a[k].var(ddof=1) / a[k].size + b[k].var(ddof=1) / b[k].size)
        diff = abs(a[k].mean() - b[k].mean())
        out[k] = (a[k].mean(), b[k].mean(), diff / se if se > 0 else (0.0 if diff == 0 else np.inf), se)
    return out


def report(cmp: dict) -> str:
    return "\n".join(
        f"  {k:32} engine {ea:12.4f}  reference {eb:12.4f}  |diff|/se {z:6.2f}" for k, (ea, eb, z, _) in cmp.items()
    )


@pytest.fixture(scope="module")
def engine() -> dict[str, np.ndarray]:
    scenario = core_scenario()
    return stack([engine_replication(scenario, r) for r in range(ENGINE_REPS)])


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    scenario = core_scenario()
    return stack([reference_replication(scenario, 1000 + seed) for seed in range(REFERENCE_REPS)])


def test_core_scenario_is_the_model_core():
    sc = core_scenario()
    assert not sc.program.active_instruments()
    assert sc.customers.acquisition.paid_per_month == 0
    assert sum(sc.customers.word_of_mouth.listeners_per_month.as_tuple()) == 0
    assert sum(sc.customers.word_of_mouth.complaint_listeners.as_tuple()) == 0


def test_run_reports_the_replications(engine):
    """`simulation.run` (the public entry) reports the same baseline as its replications."""
    n = 4
    res = simulation.run(core_scenario(), replications=n, seed=ENGINE_SEED)
    m = res.monthly
    base = m[(m.arm == "baseline") & (m.metric == "active_customers")].set_index("month")["mean"]
    assert base.loc[0] == N_CUSTOMERS
    for month in CHECK_MONTHS:
        assert base.loc[month] == pytest.approx(engine[f"active_customers_m{month}"][:n].mean())
    inc = m[(m.arm == "incremental") & (m.metric == "active_customers")]["mean"]
    assert (inc == 0).all(), "without a program the program arm must equal its twin"


def test_engine_baseline_matches_reference(engine, reference):
    cmp = compare(engine, reference)
    print(f"\nengine ({ENGINE_REPS} replications) vs reference ({REFERENCE_REPS}):\n{report(cmp)}")
    bad = {k: v for k, v in cmp.items() if not v[2] < Z}
    assert not bad, f"engine and reference disagree (|diff| >= {Z} se):\n{report(bad)}\nall:\n{report(cmp)}"


def test_detects_a_wrong_churn_rate(engine):
    """The same comparison against a reference with 20 % more churn must fail."""
    sc = core_scenario()
    churn = sc.customers.ladder.churn_per_month.as_tuple()
    wrong = override(
        sc,
        {
            "customers.ladder.churn_per_month": {
                name: min(1.0, c * WRONG_CHURN_FACTOR) for name, c in zip(LEVELS, churn, strict=True)
            }
        },
    )
    wrong_ref = stack([reference_replication(wrong, 2000 + seed) for seed in range(WRONG_REPS)])
    cmp = compare(engine, wrong_ref)
    print(f"\nengine vs reference with churn x{WRONG_CHURN_FACTOR}:\n{report(cmp)}")
    assert cmp["active_customers_m24"][2] >= Z, f"a 20 % churn error went unnoticed:\n{report(cmp)}"
    assert cmp["active_customers_m12"][2] >= Z, f"a 20 % churn error went unnoticed:\n{report(cmp)}"
