"""The Calibrate page (app/screens/calibrate.py, app/calibrate.py) with AppTest: a log fitted
and opened in Design, the bundled sample, and every kind of bad file said in words."""

from __future__ import annotations

import pandas as pd
import pytest
from test_app_support import app, assert_ok, charts, library_dir, texts  # noqa: F401
from test_calibrate_page_support import small_log

from app import calibrate as cal
from app import drafts, settings
from app.settings import drafts_dir
from simulation.calibrate import commands
from simulation.calibrate import transactions as tx
from simulation.metrics import fmt

CALIBRATE, DESIGN = "screens/calibrate.py", "screens/design.py"
HEADER = ("Client ID", "Purchase date", "Net amount")  # (semicolons: the columns are guessed, the separator found)


def log_file() -> tuple[pd.DataFrame, bytes]:
    log = small_log()
    text = log.assign(date=log.date.dt.strftime("%Y-%m-%d")).set_axis(HEADER, axis=1).to_csv(sep=";", index=False)
    return log, text.encode()


def on_page():
    at = app().run()
    at.switch_page(CALIBRATE).run()
    assert_ok(at)
    return at


def upload(at, content: bytes, name: str = "shop.csv", key: str = "calibrate.upload"):
    at.file_uploader(key=key).set_value((name, content, "text/csv")).run()
    assert_ok(at)
    return at


