"""Figure builders: pure functions from results tables to plotly figures (no Streamlit).

Each figure is put together from plain trace and layout dicts and built once: plotly
validates on every `add_trace` / `update_layout`, and building once is about four times
faster, which counts on the way from pressing Run to seeing the charts.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from .analysis import ARM_NAMES, prefixed, profit_bridge, series
from .describe import level_label
from .metrics import fmt, group_label, metric
from .schema import LEVELS

PROGRAM, BASELINE = "#0f766e", "#94a3b8"
ARM_COLORS = {"program": PROGRAM, "baseline": BASELINE, "incremental": "#7c3aed"}
LEVEL_COLORS = dict(zip(LEVELS, ("#b91c1c", "#f97316", "#facc15", "#a3e635", "#22c55e", "#15803d"), strict=True))
CHURNED_COLOR = "#475569"
SCENARIO_COLORS = qualitative.D3
UP, DOWN = "#15803d", "#b91c1c"

Trace = dict[str, Any]


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _axis(kind: str, currency: str = "", **extra: Any) -> dict[str, Any]:
    """Tick format of an axis showing one kind of number."""
    formats = {
        "share": {"tickformat": ".0%"},
        "money": {"tickprefix": f"{currency} ", "tickformat": ".3~s"},
        "count": {"tickformat": ".3~s"},
    }
    return {**formats.get(kind, {}), **extra}


# The legend's top, in pixels from the figure's top: under the title. Placed from the top of the
# figure (not on the plot, which plotly then pushes down under a legend of several lines) so that
# it stays clear of what sits above it: the title here, the app's modebar (app/views.py).
LEGEND_TOP_PX = 48
MARGIN = {"l": 10, "r": 10, "t": 84, "b": 10}  # (the top: the title and the legend's row)


def legend_at(top_px: float, height: float) -> dict[str, Any]:
    """A legend in rows from the left, its top `top_px` below the top of a figure `height` high."""
    return {
        "orientation": "h",
        "yref": "container",
        "y": 1 - top_px / height,
        "yanchor": "top",
        "xanchor": "left",
        "x": 0,
    }


def _figure(
    traces: list[Trace],
    title: str,
    y: dict[str, Any] | None = None,
    x: dict[str, Any] | None = None,
    height: int = 340,
    **layout: Any,
) -> go.Figure:
    """The house style: title top left, legend in a row under it, months on x."""
    base = {
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "y": 0.98,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 15},
        },
        "height": height,
        "margin": MARGIN,
        "legend": legend_at(LEGEND_TOP_PX, height),
        "hovermode": "x unified",
        "yaxis": y or {},
        "xaxis": x or {},
    }
    return go.Figure(data=traces, layout={**base, **layout})


MONTHS = {"title": {"text": "month"}}


def band(frame: pd.DataFrame, name: str, color: str, dash: str | None = None) -> list[Trace]:
    """A mean line with its 5-95 % interval as a shaded band."""
    months = frame["month"].tolist()
    return [
        {
            "type": "scatter",
            "x": months + months[::-1],
            "y": frame["p95"].tolist() + frame["p05"].tolist()[::-1],
            "fill": "toself",
            "fillcolor": _rgba(color, 0.18),
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": f"{name} 5-95 %",
            "legendgroup": name,
        },
        {
            "type": "scatter",
            "x": months,
            "y": frame["mean"].tolist(),
            "name": name,
            "line": {"color": color, "width": 2.5, "dash": dash},
            "legendgroup": name,
        },
    ]


def over_time(
    monthly: pd.DataFrame,
    name: str,
    arms: Sequence[str] = ("baseline", "program"),
    currency: str = "kr",
    title: str | None = None,
    marks: Sequence[tuple[int, str]] = (),
) -> go.Figure:
    """One monthly metric for the program and the baseline, each with its interval band;
    `marks`: (month, label) lines, such as the months a phase changes the design."""
    traces = []
    for arm in arms:
        frame = series(monthly, name, arm)
        if len(frame):
            dash = "dot" if arm == "baseline" else None
            traces += band(frame, ARM_NAMES.get(arm, arm), ARM_COLORS.get(arm, PROGRAM), dash)
    m = metric(name)
    fig = _figure(traces, title or f"{m.label} (mean and 5-95 % interval)", _axis(m.kind, currency), MONTHS)
    for month, label in marks:  # (month t's figures are plotted at t + 1: the change holds from there)
        fig.add_vline(
            x=month + 0.5, line_dash="dash", line_color="#888", annotation_text=label, annotation_position="top left"
        )
    return fig


def phase_marks(scenario: Any) -> list[tuple[int, str]]:
    """The months a phase changes the design, with its name (docs/model.md section 8.2)."""
    return [(p.month, p.name or f"phase {i + 1}") for i, p in enumerate(scenario.phases.changes)]


def cohort_retention(cohorts: pd.DataFrame) -> go.Figure:
    """Retention by months since arrival, one line per cohort: with the program solid, without
    dotted (each cohort's share still active among those observed that long)."""
    traces = []
    names = list(dict.fromkeys(cohorts["cohort"]))
    for i, name in enumerate(names):
        color = SCENARIO_COLORS[i % len(SCENARIO_COLORS)]
        for arm in ("program", "baseline"):
            part = cohorts[(cohorts["cohort"] == name) & (cohorts["arm"] == arm)]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": part["months_since_arrival"].tolist(),
                    "y": part["mean"].tolist(),
                    "name": f"{name.capitalize()}{'' if arm == 'program' else ' (no program)'}",
                    "legendgroup": name,
                    "showlegend": arm == "program",  # one legend entry per cohort: it toggles both lines
                    "line": {
                        "color": color,
                        "width": 2.5 if arm == "program" else 1.5,
                        "dash": None if arm == "program" else "dot",
                    },
                    "customdata": part["customers"].round().tolist(),
                    "hovertemplate": "%{y:.1%} of %{customdata:,.0f} customers",
                }
            )
    x = {"title": {"text": "months since arrival"}}
    return _figure(traces, "Retention by cohort (mean; dotted: no program)", _axis("share"), x)


