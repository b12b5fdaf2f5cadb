"""Reading results tables for display and comparison. Pure pandas; no Streamlit, no model logic."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import instruments
from .metrics import fmt, fmt_interval, metric, sort_key

ARMS = ("program", "baseline", "incremental")
ARM_NAMES = {"program": "With program", "baseline": "No program", "incremental": "Difference"}


def value(summary: pd.DataFrame, name: str, arm: str, column: str = "mean") -> float:
    """One number from a summary table (NaN when the metric or arm is absent)."""
    row = summary[(summary["metric"] == name) & (summary["arm"] == arm)]
    return float(row[column].iloc[0]) if len(row) else math.nan


def is_change(summary: pd.DataFrame, name: str, arm: str) -> bool:
    """Whether a row is a change against the baseline (ROI, payback month exist only as incremental figures)."""
    return arm == "incremental" and bool(((summary["metric"] == name) & (summary["arm"] == "program")).any())


def series(monthly: pd.DataFrame, name: str, arm: str) -> pd.DataFrame:
    """month, mean, p05, p95 of one monthly metric and arm."""
    frame = monthly[(monthly["metric"] == name) & (monthly["arm"] == arm)]
    return frame[["month", "mean", "p05", "p95"]].sort_values("month").reset_index(drop=True)


# NPS points the no-program arm may move over the horizon before the course says how to hold it:
# more than twice the ~4-point standard error of a survey of 400 answers (docs/model.md 12.3)
NPS_DRIFT = 10.0


@dataclass(frozen=True)
class Course:
    """The no-program arm today and at the horizon: mean NPS and active customers."""

    nps_today: float
    nps_end: float
    customers_today: float
    customers_end: float

    @property
    def nps_change(self) -> float:
        return self.nps_end - self.nps_today

    @property
    def growth(self) -> float:
        """The base's growth over the horizon (0 when its size holds)."""
        return self.customers_end / self.customers_today - 1


def course_of(results) -> Course | None:
    """The baseline's course in a run's monthly means (None without them)."""
    ends = []
    for name in ("nps", "active_customers"):
        frame = series(results.monthly, name, "baseline")
        if not len(frame):
            return None
        ends += [float(frame["mean"].iloc[0]), float(frame["mean"].iloc[-1])]
    return Course(*ends) if ends[2] else None


def baseline_course(results, hold: str = "") -> str:
    """Where the customers go without the program, the world every change is measured against: a
    consultant checks it looks like the client's business before trusting the changes (a base that
    grows, shrinks or grows happier for a reason the scenario states; docs/model.md section 12).
    Where NPS moves more than NPS_DRIFT, `hold` (how to hold it: a command, a button) is named."""
    horizon = results.scenario.simulation.horizon_months
    c = course_of(results)
    if c is None or math.isnan(c.customers_today):
        return ""
    growth = ("+" if c.growth > 0 else "") + fmt(c.growth, "share")  # (a growth in %, not a change in pp)
    today, end = fmt(c.nps_today, "score", signed=True), fmt(c.nps_end, "score", signed=True)
    text = (
        f"Without the program (what every change is measured against): {c.customers_today:,.0f} customers today and "
        f"{c.customers_end:,.0f} in month {horizon} ({growth}); NPS {today} today and {end} in month {horizon}."
    )
    if hold and abs(c.nps_change) > NPS_DRIFT:
        text += f" If the client's NPS is steady, {hold} sets the ladder so that it stays at {today}."
    return text


def headline_summary(summary: pd.DataFrame, monthly: pd.DataFrame) -> pd.DataFrame:
    """The summary, plus `retention_end` (from the monthly series) when the run is too short
    for the engine's 12/24/36-month retention figures."""
    if summary["metric"].str.startswith("retention_").any():
        return summary
    rows = []
    for arm in ARMS:
        frame = series(monthly, "retention", arm)
        if len(frame):
            last = frame.iloc[-1]
            rows.append(
                {"metric": "retention_end", "arm": arm, "mean": last["mean"], "p05": last["p05"], "p95": last["p95"]}
            )
    return pd.concat([summary, pd.DataFrame(rows, columns=summary.columns)], ignore_index=True)


