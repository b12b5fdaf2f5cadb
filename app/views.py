"""Page sections shared by the pages: headline cards and the results charts."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import simulation

from . import analysis, figures
from .metrics import fmt, fmt_interval, metric

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch")


def retention_metric(summary) -> str:
    """The longest retention horizon reported (`retention_36m` for a 36-month run, else `retention_end`)."""
    names = [m for m in summary["metric"].unique() if m.startswith("retention_") and m[10:-1].isdigit()]
    names.sort(key=lambda m: int(m[10:-1]))
    return names[-1] if names else "retention_end"


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
    """Eight cards: each the program's value and its change against no program, with the interval."""
    summary = analysis.headline_summary(results.summary, results.monthly)
    currency, n = results.scenario.economics.currency, results.done
    horizon = results.scenario.simulation.horizon_months
    # (metric, arm shown as the value, whether the change against the baseline is shown as delta)
    cards = [
        (retention_metric(summary), "program", True),
        ("net_profit", "incremental", False),
        ("roi", "incremental", False),
        ("payback_month", "incremental", False),
        ("clv_mean", "program", True),
        ("nps_end", "program", True),
        ("program_cost", "program", False),
        ("active_customers_end", "program", True),
    ]
    titles = {"net_profit": "Incremental profit", "program_cost": "Program cost"}
    for row in (cards[:4], cards[4:]):
        cols = st.columns(len(row))
        for col, (name, arm, with_delta) in zip(cols, row, strict=True):
            m = metric(name)
            mean = analysis.value(summary, name, arm)
            low = analysis.value(summary, name, "incremental", "p05")
            high = analysis.value(summary, name, "incremental", "p95")
            change = analysis.value(summary, name, "incremental")
            if name == "payback_month" and math.isnan(mean):
                no_cost = math.isnan(analysis.value(summary, "payback_share", "incremental"))
                shown = "–" if no_cost else f"not within {horizon} months"
            else:
                shown = fmt(mean, m.kind, currency, short=True)
            delta = fmt(change, m.kind, currency, signed=True) if with_delta and not math.isnan(change) else None
            signed = with_delta or analysis.is_change(summary, name, arm)
            interval = fmt_interval(low, high, m.kind, currency, signed=signed)
            caption = f"90 % interval{' of the change' if delta else ''}: {interval}"
            if n < 2:  # one replication has no spread to show
                interval, caption = "–", "90 % interval: from 2 replications on"
            if name == "payback_month":
                caption = payback_caption(summary, n, interval)
            with col, st.container(border=True):
                st.metric(
                    titles.get(name, m.label),
                    shown,
                    delta=delta,
                    delta_color="normal" if m.better >= 0 else "inverse",
                    delta_description="vs no program" if delta else None,
                    help=(
                        f"Mean over {n} replications; money is the total over the {horizon}-month horizon. "
                        "The change is paired against the same customers without the program; the interval "
                        "is its 5-95 % range across replications."
                    ),
                )
                st.caption(caption)


def payback_caption(summary, replications: int, interval: str) -> str:
    """How many runs pay back, and the interval of their payback months when there is one
    (only when the mean pays back and at least half of the runs do: docs/model.md 10.2)."""
    share = analysis.value(summary, "payback_share", "incremental")
    if math.isnan(share):
        return "no program cost: nothing to pay back"
    paid = round(share * replications)
    text = f"{paid} of {replications} runs pay back"
    return f"{text} · 90 % interval of those: {interval}" if interval != "–" else text


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
    n = results.replications.replication.nunique()
    st.subheader("What drives the spread")
    st.caption(
        f"The intervals include {sampled.parameter.nunique()} sampled assumptions. "
        f"Share (%) of each change's spread across the {n} replications explained by each assumption"
        + ("; rough with fewer than 50 replications." if n < 50 else ".")
    )
    st.dataframe(shown, key="results.sensitivity", width="stretch")


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
    for col, (label, shown, help_text) in zip(st.columns(len(cards)), cards, strict=True):
        with col, st.container(border=True):
            st.metric(label, shown, help=help_text)


def results_charts(results: simulation.Results, key: str = "res") -> None:
    """Every results chart of one run, in sections a client can follow."""
    monthly, currency = results.monthly, results.scenario.economics.currency
    program = results.scenario.program.active_instruments()
    st.subheader("Customers over time")
    left, right = st.columns(2)
    with left:
        chart(figures.over_time(monthly, "active_customers", currency=currency), f"{key}.active")
    with right:
        place = st.container()  # the chart above its switch, level with the chart on the left
        by = "starting base"
        if len(results.cohorts):
            by = st.segmented_control(
                "Retention of", ["starting base", "cohorts"], default="starting base",
                key=f"{key}.retention_of", required=True, label_visibility="collapsed",
            )  # fmt: skip
        with place:
            if by == "cohorts":
                chart(figures.cohort_retention(results.cohorts), f"{key}.cohorts")
            else:
                chart(figures.over_time(monthly, "retention", currency=currency), f"{key}.retention")

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
        groups = [g for g in ("segment", "tier", "source") if g in set(results.clv["group_by"])]
        group_by = st.segmented_control(
            "CLV by", groups, default=groups[0] if groups else None, key=f"{key}.clv_by", required=True
        )
        if group_by:
            chart(figures.clv_by_group(results.clv, group_by, currency), f"{key}.clv")

    # the instruments' own charts, two to a row
    extra = []
    if "tiers" in program and monthly["metric"].str.startswith("tier_").any():
        order = [t.name for t in program["tiers"].tiers]
        extra.append((figures.tiers_over_time(monthly, order), f"{key}.tiers"))
    if "points" in program and (monthly["metric"] == "points_issued").any():
        extra.append((figures.points_over_time(monthly, currency=currency), f"{key}.points"))
    if "subscription" in program and (monthly["metric"] == "subscribers").any():
        extra.append((figures.over_time(monthly, "subscribers", ("program",), currency), f"{key}.subscribers"))
    if extra:
        st.subheader("Tiers, points and club")
        for start in range(0, len(extra), 2):
            for col, (fig, chart_key) in zip(st.columns(2), extra[start : start + 2], strict=False):
                with col:
                    chart(fig, chart_key)


def problems_box(problems: dict[str, list[str]], where: str = "the Design page") -> None:
    count = sum(len(v) for v in problems.values())
    lines = [f"- `{path or 'scenario'}`: {m}" for path, msgs in problems.items() for m in msgs]
    st.warning(f"The scenario has {count} problem{'s' if count != 1 else ''}; fix on {where}:\n" + "\n".join(lines))