def ladder_over_time(monthly: pd.DataFrame, arm: str = "program") -> go.Figure:
    """Customers on each satisfaction level, month by month, stacked from very dissatisfied up."""
    wide = prefixed(monthly, "level_", arm)
    traces = [
        {
            "type": "scatter",
            "x": wide.index.tolist(),
            "y": wide[level].tolist(),
            "name": level_label(level),
            "stackgroup": "ladder",
            "line": {"width": 0.5, "color": LEVEL_COLORS[level]},
            "fillcolor": _rgba(LEVEL_COLORS[level], 0.85),
        }
        for level in LEVELS
        if level in wide
    ]
    title = f"Satisfaction ladder over time ({ARM_NAMES.get(arm, arm).lower()})"
    return _figure(traces, title, _axis("count", title={"text": "customers"}), MONTHS)


def ladder_flows(flows: pd.DataFrame, arm: str = "program") -> go.Figure:
    """Where the customers of month 0 end up: from their starting level to their final level or churn."""
    frame = flows[(flows["arm"] == arm) & (flows["customers"] > 0)]
    ends = [*LEVELS, "churned"]
    labels = [level_label(level) for level in LEVELS] * 2 + ["Churned"]
    colors = [LEVEL_COLORS[level] for level in LEVELS] * 2 + [CHURNED_COLOR]
    source, target, value, link_colors = [], [], [], []
    for row in frame.itertuples(index=False):
        if row.from_level not in LEVELS or row.to_level not in ends:
            continue
        source.append(LEVELS.index(row.from_level))
        target.append(len(LEVELS) + ends.index(row.to_level))
        value.append(float(row.customers))
        link_colors.append(_rgba(LEVEL_COLORS.get(row.to_level, CHURNED_COLOR), 0.35))
    sankey = {
        "type": "sankey",
        "arrangement": "fixed",
        "node": {
            "label": labels,
            "color": colors,
            "pad": 12,
            "thickness": 14,
            **_ladder_positions(source, target, value),
        },
        "link": {"source": source, "target": target, "value": value, "color": link_colors},
        "valueformat": ",.0f",
        "textfont": {"color": "#0f172a", "size": 12},
    }
    # under the two columns: above them the app shows the chart's modebar
    notes = [
        {"x": x, "y": -0.01, "yanchor": "top", "xref": "paper", "yref": "paper", "text": text, "showarrow": False}
        for x, text in ((0, "start"), (1, "end of horizon"))
    ]
    title = f"From start to end: ladder flows ({ARM_NAMES.get(arm, arm).lower()})"
    return _figure([sankey], title, height=380, hovermode=False, annotations=notes, margin={**MARGIN, "b": 34})


