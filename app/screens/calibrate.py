"""Calibrate: the client's own customers from a transaction log. Upload it (or take the bundled
CDNOW sample), map its columns, choose the calibration and holdout periods and fit: the
classical models' and the agent model's parameters, the holdout forecast against what
happened, and the calibrated scenario to open in Design. The work is the engine's
(simulation/calibrate, as `lojal calibrate`); app/calibrate.py keeps the page's state."""

import pandas as pd
import streamlit as st

from app import calibrate as cal
from app import library, settings, state, views
from simulation import figures_calibrate, scenario_io
from simulation.calibrate import commands, pipeline
from simulation.calibrate import transactions as tx
from simulation.calibrate.transactions import DataError
from simulation.metrics import fmt

PREVIEW_ROWS = 8
LABELS = ("Calibration end", "Holdout end")  # the period's ends, as the page names them in messages

st.title("Calibrate")
st.caption(
    "Start from the client's customers: a transaction log (one row per purchase) gives the agent model's purchase "
    "rates, churn segments, starting ladder and baskets, checked on a holdout period against the classical models "
    "(BG/NBD, Pareto/NBD, Gamma-Gamma). The same as `lojal calibrate`; docs/model.md section 12.2 has the method."
)
if st.session_state.pop(cal.FITTING, False):
    st.info("The fit was stopped before it finished. Press **Fit** to start it again.")


def problems(what: str, exc: DataError) -> None:
    st.error(f"{what}:\n\n" + "\n".join(f"- {p}" for p in exc.problems))


def the_log() -> tuple[cal.Source, tx.Columns, pd.DataFrame] | None:
    """The log the page works on, read and checked with the columns chosen (or None: why not is on the page)."""
    left, right = st.columns([3, 1], vertical_alignment="center")
    upload = left.file_uploader(
        "Transaction log: a CSV with one row per purchase (customer, date, amount)", type=["csv", "txt", "gz"],
        key="calibrate.upload", max_upload_size=settings.MAX_LOG_MB,
    )  # fmt: skip
    sample = right.button("Use the bundled CDNOW sample", key="calibrate.sample", width="stretch", wrap=True,
                          help="2,357 customers of the CDNOW music store, 1997-98: the data of the classical models' papers")  # fmt: skip
    chosen = cal.Source(settings.SAMPLE_LOG.name, settings.SAMPLE_LOG.read_bytes(), "sample") if sample else None
    source = cal.source(cal.LOG, upload, chosen)
    if source is None:
        st.info("Upload the client's transaction log, or try the page on the bundled CDNOW sample.")
        return None
    try:
        table = cal.once(
            "table", source.key, lambda: tx.read_table(source.data, source.name, settings.MAX_LOG_MB * 10**6)
        )
    except DataError as exc:
        problems(f"“{source.name}” cannot be read", exc)
        return None
    st.markdown(f"**{source.name}** · {len(table):,} rows; the first ones:")
    st.dataframe(table.head(PREVIEW_ROWS), hide_index=True, key="calibrate.preview")
    names, guess = list(table.columns), tx.guess_columns(list(table.columns))
    picks = []
    for col, (role, label, help_) in zip(st.columns(3), (
        ("customer", "Customer column", "The customer's id"),
        ("date", "Date column", "The day of the purchase (YYYY-MM-DD, YYYYMMDD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY)"),
        ("amount", "Amount column", "What the purchase was worth (>= 0; net of returns)"),
    ), strict=True):  # fmt: skip
        picks.append(cal.widget(col.selectbox, f"calibrate.{role}", getattr(guess, role), source.key, label, names,
                                help=help_))  # fmt: skip
    columns = tx.Columns(*picks)
    try:
        log = cal.once("log", (source.key, columns), lambda: tx.transactions_of(table, columns, source.name))
    except DataError as exc:
        problems(f"“{source.name}” cannot be calibrated on as it stands", exc)
        return None
    st.caption(
        f"{log.customer.nunique():,} customers, {len(log):,} purchase days from {log.date.min().date()} to "
        f"{log.date.max().date()} (a customer's purchases on one day are one transaction)."
    )
    return source, columns, log


