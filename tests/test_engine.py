"""Engine invariants: the empty program is the baseline, reproducibility, and a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import ALL_INSTRUMENTS, per_replication, scenario

import simulation
from simulation.schema import LEVELS


def test_program_with_every_instrument_off_equals_baseline_exactly():
    off = {name: {"enabled": False} for name in ALL_INSTRUMENTS}
    for program in ({}, off):
        res = simulation.run(scenario(program=program, replications=2))
        reps = res.replications.pivot_table(index=["replication", "metric"], columns="arm", values="value")
        reps = reps.dropna(subset=["program", "baseline"])
        assert len(reps) > 40
        assert (reps.program == reps.baseline).all()
        monthly = res.monthly[res.monthly.arm == "incremental"]
        assert (monthly["mean"] == 0).all()


def test_same_seed_same_numbers_and_other_seed_other_numbers():
    sc = scenario(program=ALL_INSTRUMENTS, replications=2)
    a, b = simulation.run(sc), simulation.run(sc)
    pd_equal = a.replications.equals(b.replications) and a.monthly.equals(b.monthly)
    assert pd_equal
    c = simulation.run(sc, seed=sc.simulation.seed + 1)
    assert not np.allclose(per_replication(a, "revenue", "program"), per_replication(c, "revenue", "program"))


def test_a_replication_does_not_depend_on_how_many_run():
    sc = scenario(program=ALL_INSTRUMENTS, months=12)
    two = simulation.run(sc, replications=2)
    four = simulation.run(sc, replications=4)
    first_two = four.replications[four.replications.replication < 2].reset_index(drop=True)
    assert first_two.equals(two.replications.reset_index(drop=True))
    single = simulation.run_replication(sc, 1)
    assert single.summary["revenue"][1] == per_replication(four, "revenue", "program")[1]


def test_results_have_the_promised_shape():
    res = simulation.run(scenario(program=ALL_INSTRUMENTS, months=36, replications=3))
    assert list(res.summary.columns) == ["metric", "arm", "mean", "p05", "p95"]
    assert list(res.monthly.columns) == ["month", "metric", "arm", "mean", "p05", "p95"]
    assert set(res.summary.arm) == {"program", "baseline", "incremental"}
    required = """retention_12m retention_24m retention_36m active_customers_end members_end subscribers_end
        revenue gross_margin program_cost fee_income net_profit clv_mean nps_end repurchase_rate upsell_spend_share
        loyalty_index engagement points_liability_end breakage_rate referrals acquisitions roi payback_month
        cost_per_retained_customer cost_rewards cost_discounts cost_perks cost_club_access
        cost_referral_rewards cost_member_service""".split()
    assert set(required) <= set(res.summary.metric)
    monthly_metrics = set(res.monthly.metric)
    assert {f"level_{name}" for name in LEVELS} <= monthly_metrics
    assert {"tier_Silver", "tier_Gold", "tier_Platinum", "points_liability", "nps", "retention"} <= monthly_metrics
    # (the payback month is that of the mean curve, its interval that of the replications that
    # pay back: the one need not lie inside the other; payback_share has no interval)
    s = res.summary[res.summary.metric != "payback_month"].dropna(subset=["p05", "p95"]).set_index(["metric", "arm"])
    assert (s["p05"] <= s["mean"] + 1e-9).all() and (s["mean"] <= s["p95"] + 1e-9).all()
    # the cost lines add up to the program cost, and profit adds up
    lines = [m for m in res.summary.metric.unique() if m.startswith("cost_") and not m.startswith("cost_per_")]
    total = sum(res.value(m) for m in lines)
    assert total == pytest.approx(res.value("program_cost"))
    profit = (
        res.value("gross_margin") - res.value("program_cost") + res.value("fee_income") - res.value("acquisition_cost")
    )
    assert profit == pytest.approx(res.value("net_profit"))
    # ladder counts add up to the active customers every month
    m = res.monthly[(res.monthly.arm == "program")].pivot(index="month", columns="metric", values="mean")
    assert np.allclose(m[[f"level_{x}" for x in LEVELS]].sum(axis=1), m["active_customers"])
    flows = res.flows[res.flows.arm == "program"]
    assert flows.customers.sum() == pytest.approx(scenario().customers.size)


def test_retention_by_cohort_agrees_with_the_base_and_the_arrivals():
    sc = scenario(program=ALL_INSTRUMENTS, months=30, replications=2)
    res = simulation.run(sc)
    c = res.cohorts
    assert list(c.columns) == ["arm", "cohort", "months_since_arrival", "customers", "mean", "p05", "p95"]
    assert set(c.cohort) == {"starting base", "arrived in year 1", "arrived in year 2", "arrived in year 3"}
    base = c[(c.arm == "program") & (c.cohort == "starting base")].set_index("months_since_arrival")
    # the starting base's cohort curve is the monthly retention series, and its 12/24-month figures
    monthly = res.monthly[(res.monthly.metric == "retention") & (res.monthly.arm == "program")].set_index("month")
    assert np.allclose(base["mean"], monthly["mean"])
    assert base["mean"][12] == pytest.approx(res.value("retention_12m"))
    assert (base["customers"] == sc.customers.size).all()
    assert (np.diff(base["mean"].to_numpy()) <= 0).all()
    # every cohort starts whole, and a cohort is seen only as long as the horizon allows
    assert (c[(c.months_since_arrival == 0) & (c.arm != "incremental")]["mean"] == 1.0).all()
    year3 = c[(c.arm == "baseline") & (c.cohort == "arrived in year 3")]
    assert year3.months_since_arrival.max() == 30 - 25
    # arrivals of year 1 (months 1..12) are the customers of that cohort at age 0
    acquired = res.monthly[(res.monthly.metric == "acquisitions") & (res.monthly.arm == "baseline")]
    arrivals = acquired[acquired.month.between(1, 12)]["mean"].sum()
    year1 = c[(c.arm == "baseline") & (c.cohort == "arrived in year 1") & (c.months_since_arrival == 0)]
    assert year1["customers"].iloc[0] == pytest.approx(arrivals)


def test_incremental_is_the_paired_difference():
    res = simulation.run(scenario(program=ALL_INSTRUMENTS, replications=3))
    diff = per_replication(res, "net_profit", "program") - per_replication(res, "net_profit", "baseline")
    assert np.allclose(diff, per_replication(res, "net_profit", "incremental"))


# ---------------------------------------------------------------- Pfeifer & Carraway (2000)
def closed_form(sc, months):
    """Expected CLV and survival of the ladder as a Markov chain with an absorbing 'lost' state.

    Written from the model's documented equations (docs/model.md), independently of the engine:
    margin R_L = lam_L * basket * (1 + upsell_L) * margin; transitions mix the ladder move over
    Poisson purchase counts k -- experiences are judged per month: in a month with purchases
    (k >= 1) up with e_pos * climb_L and down with e_neg * forgiveness_L, whatever k; in a month
    without (k = 0) down with the drift only -- then churn on the new level.
    """
    seg = sc.customers.segments[0]
    lad = sc.customers.ladder
    rate = np.array(lad.purchase_rate_multiplier.as_tuple()) * seg.purchases_per_month
    upsell = np.array(lad.upsell_share.as_tuple())
    churn = np.array(lad.churn_per_month.as_tuple())
    forgive = np.array(lad.forgiveness.as_tuple())
    climb = np.array(lad.climb.as_tuple())
    L = len(LEVELS)
    reward = rate * seg.basket_value * (1 + upsell) * seg.gross_margin
    P = np.zeros((L, L))
    for level in range(L):
        p_none = math.exp(-rate[level])  # P(k = 0); a month with purchases has probability 1 - p_none
        for bought, pk in ((False, p_none), (True, 1 - p_none)):
            up = lad.positive_experience * climb[level] if bought else 0.0
            down = lad.negative_experience * forgive[level] if bought else lad.drift_without_contact
            if level == L - 1:
                up = 0.0
            if level == 0:
                down = 0.0
            if up + down > 1:
                up, down = up / (up + down), down / (up + down)
            for target, prob in ((level + 1, up), (level - 1, down), (level, 1 - up - down)):
                if prob > 0:
                    P[level, target] += pk * prob * (1 - churn[target])
    start = np.array(seg.ladder_shares())
    delta = (1 + sc.economics.annual_discount_rate) ** (-1 / 12)
    dist, clv, survival = start.copy(), 0.0, [1.0]
    for t in range(months):
        clv += delta**t * dist @ reward
        dist = dist @ P
        survival.append(dist.sum())
    return clv, np.array(survival)


def test_ladder_matches_the_closed_form_markov_chain_clv():
    months, reps, size = 36, 16, 10_000
    silent = dict.fromkeys(LEVELS, 0)
    sc = scenario(
        size=size,
        months=months,
        replications=reps,
        seed=11,
        customers={
            "size": size,
            "acquisition": {"paid_per_month": 0},
            "segments": [{"name": "all", "share": 1, "purchase_rate_shape": 1000, "basket_cv": 0}],
            "word_of_mouth": {"listeners_per_month": silent, "complaint_listeners": silent},
        },
    )
    clv, survival = closed_form(sc, months)
    res = simulation.run(sc)
    sim_clv = per_replication(res, "clv_mean", "baseline")
    se = sim_clv.std(ddof=1) / np.sqrt(reps)
    tolerance = 4 * se + 1e-3 * clv
    assert abs(sim_clv.mean() - clv) < tolerance, (sim_clv.mean(), clv, se)
    for month in (12, 24, 36):
        sim = per_replication(res, f"retention_{month}m", "baseline")
        se = sim.std(ddof=1) / np.sqrt(reps)
        assert abs(sim.mean() - survival[month]) < 4 * se + 2e-3, (month, sim.mean(), survival[month])
    # the test has power: a modest change in a very satisfied customer's churn (1 % -> 1.5 % a
    # month, about -2.5 % of CLV) moves the closed form outside the same tolerance
    harsher = simulation.override(sc, {"customers.ladder.churn_per_month.very_satisfied": 0.015})
    assert abs(closed_form(harsher, months)[0] - sim_clv.mean()) > tolerance


def test_designs_with_the_same_seed_share_their_baseline_exactly():
    """Common random numbers across designs: the no-program twin is the same in both runs,
    even when one design brings in many more customers (referrals) than the other."""
    points = simulation.run(scenario(program={"points": {}}, replications=2))
    growth = {"points": {}, "referral": {"conversion": 0.9, "referral_probability": dict.fromkeys(LEVELS, 0.2)}}
    grown = simulation.run(scenario(program=growth, replications=2))
    assert (
        per_replication(grown, "acquisitions", "program").min()
        > 1.5 * per_replication(points, "acquisitions", "program").max()
    )
    a = points.replications[points.replications.arm == "baseline"].set_index(["replication", "metric"]).value
    b = grown.replications[grown.replications.arm == "baseline"].set_index(["replication", "metric"]).value
    common = a.index.intersection(b.index)
    # identical up to the rounding of sums over wider arrays
    assert len(common) > 40 and np.allclose(a[common], b[common], rtol=1e-12, atol=1e-9)
    for metric in ("purchases", "churned", "active_customers_end", "acquisitions"):
        assert (a.xs(metric, level="metric") == b.xs(metric, level="metric")).all()


@pytest.mark.parametrize("program", [ALL_INSTRUMENTS, {}], ids=["every instrument", "no program"])
def test_the_helper_thread_changes_no_number(monkeypatch, program):
    """A big replication hands work to a helper thread (simulation/helper.py): draws ahead, the
    baseline arm's month, half of each compaction. Forced on at a small size, every ledger
    figure and every customer's final state is bit for bit what one thread gives."""
    from simulation import helper
    from simulation.engine import Sim

    sc = scenario(program=program, size=3000, months=24)

    def run(threshold: int) -> Sim:
        monkeypatch.setattr(helper, "HELPER_MIN_CUSTOMERS", threshold)
        sim = Sim(sc, 1)
        assert sim.helper.on == (threshold == 0)
        return sim.run()

    one, two = run(10**9), run(0)
    assert one.people.n == two.people.n  # (compacted 4 times on the way, restored)
    assert list(one.ledger) == list(two.ledger)  # (the same figures, in the same order)
    for metric, values in one.ledger.items():
        assert np.array_equal(values, two.ledger[metric]), metric
    for name in [*one.people._template_names, *one.people._specs]:
        assert np.array_equal(getattr(one.people, name), getattr(two.people, name)), name