def _ladder_positions(source: list[int], target: list[int], value: list[float]) -> dict[str, list[float]]:
    """Node positions of the flows chart in ladder order, Loyal on top and Churned at the bottom
    (plotly's own layout sorts nodes by size). Node i is level LEVELS[i] at the start, node
    len(LEVELS) + i at the end, the last node Churned; y is each node's centre from the top."""
    n = 2 * len(LEVELS) + 1
    size = [0.0] * n
    for s_, t_, v in zip(source, target, value, strict=True):
        size[s_] += v
        size[t_] += v
    start = [len(LEVELS) - 1 - i for i in range(len(LEVELS))]  # loyal first
    end = [len(LEVELS) + i for i in start] + [n - 1]
    x, y = [0.001] * n, [0.5] * n
    for column, at in ((start, 0.001), (end, 0.999)):
        total = sum(size[i] for i in column) or 1.0
        gap = 0.02  # room between nodes, as a share of the height
        used, top = 1.0 - gap * (len(column) - 1), 0.0
        for i in column:
            height = used * size[i] / total
            x[i], y[i] = at, min(max(top + height / 2, 0.001), 0.999)
            top += height + (gap if size[i] else 0)
    return {"x": x, "y": y}


def profit_waterfall(summary: pd.DataFrame, currency: str = "kr") -> go.Figure:
    """From extra revenue through each cost line to net incremental profit (against the baseline)."""
    bridge = profit_bridge(summary)
    waterfall = {
        "type": "waterfall",
        "x": bridge["step"].tolist(),
        "y": bridge["value"].tolist(),
        "measure": bridge["measure"].tolist(),
        "increasing": {"marker": {"color": UP}},
        "decreasing": {"marker": {"color": DOWN}},
        "totals": {"marker": {"color": PROGRAM}},
        "connector": {"line": {"color": "#cbd5e1"}},
        "texttemplate": "%{y:,.3~s}",
        "textposition": "outside",
    }
    title = "How the program pays: change against no program, whole horizon"
    return _figure([waterfall], title, _axis("money", currency), height=380, hovermode="closest", showlegend=False)


def _error_bars(part: pd.DataFrame) -> dict[str, Any]:
    return {
        "type": "data",
        "symmetric": False,
        "array": (part["p95"] - part["mean"]).tolist(),
        "arrayminus": (part["mean"] - part["p05"]).tolist(),
        "color": "#334155",
    }


def clv_by_group(clv: pd.DataFrame, group_by: str = "segment", currency: str = "kr") -> go.Figure:
    """Mean customer lifetime value per segment / tier / source, with its 5-95 % interval."""
    frame = clv[clv["group_by"] == group_by]
    traces = []
    for arm in ("baseline", "program"):
        part = frame[frame["arm"] == arm]
        if len(part):
            traces.append(
                {
                    "type": "bar",
                    "x": [group_label(g) for g in part["group"]],
                    "y": part["mean"].tolist(),
                    "name": ARM_NAMES[arm],
                    "marker": {"color": ARM_COLORS[arm]},
                    "error_y": _error_bars(part),
                    "customdata": part["customers"].tolist(),
                    "hovertemplate": "%{x}: %{y:,.0f} (%{customdata:,.0f} customers)<extra>"
                    + ARM_NAMES[arm]
                    + "</extra>",
                }
            )
    title = f"Customer lifetime value by {group_by} (mean, 5-95 %)"
    return _figure(traces, title, _axis("money", currency), barmode="group", hovermode="closest")


