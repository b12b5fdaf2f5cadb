"""Figure builders: pure functions from results tables to plotly figures (no Streamlit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from simulation.describe import level_label
from simulation.schema import LEVELS

from .analysis import prefixed, profit_bridge, series
from .metrics import metric

PROGRAM, BASELINE = "#0f766e", "#94a3b8"
ARM_COLORS = {"program": PROGRAM, "baseline": BASELINE, "incremental": "#7c3aed"}
ARM_NAMES = {"program": "With program", "baseline": "No program", "incremental": "Difference"}
LEVEL_COLORS = dict(zip(LEVELS, ("#b91c1c", "#f97316", "#facc15", "#a3e635", "#22c55e", "#15803d"), strict=True))
CHURNED_COLOR = "#475569"
SCENARIO_COLORS = qualitative.D3
UP, DOWN = "#15803d", "#b91c1c"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, title: str, y_title: str = "", height: int = 340) -> go.Figure:
    fig.update_layout(
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "y": 0.98,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 15},
        },
        height=height,
        margin={"l": 10, "r": 10, "t": 84, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        hovermode="x unified",
        yaxis_title=y_title,
    )
    return fig


def _axis_format(fig: go.Figure, kind: str, currency: str, axis: str = "yaxis") -> None:
    if kind == "share":
        fig.update_layout({axis: {"tickformat": ".0%"}})
    elif kind == "money":
        fig.update_layout({axis: {"tickprefix": f"{currency} ", "tickformat": ".3~s"}})
    elif kind == "count":
        fig.update_layout({axis: {"tickformat": ".3~s"}})


def band(fig: go.Figure, frame: pd.DataFrame, name: str, color: str, dash: str | None = None) -> None:
    """A mean line with its 5-95 % interval as a shaded band."""
    x = list(frame["month"]) + list(frame["month"][::-1])
    y = list(frame["p95"]) + list(frame["p05"][::-1])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            fill="toself",
            fillcolor=_rgba(color, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            name=f"{name} 5-95 %",
            legendgroup=name,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["month"],
            y=frame["mean"],
            name=name,
            line={"color": color, "width": 2.5, "dash": dash},
            legendgroup=name,
        )
    )


def over_time(
    monthly: pd.DataFrame,
    name: str,
    arms: Sequence[str] = ("baseline", "program"),
    currency: str = "kr",
    title: str | None = None,
) -> go.Figure:
    """One monthly metric for the program and the baseline, each with its interval band."""
    fig = go.Figure()
    for arm in arms:
        frame = series(monthly, name, arm)
        if len(frame):
            band(
                fig, frame, ARM_NAMES.get(arm, arm), ARM_COLORS.get(arm, PROGRAM), "dot" if arm == "baseline" else None
            )
    m = metric(name)
    _layout(fig, title or f"{m.label} (mean and 5-95 % interval)")
    fig.update_xaxes(title_text="month")
    _axis_format(fig, m.kind, currency)
    return fig


def ladder_over_time(monthly: pd.DataFrame, arm: str = "program") -> go.Figure:
    """Customers on each satisfaction level, month by month, stacked from very dissatisfied up."""
    wide = prefixed(monthly, "level_", arm)
    fig = go.Figure()
    for level in LEVELS:
        if level in wide:
            fig.add_trace(
                go.Scatter(
                    x=wide.index,
                    y=wide[level],
                    name=level_label(level),
                    stackgroup="ladder",
                    line={"width": 0.5, "color": LEVEL_COLORS[level]},
                    fillcolor=_rgba(LEVEL_COLORS[level], 0.85),
                )
            )
    _layout(fig, f"Satisfaction ladder over time ({ARM_NAMES.get(arm, arm).lower()})", "customers")
    fig.update_xaxes(title_text="month")
    _axis_format(fig, "count", "")
    return fig


def ladder_flows(flows: pd.DataFrame, arm: str = "program") -> go.Figure:
    """Where the customers of month 0 end up: from their starting level to their final level or churn."""
    frame = flows[(flows["arm"] == arm) & (flows["customers"] > 0)]
    ends = [*LEVELS, "churned"]
    labels = [level_label(level) for level in LEVELS] + [level_label(level) for level in LEVELS] + ["Churned"]
    colors = [LEVEL_COLORS[level] for level in LEVELS] * 2 + [CHURNED_COLOR]
    source, target, value, link_colors = [], [], [], []
    for row in frame.itertuples(index=False):
        if row.from_level not in LEVELS or row.to_level not in ends:
            continue
        source.append(LEVELS.index(row.from_level))
        target.append(len(LEVELS) + ends.index(row.to_level))
        value.append(float(row.customers))
        link_colors.append(_rgba(LEVEL_COLORS.get(row.to_level, CHURNED_COLOR), 0.35))
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colors, "pad": 12, "thickness": 14},
            link={"source": source, "target": target, "value": value, "color": link_colors},
            valueformat=",.0f",
        )
    )
    fig.add_annotation(x=0, y=1.07, xref="paper", yref="paper", text="start", showarrow=False)
    fig.add_annotation(x=1, y=1.07, xref="paper", yref="paper", text="end of horizon", showarrow=False)
    _layout(fig, f"From start to end: ladder flows ({ARM_NAMES.get(arm, arm).lower()})", height=380)
    fig.update_layout(hovermode=False, margin={"l": 10, "r": 10, "t": 84, "b": 10})
    return fig


def profit_waterfall(summary: pd.DataFrame, currency: str = "kr") -> go.Figure:
    """From extra revenue through each cost line to net incremental profit (against the baseline)."""
    bridge = profit_bridge(summary)
    fig = go.Figure(
        go.Waterfall(
            x=bridge["step"],
            y=bridge["value"],
            measure=bridge["measure"],
            increasing={"marker": {"color": UP}},
            decreasing={"marker": {"color": DOWN}},
            totals={"marker": {"color": PROGRAM}},
            connector={"line": {"color": "#cbd5e1"}},
            texttemplate="%{y:,.3~s}",
            textposition="outside",
        )
    )
    _layout(fig, "How the program pays: change against no program, whole horizon", height=380)
    fig.update_layout(hovermode="closest", showlegend=False)
    _axis_format(fig, "money", currency)
    return fig


def clv_by_group(clv: pd.DataFrame, group_by: str = "segment", currency: str = "kr") -> go.Figure:
    """Mean customer lifetime value per segment / tier / source, with its 5-95 % interval."""
    frame = clv[clv["group_by"] == group_by]
    fig = go.Figure()
    for arm in ("baseline", "program"):
        part = frame[frame["arm"] == arm]
        if len(part):
            fig.add_trace(
                go.Bar(
                    x=part["group"],
                    y=part["mean"],
                    name=ARM_NAMES[arm],
                    marker_color=ARM_COLORS[arm],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": part["p95"] - part["mean"],
                        "arrayminus": part["mean"] - part["p05"],
                        "color": "#334155",
                    },
                    customdata=part["customers"],
                    hovertemplate="%{x}: %{y:,.0f} (%{customdata:,.0f} customers)<extra>" + ARM_NAMES[arm] + "</extra>",
                )
            )
    _layout(fig, f"Customer lifetime value by {group_by} (mean, 5-95 %)")
    fig.update_layout(barmode="group", hovermode="closest")
    _axis_format(fig, "money", currency)
    return fig


def tiers_over_time(monthly: pd.DataFrame, tier_order: Sequence[str] = (), arm: str = "program") -> go.Figure:
    """Members in each tier, month by month, stacked from the entry tier up."""
    wide = prefixed(monthly, "tier_", arm)  # also holds tier_upgrades / tier_downgrades: keep the tiers
    names = [t for t in tier_order if t in wide] if tier_order else list(wide)
    fig = go.Figure()
    for i, name in enumerate(names):
        color = SCENARIO_COLORS[i % len(SCENARIO_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=wide.index,
                y=wide[name],
                name=name,
                stackgroup="tiers",
                line={"width": 0.5, "color": color},
                fillcolor=_rgba(color, 0.8),
            )
        )
    _layout(fig, "Members by tier", "members")
    fig.update_xaxes(title_text="month")
    _axis_format(fig, "count", "")
    return fig


def points_over_time(monthly: pd.DataFrame, arm: str = "program", currency: str = "kr") -> go.Figure:
    """Points issued, redeemed and expired each month (bars), and the outstanding liability (line)."""
    fig = go.Figure()
    colors = {"points_issued": PROGRAM, "points_redeemed": "#2563eb", "points_expired": "#f97316"}
    for name, color in colors.items():
        frame = series(monthly, name, arm)
        if len(frame):
            sign = 1 if name == "points_issued" else -1
            fig.add_trace(go.Bar(x=frame["month"], y=sign * frame["mean"], name=metric(name).label, marker_color=color))
    liability = series(monthly, "points_liability", arm)
    if len(liability):
        fig.add_trace(
            go.Scatter(
                x=liability["month"],
                y=liability["mean"],
                name=metric("points_liability").label,
                yaxis="y2",
                line={"color": "#111827", "width": 2.5},
            )
        )
    _layout(fig, "Points: issued (up), redeemed and expired (down), liability", "points per month")
    fig.update_layout(
        barmode="relative",
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "title": metric("points_liability").label,
        },
    )
    fig.update_xaxes(title_text="month")
    _axis_format(fig, metric("points_liability").kind, currency, "yaxis2")
    return fig


# --------------------------------------------------------------------------- comparing scenarios
def overlay(monthlies: Mapping[str, pd.DataFrame], name: str, arm: str = "program", currency: str = "kr") -> go.Figure:
    """One monthly metric of several scenarios on one chart, each with its interval band."""
    fig = go.Figure()
    for i, (label, monthly) in enumerate(monthlies.items()):
        frame = series(monthly, name, arm)
        if len(frame):
            band(fig, frame, label, SCENARIO_COLORS[i % len(SCENARIO_COLORS)])
    m = metric(name)
    _layout(fig, f"{m.label} ({ARM_NAMES.get(arm, arm).lower()}), mean and 5-95 %")
    fig.update_xaxes(title_text="month")
    _axis_format(fig, m.kind, currency)
    return fig


def compare_bars(table: pd.DataFrame, name: str, arm: str, currency: str = "kr") -> go.Figure:
    """One summary metric of several scenarios as bars with intervals (rows of `analysis.compare_table`)."""
    rows = table[(table["metric"] == name) & (table["arm"] == arm)]
    colors = [SCENARIO_COLORS[i % len(SCENARIO_COLORS)] for i in range(len(rows))]
    fig = go.Figure(
        go.Bar(
            x=rows["scenario"],
            y=rows["mean"],
            marker_color=colors,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": rows["p95"] - rows["mean"],
                "arrayminus": rows["mean"] - rows["p05"],
                "color": "#334155",
            },
        )
    )
    m = metric(name)
    _layout(fig, f"{m.label} ({ARM_NAMES.get(arm, arm).lower()})")
    fig.update_layout(hovermode="closest", showlegend=False)
    _axis_format(fig, m.kind, currency)
    return fig


def beat_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """P(row beats column) as a heat map with the percentages written in."""
    z = matrix.to_numpy(dtype=float)
    text = [[("" if pd.isna(v) else f"{100 * v:.0f} %") for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(matrix.columns),
            y=list(matrix.index),
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale=[[0, "#fee2e2"], [0.5, "#f8fafc"], [1, "#bbf7d0"]],
            showscale=False,
            hovertemplate="P(%{y} beats %{x}) = %{z:.0%}<extra></extra>",
        )
    )
    _layout(fig, title, height=120 + 48 * len(matrix))
    fig.update_layout(hovermode="closest", yaxis={"autorange": "reversed"})
    return fig


def starting_ladder(frame: pd.DataFrame) -> go.Figure:
    """Where the customers stand today: customers per satisfaction level, stacked by segment."""
    fig = go.Figure()
    for i, (segment, part) in enumerate(frame.groupby("segment", sort=False)):
        part = part.set_index("level").reindex(list(LEVELS))
        fig.add_trace(
            go.Bar(
                x=[level_label(level) for level in LEVELS],
                y=part["customers"],
                name=str(segment),
                marker_color=SCENARIO_COLORS[i % len(SCENARIO_COLORS)],
            )
        )
    _layout(fig, "Where the customers stand at the start", "customers", height=300)
    fig.update_layout(barmode="stack", hovermode="closest")
    _axis_format(fig, "count", "")
    return fig