def table_with(at, column: str) -> pd.DataFrame:
    """The first table on the page with this column (AppTest does not give a table's key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def test_a_log_is_fitted_and_opened_in_design(library_dir):  # noqa: F811
    log, content = log_file()
    at = upload(on_page(), content)
    # the preview, the columns guessed from the header, the period from the data
    assert at.dataframe[0].value.iloc[0].tolist() == content.decode().split("\n")[1].split(";")
    assert [at.selectbox(key=f"calibrate.{r}").value for r in ("customer", "date", "amount")] == list(HEADER)
    cal_end, hold_end = tx.default_period(log)
    assert at.date_input(key="calibrate.calibration_end").value == cal_end.date()
    assert at.date_input(key="calibrate.holdout_end").value == hold_end.date()
    assert f"{log.customer.nunique():,} customers, {len(log):,} purchase days" in texts(at)
    # a calibration end of one's own, then Fit
    chosen = (cal_end - pd.Timedelta(days=30)).date()
    at.date_input(key="calibrate.calibration_end").set_value(chosen).run()
    at.button(key="calibrate.fit").click().run()
    assert_ok(at)
    fitted = at.session_state[cal.FITTED]
    out = fitted.out
    assert out["summary"].calibration_end == pd.Timestamp(chosen) and out["summary"].holdout_end == hold_end
    assert "Calibrated on shop.csv" in texts(at)
    shown = table_with(at, "Error against the actual")
    totals = out["holdout"]["holdout_repeat_transactions"]
    assert shown.Model.tolist() == ["Actual", "Agent model", "BG/NBD", "Pareto/NBD"]
    assert shown["Repeat transactions"].tolist() == [
        fmt(totals[k], "count") for k in ("actual", "predicted", "bgnbd", "pareto_nbd")
    ]
    error = out["holdout"]["errors"]["bgnbd"]
    assert shown["Error against the actual"][2] == ("+" if error > 0 else "") + fmt(error, "share")
    names = [s.name for s in out["scenario"].customers.segments]
    segments = table_with(at, names[0])
    assert segments.columns.tolist() == names
    assert {"Share", "Purchases per month", "Churn multiplier", "Loyal"} <= set(segments.index)
    first = out["scenario"].customers.segments[0]
    assert segments.loc["Churn multiplier", names[0]] == fmt(first.churn_multiplier, "number")
    assert segments.loc["Share", names[0]] == fmt(first.share, "share")
    classical = table_with(at, "What it is")
    assert set(classical.Model) == {"BG/NBD", "Pareto/NBD", "Gamma-Gamma spend"}
    assert classical.Value[0] == fmt(out["fits"]["bgnbd"]["r"], "number")
    by_count = table_with(at, "Customers")
    assert by_count.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert by_count.Customers.sum() == len(out["summary"].customers)
    figs = {f["layout"]["title"]["text"]: f for f in charts(at)}
    cumulative = figs["Cumulative repeat transactions, week by week"]
    assert [t["name"] for t in cumulative["data"]] == ["actual", "agent model", "BG/NBD", "Pareto/NBD"]
    assert cumulative["layout"]["shapes"][0]["x0"] == commands.calibration_week(out["summary"])
    assert "Mean holdout transactions by calibration-period transactions" in figs
    # another page and back: the file, the settings and the fit are all there
    at.switch_page(DESIGN).run()
    at.switch_page(CALIBRATE).run()
    assert_ok(at)
    assert at.date_input(key="calibrate.calibration_end").value == chosen
    assert at.selectbox(key="calibrate.amount").value == HEADER[2]
    assert "Calibrated on shop.csv" in texts(at) and "changed since this fit" not in texts(at)
    at.date_input(key="calibrate.calibration_end").set_value(cal_end.date()).run()
    assert "changed since this fit" in texts(at)
    # the download is the scenario's file; Open in Design makes it the design being edited
    assert "Download the scenario (YAML)" in [b.label for b in at.get("download_button")]
    at.button(key="calibrate.open").click().run()
    assert_ok(at)
    ws = drafts.load(drafts_dir(), at.query_params["draft"])
    assert ws.data == out["scenario"].model_dump(mode="json") and ws.modified and ws.origin is None
    assert any("Opened “Calibrated on shop.csv”" in s.value for s in at.success)
    assert at.title[0].value == "Design"


def test_the_bundled_sample_fills_the_page(library_dir):  # noqa: F811
    at = on_page()
    assert "Upload the client's transaction log" in texts(at) and "calibrate.fit" not in [b.key for b in at.button]
    at.button(key="calibrate.sample").click().run()
    assert_ok(at)
    first = settings.SAMPLE_LOG.read_text().split("\n")[1].split(",")
    assert at.dataframe[0].value.iloc[0].tolist() == first
    columns = commands.CDNOW_COLUMNS
    assert [at.selectbox(key=f"calibrate.{r}").value for r in ("customer", "date", "amount")] == [
        columns.customer, columns.date, columns.amount]  # fmt: skip
    ends = [at.date_input(key=f"calibrate.{k}_end").value for k in ("calibration", "holdout")]
    assert [str(d) for d in ends] == list(commands.CDNOW_PERIOD)  # the literature's split of CDNOW
    assert "2,357 customers bought by the calibration end (39 weeks); the holdout is 39 weeks" in texts(at)
    assert not at.button(key="calibrate.fit").disabled


BAD_LOGS = [
    (b"", "shop.csv: the file is empty"),
    (b"customer,date,amount\n", "shop.csv: the file has a header but no rows"),
    (b"customer,date\nc1,2020-01-01\n", "shop.csv: a log needs three columns (customer, date, amount); the header has 2"),
    (b"customer,date,store\nc1,2020-01-01,north\n", "shop.csv: row 2, column 'store': not a number (got 'north')"),
    (b"customer,date,amount\nc1,2020-01-01,10\nc1,2020-02-30,5\n", "shop.csv: row 3, column 'date': not a date"),
    (b"customer,date,amount\nc1,2020-01-01,10\nc2,2020-01-03,-4\n", "shop.csv: row 3, column 'amount': a negative amount"),
    (b"customer,date,amount\nc1,2020-01-01,ten\n", "shop.csv: row 2, column 'amount': not a number (got 'ten')"),
    (b"customer,date,amount\n,2020-01-01,10\n", "shop.csv: row 2, column 'customer': a customer id is missing"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "expected"), BAD_LOGS)
def test_a_bad_log_is_said_in_words_naming_row_and_column(library_dir, content, expected):  # noqa: F811
    at = upload(on_page(), content)
    assert expected in errors(at), errors(at)
    assert "calibrate.fit" not in [b.key for b in at.button]  # nothing to fit


def test_a_log_the_models_cannot_learn_from_is_said_when_fitting(library_dir):  # noqa: F811
    rows = "".join(f"c{i},2020-01-{i + 1:02d},10\n" for i in range(20))  # (nobody buys twice)
    at = upload(on_page(), ("customer,date,amount\n" + rows).encode())
    at.button(key="calibrate.fit").click().run()
    assert_ok(at)
    assert "no customer bought twice by the calibration end 2020-01-14" in errors(at)
    assert cal.FITTED not in at.session_state


def test_an_oversized_log_is_refused_with_its_size(library_dir, monkeypatch):  # noqa: F811
    monkeypatch.setattr(settings, "MAX_LOG_MB", 1)
    at = upload(on_page(), b"customer,date,amount\n" + b"c1,2020-01-01,10\n" * 80_000)
    assert "shop.csv: the file is 1.4 MB; the limit is 1.0 MB" in errors(at)


def test_two_roles_on_one_column_and_a_period_backwards_are_said(library_dir):  # noqa: F811
    log, content = log_file()
    at = upload(on_page(), content)
    at.selectbox(key="calibrate.amount").set_value(HEADER[1]).run()
    assert "three different columns" in errors(at)
    at.selectbox(key="calibrate.amount").set_value(HEADER[2]).run()
    end = at.date_input(key="calibrate.calibration_end").value
    at.date_input(key="calibrate.holdout_end").set_value(end - pd.Timedelta(days=1)).run()
    assert_ok(at)
    assert f"Holdout end {end - pd.Timedelta(days=1)}: must be after Calibration end ({end})" in errors(at)
    assert at.button(key="calibrate.fit").disabled
    at.checkbox(key="calibrate.use_holdout").uncheck().run()  # no holdout: nothing to check
    assert not at.error and not at.button(key="calibrate.fit").disabled


def test_an_nps_survey_is_read_or_its_problem_said(library_dir):  # noqa: F811
    _, content = log_file()
    at = upload(on_page(), content)
    good = b"segment,0,1,2,3,4,5,6,7,8,9,10\nCasual,5,5,5,5,5,10,10,20,20,10,5\nFans,0,0,0,0,0,0,5,10,20,30,35\n"
    upload(at, good, "nps.csv", "calibrate.nps_upload")
    assert table_with(at, "Share").index.tolist() == ["Casual", "Fans"]
    assert not at.button(key="calibrate.fit").disabled
    upload(at, good.replace(b"Fans,0,0", b"Fans,-3,0"), "nps2.csv", "calibrate.nps_upload")
    assert "nps2.csv: row 3, column '0': a count of answers >= 0 (got '-3')" in errors(at)
    assert at.button(key="calibrate.fit").disabled
    at.button(key="calibrate.nps_remove").click().run()
    assert not at.error and not at.button(key="calibrate.fit").disabled


def test_a_fit_stopped_midway_or_failing_is_said(library_dir, monkeypatch):  # noqa: F811
    import streamlit as st

    def stopped(
        *args,
    ):  # what Cancel does: Streamlit stops the script run at the next progress line (the last argument)
        args[-1]("Fitting BG/NBD")
        st.stop()

    _, content = log_file()
    at = upload(on_page(), content)
    monkeypatch.setattr(commands, "calibrate_log", stopped)
    at.button(key="calibrate.fit").click().run()
    assert_ok(at)
    at.run()
    assert "The fit was stopped before it finished" in texts(at) and cal.FITTED not in at.session_state
    at.run()
    assert "The fit was stopped" not in texts(at)

    def broken(*args, **kwargs):
        raise ValueError("no convergence")

    monkeypatch.setattr(commands, "calibrate_log", broken)
    at.button(key="calibrate.fit").click().run()
    assert_ok(at)
    assert "The fit failed on this log (ValueError: no convergence)" in errors(at)
    at.run()
    assert "The fit was stopped" not in texts(at)