def tiers_over_time(monthly: pd.DataFrame, tier_order: Sequence[str] = (), arm: str = "program") -> go.Figure:
    """Members in each tier, month by month, stacked from the entry tier up."""
    wide = prefixed(monthly, "tier_", arm)  # also holds tier_upgrades / tier_downgrades: keep the tiers
    names = [t for t in tier_order if t in wide] if tier_order else list(wide)
    traces = []
    for i, name in enumerate(names):
        color = SCENARIO_COLORS[i % len(SCENARIO_COLORS)]
        traces.append(
            {
                "type": "scatter",
                "x": wide.index.tolist(),
                "y": wide[name].tolist(),
                "name": name,
                "stackgroup": "tiers",
                "line": {"width": 0.5, "color": color},
                "fillcolor": _rgba(color, 0.8),
            }
        )
    return _figure(traces, "Members by tier", _axis("count", title={"text": "members"}), MONTHS)


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to about `top` (1, 2, 2.5 or 5 times a power of ten apart)."""
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(top // step) + 1)]


def points_over_time(monthly: pd.DataFrame, arm: str = "program", currency: str = "kr") -> go.Figure:
    """Points issued, redeemed and expired each month (bars), and the outstanding liability (line)."""
    traces, reach = [], 0.0
    colors = {"points_issued": PROGRAM, "points_redeemed": "#2563eb", "points_expired": "#f97316"}
    for name, color in colors.items():
        frame = series(monthly, name, arm)
        if len(frame):
            sign = 1 if name == "points_issued" else -1
            reach = max(reach, float(frame["mean"].abs().max()))
            traces.append(
                {
                    "type": "bar",
                    "x": frame["month"].tolist(),
                    "y": (sign * frame["mean"]).tolist(),
                    "name": metric(name).label,
                    "marker": {"color": color},
                }
            )
    liability = series(monthly, "points_liability", arm)
    label = metric("points_liability").label
    top = float(liability["mean"].max()) if len(liability) else 0.0
    if len(liability):
        traces.append(
            {
                "type": "scatter",
                "x": liability["month"].tolist(),
                "y": liability["mean"].tolist(),
                "name": label,
                "yaxis": "y2",
                "line": {"color": "#111827", "width": 2.5},
            }
        )
    y2 = _axis(
        metric("points_liability").kind,
        currency,
        overlaying="y",
        side="right",
        showgrid=False,
        tickmode="auto",  # its own round numbers, not ticks synced to the points axis
        title={"text": label},
    )
    title = "Points: issued (up), redeemed and expired (down), liability"
    y = _axis("count", title={"text": "points per month"})
    if reach > 0 and top > 0:  # both axes symmetric about zero, so their zero lines meet
        y["range"], y2["range"] = [-1.1 * reach, 1.1 * reach], [-1.1 * top, 1.1 * top]
        # ... but a liability is never negative: ticks from zero up only
        ticks = nice_ticks(top)
        y2.update(tickmode="array", tickvals=ticks, ticktext=[fmt(v, "money", currency) for v in ticks])
    return _figure(traces, title, y, MONTHS, barmode="relative", yaxis2=y2)


# --------------------------------------------------------------------------- comparing scenarios
def instrument_figures(results: Any) -> list[tuple[str, go.Figure]]:
    """The charts of the instruments a run has (name, figure), each instrument's own (its `charts`)."""
    from .instruments import REGISTRY

    active = results.scenario.program.active_instruments()
    return [chart for key, block in active.items() for chart in REGISTRY[key].charts(results, block)]


