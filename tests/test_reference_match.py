"""The engine's no-program arm matches the naive per-customer SimPy reference.

bench/reference_simpy.py implements the model core (purchases, ladder moves, churn) the
plain way: one SimPy process per customer, one timeout per purchase. The vectorised
engine draws differently (Poisson inversion, named streams, common random numbers), so
the two agree in distribution, not number by number. Each side is replicated with fixed
seeds; a quantity agrees when

    |mean_engine - mean_reference| < Z * sqrt(se_engine^2 + se_reference^2)

with the standard errors taken from the replications themselves (not a tuned constant).

- `test_engine_baseline_matches_reference`: the default customer base.
- `test_ladder_stress_matches_reference`: large monthly experience effects, so that
  p_up + p_down > 1 in every month with purchases and the rescaling rule of the ladder
  move matters.
- `test_detects_a_wrong_churn_rate`: the comparison has power; a reference whose churn
  is 20 % higher fails it.
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
CHECK_MONTHS = (6, 12, 24)
ENGINE_REPS = 40  # ~0.04 s each
ENGINE_SEED = 7
REFERENCE_REPS = 10  # ~0.5 s each
WRONG_REPS = 6
WRONG_CHURN_FACTOR = 1.2
STRESS_MONTHS, STRESS_ENGINE_REPS, STRESS_REFERENCE_REPS = 12, 20, 6
BASELINE = 0  # row of the no-program arm in a replication's monthly ledger
Z = 4.0

ZERO_LEVELS = {name: 0 for name in LEVELS}
ONE_LEVELS = {name: 1.0 for name in LEVELS}
CORE = {
    "customers.size": N_CUSTOMERS,
    "simulation.horizon_months": MONTHS,
    "customers.acquisition.paid_per_month": 0,
    "customers.ladder.new_customer_months": 0,
    "customers.word_of_mouth.listeners_per_month": ZERO_LEVELS,
    "customers.word_of_mouth.complaint_listeners": ZERO_LEVELS,
}
# a month with purchases has a 70 % chance to lift and a 60 % chance to drop the customer
# (experiences are judged per month, whatever the number of purchases): on every middle
# level p_up + p_down = 1.3 > 1 and both are rescaled to sum to 1 (to 0.54 and 0.46)
STRESS = {
    "simulation.horizon_months": STRESS_MONTHS,
    "customers.ladder.positive_experience": 0.7,
    "customers.ladder.negative_experience": 0.6,
    "customers.ladder.climb": ONE_LEVELS,
    "customers.ladder.forgiveness": ONE_LEVELS,
}


def core_scenario(**extra) -> Scenario:
    return override(Scenario(), {**CORE, **extra})


def quantities(active, purchases, revenue, levels, check_months) -> dict[str, float]:
    """The compared figures of one replication; arrays are indexed by month 1..T at [month - 1]."""
    out = {f"active_customers_m{m}": float(active[m - 1]) for m in check_months}
    out["purchases_per_month"] = float(purchases.mean())
    out["purchases_last_month"] = float(purchases[-1])
    out["revenue_per_month"] = float(revenue.mean())
    for i, name in enumerate(LEVELS):
        out[f"share_{name}_end"] = float(levels[-1, i] / active[-1])
    return out


def engine_replication(scenario: Scenario, replication: int, check_months=CHECK_MONTHS) -> dict[str, float]:
    """The baseline arm of one engine replication (`run_replication` keeps the monthly ledger)."""
    rep = simulation.run_replication(scenario, replication, seed=ENGINE_SEED)
    base = {k: np.asarray(v)[BASELINE, 1:] for k, v in rep.monthly.items()}  # index 0 is the start
    levels = np.column_stack([base[f"level_{name}"] for name in LEVELS])
    return quantities(base["active_customers"], base["purchases"], base["revenue"], levels, check_months)


def reference_replication(scenario: Scenario, seed: int, check_months=CHECK_MONTHS) -> dict[str, float]:
    f = reference_simpy.simulate(scenario, seed=seed)
    levels = f[list(reference_simpy.LEVEL_COLUMNS)].to_numpy(dtype=float)
    cols = [f[c].to_numpy(dtype=float) for c in ("active_customers", "purchases", "revenue")]
    return quantities(*cols, levels, check_months)


def stack(reps: list[dict[str, float]]) -> dict[str, np.ndarray]:
    return {k: np.array([r[k] for r in reps]) for k in reps[0]}


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:
    """Per quantity: (mean of a, mean of b, |difference| / combined standard error)."""
    out = {}
    for k in a:
        se = np.sqrt(a[k].var(ddof=1) / a[k].size + b[k].var(ddof=1) / b[k].size)
        diff = abs(a[k].mean() - b[k].mean())
        out[k] = (a[k].mean(), b[k].mean(), diff / se if se > 0 else (0.0 if diff == 0 else np.inf))
    return out


def report(cmp: dict) -> str:
    return "\n".join(
        f"  {k:30} engine {ea:12.4f}  reference {eb:12.4f}  |diff|/se {z:6.2f}" for k, (ea, eb, z) in cmp.items()
    )


def assert_agree(engine: dict, reference: dict, what: str) -> None:
    cmp = compare(engine, reference)
    print(f"\n{what}:\n{report(cmp)}")
    bad = {k: v for k, v in cmp.items() if not v[2] < Z}
    assert not bad, f"{what}: engine and reference disagree (|diff| >= {Z} se):\n{report(bad)}\nall:\n{report(cmp)}"


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
    assert_agree(engine, reference, f"default core, engine ({ENGINE_REPS} reps) vs reference ({REFERENCE_REPS})")


# This test once found a real discrepancy: the engine's baseline-arm ladder tables were not
# rescaled when p_up + p_down > 1 (simulation/engine.py, Sim._tables now rescales both).
def test_ladder_stress_matches_reference():
    scenario = core_scenario(**STRESS)
    months = (STRESS_MONTHS // 2, STRESS_MONTHS)
    eng = stack([engine_replication(scenario, r, months) for r in range(STRESS_ENGINE_REPS)])
    ref = stack([reference_replication(scenario, 3000 + s, months) for s in range(STRESS_REFERENCE_REPS)])
    assert_agree(eng, ref, "ladder stress (p_up + p_down > 1 in every month with purchases)")


def test_detects_a_wrong_churn_rate(engine):
    """The same comparison against a reference with 20 % more churn must fail."""
    sc = core_scenario()
    churn = sc.customers.ladder.churn_per_month.as_tuple()
    wrong_churn = {name: min(1.0, c * WRONG_CHURN_FACTOR) for name, c in zip(LEVELS, churn, strict=True)}
    wrong = override(sc, {"customers.ladder.churn_per_month": wrong_churn})
    wrong_ref = stack([reference_replication(wrong, 2000 + seed) for seed in range(WRONG_REPS)])
    cmp = compare(engine, wrong_ref)
    print(f"\nengine vs reference with churn x{WRONG_CHURN_FACTOR}:\n{report(cmp)}")
    for month in (12, 24):
        assert cmp[f"active_customers_m{month}"][2] >= Z, f"a 20 % churn error went unnoticed:\n{report(cmp)}"
