"""Figures of the calibration's holdout check (pure functions, plotly, no Streamlit): the
cumulative repeat transactions week by week and the mean holdout transactions by
calibration-period count, the actual against each model."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .figures import BASELINE, PROGRAM, _axis, _figure

# the actual in black, the agent model in the app's program colour, the classical models apart
LINES = {"actual": ("#111827", None), "agent model": (PROGRAM, None), "BG/NBD": ("#2563eb", "dash"),
         "Pareto/NBD": ("#d97706", "dot")}  # fmt: skip


def _lines(table: pd.DataFrame, mode: str = "lines") -> list[dict]:
    """A line for each column (its values only)."""
    return [{"type": "scatter", "mode": mode, "x": table[name].dropna().index.tolist(), "y": table[name].dropna().tolist(),
             "name": name, "line": {"color": color, "dash": dash, "width": 3 if name == "actual" else 2}}
            for name, (color, dash) in LINES.items() if name in table.columns]  # fmt: skip


def cumulative_repeats(table: pd.DataFrame, calibration_week: float) -> go.Figure:
    """`commands.cumulative_table`: the actual over the whole period, the models' forecasts over
    the holdout, the calibration end a line."""
    shapes = [{"type": "line", "x0": calibration_week, "x1": calibration_week, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"color": BASELINE, "dash": "dash", "width": 2}}]  # fmt: skip
    notes = [{"x": calibration_week, "y": 1, "yref": "paper", "text": "calibration end", "showarrow": False,
              "xanchor": "right", "yanchor": "top", "font": {"color": "#475569"}}]  # fmt: skip
    return _figure(_lines(table), "Cumulative repeat transactions, week by week",
                   y=_axis("count", title={"text": "repeat transactions"}),
                   x={"title": {"text": "week since the first purchase in the log"}},
                   shapes=shapes, annotations=notes, height=380)  # fmt: skip


def by_count(table: pd.DataFrame) -> go.Figure:
    """`commands.by_count_table`: per number of repeat transactions in the calibration period,
    the customers' mean transactions in the holdout."""
    return _figure(_lines(table, "lines+markers"),
                   "Mean holdout transactions by calibration-period transactions",
                   y={"title": {"text": "mean transactions in the holdout"}, "rangemode": "tozero"},
                   x={"title": {"text": "repeat transactions in the calibration period"}, "type": "category"},
                   height=380)  # fmt: skip