def overlay(monthlies: Mapping[str, pd.DataFrame], name: str, arm: str = "program", currency: str = "kr") -> go.Figure:
    """One monthly metric of several scenarios on one chart, each with its interval band."""
    traces = []
    for i, (label, monthly) in enumerate(monthlies.items()):
        frame = series(monthly, name, arm)
        if len(frame):
            traces += band(frame, wrap(label, 36), SCENARIO_COLORS[i % len(SCENARIO_COLORS)])
    m = metric(name)
    title = f"{m.label} ({ARM_NAMES.get(arm, arm).lower()}), mean and 5-95 %"
    # the legend takes a line per one or two designs above the plot: the figure grows with it
    return _figure(traces, title, _axis(m.kind, currency), MONTHS, height=340 + 24 * max(0, len(monthlies) - 2))


def compare_bars(table: pd.DataFrame, name: str, arm: str, currency: str = "kr") -> go.Figure:
    """One summary metric of several scenarios as bars with intervals (rows of `analysis.compare_table`);
    horizontal, numbered as in the heat map, so that five long names stay legible side by side."""
    rows = table[(table["metric"] == name) & (table["arm"] == arm)]
    bars = {
        "type": "bar",
        "orientation": "h",
        "y": [wrap(f"{i} {label}", 24) for i, label in enumerate(rows["scenario"], 1)],
        "x": rows["mean"].tolist(),
        "hovertext": rows["scenario"].tolist(),
        "marker": {"color": [SCENARIO_COLORS[i % len(SCENARIO_COLORS)] for i in range(len(rows))]},
        "error_x": _error_bars(rows),
    }
    m = metric(name)
    title = f"{m.label} ({ARM_NAMES.get(arm, arm).lower()})"
    y = {"autorange": "reversed", "automargin": True}
    return _figure(
        [bars], title, y, _axis(m.kind, currency), height=140 + 56 * len(rows), hovermode="closest", showlegend=False
    )


def wrap(label: str, width: int = 16) -> str:
    """A long name over several lines of a tick label (plotly breaks lines at <br> only)."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def beat_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """P(row beats column) as a heat map with the percentages written in. Rows carry the designs'
    numbered names, columns only their numbers, so five designs fit a half-width chart."""
    z = matrix.to_numpy(dtype=float)
    names = list(matrix.index)
    number = {name: str(i) for i, name in enumerate(names, 1)}
    heat = {
        "type": "heatmap",
        "z": z,
        "x": [number.get(c, c) for c in matrix.columns],
        "y": [wrap(f"{number[r]} {r}", 24) for r in names],
        "customdata": [[(r, c) for c in matrix.columns] for r in names],
        "text": [[("" if pd.isna(v) else f"{100 * v:.0f} %") for v in row] for row in z],
        "texttemplate": "%{text}",
        "textfont": {"size": 13},  # (readable on a projector; plotly's default shrinks with the cells)
        "zmin": 0,
        "zmax": 1,
        "colorscale": [[0, "#fee2e2"], [0.5, "#f8fafc"], [1, "#bbf7d0"]],
        "showscale": False,
        "hovertemplate": "P(%{customdata[0]} beats %{customdata[1]}) = %{z:.0%}<extra></extra>",
    }
    y = {"autorange": "reversed", "automargin": True}
    x = {"side": "top", "type": "category", "title": {"text": "column: design number"}}
    return _figure([heat], title, y, x, height=140 + 56 * len(matrix), hovermode="closest")


def starting_ladder(frame: pd.DataFrame) -> go.Figure:
    """Where the customers stand today: customers per satisfaction level, stacked by segment."""
    traces = []
    for i, (segment, part) in enumerate(frame.groupby("segment", sort=False)):
        part = part.set_index("level").reindex(list(LEVELS))
        traces.append(
            {
                "type": "bar",
                "x": [level_label(level) for level in LEVELS],
                "y": part["customers"].tolist(),
                "name": str(segment),
                "marker": {"color": SCENARIO_COLORS[i % len(SCENARIO_COLORS)]},
            }
        )
    title = "Where the customers stand at the start"
    y = _axis("count", title={"text": "customers"})
    return _figure(traces, title, y, height=300, barmode="stack", hovermode="closest")
