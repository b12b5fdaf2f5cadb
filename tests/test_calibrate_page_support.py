"""The engine functions the app's Calibrate page stands on (simulation/calibrate): column
guesses, the default period, the checks of a log's columns, the tables and the curve the page
shows, the progress it reports, and the classical fits on distinct histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.calibrate import agent_fit, bgnbd, commands, paretonbd, synthetic
from simulation.calibrate import transactions as tx
from simulation.calibrate.optimize import distinct
from simulation.schema import LEVEL_LABELS, Scenario

START_LADDER = np.array([0.0, 0.1, 0.3, 0.3, 0.2, 0.1])
CAL_END, HOLD_END = synthetic.START + pd.Timedelta(days=240), synthetic.START + pd.Timedelta(days=360)


def small_log(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """A log drawn from the agent model (two churn segments), quick to fit."""
    ladder = agent_fit.Ladder.of(Scenario())
    return synthetic.agent_log(n, 0.5, 1.0, ladder, START_LADDER, churn_multipliers=(0.3, 3.0), shares=(0.5, 0.5),
                               days=360, seed=seed)  # fmt: skip


@pytest.fixture(scope="module")
def fitted():
    log = small_log()
    said: list[str] = []
    out = commands.calibrate_log(log, "folder/shop.csv", CAL_END, HOLD_END, replications=2, progress=said.append)
    return log, out, said


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["customer_id", "date", "cds", "amount"], ("customer_id", "date", "amount")),
        (["Client ID", "Purchase date", "Net amount"], ("Client ID", "Purchase date", "Net amount")),
        (["order", "id", "day", "value"], ("id", "day", "value")),
        (["when", "total", "member"], ("member", "when", "total")),
        (["a", "b", "c"], ("a", "b", "c")),  # nothing telling: in order
        (["a", "b"], ("a", "b", "")),  # (too few: the check of the columns says so)
    ],
)
def test_the_columns_are_guessed_from_the_header(header, expected):
    assert tuple(vars(tx.guess_columns(header)).values()) == expected


def test_the_default_period_calibrates_on_two_thirds_of_the_days():
    log = pd.DataFrame({"customer": ["a", "b"], "date": pd.to_datetime(["2020-01-01", "2020-01-31"]), "amount": 1.0})
    assert tx.default_period(log) == (pd.Timestamp("2020-01-21"), pd.Timestamp("2020-01-31"))


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        ("id,day\nc1,2020-01-01\n", ("id", "day", ""), "a log needs three columns (customer, date, amount); the header has 2: id, day"),
        ("id,day,value\nc1,2020-01-01,3\n", ("id", "day", "day"), "the customer, date and amount must be three different columns (got 'id', 'day', 'day')"),
        ("id,day,value\nc1,2020-01-01,3\n", ("id", "day", "amount"), "no column 'amount' (the columns are: id, day, value)"),
        ("id,day,store\nc1,2020-01-01,north\n", ("id", "day", "store"), "row 2, column 'store': not a number (got 'north')"),
    ],
)  # fmt: skip
def test_columns_that_cannot_make_a_log_are_named(text, columns, message):
    table = tx.read_table(text.encode(), "shop.csv")
    with pytest.raises(tx.DataError) as caught:
        tx.transactions_of(table, tx.Columns(*columns), "shop.csv")
    assert caught.value.problems == [f"shop.csv: {message}"]


def test_an_oversized_file_is_refused_before_it_is_read():
    with pytest.raises(tx.DataError) as caught:
        tx.read_table(b"x" * 1_500_000, "big.csv", max_bytes=1_000_000)
    assert caught.value.problems == ["big.csv: the file is 1.5 MB; the limit is 1.0 MB"]


def test_the_period_check_names_the_ends_as_the_caller_does():
    log = pd.DataFrame({"customer": ["a"], "date": pd.to_datetime(["2020-01-10"]), "amount": 1.0})
    with pytest.raises(tx.DataError) as caught:
        tx.check_period(log, pd.Timestamp("2020-01-01"), pd.Timestamp("2019-12-01"), "shop.csv", ("From", "To"))
    assert caught.value.problems == [
        "From 2020-01-01: before the first transaction in shop.csv (2020-01-10)",
        "To 2019-12-01: must be after From (2020-01-01)",
    ]


def test_the_classical_fits_on_distinct_histories_are_the_fits_on_every_customer(fitted):
    _, out, _ = fitted
    c = out["summary"].customers
    x, t_x, T = c.x.to_numpy(float), c.t_x.to_numpy(), c["T"].to_numpy()
    dx, dt, dT, w = distinct(x, t_x, T)
    assert len(dx) < len(x) and w.sum() == len(x)
    for model in (bgnbd, paretonbd):
        params = out["fits"][{"bgnbd": "bgnbd", "paretonbd": "pareto_nbd"}[model.__name__.split(".")[-1]]]
        values = tuple(params[n] for n in model.NAMES)
        everyone = model.log_likelihood(values, x, t_x, T).sum()
        assert w @ model.log_likelihood(values, dx, dt, dT) == pytest.approx(everyone, rel=1e-12)
        assert params["log_likelihood"] == pytest.approx(everyone, rel=1e-12)


def test_the_fit_says_what_it_is_doing(fitted):
    _, _, said = fitted
    stages = list(dict.fromkeys(s.split(":")[0] for s in said))
    assert stages == ["Summarising each customer's purchases", "Fitting BG/NBD (300 customers)",
                      "Fitting Pareto/NBD (300 customers)", "Fitting Gamma-Gamma spend", "Fitting the agent model",
                      "Forecasting the holdout (2 replications of the agent model)"]  # fmt: skip
    steps = [s for s in said if "step" in s]
    assert len(steps) > 10 and steps[-1].startswith(f"Fitting the agent model: step {len(steps)} (")


def test_the_tables_of_the_fit(fitted):
    log, out, _ = fitted
    assert out["scenario"].meta.name == "Calibrated on shop.csv"
    classical = commands.classical_table(out)
    bg = classical[classical.model == "BG/NBD"].set_index("parameter").value
    fit = out["fits"]["bgnbd"]
    assert bg.to_dict() == {"r": fit["r"], "alpha": fit["alpha"], "a": fit["a"], "b": fit["b"],
                            "log-likelihood": fit["log_likelihood"]}  # fmt: skip
    assert classical.meaning.str.len().min() > 5  # every parameter says what it is
    segments = commands.segment_table(out["scenario"])
    assert list(segments.columns[-6:]) == list(LEVEL_LABELS) and "Churn multiplier" in segments.columns
    assert list(segments.index) == [s.name for s in out["scenario"].customers.segments]
    assert segments["Share"].sum() == pytest.approx(1.0)
    assert segments[list(LEVEL_LABELS)].sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_the_cumulative_curve_joins_the_forecasts_to_the_actual_at_the_calibration_end(fitted):
    log, out, _ = fitted
    table = commands.cumulative_table(out, log)
    summary, totals = out["summary"], out["holdout"]["holdout_repeat_transactions"]
    actual = table.actual.dropna()
    assert actual.tolist() == tx.weekly_repeat_curve(log, summary).tolist()
    assert actual.index.tolist() == list(range(1, len(actual) + 1))
    end = commands.calibration_week(summary)
    assert end == ((CAL_END - log.date.min()).days + 1) / 7
    models = table[["agent model", "BG/NBD", "Pareto/NBD"]].dropna()
    assert models.index[0] == end and models.index[-1] == pytest.approx(((HOLD_END - log.date.min()).days + 1) / 7)
    at_end = summary.customers.x.sum()
    assert (models.iloc[0] == at_end).all()
    assert actual.iloc[-1] - at_end == totals["actual"]
    assert models.iloc[-1].tolist() == pytest.approx([at_end + totals[k] for k in ("predicted", "bgnbd", "pareto_nbd")])


def test_the_holdout_curve_counts_weeks_from_the_calibration_end(fitted):
    """(Here the calibration end is not at the end of a week since the log's start: counted
    from the start, the holdout's first week took in calibration days.)"""
    log, out, _ = fitted
    summary, weekly = out["summary"], out["holdout"]["weekly_cumulative"]
    assert ((CAL_END - log.date.min()).days + 1) % 7 != 0
    assert weekly["actual"][-1] == out["holdout"]["holdout_repeat_transactions"]["actual"]
    repeat = log.merge(summary.customers["first"], left_on="customer", right_index=True)
    after = (repeat.date - CAL_END).dt.days
    assert weekly["actual"][0] == ((after >= 1) & (after <= 7)).sum()
    assert weekly["actual"][2] == ((after >= 1) & (after <= 21)).sum()
    assert len(weekly["actual"]) == len(weekly["week"]) == int(np.ceil((HOLD_END - CAL_END).days / 7))
    assert weekly["week"][0] == int(np.ceil(((CAL_END - log.date.min()).days + 1) / 7)) + 1


def test_the_fits_run_openblas_on_one_thread():
    """(bench/README.md: OpenBLAS's spinning workers doubled the agent model's fit time)"""
    from threadpoolctl import threadpool_info

    from simulation.calibrate.optimize import one_blas_thread

    with one_blas_thread():
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_a_log_without_repeat_purchases_is_refused_in_words():
    once = pd.DataFrame({"customer": [f"c{i}" for i in range(20)], "amount": 10.0,
                         "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(20), "D")})  # fmt: skip
    with pytest.raises(tx.DataError) as caught:
        commands.calibrate_log(once, "shop.csv", pd.Timestamp("2020-01-15"), pd.Timestamp("2020-01-20"))
    assert caught.value.problems == [
        "no customer bought twice by the calibration end 2020-01-15: the models learn from repeat purchases "
        "(choose a later calibration end, or a longer log)"
    ]