def retention_metric(summary: pd.DataFrame) -> str:
    """The longest retention horizon reported (`retention_36m` for a 36-month run, else `retention_end`)."""
    names = [m for m in summary["metric"].unique() if m.startswith("retention_") and m[10:-1].isdigit()]
    names.sort(key=lambda m: int(m[10:-1]))
    return names[-1] if names else "retention_end"


HEADLINE_TITLES = {"net_profit": "Incremental profit", "program_cost": "Program cost"}


def headline(summary: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """The headline figures of a run: (metric, arm shown as the value, whether the change
    against the baseline is shown beside it); `summary` as from `headline_summary`."""
    return [
        (retention_metric(summary), "program", True),
        ("net_profit", "incremental", False),
        ("roi", "incremental", False),
        ("payback_month", "incremental", False),
        ("clv_mean", "program", True),
        ("nps_end", "program", True),
        ("program_cost", "program", False),
        ("active_customers_end", "program", True),
    ]


@dataclass(frozen=True)
class Card:
    """One headline card as a person reads it."""

    title: str
    value: str
    change: str | None  # against no program, signed; None when the value is itself a change
    good: bool | None  # whether the change is good news (None: neither)
    note: str  # the interval, or how many runs pay back


def headline_cards(results) -> list[Card]:
    """The eight headline cards of a run: the program's value, its change against no program
    and the 90 % interval over replications (docs/model.md 10)."""
    summary = headline_summary(results.summary, results.monthly)
    currency = results.scenario.economics.currency
    horizon = results.scenario.simulation.horizon_months
    reps = int(results.replications["replication"].nunique())
    cards = []
    for name, arm, with_change in headline(summary):
        m = metric(name)
        mean, change = value(summary, name, arm), value(summary, name, "incremental")
        interval = fmt_interval(
            value(summary, name, "incremental", "p05"),
            value(summary, name, "incremental", "p95"),
            m.kind,
            currency,
            signed=with_change or is_change(summary, name, arm),
        )
        shown_change = fmt(change, m.kind, currency, signed=True) if with_change and not math.isnan(change) else None
        single = reps < 2  # one replication (the first of a streamed run) has no spread to show
        if single:
            interval = "–"
        if name == "payback_month":
            no_cost = math.isnan(value(summary, "payback_share", "incremental"))
            shown = ("–" if no_cost else f"not within {horizon} months") if math.isnan(mean) else fmt(mean, m.kind)
            note = payback_caption(summary, reps, interval)
        else:
            shown = fmt(mean, m.kind, currency)
            note = (
                "90 % interval: from 2 replications on"
                if single
                else (f"90 % interval{' of the change' if shown_change else ''}: {interval}")
            )
        good = None if shown_change is None or m.better == 0 or change == 0 else (change > 0) == (m.better > 0)
        cards.append(Card(HEADLINE_TITLES.get(name, m.label), shown, shown_change, good, note))
    return cards


def payback_caption(summary: pd.DataFrame, replications: int, interval: str) -> str:
    """How many runs pay back, and the interval of their payback months when there is one
    (only when the mean pays back and at least half of the runs do: docs/model.md 10.2)."""
    share = value(summary, "payback_share", "incremental")
    if math.isnan(share):
        return "no program cost: nothing to pay back"
    paid = round(share * replications)
    text = f"{paid} of {replications} runs pay back"
    return f"{text} · 90 % interval of those: {interval}" if interval != "–" else text


def prefixed(monthly: pd.DataFrame, prefix: str, arm: str) -> pd.DataFrame:
    """Monthly means of every metric starting with `prefix` (`level_`, `tier_`), one column each."""
    frame = monthly[monthly["metric"].str.startswith(prefix) & (monthly["arm"] == arm)]
    wide = frame.pivot_table(index="month", columns="metric", values="mean", sort=False)
    wide.columns = [c[len(prefix) :] for c in wide.columns]
    return wide.sort_index()


# cost lines of the profit bridge, in the order they are shown
COST_LINES = (
    "cost_discounts",
    *instruments.cost_lines(),
    "cost_shipping",
    "cost_member_service",
    "cost_fixed",
)


def profit_bridge(summary: pd.DataFrame) -> pd.DataFrame:
    """From extra revenue to net incremental profit: columns step, value, measure.

    Steps: extra revenue, extra cost of goods (revenue minus gross margin), each program
    cost line, fee income and acquisition cost, all as changes against the baseline. When
    the engine's net profit includes something these lines do not, an "other" step closes
    the bridge, so the total is always the engine's own incremental net profit.
    """

    def inc(name: str) -> float:
        v = value(summary, name, "incremental")
        return 0.0 if math.isnan(v) else v

    steps = [("Extra revenue", inc("revenue")), ("Extra cost of goods", -(inc("revenue") - inc("gross_margin")))]
    extra_lines = {m for m in summary["metric"] if m.startswith("cost_") and m != "cost_per_retained_customer"}
    lines = list(COST_LINES) + sorted(extra_lines - set(COST_LINES))
    steps += [(metric(line).label.replace("Cost: ", "").capitalize(), -inc(line)) for line in lines]
    steps += [("Club fees", inc("fee_income")), ("Acquisition cost", -inc("acquisition_cost"))]
    net = inc("net_profit")
    other = net - sum(v for _, v in steps)
    if abs(other) > 1e-6 * max(1.0, abs(net), abs(inc("revenue"))):
        steps.append(("Other", other))
    steps = [(s, v) for s, v in steps if abs(v) > 1e-9 or s == "Extra revenue"]
    frame = pd.DataFrame(steps, columns=["step", "value"])
    frame["measure"] = "relative"
    total = pd.DataFrame([{"step": "Net incremental profit", "value": net, "measure": "total"}])
    return pd.concat([frame, total], ignore_index=True)


# --------------------------------------------------------------------------- comparing scenarios
def paired(replications: Mapping[str, pd.DataFrame]) -> bool:
    """Whether replication r means the same random numbers in every scenario (same seeds, same count)."""
    counts = {int(frame["replication"].nunique()) for frame in replications.values()}
    return len(counts) == 1


# Per replication a design that never pays back has no payback month (NaN). Differences of
# payback months would have to leave those runs out, which flatters the design that pays back
# less often, so the Compare page shows none; for who beats whom, never paying back within the
# horizon counts as later than any month.
NO_DIFFERENCE = ("payback_month",)
NEVER_IS_WORST = ("payback_month",)


def per_replication(replications: pd.DataFrame, name: str, arm: str) -> pd.Series:
    frame = replications[(replications["metric"] == name) & (replications["arm"] == arm)]
    values = frame.set_index("replication")["value"].sort_index()
    return values.fillna(math.inf) if name in NEVER_IS_WORST else values


def difference(a: pd.Series, b: pd.Series, is_paired: bool) -> tuple[float, float, float]:
    """Mean difference a - b and its 5-95 % interval (paired by replication when possible)."""
    if is_paired:
        a, b = a.align(b, join="inner")
        d = (a - b).dropna().to_numpy()
    else:
        d = (a.to_numpy()[:, None] - b.to_numpy()[None, :]).ravel()
        d = d[~np.isnan(d)]
    if d.size == 0:
        return math.nan, math.nan, math.nan
    return float(d.mean()), float(np.quantile(d, 0.05)), float(np.quantile(d, 0.95))


def beat_probability(a: pd.Series, b: pd.Series, better: int, is_paired: bool) -> float:
    """Share of replications in which a is better than b (ties count half); NaN if unknown."""
    if is_paired:
        a, b = a.align(b, join="inner")
        x, y = a.to_numpy(), b.to_numpy()
    else:
        x, y = a.to_numpy()[:, None], b.to_numpy()[None, :]
    ok = ~(np.isnan(x) | np.isnan(y))
    if not ok.any():
        return math.nan
    sign = better if better != 0 else 1
    with np.errstate(invalid="ignore"):  # (inf - inf: both never pay back, a tie)
        wins = np.where(sign * (x - y) > 0, 1.0, np.where(x == y, 0.5, 0.0))
    return float(wins[np.broadcast_to(ok, wins.shape)].mean())


def beat_matrix(replications: Mapping[str, pd.DataFrame], name: str, arm: str) -> pd.DataFrame:
    """P(row scenario is better than column scenario) on one metric."""
    is_paired = paired(replications)
    better = metric(name).better
    labels = list(replications)
    out = pd.DataFrame(index=labels, columns=labels, dtype=float)
    for a in labels:
        for b in labels:
            if a != b:
                out.loc[a, b] = beat_probability(
                    per_replication(replications[a], name, arm),
                    per_replication(replications[b], name, arm),
                    better,
                    is_paired,
                )
    return out


def compare_table(
    summaries: Mapping[str, pd.DataFrame], replications: Mapping[str, pd.DataFrame], arms: tuple[str, ...] = ARMS
) -> pd.DataFrame:
    """Every summary metric side by side: long table of metric, arm, scenario, mean, p05, p95,
    and the difference to the first scenario with its interval (paired by replication when possible)."""
    labels = list(summaries)
    reference = labels[0]
    is_paired = paired(replications)
    rows = []
    for label in labels:
        summary = summaries[label]
        for record in summary[summary["arm"].isin(arms)].itertuples(index=False):
            diff = (math.nan, math.nan, math.nan)
            if label != reference and record.metric not in NO_DIFFERENCE:
                diff = difference(
                    per_replication(replications[label], record.metric, record.arm),
                    per_replication(replications[reference], record.metric, record.arm),
                    is_paired,
                )
            rows.append(
                {
                    "metric": record.metric,
                    "arm": record.arm,
                    "scenario": label,
                    "mean": record.mean,
                    "p05": record.p05,
                    "p95": record.p95,
                    "diff": diff[0],
                    "diff_p05": diff[1],
                    "diff_p95": diff[2],
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["_order"] = [sort_key(m) for m in frame["metric"]]
    frame["_arm"] = [ARMS.index(a) if a in ARMS else 9 for a in frame["arm"]]
    frame["_scenario"] = [labels.index(s) for s in frame["scenario"]]
    frame = frame.sort_values(["_order", "_arm", "_scenario"]).drop(columns=["_order", "_arm", "_scenario"])
    return frame.reset_index(drop=True)


def starting_ladder(scenario) -> pd.DataFrame:
    """Customers on each satisfaction level at the start, by segment (from the scenario's own shares)."""
    from .schema import LEVELS

    rows = []
    for segment in scenario.customers.segments:
        for level, share in zip(LEVELS, segment.ladder_shares(), strict=True):
            rows.append(
                {"segment": segment.name, "level": level, "customers": share * segment.share * scenario.customers.size}
            )
    return pd.DataFrame(rows, columns=["segment", "level", "customers"])


def starting_position(scenario) -> dict[str, float]:
    """Where the client stands before the program: customers, NPS from the starting ladder (the
    engine's promoter and detractor levels), and the most that would join (a program worth far more than its effort)."""
    from .engine import DETRACTORS, PROMOTERS
    from .schema import LEVELS

    by_level = starting_ladder(scenario).groupby("level")["customers"].sum().reindex(LEVELS, fill_value=0.0)
    size = scenario.customers.size
    promoters, detractors = by_level.iloc[list(PROMOTERS)].sum(), by_level.iloc[list(DETRACTORS)].sum()
    joining = sum(s.share * s.enrollment_propensity for s in scenario.customers.segments)
    return {
        "customers": float(size),
        "nps": 100.0 * (promoters - detractors) / size,
        "willing_to_join": joining if scenario.program.active_instruments() else 0.0,
    }


def compare_display(table: pd.DataFrame, reference_summary: pd.DataFrame, currency: str) -> pd.DataFrame:
    """`compare_table` as people read it: one row per metric and arm, one column per scenario
    (mean and interval), and one per difference to the first scenario (with its interval)."""
    if table.empty:
        return pd.DataFrame(columns=["Metric", "Arm"])
    reference = table["scenario"].iloc[0]
    rows = []
    for (name, arm), group in table.groupby(["metric", "arm"], sort=False):
        m = metric(name)
        signed = is_change(reference_summary, name, arm)  # a change: +/- and percentage points
        row = {"Metric": m.label, "Arm": ARM_NAMES.get(arm, arm)}
        for rec in group.itertuples(index=False):
            interval = fmt_interval(rec.p05, rec.p95, m.kind, currency, signed)
            row[rec.scenario] = f"{fmt(rec.mean, m.kind, currency, signed)} ({interval})"
            if rec.scenario != reference:
                diff = fmt_interval(rec.diff_p05, rec.diff_p95, m.kind, currency)
                row[f"{rec.scenario} − {reference}"] = f"{fmt(rec.diff, m.kind, currency, True)} ({diff})"
        rows.append(row)
    return pd.DataFrame(rows)
