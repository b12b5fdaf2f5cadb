"""Page sections shared by the pages: headline cards and the results charts."""

from __future__ import annotations

import re
from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import simulation
from simulation import analysis, figures
from simulation.metrics import GROUP_BY_LABELS, fmt
from simulation.schema import short_label

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
# plotly's modebar, shown over the top of a chart under the pointer: the legend starts below it
MODEBAR_PX = 30
SIDE_BY_SIDE_MAX = 3  # designs on one chart that still read at half width on a 1024 px projector


def button_row():
    """A row of buttons sized to their labels, wrapping when the page is narrow (fixed columns cut
    the labels with an ellipsis at 1024 px)."""
    return st.container(horizontal=True)


LEFT_SHOWN_FROM = 1.5  # seconds: a shorter time left is not worth saying (the bar is nearly full)


def time_left(seconds: float | None) -> str:
    """The end of a progress bar's text: " · about 12 s left", or nothing."""
    return f" · about {seconds:.0f} s left" if seconds is not None and seconds >= LEFT_SHOWN_FROM else ""


def progress_with_cancel(text: str, key: str) -> tuple:
    """A progress bar and a Cancel button for work done in this script run, and their place: empty
    it when the work is over (the button would stay on the page until the next run). A click on
    Cancel stops the script run; the runner then drops the tasks not begun."""
    place = st.empty()
    with place.container():
        bar = st.progress(0.0, text=text)
        st.button("Cancel", key=key)
    return bar, place


def pair(designs: int) -> tuple:
    """Places for two charts of `designs` designs each: side by side, or one under the other when
    more share them (five designs' legends, bars and heat map cells are unreadable at half width)."""
    return tuple(st.columns(2)) if designs <= SIDE_BY_SIDE_MAX else (st.container(), st.container())


def chart(fig, key: str) -> None:
    """A figure with its title as a page heading above it: the heading wraps on a narrow screen,
    where plotly would cut a long title (the figure keeps it in `layout.meta` for exports)."""
    title = fig.layout.title.text
    if title:
        fig = go.Figure(fig)  # the caller's figure stays as built
        fig.update_layout(title_text=None, meta={"title": title}, margin_t=MODEBAR_PX + 8,
                          legend=figures.legend_at(MODEBAR_PX, fig.layout.height))  # fmt: skip
        st.markdown(f'<div class="lojal-chart-title">{escape(title)}</div>', unsafe_allow_html=True)
    st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch")


def run_badge(results: simulation.Results, running: bool) -> None:
    """Whether the figures are final, provisional (more replications to come) or those of a stopped run."""
    done, planned = results.done, results.planned
    if not results.provisional:
        st.markdown(f":green-badge[:material/check: Final · {done} replications]")
    elif running:
        st.markdown(
            f":orange-badge[:material/hourglass_top: Provisional · {done} of {planned} replications] "
            "the figures and intervals settle as the rest come in"
        )
    else:
        st.markdown(
            f":gray-badge[:material/pause: Stopped · {done} of {planned} replications] press **Run** to finish the run"
        )


def headline_cards(results: simulation.Results) -> None:
    """Eight cards: each the program's value and its change against no program, with the interval.

    A CSS grid of plain HTML rather than `st.metric` columns: the cards wrap to fewer per row
    on a narrow screen (a 1024 px projector with the sidebar open) instead of cutting their text."""
    n = results.done
    horizon = results.scenario.simulation.horizon_months
    tip = (
        f"Mean over {n} replications; money is the total over the {horizon}-month horizon. The change is "
        "paired against the same customers without the program; the interval is its 5-95 % range across replications."
    )
    st.markdown(cards_html(analysis.headline_cards(results), tip), unsafe_allow_html=True)


def break_even_line(results: simulation.Results) -> None:
    """What must be true for the design to pay (or how much room it has): the executive's question."""
    from simulation.breakeven import break_even

    st.markdown(unbroken(break_even(results).text(results.scenario.economics.currency)), unsafe_allow_html=True)


def baseline_course(results: simulation.Results, hold) -> None:
    """Where the customers go without the program, and buttons to hold today's NPS (and number of
    customers) there: `hold(customers)` sets the ladder's positive experience (and paid
    acquisition) that do (simulation/steady.py) in the design; the page says what it changed."""
    # (a no-break space before each "%": at 1024 px "(-0.1 %)" broke before its "%")
    st.caption(analysis.baseline_course(results, "**Hold today's NPS**").replace(" %", "\u00a0%"))
    row = button_row()
    what = "Set the ladder's positive experience so that NPS without the program ends the horizon where it starts"
    for customers, label in ((False, "Hold today's NPS"), (True, "Hold NPS and customers")):
        tip = what + (", and paid acquisition so that the number of customers does too" if customers else "")
        if row.button(label, key=f"results.hold.{'customers' if customers else 'nps'}",
                      help=f"{tip} (a client whose business is steady). Runs of the no-program arm: a few seconds."):  # fmt: skip
            with st.spinner("Finding the values that hold today's figures without the program…"):
                hold(customers)
            st.rerun()