def the_period(
    source: cal.Source, columns: tx.Columns, log: pd.DataFrame
) -> tuple[pd.Timestamp, pd.Timestamp | None] | None:
    """Calibration and holdout ends, checked (None: the problem is on the page)."""
    st.subheader("Calibration and holdout periods")
    first, last = log.date.min().date(), log.date.max().date()
    mark = f"{source.key}:{columns}"
    # the sample: the literature's split (39 weeks and 39 weeks); else two thirds of the days calibrate
    ends = [pd.Timestamp(d) for d in commands.CDNOW_PERIOD] if source.key == "sample" else tx.default_period(log)
    left, mid, right = st.columns(3)
    cal_end = cal.widget(left.date_input, "calibrate.calibration_end", ends[0].date(), mark, LABELS[0],
                         min_value=first, max_value=last, help="The models are fitted on the purchases up to this day")  # fmt: skip
    check = cal.widget(mid.checkbox, "calibrate.use_holdout", first < last, mark, "Check the forecast on a holdout",
                       help="Forecast the purchases after the calibration end and compare them with what happened")  # fmt: skip
    hold_end = cal.widget(right.date_input, "calibrate.holdout_end", ends[1].date(), mark, LABELS[1],
                          min_value=first, max_value=last, disabled=not check)  # fmt: skip
    cal_end, hold_end = pd.Timestamp(cal_end), pd.Timestamp(hold_end) if check else None
    try:
        tx.check_period(log, cal_end, hold_end, source.name, LABELS)
    except DataError as exc:
        problems("The periods do not fit", exc)
        return None
    buyers = log.customer[log.date <= cal_end].nunique()
    text = f"{buyers:,} customers bought by the calibration end ({(cal_end - log.date.min()).days / 7:.0f} weeks)"
    if hold_end is not None:
        text += f"; the holdout is {(hold_end - cal_end).days / 7:.0f} weeks"
    st.caption(text + ".")
    return cal_end, hold_end


def the_survey() -> tuple[cal.Source | None, pd.DataFrame | None, bool]:
    """An NPS survey (optional): its file, its counts, and whether it is usable (no survey is)."""
    kept = st.session_state.get(cal.SURVEY)
    with st.expander(
        "NPS survey (optional): each segment's starting ladder from its answers", expanded=kept is not None
    ):
        st.caption(
            "A CSV with columns `segment, 0, 1, ..., 10` (how many answered each score) and optionally `share`. The "
            "fitted segments are then the survey's, each starting on its answers' ladder; without a survey the fit "
            "finds up to three churn segments (a segment found twice is merged) and one starting ladder. (`lojal calibrate --nps FILE`)"
        )
        source = cal.source(cal.SURVEY, st.file_uploader("NPS answer counts", type=["csv", "txt"],
                                                         key="calibrate.nps_upload", max_upload_size=1))  # fmt: skip
        if source is None:
            return None, None, True
        if st.button("Fit without the survey", key="calibrate.nps_remove"):
            cal.forget(cal.SURVEY)
            st.rerun()
        try:
            survey = cal.once("survey", source.key, lambda: pipeline.read_nps(source.data, source.name))
        except DataError as exc:
            problems(f"“{source.name}” is not a usable survey", exc)
            return source, None, False
        shown = survey.set_index("segment").rename(columns={"share": "Share"})
        shown["Share"] = [fmt(v, "share") for v in shown["Share"]]
        st.dataframe(shown, key="calibrate.survey")
        return source, survey, True


