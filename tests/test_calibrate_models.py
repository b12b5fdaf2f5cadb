"""Calibration: reading transaction logs, and the classical models against their published
estimates on the CDNOW data (data/cdnow, data/retention-cohorts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.calibrate import bgnbd, gammagamma, paretonbd, sbg
from simulation.calibrate import transactions as tx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "cdnow" / "cdnow_sample.csv"
COLUMNS = tx.Columns("customer_id", "date", "amount")


@pytest.fixture(scope="module")
def cdnow():
    log = tx.read_transactions(SAMPLE, COLUMNS)
    summary = tx.summarize(log, "1997-09-30", "1998-06-30")
    c = summary.customers
    return log, summary, c.x.to_numpy(float), c.t_x.to_numpy(), c["T"].to_numpy()


def test_cdnow_sample_summary_matches_the_literature(cdnow):
    log, summary, x, t_x, T = cdnow
    # 2,357 customers, 2,457 repeat transactions in weeks 1-39 (Fader, Hardie & Lee 2005)
    assert len(summary.customers) == 2357
    assert x.sum() == 2457
    assert summary.weeks_holdout == 39
    assert T.max() == pytest.approx(272 / 7)  # first bought 1997-01-01
    curve = tx.weekly_repeat_curve(log, summary)
    assert len(curve) == 78 and curve.iloc[-1] == x.sum() + summary.customers.x_holdout.sum()


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow):
    _, _, x, t_x, T = cdnow
    fit = bgnbd.fit(x, t_x, T)
    assert fit["r"] == pytest.approx(0.243, abs=0.001)
    assert fit["alpha"] == pytest.approx(4.414, abs=0.002)
    assert fit["a"] == pytest.approx(0.793, abs=0.001)
    assert fit["b"] == pytest.approx(2.426, abs=0.002)
    assert fit["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    # the expected repeat transactions of a new customer in 39 weeks times the customers
    # equal the calibration total within a few percent (the model fits)
    expected = bgnbd.expected_unconditional(fit, T).sum()
    assert expected == pytest.approx(x.sum(), rel=0.03)


def test_pareto_nbd_reproduces_the_fader_hardie_note(cdnow):
    _, _, x, t_x, T = cdnow
    fit = paretonbd.fit(x, t_x, T)
    assert fit["r"] == pytest.approx(0.553, abs=0.002)
    assert fit["alpha"] == pytest.approx(10.578, abs=0.02)
    assert fit["s"] == pytest.approx(0.606, abs=0.002)
    assert fit["beta"] == pytest.approx(11.669, abs=0.03)
    assert fit["log_likelihood"] == pytest.approx(-9595.0, abs=0.1)
    alive = paretonbd.p_alive(fit, x, t_x, T)
    assert np.all((alive > 0) & (alive <= 1))
    # a customer who bought often and lately is more likely alive than one who stopped early
    assert (
        paretonbd.p_alive(fit, np.array([5.0]), np.array([38.0]), np.array([39.0]))[0]
        > paretonbd.p_alive(fit, np.array([5.0]), np.array([5.0]), np.array([39.0]))[0]
    )


def test_gamma_gamma_reproduces_fader_hardie(cdnow):
    log, summary, x, _, _ = cdnow
    fit = gammagamma.fit(x, summary.customers.monetary.to_numpy())
    assert fit["p"] == pytest.approx(6.25, abs=0.01)
    assert fit["q"] == pytest.approx(3.74, abs=0.01)
    assert fit["gamma"] == pytest.approx(15.44, abs=0.02)


def test_sbg_reproduces_fader_hardie_2007():
    regular = sbg.fit([1000, 631, 468, 382, 326, 289, 262, 241])
    high_end = sbg.fit([1000, 869, 743, 653, 593, 551, 517, 491])
    assert (regular["alpha"], regular["beta"]) == pytest.approx((0.704, 1.182), abs=0.001)
    assert (high_end["alpha"], high_end["beta"]) == pytest.approx((0.668, 3.806), abs=0.001)
    assert sbg.survival(0.704, 1.182, 8)[1] == pytest.approx(1 - 0.704 / 1.886, abs=1e-9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("customer_id,date,amount\n", "no rows"),
        ("cust,date,amount\n1,2020-01-01,3\n", "no column 'customer_id' (the columns are: cust, date, amount)"),
        ("customer_id,date,amount\n1,2020-01-01,3\n2,yesterday,4\n", "row 3, column 'date': not a date"),
        ("customer_id,date,amount\n1,2020-01-01,abc\n", "row 2, column 'amount': not a number (got 'abc')"),
        ("customer_id,date,amount\n1,2020-01-01,-5\n", "row 2, column 'amount': a negative amount"),
        ("customer_id,date,amount\n,2020-01-01,5\n", "row 2, column 'customer_id': a customer id is missing"),
    ],
)
def test_bad_transaction_files_name_row_and_column(text, message):
    with pytest.raises(tx.DataError) as err:
        tx.read_transactions(text.encode(), COLUMNS, name="log.csv")
    assert message in str(err.value)
    assert str(err.value).startswith("log.csv")


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("customer_id,date,amount\n" + "1,2020-01-01,3\n" * 1000)
    with pytest.raises(tx.DataError, match="the limit is"):
        tx.read_transactions(path, COLUMNS, name="big.csv", max_bytes=1000)


def test_same_day_purchases_are_one_transaction_and_formats_are_read():
    text = "who;when;value\nA;03.01.2020;5\nA;03.01.2020;7\nB;04.01.2020;1\nA;10.02.2020;2\n"
    log = tx.read_transactions(text.encode(), tx.Columns("who", "when", "value"))
    assert log.to_dict("list") == {
        "customer": ["A", "A", "B"],
        "date": list(pd.to_datetime(["2020-01-03", "2020-02-10", "2020-01-04"])),
        "amount": [12.0, 2.0, 1.0],
    }


def test_churn_multiplier_one_changes_nothing_and_scales_churn():
    from simulation.results import run
    from tests.helpers import scenario

    plain = run(scenario(size=1500, months=12, replications=2))
    ones = run(scenario(size=1500, months=12, replications=2, customers={"segments": [{"churn_multiplier": 1.0}]}))
    more = run(scenario(size=1500, months=12, replications=2, customers={"segments": [{"churn_multiplier": 2.0}]}))
    assert plain.monthly.equals(ones.monthly)

    def churned(res):
        rows = res.monthly[(res.monthly.metric == "churned") & (res.monthly.arm == "baseline")]
        return rows["mean"].sum()

    assert churned(more) > 1.6 * churned(plain)


def test_retention_cohorts_are_read_and_both_models_project_them():
    from simulation.calibrate import retention
    from simulation.schema import Scenario

    cohorts = retention.read_cohorts(ROOT / "data" / "retention-cohorts" / "sbg_cohorts.csv")
    assert cohorts["regular"].tolist() == [1000, 631, 468, 382, 326, 289, 262, 241]
    assert cohorts["highend"].tolist() == [1000, 869, 743, 653, 593, 551, 517, 491]
    out = retention.project(cohorts["highend"], Scenario(), years=8, fit_years=5)
    assert out["sbg"]["survivors"][0] == pytest.approx(1000) and out["agent"]["survivors"][0] == pytest.approx(1000)
    # fitted on years 0-4, both project year 7 within 15 % of the 491 who stayed
    assert out["sbg"]["survivors"][7] == pytest.approx(491, rel=0.15)
    assert out["agent"]["survivors"][7] == pytest.approx(491, rel=0.15)
    scenario = retention.scenario_with({"highend": out}, Scenario())
    assert scenario.customers.segments[0].churn_multiplier == pytest.approx(out["agent"]["churn_multiplier"], abs=1e-4)


def test_bad_cohort_file_names_row_and_column():
    from simulation.calibrate import retention

    with pytest.raises(tx.DataError, match=r"row 3, column 'recency': a whole number"):
        retention.read_cohorts(b"customer_id,recency,T,cohort\n1,2,8,a\n2,x,8,a\n", name="c.csv")