# the house style of what the pages draw as HTML (cards, chart titles); shell.frame puts it on every page
PAGE_CSS = """<style>
.lojal-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(12.5rem, 1fr)); gap: 0.75rem;
  margin-bottom: 1rem;}
.lojal-card {border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.75rem 0.9rem;
  min-width: 0; overflow-wrap: anywhere;}
.lojal-card-title {font-size: 0.95rem; line-height: 1.25; margin-bottom: 0.2rem;}
.lojal-card-value {font-size: 1.9rem; font-weight: 600; line-height: 1.2;}
.lojal-card-change {display: inline-block; font-size: 0.9rem; padding: 0.05rem 0.45rem; border-radius: 0.8rem;
  margin: 0.25rem 0; background: rgba(49, 51, 63, 0.08);}
.lojal-card-change.good {color: #177233; background: rgba(33, 195, 84, 0.14);}
.lojal-card-change.bad {color: #9d1c24; background: rgba(255, 43, 43, 0.12);}
.lojal-card-note {font-size: 0.85rem; opacity: 0.75; line-height: 1.35;}
.lojal-chart-title {font-size: 1rem; font-weight: 600; line-height: 1.3;}
.lojal-nb {white-space: nowrap;}
/* a projector (1024 px, the sidebar open) left the page 564 px between Streamlit's 80 px margins:
   charts side by side were 270 px wide, their legends one entry a line */
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] {padding-left: 1.5rem; padding-right: 1.5rem; padding-top: 4rem;}
}
</style>"""


# a figure with its sign, currency and unit ("+kr 5.87 M", "+0.8 pp", "85.4 %", "month 12"): kept on one line,
# where a narrow card broke "+kr 6.6" from its "M" and "+0.8" from its "pp"
FIGURE = re.compile(r"(?:\bmonth )?[+\-−]?(?:\b(?:kr|[A-Z]{3}) |[€$£] ?)?[+\-−]?\d[\d,.]*(?: (?:%|pp|M|k|bn)(?!\w))?")


def unbroken(text: str) -> str:
    """`text` escaped for HTML, each figure in it in a span that does not wrap (PAGE_CSS)."""
    return FIGURE.sub(lambda m: f'<span class="lojal-nb">{m.group(0)}</span>', escape(text))


def cards_html(cards: list[analysis.Card], tip: str = "") -> str:
    """The cards as HTML (escaped); their style is PAGE_CSS."""
    parts = []
    for card in cards:
        change = ""
        if card.change:
            tone = {True: "good", False: "bad", None: ""}[card.good]
            arrow = "▲" if card.change.startswith("+") else ("▼" if card.change.startswith("-") else "")
            change = f'<div class="lojal-card-change {tone}">{arrow} {unbroken(card.change)} vs no program</div>'
        parts.append(
            f'<div class="lojal-card" title="{escape(tip)}"><div class="lojal-card-title">{escape(card.title)}</div>'
            f'<div class="lojal-card-value">{unbroken(card.value)}</div>{change}'
            f'<div class="lojal-card-note">{unbroken(card.note)}</div></div>'
        )
    return '<div class="lojal-cards">' + "".join(parts) + "</div>"


def sensitivity_table(results: simulation.Results) -> None:
    """What drives the spread, when the run sampled judgement parameters (docs/model.md 11.1):
    per parameter, the share of the spread of each key change it explains."""
    from simulation.uncertainty import NOISE_ONLY, RESIDUAL

    sens, sampled = results.sensitivity, results.parameters
    if sampled is None or sampled.empty:
        st.caption(
            NOISE_ONLY.replace(
                "uncertainty.sample: judgement", "**Uncertainty → sample: judgement** on the Design page"
            )
        )
        return
    if sens.empty:
        st.caption(
            f"The intervals include {sampled.parameter.nunique()} sampled assumptions; run at least "
            "4 replications (better 50) to see which of them drives the spread."
        )
        return
    names = {
        "net_profit": "Profit",
        "roi": "ROI",
        "retention_12m": "Retention 12 m",
        "clv_mean": "CLV",
        "nps_end": "NPS",
    }
    table = sens.pivot(index="parameter", columns="metric", values="share")
    table = table[[m for m in names if m in table.columns]]
    residual = table.loc[[RESIDUAL]] if RESIDUAL in table.index else table.iloc[:0]
    drivers = table.drop(index=RESIDUAL, errors="ignore").sort_values(table.columns[0], ascending=False).head(8)
    shown = (100 * pd.concat([drivers, residual])).round(0).rename(columns=names)
    shown.index = [p if p == RESIDUAL else short_label(p) for p in shown.index]
    shown.index.name = "Assumption"
    n = results.replications.replication.nunique()
    st.subheader("What drives the spread")
    st.caption(
        f"The intervals include {sampled.parameter.nunique()} sampled assumptions. "
        f"Share (%) of each change's spread across the {n} replications explained by each assumption"
        + ("; rough with fewer than 50 replications." if n < 50 else ".")
    )
    st.dataframe(shown, key="results.sensitivity", width="stretch")