def results(fitted: cal.Fitted, current: tuple | None) -> None:
    out, scenario = fitted.out, fitted.out["scenario"]
    summary = out["summary"]
    st.divider()
    st.subheader(f"Calibrated on {fitted.name}")
    period = f"calibration to {summary.calibration_end.date()}"
    if summary.holdout_end is not None:
        period += f", holdout to {summary.holdout_end.date()}"
    st.caption(f"{len(summary.customers):,} customers, {period} · fitted in {fitted.seconds:.1f} s")
    if current is not None and current != fitted.settings:
        st.warning("The file or the settings above changed since this fit: press **Fit** to fit them.")
    text = scenario_io.dumps(scenario)
    buttons = views.button_row()
    if buttons.button("Open in Design", key="calibrate.open", type="primary",
                   help="Edit and run the calibrated scenario (your current design is kept for Compare)"):  # fmt: skip
        state.open_scenario(scenario.model_dump(mode="json"), None, pristine=False, source=text)
        state.flash(f"Opened “{scenario.meta.name}”. Add a program on this page and press Run; save it in the library.")
        st.switch_page("screens/design.py")
    buttons.download_button("Download the scenario (YAML)", text.encode("utf-8"), library.file_name_for(scenario.meta.name),
                            "application/x-yaml", key="calibrate.download")  # fmt: skip

    st.markdown("**The agent model's segments** (a month's purchases; the ladder held still, docs/model.md 12.2)")
    st.dataframe(cal.segment_rows(out), key="calibrate.segments", width="stretch", height="content")
    agent = out["fits"]["agent"]
    st.caption(f"Log-likelihood {fmt(agent.log_likelihood, 'number')}, BIC {fmt(agent.bic, 'number')}. These are "
               "the customers of the calibrated scenario; the rest of it is the defaults. A fitted starting ladder "
               "is a statistical device, not a measure of satisfaction: the fit uses the levels' purchase rates and "
               "churn to match the customers' behaviour (on CDNOW it puts most of them on the lowest levels). "
               "An NPS survey sets it from the answers instead.")  # fmt: skip
    st.markdown("**The classical models** (time in weeks)")
    st.dataframe(cal.classical_rows(out), hide_index=True, key="calibrate.classical", width="stretch", height="content")
    if "holdout" not in out:
        st.caption("Set a holdout end to see the forecast checked against what happened.")
        return
    holdout = out["holdout"]
    st.subheader("The holdout: forecast against what happened")
    st.dataframe(cal.holdout_rows(holdout), hide_index=True, key="calibrate.holdout")
    end = commands.calibration_week(summary)
    views.chart(figures_calibrate.cumulative_repeats(fitted.cumulative, end), "calibrate.cumulative")
    views.chart(figures_calibrate.by_count(commands.by_count_table(holdout)), "calibrate.by_count")
    means = {c: st.column_config.NumberColumn(format="%.2f") for c in cal.by_count_rows(holdout).columns[1:]}
    st.dataframe(cal.by_count_rows(holdout), key="calibrate.by_count_table", width="stretch", column_config=means)
    st.caption("The customers by their repeat transactions in the calibration period (7+: seven or more), and "
               "their mean transactions in the holdout: the actual and each model's forecast.")  # fmt: skip


current = None
found = the_log()
if found is not None:
    source, columns, log = found
    period = the_period(source, columns, log)
    survey_source, survey, survey_ok = the_survey()
    with st.expander("Holdout forecast: replications and seed"):
        left, right = st.columns(2)
        replications = cal.widget(left.number_input, "calibrate.replications", 4, "", "Replications", 1, 50,
                                  help="Runs of the agent model that forecast the holdout (more: a steadier forecast)")  # fmt: skip
        seed = cal.widget(right.number_input, "calibrate.seed", 1, "", "Seed", 0, 2**31 - 1)
    if period is not None:
        current = (source.key, columns, *period, survey_source and survey_source.key,
                   int(replications), int(seed))  # fmt: skip
    if st.button("Fit", key="calibrate.fit", type="primary", disabled=current is None or not survey_ok):
        fitted = cal.fit(log, source.name, current, *period, survey, int(replications), int(seed))
        if fitted is not None:
            st.session_state[cal.FITTED] = fitted
fitted = st.session_state.get(cal.FITTED)
if fitted is not None:
    results(fitted, current)
elif found is not None:
    st.caption("Press **Fit**: a few seconds on the sample, about ten on a log of 25,000 customers.")
