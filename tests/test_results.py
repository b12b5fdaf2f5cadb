"""results.py on numbers that can be worked out by hand: payback, intervals, cost lines, ROI,
the cohort repurchase rate and the program-only metrics. Each test names the wrong figure it
is there to catch (a mutation the rest of the suite let through)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import scenario

import simulation
from simulation import export
from simulation.cli import format_table
from simulation.engine import PROGRAM, Sim
from simulation.results import (
    ReplicationResult,
    _payback_month,
    _repurchase,
    _stats,
    cohort_names,
    combine,
    payback,
    summarise_replication,
)
from simulation.schema import LEVELS

T = 12


# ---------------------------------------------------------------- payback
def test_payback_month_of_one_curve():
    # the first month from which the cumulative incremental profit stays >= 0 through T
    assert _payback_month(np.array([0, -5, -3, 2, -1, 4, 6.0]), cost=1) == 5
    assert _payback_month(np.array([0, -5, 0, 1, 2.0]), cost=1) == 2  # 0 counts as paid back
    assert _payback_month(np.array([0, 1, 2.0]), cost=1) == 1  # never negative
    assert math.isnan(_payback_month(np.array([0, -5, 3, -1.0]), cost=1))  # negative at the horizon
    assert math.isnan(_payback_month(np.array([0, 1, 2.0]), cost=0))  # nothing spent


def _rep(r: int, cumulative: np.ndarray, cost: float = 100.0) -> ReplicationResult:
    """A replication whose only content is its cumulative incremental profit (baseline 0)."""
    cum = np.zeros((2, T + 1))
    cum[PROGRAM, 1:] = cumulative
    profit = np.array([0.0, cum[PROGRAM, -1]])
    summary = {
        "program_cost": np.array([0.0, cost]),
        "net_profit": profit,
        "engagement": np.array([0.0, 0.5]),
        "roi": profit[PROGRAM] / cost if cost else np.nan,
        "payback_month": _payback_month(cum[PROGRAM], cost),
    }
    flows = np.zeros((2, len(LEVELS), len(LEVELS) + 1))
    cohorts = np.zeros((2, len(cohort_names(T)), 2, T + 1))
    clv = [("segment", "all", arm, 1, 0.0) for arm in (0, 1)]
    return ReplicationResult(r, {"net_profit_cumulative": cum}, summary, flows, clv, cohorts)


MONTHS = np.arange(1, T + 1)


def _combined(curves: list[np.ndarray], cost: float = 100.0):
    reps = [_rep(r, c, cost) for r, c in enumerate(curves)]
    return reps, combine(scenario(months=T, replications=len(reps)), reps)


def test_payback_when_every_replication_pays_back():
    paybacks = np.arange(2, 12)  # replication r pays back in month r + 2
    reps, res = _combined([10.0 * (MONTHS - m) for m in paybacks])
    # the mean curve is 10 (t - 6.5): >= 0 from month 7 (not the mean of the months, 6.5)
    assert res.value("payback_month", "incremental") == 7
    assert res.value("payback_share", "incremental") == 1.0
    assert res.value("payback_month", "incremental", "p05") == pytest.approx(np.percentile(paybacks, 5))
    assert res.value("payback_month", "incremental", "p95") == pytest.approx(np.percentile(paybacks, 95))
    from simulation.analysis import payback_caption

    caption = payback_caption(res.summary, 10, "month 2 to month 11")
    assert caption.startswith("10 of 10 runs pay back") and "month 2 to month 11" in caption
    assert "not within" not in format_table(res)


def test_payback_when_some_replications_pay_back_and_the_mean_does_not():
    # 3 of 10 pay back in month 5; the other 7 lose 50 a month: the mean never pays back
    curves = [10.0 * (MONTHS - 5)] * 3 + [-50.0 * MONTHS] * 7
    reps, res = _combined(curves)
    assert math.isnan(res.value("payback_month", "incremental"))  # not 5, the mean of the 3
    assert res.value("payback_share", "incremental") == pytest.approx(0.3)
    assert math.isnan(res.value("payback_month", "incremental", "p05"))  # too few for an interval
    # the per-replication values stay in the replications table
    per_rep = res.replications[res.replications.metric == "payback_month"].value
    assert per_rep.notna().sum() == 3
    # CLI table, JSON, exports and the app card say so
    table = format_table(res)
    line = next(row for row in table.splitlines() if row.startswith("payback_month"))
    assert "  not within the horizon" in line  # (its own column: not glued to the baseline's "–")
    assert "3 of 10 runs" in next(row for row in table.splitlines() if row.startswith("payback_share"))
    data = json.loads(res.to_json())
    assert data["payback_month"]["incremental"]["mean"] is None
    assert data["payback_share"]["incremental"]["mean"] == pytest.approx(0.3)
    note = "not within the 12-month horizon; 3 of 10 replications pay back"
    csv = pd.read_csv(io.BytesIO(export.summary_csv(res)))
    assert csv.loc[csv.metric == "payback_month", "note"].iloc[0] == note
    book = pd.read_excel(io.BytesIO(export.excel_bytes(res)), sheet_name="Summary")
    assert book.loc[book.Metric == "Payback month", "Note"].iloc[0] == note
    from simulation.analysis import payback_caption

    assert payback_caption(res.summary, 10, "–") == "3 of 10 runs pay back"


def test_payback_of_the_mean_without_an_interval_when_fewer_than_half_pay_back():
    # 4 of 10 pay back in month 2 and strongly; the mean curve pays back in month 3
    curves = [1000.0 * (MONTHS - 2)] * 4 + [-10.0 * MONTHS] * 6
    _, res = _combined(curves)
    assert res.value("payback_month", "incremental") == 3
    assert res.value("payback_share", "incremental") == pytest.approx(0.4)
    assert math.isnan(res.value("payback_month", "incremental", "p05"))
    assert math.isnan(res.value("payback_month", "incremental", "p95"))
    csv = pd.read_csv(io.BytesIO(export.summary_csv(res)))
    assert csv.loc[csv.metric == "payback_month", "note"].iloc[0].endswith("(too few for an interval)")


def test_no_payback_interval_when_the_mean_does_not_pay_back_even_if_most_runs_do():
    curves = [10.0 * (MONTHS - 11)] * 6 + [-1000.0 * MONTHS] * 4
    month, low, high, share = payback([_rep(r, c) for r, c in enumerate(curves)])
    assert math.isnan(month) and math.isnan(low) and math.isnan(high)
    assert share == pytest.approx(0.6)


def test_no_payback_without_a_program_cost():
    _, res = _combined([10.0 * MONTHS] * 3, cost=0.0)
    assert math.isnan(res.value("payback_month", "incremental"))
    assert math.isnan(res.value("payback_share", "incremental"))
    line = next(row for row in format_table(res).splitlines() if row.startswith("payback_month"))
    assert "not within" not in line


# ---------------------------------------------------------------- intervals
def test_stats_are_the_mean_and_the_5th_and_95th_percentiles():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(23, 4))
    data[[2, 7], 1] = np.nan  # NaN left out, column by column
    data[:, 3] = np.nan  # undefined in every replication
    mean, p05, p95 = _stats(data)
    for j in range(3):
        col = data[:, j][~np.isnan(data[:, j])]
        assert mean[j] == pytest.approx(col.mean(), rel=1e-12)
        assert p05[j] == pytest.approx(np.percentile(col, 5), rel=1e-12)
        assert p95[j] == pytest.approx(np.percentile(col, 95), rel=1e-12)
        assert p95[j] != pytest.approx(np.percentile(col, 90), rel=1e-6)
    assert np.isnan([mean[3], p05[3], p95[3]]).all()


# ---------------------------------------------------------------- cost lines, profit, ROI
ECONOMICS = {"program_fixed_cost_per_month": 1000.0, "launch_cost": 50_000.0, "cost_per_member_per_month": 2.0}


def _summary(**economics) -> dict[str, np.ndarray]:
    sc = scenario(size=400, months=T, replications=1, program={"points": {}}, economics=economics)
    return summarise_replication(Sim(sc, 0).run()).summary


def test_program_cost_is_the_sum_of_every_cost_line_including_member_service_and_fixed():
    s = _summary(**ECONOMICS)
    assert s["cost_fixed"][PROGRAM] == T * 1000.0 + 50_000.0  # launch cost in month 1
    assert s["cost_member_service"][PROGRAM] > 0
    lines = ("cost_discounts", "cost_shipping", "cost_member_service", "cost_fixed", "cost_rewards",
             "cost_replaced_purchases")  # fmt: skip
    # rewards that replace a paid purchase cost the margin given up on it too
    assert s["cost_rewards"][PROGRAM] > 0 and s["cost_replaced_purchases"][PROGRAM] > 0
    assert s["program_cost"][PROGRAM] == pytest.approx(sum(s[line][PROGRAM] for line in lines), rel=1e-12)
    assert s["program_cost"][0] == 0
    # costs that change no behaviour come straight off the profit, the same customers otherwise
    free = _summary()
    assert np.array_equal(free["revenue"], s["revenue"])
    extra = s["cost_fixed"][PROGRAM] + s["cost_member_service"][PROGRAM] - free["cost_member_service"][PROGRAM]
    assert s["program_cost"][PROGRAM] - free["program_cost"][PROGRAM] == pytest.approx(extra, rel=1e-12)
    assert free["net_profit"][PROGRAM] - s["net_profit"][PROGRAM] == pytest.approx(extra, rel=1e-9)
    profit = s["gross_margin"] - s["program_cost"] + s["fee_income"] - s["acquisition_cost"]
    assert np.allclose(profit, s["net_profit"], rtol=1e-12)


def test_roi_is_incremental_profit_over_program_cost_with_its_sign():
    s = _summary(**ECONOMICS)  # 62,000 of fixed costs on 400 customers: a loss
    incremental = s["net_profit"][PROGRAM] - s["net_profit"][0]
    assert incremental < 0
    assert s["roi"] == pytest.approx(incremental / s["program_cost"][PROGRAM], rel=1e-12)
    assert s["roi"] < 0
    assert math.isnan(s["payback_month"])  # a loss at the horizon never pays back
    cheap = _summary(cost_per_member_per_month=0.0)  # points alone, nothing fixed: a gain
    gain = cheap["net_profit"][PROGRAM] - cheap["net_profit"][0]
    assert gain > 0 and cheap["roi"] == pytest.approx(gain / cheap["program_cost"][PROGRAM], rel=1e-12)
    assert cheap["roi"] > 0


def test_summary_roi_is_the_mean_of_the_replications():
    curves = [10.0 * (MONTHS - m) for m in (3, 5, 9)]
    reps, res = _combined(curves)
    expected = np.mean([c[-1] / 100.0 for c in curves])
    assert res.value("roi", "incremental") == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- program-only metrics
def test_engagement_has_no_baseline_and_no_incremental_row():
    _, res = _combined([10.0 * MONTHS] * 2)
    rows = res.summary[res.summary.metric == "engagement"]
    assert list(rows.arm) == ["program"]
    assert set(res.summary_dict()["engagement"]) == {"program"}
    line = next(row for row in format_table(res).splitlines() if row.startswith("engagement"))
    assert line.split()[1:] == ["50.0", "%", "–", "–"]


# ---------------------------------------------------------------- cohort repurchase rate
class _Customers:
    """Enough of a Sim for the repurchase bookkeeping: month, view(), T, n0."""

    def __init__(self, n: int, n0: int, months: int):
        self.T, self.n0, self.month = months, n0, 0
        self.state = {"ti_first_purchase": np.full((2, n), -1, np.int32), "repurchased": np.zeros((2, n), bool)}

    def view(self, name):
        return self.state[name]


def test_repurchase_rate_counts_a_second_purchase_within_12_months_of_the_first():
    months = 14  # first purchases in months 0..2 have their whole 12-month window observed
    purchases = {  # customer -> {month: purchases}
        0: {0: 1, 11: 1},  # again in the 12th month of the window: repurchased
        1: {0: 1, 12: 3},  # again only in month 13 of the window: not
        2: {1: 2},  # twice in the first month: repurchased
        3: {3: 1, 4: 1},  # (arrival) first purchase too late for a whole window: not counted
        4: {},  # (arrival) never buys: not counted
        5: {2: 1},  # (arrival) once: counted, not repurchased
    }
    c = _Customers(len(purchases), n0=3, months=months)
    for month in range(months):
        c.month = month
        k = np.array([purchases[i].get(month, 0) for i in range(len(purchases))])
        Sim._first_purchases(c, np.stack([k, k]))
    assert c.state["ti_first_purchase"][0].tolist() == [0, 0, 1, 3, -1, 2]
    s: dict[str, np.ndarray] = {}
    _repurchase(c, np.ones((2, len(purchases)), bool), s)
    assert s["repurchase_rate"].tolist() == [2 / 3, 2 / 3]
    assert s["repurchase_rate_acquired"].tolist() == [0.0, 0.0]


def test_repurchase_rate_is_not_reported_for_horizons_shorter_than_its_window():
    res = simulation.run(scenario(size=300, months=11, replications=1, program={"points": {}}))
    assert not {"repurchase_rate", "loyalty_index"} & set(res.summary.metric)
    res = simulation.run(scenario(size=300, months=12, replications=1, program={"points": {}}))
    assert 0 < res.value("repurchase_rate") <= 1
    s = res.summary_dict()
    index = 100 * (s["nps_end"]["program"]["mean"] / 100 + s["repurchase_rate"]["program"]["mean"])
    index += 100 * s["upsell_spend_share"]["program"]["mean"]
    assert res.value("loyalty_index") == pytest.approx(index / 3, rel=1e-12)


# ---------------------------------------------------------------- provisional results
def test_replications_combined_as_they_arrive_end_with_the_numbers_of_run():
    sc = scenario(size=500, months=T, replications=4, program={"points": {}})
    reps = [simulation.run_replication(sc, r) for r in (2, 0, 3, 1)]  # the order they finished in
    first = combine(sc, reps[:1], planned=4)
    assert (first.done, first.planned, first.provisional) == (1, 4, True)
    assert set(first.replications.replication) == {2}
    two = combine(sc, reps[:2], planned=4)
    assert two.done == 2 and two.provisional
    # the interval of two replications is theirs (5-95 % of the pair), the mean their mean
    pair = two.replications[(two.replications.metric == "net_profit") & (two.replications.arm == "incremental")]
    assert two.value("net_profit", "incremental") == pytest.approx(pair.value.mean())
    assert two.value("net_profit", "incremental", "p95") == pytest.approx(np.percentile(pair.value, 95))
    final, whole = combine(sc, reps, planned=4), simulation.run(sc)
    assert (final.done, final.planned, final.provisional) == (4, 4, False)
    assert (whole.done, whole.planned, whole.provisional) == (4, 4, False)
    for name in ("summary", "monthly", "replications", "flows", "clv", "cohorts", "parameters"):
        pd.testing.assert_frame_equal(getattr(final, name), getattr(whole, name), check_exact=True)


def test_every_ratio_metric_is_shown_as_a_figure_not_a_change():
    """ROI, payback and cost per retained customer exist only as program-against-twin figures:
    their incremental value is shown unsigned (metrics.CONTRASTS must hold every one)."""
    from simulation import metrics
    from simulation.results import RATIO_METRICS

    assert set(RATIO_METRICS) <= set(metrics.CONTRASTS)
    assert metrics.shown("roi", 0.895, "incremental") == "89.5 %"
    assert metrics.shown("net_profit", 6.19e6, "incremental") == "+kr 6.19 M"
    assert metrics.shown("retention_12m", -0.00001, "incremental") == "0.0 pp"


def test_the_baseline_course_says_where_the_customers_go_without_the_program():
    from simulation import analysis
    from simulation.metrics import fmt

    res = simulation.run(scenario(size=1500, months=12, replications=2))
    text = analysis.baseline_course(res)
    end = res.value("active_customers_end", "baseline")  # (the summary: not the series the text reads)
    assert f"1,500 customers today and {end:,.0f} in month 12" in text
    nps = res.monthly[(res.monthly.metric == "nps") & (res.monthly.arm == "baseline")].sort_values("month")["mean"]
    assert f"NPS {fmt(nps.iloc[0], 'score', signed=True)} today and {fmt(nps.iloc[-1], 'score', signed=True)}" in text
    # a closed cohort (no advertising, nobody listens) only shrinks: a growth in %, with its sign
    closed = scenario(size=1500, months=12, replications=2,
                      customers={"size": 1500, "acquisition": {"paid_per_month": 0},
                                 "word_of_mouth": {"conversion_per_listener": 0.0}})  # fmt: skip
    assert ("HOLD sets the ladder" in analysis.baseline_course(res, "HOLD")) == (
        abs(nps.iloc[-1] - nps.iloc[0]) > analysis.NPS_DRIFT
    )  # (only where NPS moves by more than NPS_DRIFT)
    # frequent buyers over three years: NPS climbs by more than NPS_DRIFT, and the course says how to hold it
    climbs = simulation.run(scenario(size=1500, months=36, replications=2,
                                     customers={"size": 1500, "segments": [{"purchases_per_month": 8.0}]}))  # fmt: skip
    nps = climbs.monthly[(climbs.monthly.metric == "nps") & (climbs.monthly.arm == "baseline")].sort_values("month")["mean"]
    assert nps.iloc[-1] - nps.iloc[0] > analysis.NPS_DRIFT
    assert analysis.baseline_course(climbs, "HOLD").endswith(f"HOLD sets the ladder so that it stays at "
                                                             f"{fmt(nps.iloc[0], 'score', signed=True)}.")  # fmt: skip
    assert "sets the ladder" not in analysis.baseline_course(climbs)  # (the report: no command to name)
    gone = simulation.run(closed)
    shrink, share = analysis.baseline_course(gone), 1 - gone.value("active_customers_end", "baseline") / 1500
    assert f"(-{fmt(share, 'share')})" in shrink and "pp" not in shrink