def pilot_table(results: simulation.Results) -> None:
    """A pilot's lifts: what the client would measure (pilot against control) and the true effect."""
    from simulation import pilot

    if results.pilot is None:
        return
    st.subheader("The pilot: what you would measure")
    st.caption(pilot.caption(results.scenario))
    shown = pilot.display(results.pilot, results.scenario.economics.currency).set_index("Measure")
    st.dataframe(shown, key="results.pilot", width="stretch")
    st.caption(
        "Each replication is one pilot the client might run: the lift measured is pilot against control "
        "(other customers, so it carries their differences); the true effect is the pilot group with the "
        "program against the same customers without it."
    )


def starting_cards(position: dict[str, float]) -> None:
    """Where the client stands today, before any run (the cards a run will move)."""
    cards = [
        ("Customers today", fmt(position["customers"], "count"), "Size of the customer base at the start."),
        ("NPS today", fmt(position["nps"], "score"), "From the starting ladder: % promoters - % detractors."),
        (
            "At most willing to join",
            fmt(position["willing_to_join"], "share"),
            "Share of customers who join when the program starts (enrolment propensity by segment).",
        ),
    ]
    st.markdown(cards_html([analysis.Card(t, v, None, None, note) for t, v, note in cards]), unsafe_allow_html=True)


def results_charts(results: simulation.Results, key: str = "res", brief: bool = False) -> None:
    """Every results chart of one run, in sections a client can follow; `brief`: the customers
    over time only (while a run streams in, every redraw of every chart costs the replications CPU)."""
    monthly, currency = results.monthly, results.scenario.economics.currency
    st.subheader("Customers over time")
    left, right = st.columns(2)
    with left:
        chart(
            figures.over_time(
                monthly, "active_customers", currency=currency, marks=figures.phase_marks(results.scenario)
            ),
            f"{key}.active",
        )
    with right:
        place = st.container()  # the chart above its switch, level with the chart on the left
        by = "starting base"
        if len(results.cohorts):
            by = st.segmented_control(
                "Retention of", ["starting base", "cohorts"], default="starting base",
                key=f"{key}.retention_of", required=True, label_visibility="collapsed", format_func=str.capitalize,
            )  # fmt: skip
        with place:
            if by == "cohorts":
                chart(figures.cohort_retention(results.cohorts), f"{key}.cohorts")
            else:
                chart(
                    figures.over_time(
                        monthly, "retention", currency=currency, marks=figures.phase_marks(results.scenario)
                    ),
                    f"{key}.retention",
                )
    if brief:
        st.caption("The satisfaction ladder, the money and the instruments' charts follow with the final figures.")
        return

    st.subheader("The satisfaction ladder")
    arm = st.segmented_control(
        "Arm",
        ["program", "baseline"],
        default="program",
        format_func=figures.ARM_NAMES.get,
        key=f"{key}.ladder_arm",
        required=True,
    )
    left, right = st.columns(2)
    with left:
        chart(figures.ladder_over_time(monthly, arm), f"{key}.ladder")
    with right:
        chart(figures.ladder_flows(results.flows, arm), f"{key}.flows")

    st.subheader("Money")
    left, right = st.columns(2)
    with left:
        chart(figures.profit_waterfall(results.summary, currency), f"{key}.waterfall")
    with right:
        groups = [g for g in GROUP_BY_LABELS if g in set(results.clv["group_by"])]
        group_by = st.segmented_control(
            "Customer lifetime value by", groups, default=groups[0] if groups else None, key=f"{key}.clv_by",
            required=True, format_func=GROUP_BY_LABELS.get,
        )  # fmt: skip
        if group_by:
            chart(figures.clv_by_group(results.clv, group_by, currency), f"{key}.clv")

    # the instruments' own charts, two to a row (a lone one takes the row: at half width its legend
    # squeezes the plot)
    extra = [(fig, f"{key}.{name}") for name, fig in figures.instrument_figures(results)]
    if extra:
        st.subheader("The instruments")
        for start in range(0, len(extra), 2):
            row = extra[start : start + 2]
            for col, (fig, chart_key) in zip(st.columns(len(row)), row, strict=True):
                with col:
                    chart(fig, chart_key)


def problems_box(problems: dict[str, list[str]], where: str = "the Design page") -> None:
    count = sum(len(v) for v in problems.values())
    lines = [f"- `{path or 'scenario'}`: {m}" for path, msgs in problems.items() for m in msgs]
    st.warning(f"The scenario has {count} problem{'s' if count != 1 else ''}; fix on {where}:\n" + "\n".join(lines))
