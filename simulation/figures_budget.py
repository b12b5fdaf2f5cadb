"""Figures of the budget explorer: the cost / outcome frontier and the tornado (pure functions,
plotly, no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .figures import DOWN, PROGRAM, UP, _axis, _figure, _rgba
from .metrics import fmt, metric
from .schema import short_label

OTHER = "#94a3b8"
CURRENT, BEST = "#f97316", "#7c3aed"


def frontier(
    cost: np.ndarray,
    mean: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    on_frontier: np.ndarray,
    labels: Sequence[str],
    outcome: str,
    currency: str = "kr",
    budget: float | None = None,
    current: int | None = None,
    best: int | None = None,
) -> go.Figure:
    """Program cost (x) against the outcome's mean (y) of every design, with 5-95 % bars; the
    frontier as a line, the current design and the best within budget marked, the budget a line."""
    kind = metric(outcome).kind
    text = [f"{label}<br>cost {fmt(c, 'money', currency)}<br>{metric(outcome).label} {fmt(m, kind, currency)}"
            f" ({fmt(lo, kind, currency)} to {fmt(hi, kind, currency)})"
            for label, c, m, lo, hi in zip(labels, cost, mean, low, high, strict=True)]  # fmt: skip
    bars = {"type": "data", "symmetric": False, "array": high - mean, "arrayminus": mean - low,
            "color": _rgba(OTHER, 0.6), "thickness": 1}  # fmt: skip
    traces = [{"type": "scatter", "mode": "markers", "x": cost, "y": mean, "error_y": bars, "name": "designs",
               "marker": {"color": np.where(on_frontier, PROGRAM, OTHER), "size": 8}, "text": text,
               "hovertemplate": "%{text}<extra></extra>"}]  # fmt: skip
    order = np.flatnonzero(on_frontier)[np.argsort(cost[on_frontier], kind="stable")]
    traces.append({"type": "scatter", "mode": "lines", "x": cost[order], "y": mean[order], "name": "frontier",
                   "line": {"color": PROGRAM, "width": 2}, "hoverinfo": "skip"})  # fmt: skip
    for index, name, color, symbol in ((current, "current design", CURRENT, "star"), (best, "best within budget", BEST, "diamond")):  # fmt: skip
        if index is not None:
            traces.append({"type": "scatter", "mode": "markers", "x": [cost[index]], "y": [mean[index]], "name": name,
                           "marker": {"color": color, "size": 16, "symbol": symbol, "line": {"width": 1, "color": "white"}},
                           "text": [text[index]], "hovertemplate": "%{text}<extra></extra>"})  # fmt: skip
    shapes = []
    if budget is not None:
        shapes.append({"type": "line", "x0": budget, "x1": budget, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": DOWN, "dash": "dash", "width": 2}})  # fmt: skip
        traces.append({"type": "scatter", "mode": "lines", "x": [None], "y": [None], "name": f"budget {fmt(budget, 'money', currency)}",
                       "line": {"color": DOWN, "dash": "dash"}})  # fmt: skip
    title = f"What the money buys: {metric(outcome).label.lower()} against program cost"
    return _figure(traces, title, y=_axis(kind, currency, title={"text": metric(outcome).label}),
                   x=_axis("money", currency, title={"text": "program cost over the horizon"}), height=420,
                   shapes=shapes, hovermode="closest")  # fmt: skip


TORNADO_TOP = 12  # bars on a tornado: the assumptions that move the outcome most


def tornado(table: pd.DataFrame, base: float, outcome: str, currency: str = "kr", top: int = TORNADO_TOP) -> go.Figure:
    """Each assumption at the low and the high end of its range: the change in the outcome from
    its value at the scenario's own values, the largest swing on top."""
    kind = metric(outcome).kind
    rows = table.head(top).iloc[::-1]  # plotly draws the first bar at the bottom
    names = [short_label(p) for p in rows.parameter]
    traces = []
    for end, color in (("low", DOWN), ("high", UP)):
        values = rows[f"at_{end}"].to_numpy() - base
        traces.append({"type": "bar", "orientation": "h", "y": names, "x": values, "name": f"at the {end} end",
                       "marker": {"color": color},
                       "customdata": np.stack([rows[end].to_numpy(), rows[f"at_{end}"].to_numpy()], axis=1),
                       "hovertemplate": "%{y}: %{customdata[0]:.3g} -> " + metric(outcome).label
                       + " %{customdata[1]:,.0f}<extra></extra>"})  # fmt: skip
    title = f"Which assumption moves {metric(outcome).label.lower()} (from {fmt(base, kind, currency)})"
    return _figure(traces, title, x=_axis(kind, currency, title={"text": "change"}), height=120 + 28 * len(rows),
                   barmode="overlay", hovermode="closest")  # fmt: skip
