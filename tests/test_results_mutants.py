"""Fast, exact checks of results.py, written for mutation testing (bench/mutation.sh results).

Each helper is run on tiny hand-built inputs whose right answer is worked out in the test
(by hand or by a plain loop that restates the definition); summarise_replication is run
on a 400-customer, 25-month simulation and checked against the identities that define its
figures and against golden values (see GOLDEN). The whole file runs in about a second.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import ALL_INSTRUMENTS, scenario

from simulation import pilot, results, runner, uncertainty
from simulation.engine import PROGRAM, Sim
from simulation.instruments.points import PointsModule
from simulation.instruments.tiers import TiersModule
from simulation.results import (
    PAYBACK_INTERVAL_MIN_SHARE,
    ReplicationResult,
    Results,
    _at_least,
    _by_arm,
    _clv_groups,
    _cohorts,
    _flows,
    _payback_month,
    _payback_rows,
    _percentiles,
    _stats,
    cohort_names,
    combine,
    payback,
    summarise_replication,
)
from simulation.schema import LEVELS

L = len(LEVELS)


# ---------------------------------------------------------------- payback
def test_payback_month_edges():
    # month 0 is ignored (a launch cost makes it negative in every real run)
    assert _payback_month(np.array([-9.0, 1, 2]), cost=1) == 1.0
    # the last negative month is the one before the horizon: pays back at the horizon
    assert _payback_month(np.array([0.0, -1, -1, 3]), cost=1) == 3.0
    assert isinstance(_payback_month(np.array([0.0, -1, -1, 3]), cost=1), float)
    # a tiny cost still counts as spent; a negative one does not
    assert _payback_month(np.array([0.0, 1]), cost=1e-9) == 1.0
    assert math.isnan(_payback_month(np.array([0.0, 1]), cost=-1.0))
    # only the last negative month matters, not the first
    assert _payback_month(np.array([0.0, -1, 5, -1, 5, 5]), cost=1) == 4.0


def _rep(r, cumulative, cost=100.0, T=4):
    cum = np.zeros((2, T + 1))
    cum[PROGRAM] = cumulative
    return ReplicationResult(
        r,
        {"net_profit_cumulative": cum},
        {"program_cost": np.array([0.0, cost]), "payback_month": _payback_month(cum[PROGRAM], cost)},
        np.zeros((2, L, L + 1)),
        [],
        np.zeros((2, 2, 2, T + 1)),
    )


def test_payback_interval_and_share():
    # four replications; three pay back in months 2, 3, 4 and one never; the mean curve
    # (0, -2.5, 1.75, 5.25, 1.75) is negative only in month 1: pays back in month 2
    curves = [[0, -1, 1, 2, 3], [0, -2, -1, 1, 2], [0, -3, -2, -1, 4], [0, -4, 9, 19, -2]]
    reps = [_rep(r, c) for r, c in enumerate(curves)]
    month, low, high, share = payback(reps)
    mean = np.mean(curves, axis=0)
    assert mean[1] < 0 and (mean[2:] >= 0).all()
    assert month == 2.0
    assert share == 0.75
    assert low == pytest.approx(np.percentile([2.0, 3.0, 4.0], 5), rel=1e-12)  # 2.1
    assert high == pytest.approx(np.percentile([2.0, 3.0, 4.0], 95), rel=1e-12)  # 3.9
    assert (low, high) == pytest.approx((2.1, 3.9), rel=1e-12)
    assert all(isinstance(x, float) for x in (low, high))


def test_payback_interval_at_exactly_the_minimum_share():
    assert PAYBACK_INTERVAL_MIN_SHARE == 0.5
    # two of four pay back (share exactly 0.5): the interval is given
    curves = [[0, 1, 1, 1, 1], [0, -1, 1, 1, 1], [0, 1, 1, 1, -1], [0, 1, 1, 1, -1]]
    month, low, high, share = payback([_rep(r, c) for r, c in enumerate(curves)])
    assert share == 0.5 and month == 1.0
    assert (low, high) == pytest.approx((np.percentile([1.0, 2.0], 5), np.percentile([1.0, 2.0], 95)))
    assert not math.isnan(low)


def test_payback_uses_the_mean_cost_and_the_program_arm():
    # the baseline row of the cumulative profit is subtracted
    rep = _rep(0, [0, 5, 5, 5, 5])
    rep.monthly["net_profit_cumulative"][0] = [0, 10, 0, 0, 0]  # incremental -5 in month 1
    assert payback([rep])[0] == 2.0
    # costs 0 and 1 average to 0.5 > 0: spent
    reps = [_rep(0, [0, 1, 1, 1, 1], cost=0.0), _rep(1, [0, 1, 1, 1, 1], cost=1.0)]
    assert payback(reps)[0] == 1.0
    # mean cost 0: nothing at all
    assert all(math.isnan(x) for x in payback([_rep(0, [0, 1, 1, 1, 1], cost=0.0)]))


def test_payback_rows_replace_the_payback_row_and_sort():
    summary = pd.DataFrame({
        "metric": ["roi", "payback_month", "clv_mean", "clv_mean"],
        "arm": ["incremental", "incremental", "program", "baseline"],
        "mean": [0.5, 99.0, 3.0, 2.0], "p05": [0.1, 99.0, 1.0, 1.0], "p95": [0.9, 99.0, 5.0, 4.0],
    })  # fmt: skip
    curves = [[0, -1, 1, 2, 3], [0, -2, -1, 1, 2]]
    out = _payback_rows(summary, [_rep(r, c) for r, c in enumerate(curves)])
    assert list(out.columns) == ["metric", "arm", "mean", "p05", "p95"]
    assert list(zip(out.metric, out.arm, strict=True)) == [
        ("clv_mean", "baseline"), ("clv_mean", "program"), ("payback_month", "incremental"),
        ("payback_share", "incremental"), ("roi", "incremental"),
    ]  # fmt: skip
    assert list(out.index) == [0, 1, 2, 3, 4]
    row = out[out.metric == "payback_month"].iloc[0]
    assert (row["mean"], row["p05"], row["p95"]) == pytest.approx(
        (2.0, np.percentile([2.0, 3.0], 5), np.percentile([2.0, 3.0], 95))
    )
    share = out[out.metric == "payback_share"].iloc[0]
    assert share["mean"] == 1.0 and math.isnan(share["p05"]) and math.isnan(share["p95"])
    assert out[out.metric == "roi"]["mean"].iloc[0] == 0.5


# ---------------------------------------------------------------- intervals
def test_percentiles_mix_nan_and_complete_columns_along_any_axis():
    data = np.array([[1.0, 10.0, np.nan], [2.0, np.nan, np.nan], [3.0, 30.0, 7.0], [4.0, 40.0, 9.0], [5.0, 50, 8]])
    p = _percentiles(data, (0, 50, 100), axis=0)
    assert np.array_equal(p[0], [1.0, 10.0, 7.0])
    assert np.array_equal(p[1], [3.0, 35.0, 8.0])
    assert np.array_equal(p[2], [5.0, 50.0, 9.0])
    # the same with replications along axis 1
    q = _percentiles(data.T.copy(), (50,), axis=1)
    assert len(q) == 1 and np.array_equal(q[0], [3.0, 35.0, 8.0])
    # no NaN at all: the fast path alone
    assert np.array_equal(_percentiles(data[:, :1], (25,), axis=0)[0], [2.0])
    # 3-d, axis 0 (the cube of monthly figures): the NaN cells only take the NaN path
    cube = np.arange(24.0).reshape(4, 3, 2)
    cube[0, 1, 1] = np.nan
    got = _percentiles(cube, (5, 95), axis=0)
    for k, q in enumerate((5, 95)):
        assert np.allclose(got[k], np.nanpercentile(cube, q, axis=0), rtol=0, atol=1e-12)
        assert got[k][1, 1] == pytest.approx(np.percentile([9.0, 15.0, 21.0], q))


def test_stats_along_axis_1_and_silence():
    data = np.array([[1.0, 2.0, 3.0, np.nan], [np.nan, np.nan, np.nan, np.nan]])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an all-NaN row must not warn
        mean, p05, p95 = _stats(data, axis=1)
    assert mean[0] == 2.0 and np.isnan(mean[1])
    assert p05[0] == pytest.approx(1.1) and p95[0] == pytest.approx(2.9)
    assert np.isnan(p05[1]) and np.isnan(p95[1])


def test_by_arm_is_program_baseline_and_the_paired_difference():
    values = np.array([[[1.0, 2.0], [10.0, 20.0]], [[3.0, 5.0], [4.0, 9.0]]])  # (R=2, arm, 2)
    out = _by_arm(values, axis=1)
    assert list(out) == ["program", "baseline", "incremental"]
    assert np.array_equal(out["program"], [[10.0, 20.0], [4.0, 9.0]])
    assert np.array_equal(out["baseline"], [[1.0, 2.0], [3.0, 5.0]])
    assert np.array_equal(out["incremental"], [[9.0, 18.0], [1.0, 4.0]])


# ---------------------------------------------------------------- cohorts
def test_at_least_counts_values_above_each_age():
    T = 4
    values = np.array([0, 1, 1, 3, 5, 5])  # ages 0..T+1
    got = _at_least(values, T)
    assert got.tolist() == [sum(v > a for v in values) for a in range(T + 1)] == [5, 3, 3, 2, 2]
    assert _at_least(np.array([], np.int64), T).tolist() == [0] * (T + 1)


def _fake(T, n0, **arrays):
    state = dict(arrays)
    return SimpleNamespace(T=T, n0=n0, view=lambda name: state[name], **{k: v for k, v in arrays.items()})


def test_cohorts_by_year_of_arrival_and_age():
    T = 13  # three cohorts: the starting base, year 1 (arrived at index 1..12), year 2 (13)
    assert cohort_names(T) == ["starting base", "arrived in year 1", "arrived in year 2"]
    assert cohort_names(12) == ["starting base", "arrived in year 1"]
    assert cohort_names(1) == ["starting base", "arrived in year 1"]
    #            base  base  y1   y1   y2   y1(unused in arm 0)
    arrived = [[0, 0, 1, 12, 13, 5], [0, 0, 1, 12, 13, 5]]
    churned = [[-1, 3, -1, 12, 13, -1], [-1, -1, 4, -1, -1, -1]]
    used = np.array([[True] * 5 + [False], [True] * 6])
    sim = _fake(T, 2, ti_arrived=np.array(arrived, np.int32), ti_churned=np.array(churned, np.int32))
    out = _cohorts(sim, used)
    assert out.shape == (2, 3, 2, T + 1)

    def expected(arm, cohort):
        obs, act = np.zeros(T + 1), np.zeros(T + 1)
        for j in range(6):
            m = arrived[arm][j]
            c = 0 if m == 0 else (m - 1) // 12 + 1
            if not used[arm, j] or c != cohort:
                continue
            for a in range(T + 1):
                if m + a <= T:  # observed a months after arriving
                    obs[a] += 1
                    ch = churned[arm][j]
                    act[a] += not (ch >= 0 and m <= ch <= m + a - 1)
        return obs, act

    for arm in (0, 1):
        for c in range(3):
            obs, act = expected(arm, c)
            assert np.array_equal(out[arm, c, 0], obs), (arm, c)
            assert np.array_equal(out[arm, c, 1], act), (arm, c)
    # by hand: the starting base in arm 0, one churned in month 3 (active at ages 0..3)
    assert out[0, 0, 0].tolist() == [2] * 14
    assert out[0, 0, 1].tolist() == [2] * 4 + [1] * 10
    # year 1 in arm 0: arrivals at index 1 (ages 0..12 observed, never churned) and 12
    # (ages 0..1 observed; churned in its month of arrival: active at age 0 only)
    assert out[0, 1, 0].tolist() == [2, 2] + [1] * 11 + [0]
    assert out[0, 1, 1].tolist() == [2] + [1] * 12 + [0]
    # year 2: arrived in the last month and churned in it: observed and active at age 0 only
    assert out[0, 2, 0].tolist() == [1] + [0] * 13 and out[0, 2, 1].tolist() == [1] + [0] * 13
    # arm 1 counts the slot arm 0 does not use (arrived at index 5, year 1)
    assert out[1, 1, 0].tolist() == [3, 3] + [2] * 7 + [1] * 4 + [0]


# ---------------------------------------------------------------- flows
def test_flows_from_start_level_to_end_level_or_churned():
    start = np.array([0, 0, 2, 5, 5, 1], np.int8)  # the sixth is an arrival: not counted
    level = np.array([[0, 3, 2, 5, 1, 1], [1, 3, 2, 4, 5, 1]], np.int8)
    alive = np.array([[True, True, False, True, True, True], [True, False, True, True, True, True]])
    people = SimpleNamespace(start_level=start, level=level, is_alive=alive)
    out = _flows(SimpleNamespace(n0=5, people=people))
    assert out.shape == (2, L, L + 1)
    want = np.zeros((2, L, L + 1))
    for arm, moves in ((0, [(0, 0), (0, 3), (2, L), (5, 5), (5, 1)]), (1, [(0, 1), (0, L), (2, 2), (5, 4), (5, 5)])):
        for i, j in moves:
            want[arm, i, j] += 1
    assert np.array_equal(out, want)


# ---------------------------------------------------------------- CLV groups
def _clv_sim(with_tiers: bool):
    n = 5
    people = SimpleNamespace(
        n=n,
        segment=np.array([0, 1, 1, 0, 1, 9], np.int8)[:n].copy(),
        source=np.array([[0, 0, 1, 2, 1], [0, 0, 3, 1, 1]], np.int8),
        tier=np.array([-1, 0, 1, 1, -1], np.int8),
    )
    value = np.array([[1.0, 2.0, 4.0, 8.0, 16.0], [10.0, 20.0, 40.0, 80.0, 160.0]])
    segments = [SimpleNamespace(name="light"), SimpleNamespace(name="heavy"), SimpleNamespace(name="none")]
    instruments = [PointsModule(None, None)]
    if with_tiers:
        tiers = SimpleNamespace(tiers=[SimpleNamespace(name="silver"), SimpleNamespace(name="gold")])
        instruments.append(TiersModule(tiers, None))
    sim = SimpleNamespace(people=people, view=lambda name: value, instruments=instruments,
                          sc=SimpleNamespace(customers=SimpleNamespace(segments=segments)))  # fmt: skip
    used = np.array([[True, True, True, True, False], [True] * 5])
    return sim, used


def test_clv_groups_by_segment_source_and_tier():
    sim, used = _clv_sim(with_tiers=True)
    out = _clv_groups(sim, used)
    got = {(g, label, arm): (int(n), float(mean)) for g, label, arm, n, mean in out}
    assert len(out) == len(got)
    assert got == {
        # baseline: slot 4 not used; sources 0, 0, 1, 2
        ("segment", "light", 0): (2, 4.5), ("segment", "heavy", 0): (2, 3.0),
        ("source", "initial", 0): (2, 1.5), ("source", "paid", 0): (1, 4.0),
        ("source", "word_of_mouth", 0): (1, 8.0),
        ("tier", "not a member", 0): (4, 3.75),
        # program: all five; sources 0, 0, 3, 1, 1; tiers -1, 0, 1, 1, -1
        ("segment", "light", 1): (2, 45.0), ("segment", "heavy", 1): (3, 220 / 3),
        ("source", "initial", 1): (2, 15.0), ("source", "paid", 1): (2, 120.0),
        ("source", "referral", 1): (1, 40.0),
        ("tier", "not a member", 1): (2, 85.0), ("tier", "silver", 1): (1, 20.0),
        ("tier", "gold", 1): (2, 60.0),
    }  # fmt: skip
    # the order: arm by arm, groups in order, labels in order, empty groups left out
    assert [(g, label, arm) for g, label, arm, _, _ in out][:6] == [
        ("segment", "light", 0), ("segment", "heavy", 0), ("source", "initial", 0), ("source", "paid", 0),
        ("source", "word_of_mouth", 0), ("tier", "not a member", 0),
    ]  # fmt: skip


def test_clv_groups_without_tiers_have_no_tier_rows():
    sim, used = _clv_sim(with_tiers=False)
    assert {g for g, *_ in _clv_groups(sim, used)} == {"segment", "source"}


# ---------------------------------------------------------------- combine
T4 = 4


def _full_rep(r: int, k: float) -> ReplicationResult:
    """A replication with two monthly metrics, plain and ratio and program-only summary
    figures, one flow, two CLV groups, cohorts and one sampled parameter; k scales it."""
    monthly = {
        "revenue": np.array([[0, 1, 2, 3, 4], [0, 2, 4, 6, 8]], float) * k,
        "net_profit_cumulative": np.array([[0, 1, 2, 3, 4], [0, 0, 3, 5, 9]], float) * k,
    }
    summary = {
        "revenue": np.array([10.0, 20.0]) * k,
        "engagement": np.array([0.0, 0.25 * k]),
        "roi": 0.5 * k,
        "program_cost": np.array([0.0, 7.0]),
        "payback_month": _payback_month(monthly["net_profit_cumulative"][1] - monthly["net_profit_cumulative"][0], 7),
    }
    flows = np.zeros((2, L, L + 1))
    flows[PROGRAM, 2, 3] = 4 * k
    flows[0, 2, L] = 2 * k
    # (in this order: the CLV table keeps the order groups first appear in)
    clv = [("source", "paid", 1, 2, 5.0 * k), ("segment", "all", 0, 3, 10.0 * k), ("segment", "all", 1, 4, 20.0 * k)]
    cohorts = np.zeros((2, 2, 2, T4 + 1))
    cohorts[:, 0, 0] = [[8], [4]]  # the starting base: 8 observed in the baseline, 4 in the program arm
    cohorts[:, 0, 1] = [[8, 6, 4, 4, 2], [4, 4, 3, 3, 2 * k]]
    cohorts[PROGRAM, 1, 0, :2] = 1  # year 1: one arrival in the program arm, observed at ages 0 and 1
    cohorts[PROGRAM, 1, 1, :1] = 1  # and active at age 0 only
    return ReplicationResult(r, monthly, summary, flows, clv, cohorts, {"p": float(r)})


def test_combine_builds_every_table():
    reps = [_full_rep(0, 1.0), _full_rep(1, 2.0)]
    res = combine(scenario(months=T4, replications=2), reps, seconds=1.5)
    assert res.seconds == 1.5
    # replications: plain metrics in three arms, ratios incremental only, engagement program only
    rows = {(r.replication, r.metric, r.arm): r.value for r in res.replications.itertuples()}
    assert rows[(1, "revenue", "program")] == 40.0
    assert rows[(1, "revenue", "baseline")] == 20.0
    assert rows[(1, "revenue", "incremental")] == 20.0
    assert rows[(0, "roi", "incremental")] == 0.5
    assert rows[(1, "engagement", "program")] == 0.5
    assert not {k for k in rows if k[1] == "engagement" and k[2] != "program"}
    assert not {k for k in rows if k[1] == "roi" and k[2] != "incremental"}
    assert len(rows) == 2 * (3 + 1 + 1 + 3 + 1)  # revenue, roi, engagement, program_cost, payback
    # summary: mean and 5-95 % over the two replications
    assert res.value("revenue") == 30.0
    assert res.value("revenue", "baseline") == 15.0
    assert res.value("revenue", "incremental", "p05") == pytest.approx(10.5)
    assert res.value("revenue", "incremental", "p95") == pytest.approx(19.5)
    assert res.value("roi", "incremental") == 0.75
    assert res.value("engagement") == 0.375
    assert math.isnan(res.value("engagement", "baseline"))
    assert res.value("payback_month", "incremental") == 2.0  # cumulative -1 in month 1, then >= 0
    assert res.value("payback_share", "incremental") == 1.0
    # monthly: month, metric, arm; sorted metrics, arms program, baseline, incremental
    m = res.monthly
    assert list(m.columns) == ["month", "metric", "arm", "mean", "p05", "p95"]
    assert len(m) == 3 * 2 * (T4 + 1)
    assert list(m.index) == list(range(len(m)))
    assert m.month.tolist()[: 2 * (T4 + 1)] == list(range(T4 + 1)) * 2
    assert m.metric.tolist()[:6] == ["net_profit_cumulative"] * 5 + ["revenue"]
    assert list(dict.fromkeys(m.arm)) == ["program", "baseline", "incremental"]
    rev = m[(m.metric == "revenue") & (m.arm == "incremental")]
    assert rev["mean"].tolist() == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert rev["p95"].tolist() == pytest.approx([0.0, 1.95, 3.9, 5.85, 7.8])
    base = m[(m.metric == "revenue") & (m.arm == "baseline")]
    assert base["p05"].tolist() == pytest.approx([0.0, 1.05, 2.1, 3.15, 4.2])
    # flows: mean over replications, program first, only non-zero cells
    assert res.flows.values.tolist() == [["program", LEVELS[2], LEVELS[3], 6.0],
                                         ["baseline", LEVELS[2], "churned", 3.0]]  # fmt: skip
    assert list(res.flows.columns) == ["arm", "from_level", "to_level", "customers"]
    # CLV: mean count and value, 5-95 % of the value
    assert list(res.clv.columns) == ["arm", "group_by", "group", "customers", "mean", "p05", "p95"]
    assert res.clv[["arm", "group_by", "group", "customers", "mean"]].values.tolist() == [
        ["program", "source", "paid", 2.0, 7.5], ["baseline", "segment", "all", 3.0, 15.0],
        ["program", "segment", "all", 4.0, 30.0],
    ]  # fmt: skip
    base = res.clv.iloc[1]
    assert base["p05"] == pytest.approx(10.5) and base["p95"] == pytest.approx(19.5)
    # cohorts: the starting base, and in the program arm one arrival of year 1; retention
    # paired by replication; rows where nobody was observed are left out
    c = res.cohorts
    assert list(c.columns) == ["arm", "cohort", "months_since_arrival", "customers", "mean", "p05", "p95"]
    assert list(c.index) == list(range(len(c)))
    prog = c[(c.arm == "program") & (c.cohort == "starting base")]
    assert prog.months_since_arrival.tolist() == [0, 1, 2, 3, 4]
    assert prog.customers.tolist() == [4.0] * 5
    assert c[c.arm == "baseline"].customers.tolist() == [8.0] * 5
    year1 = c[(c.arm == "program") & (c.cohort == "arrived in year 1")]
    assert year1.months_since_arrival.tolist() == [0, 1] and year1.customers.tolist() == [1.0, 1.0]
    assert year1["mean"].tolist() == [1.0, 0.0]
    inc1 = c[(c.arm == "incremental") & (c.cohort == "arrived in year 1")]
    assert inc1.customers.tolist() == [1.0, 1.0] and inc1["mean"].isna().all()  # no baseline to pair with
    c = c[c.cohort == "starting base"]
    assert prog["mean"].tolist() == pytest.approx([1.0, 1.0, 0.75, 0.75, 0.75])  # (0.5 + 1) / 2 at age 4
    inc = c[c.arm == "incremental"]
    assert inc["mean"].tolist() == pytest.approx([0.0, 0.25, 0.25, 0.25, 0.5])
    assert inc["p05"].iloc[-1] == pytest.approx(0.25 + 0.05 * 0.5)
    assert c[c.arm == "baseline"]["mean"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.5, 0.25])
    # the sampled parameters, and a table of their shares of the spread
    assert res.parameters.values.tolist() == [[0, "p", 0.0], [1, "p", 1.0]]
    assert list(res.parameters.columns) == ["replication", "parameter", "value"]
    assert res.sensitivity is not None


def test_combine_without_parameters_has_an_empty_sensitivity_table():
    reps = [_full_rep(0, 1.0)]
    reps[0].parameters = {}
    res = combine(scenario(months=T4, replications=1), reps)
    assert res.parameters.empty and res.sensitivity.empty
    assert res.seconds == 0.0


# ---------------------------------------------------------------- Results
def _results() -> Results:
    summary = pd.DataFrame({
        "metric": ["roi", "clv_mean", "clv_mean"], "arm": ["incremental", "program", "baseline"],
        "mean": [np.nan, 3.5, 2.0], "p05": [np.nan, 1.0, 0.5], "p95": [np.nan, 6, 4],
    })  # fmt: skip
    empty = pd.DataFrame()
    return Results(scenario(months=T4), summary, empty, empty, empty, empty, empty)


def test_results_value_summary_dict_and_json():
    res = _results()
    assert res.value("clv_mean") == 3.5
    assert res.value("clv_mean", "baseline") == 2.0
    assert res.value("clv_mean", "baseline", "p95") == 4.0
    assert res.value("clv_mean", stat="p05") == 1.0
    assert isinstance(res.value("clv_mean"), float)
    assert math.isnan(res.value("no_such_metric"))
    assert math.isnan(res.value("roi", "program"))
    d = res.summary_dict()
    assert d == {
        "roi": {"incremental": {"mean": None, "p05": None, "p95": None}},
        "clv_mean": {
            "program": {"mean": 3.5, "p05": 1.0, "p95": 6.0},
            "baseline": {"mean": 2.0, "p05": 0.5, "p95": 4.0},
        },
    }
    assert type(d["clv_mean"]["program"]["p95"]) is float
    assert json.loads(res.to_json()) == d
    assert res.to_json() == json.dumps(d, indent=2)
    assert res.extra == {} and res.parameters is None and res.sensitivity is None


# ---------------------------------------------------------------- workers
@pytest.fixture
def one_thread(monkeypatch):
    """A lone main thread on Linux with four CPUs and no LOJAL_WORKERS, whatever runs the tests."""
    monkeypatch.setattr(runner.sys, "platform", "linux")
    monkeypatch.setattr(runner.threading, "active_count", lambda: 1)
    monkeypatch.setattr(runner.multiprocessing, "parent_process", lambda: None)
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.delenv("LOJAL_WORKERS", raising=False)
    return monkeypatch


def _workers(sc, n_reps: int) -> int:
    """Processes for a run of `n_reps` replications of `sc` (both arms)."""
    return runner.local_workers(n_reps, sum(t.work() for t in runner.tasks_of(sc, n_reps)))


def test_workers_for_big_runs_only(one_thread):
    big = scenario(size=10_000, months=20, replications=10)  # 10,000 x 20 x 10 = PARALLEL_MIN_WORK
    assert 10_000 * 20 * 10 == runner.PARALLEL_MIN_WORK
    assert _workers(big, 10) == 4
    assert _workers(big, 9) == 1  # just below
    huge = scenario(size=20_000, months=60, replications=3)  # 3.6 million
    assert _workers(huge, 3) == 3  # not more than the replications
    assert _workers(huge, 1) == 1
    assert _workers(huge, 2) == 2
    one_thread.setattr(runner.os, "sched_getaffinity", lambda pid: {0})
    assert _workers(huge, 3) == 1  # one CPU: no pool


def test_workers_follow_lojal_workers(one_thread):
    small = scenario(size=200, months=12, replications=2)
    one_thread.setenv("LOJAL_WORKERS", "3")
    assert _workers(small, 2) == 2
    assert _workers(small, 5) == 3
    assert _workers(small, 1) == 1
    one_thread.setenv("LOJAL_WORKERS", "0")
    assert _workers(small, 5) == 1
    one_thread.setenv("LOJAL_WORKERS", "1")
    assert _workers(scenario(size=20_000, months=60, replications=3), 3) == 1


@pytest.mark.parametrize("unsafe", ["platform", "threads", "other_thread", "worker"])
def test_no_workers_where_forking_is_unsafe(one_thread, unsafe):
    one_thread.setenv("LOJAL_WORKERS", "4")
    if unsafe == "platform":
        one_thread.setattr(runner.sys, "platform", "darwin")
    elif unsafe == "threads":
        one_thread.setattr(runner.threading, "active_count", lambda: 2)
    elif unsafe == "other_thread":
        one_thread.setattr(runner.threading, "current_thread", lambda: object())
    else:
        one_thread.setattr(runner.multiprocessing, "parent_process", lambda: object())
    assert _workers(scenario(size=200, months=12, replications=4), 4) == 1


# ---------------------------------------------------------------- one replication
M = 25  # retention at 12 and 24 months, not 36


def _tiny(**kw) -> Sim:
    """400 customers, 25 months, every instrument, seed 7, replication 1: a run in which the
    program keeps two more of the starting base than the baseline and pays back in month 9."""
    return Sim(scenario(size=400, months=M, replications=1, program=ALL_INSTRUMENTS, **kw), 1).run()


def test_summary_of_a_replication_follows_from_its_ledger_and_customers():
    sim = _tiny(economics={"program_fixed_cost_per_month": 50.0})
    rep = summarise_replication(sim)
    s, led = rep.summary, rep.monthly
    n, n0 = sim.people.n, sim.n0
    # the ledger is a copy, with the derived rows added
    assert led["revenue"] is not sim.ledger["revenue"]
    assert np.array_equal(led["revenue"], sim.ledger["revenue"])
    cost = sum(sim.ledger[line] for line in sim.cost_lines if line in sim.ledger)
    assert np.allclose(led["program_cost"], cost, rtol=1e-12, atol=0)
    assert led["program_cost"][PROGRAM].sum() > 0 and led["cost_fixed"][PROGRAM].sum() == M * 50.0
    profit = sim.ledger["gross_margin"] - cost + led["fee_income"] - sim.ledger["acquisition_cost"]
    assert np.allclose(led["net_profit"], profit, rtol=1e-12, atol=1e-9)
    assert np.allclose(led["net_profit_cumulative"], np.cumsum(profit, axis=1), rtol=1e-12, atol=1e-9)
    for name in (*sim.cost_lines, "fee_income", "subscribers", "referrals", "points_liability"):
        assert led[name].shape == (2, M + 1)
    # totals and end-of-run values
    for name in ("revenue", "gross_margin", "program_cost", "fee_income", "acquisition_cost", "net_profit",
                 "referrals", "acquisitions", "purchases", "churned", *sim.cost_lines):  # fmt: skip
        assert np.array_equal(s[name], led[name].sum(axis=1)), name
    assert np.array_equal(s["retention_12m"], led["retention"][:, 12])
    assert np.array_equal(s["retention_24m"], led["retention"][:, 24])
    assert "retention_36m" not in s
    for name in ("active_customers", "members", "subscribers", "nps"):
        assert np.array_equal(s[f"{name}_end"], led[name][:, M]), name
    # CLV of the starting base and of arrivals
    value = sim.view("value")
    assert np.array_equal(s["clv_mean"], value[:, :n0].mean(axis=1))
    for arm in (0, 1):
        k = sim.people.n_used[arm]
        assert k > n0
        assert s["clv_acquired_mean"][arm] == pytest.approx(value[arm, n0:k].mean(), rel=1e-12)
    # the upsell share, engagement, loyalty index
    assert np.allclose(s["upsell_spend_share"], led["upsell"].sum(axis=1) / led["list_sales"].sum(axis=1), rtol=1e-12)
    months = led["members"][:, :M].sum(axis=1)
    assert s["engagement"][PROGRAM] == pytest.approx(led["active_members"][PROGRAM].sum() / months[PROGRAM])
    assert s["engagement"][0] == 0 and months[0] == 0
    index = 100 * (s["nps_end"] / 100 + s["repurchase_rate"] + s["upsell_spend_share"]) / 3
    assert np.allclose(s["loyalty_index"], index, rtol=1e-12)
    # ratios: program arm less baseline
    inc = s["net_profit"][PROGRAM] - s["net_profit"][0]
    assert s["roi"] == pytest.approx(inc / s["program_cost"][PROGRAM], rel=1e-12)
    cum = led["net_profit_cumulative"]
    assert (
        s["payback_month"] == _payback_month(cum[PROGRAM] - cum[0], s["program_cost"][PROGRAM]) == 14.0
    )  # 9 without the fixed cost
    alive = sim.view("is_alive")[:, :n0].sum(axis=1)
    extra = alive[PROGRAM] - alive[0]
    assert extra == 2
    assert s["cost_per_retained_customer"] == pytest.approx(s["program_cost"][PROGRAM] / 2, rel=1e-12)
    # flows, CLV groups and cohorts cover everyone once
    assert rep.flows.sum(axis=(1, 2)).tolist() == [n0, n0]
    assert rep.flows[:, :, L].sum(axis=1).tolist() == (n0 - alive).tolist()
    for arm in (0, 1):
        groups = [g for g in rep.clv_groups if g[2] == arm]
        for by in ("segment", "source", "tier"):
            assert sum(g[3] for g in groups if g[0] == by) == sim.people.n_used[arm], (arm, by)
    assert rep.cohorts[:, :, 0, 0].sum(axis=1).tolist() == sim.people.n_used.tolist()
    assert rep.cohorts[:, 0, 0, M].tolist() == [n0, n0]
    assert rep.cohorts[:, 0, 1, M].tolist() == alive.tolist()
    assert rep.replication == 1 and n >= sim.people.n_used.max()


# Golden values: summarise_replication of _tiny() (400 customers, 25 months, every instrument,
# seed 7, replication 1), printed once with this code (2026-12-02) and pasted here; they pin
# the figures the identities above do not (counts of churn and acquisitions, repurchase
# rates, the cost per retained customer, the instruments' own summaries). The engine is
# deterministic for a seed, so any change to these numbers is a change of the model.
GOLDEN: dict[str, tuple[float, float] | float] = {
    "acquisition_cost": (5000.0, 5000.0),
    "acquisitions": (298.0, 320.0),
    "active_customers_end": (427.0, 447.0),
    "breakage_rate": (0.0, 0.6017587025357788),
    "churned": (271.0, 273.0),
    "clv_acquired_mean": (81.31609378646779, 83.8427654687481),
    "clv_mean": (292.42410221591706, 295.44522195846304),
    "cost_club_access": (0.0, 32.5),
    "cost_discounts": (0.0, 2327.9762974680802),
    "cost_fixed": (0.0, 0.0),
    "cost_member_service": (0.0, 160.89999999999998),
    "cost_per_retained_customer": 1711.1131487340401,
    "cost_perks": (0.0, 130.0),
    "cost_referral_rewards": (0.0, 540.0),
    "cost_replaced_purchases": (0.0, 59.849999999999994),
    "cost_rewards": (0.0, 171.0),
    "cost_shipping": (0.0, 0.0),
    "engagement": (0.0, 0.5237140948563794),
    "fee_income": (0.0, 275.0),
    "gross_margin": (155252.7774788337, 162813.4266890027),
    "loyalty_index": (41.98126899351977, 41.8125887403253),
    "members_end": (0.0, 85.0),
    "net_profit": (150252.7774788337, 154666.20039153466),
    "nps_end": (16.627634660421545, 15.883668903803132),
    "payback_month": 9.0,
    "points_issued": (0.0, 93768.09341249525),
    "points_liability_end": (0.0, 285.4419099709122),
    "program_cost": (0.0, 3422.2262974680802),
    "purchases": (13424.0, 13900.0),
    "referrals": (0.0, 27.0),
    "repurchase_rate": (0.9478021978021978, 0.9478021978021978),
    "repurchase_rate_acquired": (0.923728813559322, 0.9007633587786259),
    "retention_12m": (0.7125, 0.7125),
    "retention_24m": (0.53, 0.535),
    "revenue": (443579.3642252394, 462682.24281396833),
    "roi": 1.289635029678253,
    "subscribers_end": (0.0, 3.0),
    "tier_downgrades": (0.0, 6.0),
    "tier_upgrades": (0.0, 47.0),
    "upsell_spend_share": (0.1453595253991799, 0.14773877536953012),
}


def test_summary_of_a_replication_golden_values():
    s = summarise_replication(_tiny()).summary
    assert set(s) == set(GOLDEN)
    for name, want in GOLDEN.items():
        got = s[name]
        assert np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9, atol=1e-9, equal_nan=True), name


def test_summary_without_a_window_or_cost():
    sim = Sim(scenario(size=100, months=11, replications=1, program={"points": {}}), 0).run()
    s = summarise_replication(sim).summary
    assert "retention_12m" not in s and "repurchase_rate" not in s and "loyalty_index" not in s
    sim = Sim(scenario(size=100, months=12, replications=1), 0).run()  # no program: nothing spent
    rep = summarise_replication(sim)
    s = rep.summary
    # every run reports the same monthly metrics: the cost lines, fees, subscribers, referrals
    # and liability as zeros when nothing produced them, and no others
    added = {"active_members", "cost_discounts", "cost_fixed", "cost_member_service", "cost_shipping", "fee_income",
             "net_profit", "net_profit_cumulative", "points_liability", "program_cost", "referrals", "subscribers"}  # fmt: skip
    assert set(rep.monthly) == set(sim.ledger) | added
    for name in added - {"net_profit", "net_profit_cumulative"}:
        assert not rep.monthly[name].any() and rep.monthly[name].shape == (2, 13), name
    assert "retention_12m" in s and "loyalty_index" in s
    assert math.isnan(s["roi"]) and math.isnan(s["payback_month"]) and math.isnan(s["cost_per_retained_customer"])
    assert s["points_liability_end"].tolist() == [0.0, 0.0] and s["breakage_rate"].tolist() == [0.0, 0.0]
    assert s["engagement"].tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- running replications
def _sampled():
    """A tiny scenario with one sampled parameter: a replication's values depend on the seed
    and on how many replications the run has (its Latin-hypercube stratum)."""
    ranges = {"program.points.goal_gradient": {"low": 0.0, "high": 1.0}}
    return scenario(size=60, months=3, replications=5, program={"points": {}}, uncertainty={"parameters": ranges})


def _same(a: list[ReplicationResult], b: list[ReplicationResult]) -> None:
    assert [r.replication for r in a] == [r.replication for r in b]
    for x, y in zip(a, b, strict=True):
        assert x.parameters == y.parameters
        assert set(x.summary) == set(y.summary)
        for k in x.summary:
            assert np.array_equal(x.summary[k], y.summary[k], equal_nan=True), k


def test_run_replication_uses_the_run_size_and_seed():
    sc = _sampled()
    rep = results.run_replication(sc, 1, seed=11, replications=3)
    assert rep.replication == 1
    assert rep.parameters == uncertainty.point(sc, 11, 3, 1)
    assert rep.parameters != uncertainty.point(sc, 11, 5, 1) != uncertainty.point(sc, 7, 3, 1)
    default = results.run_replication(sc, 1, seed=11)  # simulation.replications = 5
    assert default.parameters == uncertainty.point(sc, 11, 5, 1)
    assert results.run_replication(sc, 1).parameters == uncertainty.point(sc, 7, 5, 1)  # simulation.seed
    _same([rep], _here(sc, [1], 11, None, 3))
    # the sampled values are applied: the numbers are those of the scenario with them set
    applied = summarise_replication(Sim(uncertainty.apply(sc, rep.parameters), 1, 11).run())
    plain = summarise_replication(Sim(sc, 1, 11).run())
    assert np.array_equal(rep.summary["revenue"], applied.summary["revenue"])
    assert not np.array_equal(rep.summary["revenue"], plain.summary["revenue"])


def _here(sc, replications, seed, progress, n_reps):
    tasks = [runner.Task(sc, r, seed, n_reps) for r in replications]
    return runner._map_here(tasks, progress, None)


def _in_workers(sc, n_reps, seed, workers, progress):
    return runner._map_local(runner.tasks_of(sc, n_reps, seed), workers, progress, None)


def test_run_here_reports_progress_month_by_month():
    sc = _sampled()
    seen: list[float] = []
    reps = _here(sc, range(2), 11, seen.append, 2)
    assert seen == pytest.approx([(i + m / 3) / 2 for i in range(2) for m in (1, 2, 3)], rel=1e-15)
    assert [r.parameters for r in reps] == [uncertainty.point(sc, 11, 2, r) for r in range(2)]


def test_replications_in_workers_are_the_ones_run_here():
    sc = _sampled()
    seen: list[float] = []
    there = _in_workers(sc, 3, 11, 2, seen.append)
    _same(there, _here(sc, range(3), 11, None, 3))
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0], rel=1e-15)
    _same(_in_workers(sc, 2, 11, 2, None), _here(sc, range(2), 11, None, 2))


def test_a_broken_pool_falls_back_to_running_here(monkeypatch):
    import concurrent.futures
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            raise BrokenProcessPool("a worker died")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Broken)
    sc = _sampled()
    seen: list[float] = []
    reps = _in_workers(sc, 2, 11, 2, seen.append)
    _same(reps, _here(sc, range(2), 11, None, 2))
    assert seen == pytest.approx([(i + m / 3) / 2 for i in range(2) for m in (1, 2, 3)], rel=1e-15)


def test_run_in_workers_or_here_gives_the_same_results(monkeypatch):
    sc = _sampled()
    monkeypatch.setattr(runner, "local_workers", lambda n, work: 1)
    seen: list[float] = []
    here = results.run(sc, replications=2, seed=11, progress=seen.append)
    assert len(seen) == 6 and seen[-1] == pytest.approx(1.0)
    assert here.seconds > 0
    assert sorted(here.replications.replication.unique()) == [0, 1]
    assert here.seconds < 60  # the wall time of the run, not a clock reading
    assert here.extra["run"]["where"] == "here" and here.extra["run"]["tasks"] == 2
    assert here.extra["run"]["seed"] == 11 and here.extra["run"]["replications"] == 2
    assert here.extra["run"]["scenario_sha256"] == runner.scenario_hash(sc)
    monkeypatch.setattr(runner, "local_workers", lambda n, work: 2)
    pools = []
    in_workers = runner._map_local

    def spy(tasks, workers, progress, cancel):
        pools.append((len(tasks), tasks[0].seed, workers, progress))
        return in_workers(tasks, workers, progress, cancel)

    monkeypatch.setattr(runner, "_map_local", spy)
    there = results.run(sc, replications=2, seed=11, progress=seen.append)
    assert pools == [(2, 11, 2, seen.append)]  # two workers are enough to start a pool
    assert there.extra["run"]["where"] == "2 local processes"
    pd.testing.assert_frame_equal(here.replications, there.replications)
    pd.testing.assert_frame_equal(here.parameters, there.parameters)
    assert set(here.parameters.value) == {
        uncertainty.point(sc, 11, 2, r)["program.points.goal_gradient"] for r in (0, 1)
    }
    # the scenario's own size and seed when none are given
    monkeypatch.setattr(runner, "local_workers", lambda n, work: 1)
    default = results.run(sc)
    assert sorted(default.replications.replication.unique()) == [0, 1, 2, 3, 4]
    assert (
        default.parameters[default.parameters.replication == 1].value.iloc[0]
        == (uncertainty.point(sc, 7, 5, 1)["program.points.goal_gradient"])
    )
    with pytest.raises(ValueError, match="^replications must be >= 1$"):
        results.run(sc, replications=0)


# ---------------------------------------------------------------- edge cases, from a doctored run
def _plain_run(months=12):
    """A run without a program (nothing spent, both arms the same customers), whose ledger and
    customer arrays a test then edits to reach the edge cases a real run seldom does."""
    return Sim(scenario(size=100, months=months, replications=1), 0).run()


def test_end_of_run_values_are_the_last_month():
    sim = _plain_run()
    for k, name in enumerate(("active_customers", "members", "subscribers", "nps")):
        sim.ledger[name][:, -1] = [10.0 + k, 20.0 + k]
        sim.ledger[name][:, -2] = [-1.0, -1.0]
    s = summarise_replication(sim).summary
    for k, name in enumerate(("active_customers", "members", "subscribers", "nps")):
        assert s[f"{name}_end"].tolist() == [10.0 + k, 20.0 + k], name


def test_clv_of_arrivals_with_one_arrival_or_none():
    sim = _plain_run()
    n0, value = sim.n0, sim.view("value")
    assert (sim.people.n_used > n0 + 1).all()
    sim.people.n_used[:] = [n0 + 1, n0]  # one arrival in the baseline, none in the program arm
    s = summarise_replication(sim).summary
    assert s["clv_acquired_mean"].tolist() == [value[0, n0], 0.0]
    assert value[0, n0] != 0


def test_shares_per_arm_when_there_is_little_or_nothing_to_share():
    sim = _plain_run()
    led = sim.ledger
    led["list_sales"][:] = 0.0
    led["upsell"][:] = 0.0
    led["list_sales"][PROGRAM, 3] = 1.0  # a single unit of sales, a quarter of it upsell
    led["upsell"][PROGRAM, 3] = 0.25
    led["members"][:] = 0.0
    led["active_members"][:] = 0.0
    led["members"][0, 2] = 1.0  # one member-month (not in the engine's baseline: here to test the arms apart)
    led["active_members"][0, 2] = 0.5
    led["members"][PROGRAM, 1:4] = 4.0
    led["active_members"][PROGRAM, 1:4] = 3.0
    led["members"][PROGRAM, -1] = 100.0  # the last column is the end of the run: no month of membership
    s = summarise_replication(sim).summary
    assert s["upsell_spend_share"].tolist() == [0.0, 0.25]
    assert s["engagement"].tolist() == [0.5, 0.75]


def test_ratios_need_a_program_cost():
    sim = _plain_run()
    sim.ledger["gross_margin"][PROGRAM, 5] += 100.0  # an incremental profit with nothing spent
    alive = sim.people.is_alive
    j = np.flatnonzero(~alive[0, : sim.n0])[0]
    alive[PROGRAM, j] = True  # one more of the starting base kept
    s = summarise_replication(sim).summary
    assert s["program_cost"].tolist() == [0.0, 0.0]
    assert np.isnan(s["roi"]) and np.isnan(s["payback_month"]) and np.isnan(s["cost_per_retained_customer"])
    # a cost below one unit is still a cost
    sim.ledger["cost_fixed"][PROGRAM, 2] = 0.5
    s = summarise_replication(sim).summary
    assert s["program_cost"][PROGRAM] == 0.5
    assert s["roi"] == pytest.approx(99.5 / 0.5, rel=1e-12)
    assert s["cost_per_retained_customer"] == 0.5  # one customer kept
    assert s["payback_month"] == 5.0  # -0.5 from month 2, paid back in month 5
    alive[PROGRAM, j] = False  # nobody more kept: no cost per customer kept (not a division by 0)
    s = summarise_replication(sim).summary
    assert np.isnan(s["cost_per_retained_customer"]) and s["roi"] == pytest.approx(199.0, rel=1e-12)


def test_a_run_records_the_seed_and_replications_it_used():
    sc = scenario(size=150, months=6, replications=4, seed=7, program={"points": {}})
    assert results.as_run(sc, 4, 7) is sc  # nothing overridden: the scenario itself
    ran = results.as_run(sc, 3, 99)
    assert (ran.simulation.replications, ran.simulation.seed) == (3, 99)
    assert ran.model_dump(exclude={"simulation"}) == sc.model_dump(exclude={"simulation"})
    assert (sc.simulation.replications, sc.simulation.seed) == (4, 7)  # (the caller's is left as it was)
    res = results.run(sc, replications=2, seed=99)
    assert (res.scenario.simulation.replications, res.scenario.simulation.seed) == (2, 99)
    assert res.replications.replication.nunique() == 2


def test_an_instruments_totals_are_summed_per_arm_and_a_pilot_measured_in_every_replication():
    program = {"points": {}, "partner_benefits": {"use_share": 0.5}}
    sc = scenario(size=300, months=8, replications=2, seed=7, program=program,
                  pilot={"share": 0.4, "control_share": 0.4, "rollout_month": 6})  # fmt: skip
    reps = [summarise_replication(Sim(sc, r).run()) for r in range(2)]
    for rep in reps:
        for name in ("partner_points", "partner_earners", "partner_rewards"):
            assert np.array_equal(rep.summary[name], rep.monthly[name].sum(axis=1)), name
        assert rep.summary["partner_points"][PROGRAM] > 0 and rep.summary["partner_points"].shape == (2,)
        assert rep.pilot["pilot_customers"] > 0 and rep.pilot["control_customers"] > 0
    res = results.combine(sc, reps)
    assert res.rep_pilot == [rep.pilot for rep in reps]
    assert res.pilot is not None and len(res.pilot) > 0
    assert res.pilot.equals(pilot.table([rep.pilot for rep in reps], sc.pilot.alpha))
    # without a pilot: no measurements, no table
    bare = scenario(size=150, months=6, replications=1, program={"points": {}})
    plain = results.combine(bare, [summarise_replication(Sim(bare, 0).run())])
    assert plain.pilot is None and plain.rep_pilot == []


def test_a_run_goes_to_the_scheduler_it_is_given(monkeypatch):
    from simulation.scenario_io import ScenarioError

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", "1s")
    sc = scenario(size=100, months=3, replications=1)
    with pytest.raises(ScenarioError, match="--scheduler tcp://127.0.0.1:1: no Dask scheduler answers there"):
        results.run(sc, scheduler="tcp://127.0.0.1:1")
