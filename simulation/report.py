"""One self-contained HTML report of one or more runs, for a client or a reviewer.

The file opens offline: plotly's JavaScript is embedded once, inline, never fetched from a
CDN. Per scenario: the design in plain words, the assumptions and their ranges, headline
results with their intervals, what drives the spread, the charts, the full summary and the
provenance (enough to reproduce the numbers); with several scenarios, a comparison table
first. The numbers and provenance are also embedded as JSON (`#lojal-data`) for tools.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

import pandas as pd

from . import analysis, figures, pilot, uncertainty
from .breakeven import break_even
from .describe import describe
from .metrics import GROUP_BY_LABELS, fmt, fmt_interval, metric
from .provenance import Provenance
from .schema import path_label

Run = tuple[Any, Provenance]  # (Results, its provenance)

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #0f172a; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.4rem; border-bottom: 2px solid #0f766e; }
h3 { margin-top: 1.6rem; } .muted { color: #475569; font-size: .92rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f1f5f9; } .charts { display: grid; grid-template-columns: 1fr 1fr; gap: .6rem; }
.wide { overflow-x: auto; } code { font-size: .85rem; word-break: break-all; } details { margin: .6rem 0; }
@media print { .charts { grid-template-columns: 1fr; } }
"""


def html(runs: list[Run], title: str | None = None) -> str:
    """The report of `runs` (one or more) as one HTML document."""
    names = [r.scenario.meta.name for r, _ in runs]
    title = title or (names[0] if len(names) == 1 else f"{len(names)} scenarios compared")
    body = [f"<h1>{escape(title)}</h1>", f'<p class="muted">{escape(_subtitle(runs))}</p>']
    if len(runs) > 1:
        body.append(_comparison(runs))
    body += [_scenario_section(results, prov, len(runs) > 1) for results, prov in runs]
    return _page(title, "\n".join(body), _data(runs))


def _subtitle(runs: list[Run]) -> str:
    prov = runs[0][1]
    return (
        f"lojal {prov.lojal_version} · {prov.created} · each design against the same customers "
        "without the program; intervals are 5-95 % across replications."
    )


def _page(title: str, body: str, data: str) -> str:
    from plotly.offline import get_plotlyjs

    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="lojal-data">{data}</script>\n</body>\n</html>\n'
    )


def _data(runs: list[Run]) -> str:
    """Numbers and provenance as JSON (`</` escaped: it sits inside a script element)."""
    items = [{"provenance": prov.as_dict(), "summary": results.summary_dict()} for results, prov in runs]
    return json.dumps(items, allow_nan=False).replace("</", "<\\/")


# --------------------------------------------------------------------------- pieces
def _table(frame: pd.DataFrame, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = [
            f'<td class="n">{escape(str(v))}</td>' if c in numeric else f"<td>{escape(str(v))}</td>"
            for c, v in zip(frame.columns, record, strict=True)
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="wide">{table}</div>'  # a wide table scrolls instead of overflowing the page


def _figure_html(fig: Any) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def _scenario_section(results: Any, prov: Provenance, several: bool) -> str:
    sc = results.scenario
    parts = [
        f"<h2>{escape(sc.meta.name)}</h2>",
        f"<p>{escape(sc.meta.description)}</p>" if sc.meta.description else "",
        "<h3>The design</h3>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in describe(sc)) + "</ul>",
        "<h3>Headline results</h3>",
        _table(headline_table(results), numeric=("With program", "No program", "Difference", "90 % interval")),
        f"<p>{escape(break_even(results).text(sc.economics.currency))}</p>",
        f"<p>{escape(analysis.baseline_course(results))}</p>",
        _drivers(results),
        _pilot(results),
        "<h3>Assumptions and their ranges</h3>",
        _assumptions(results),
        "<h3>Charts</h3>",
        '<div class="charts">' + "".join(f"<div>{_figure_html(f)}</div>" for f in report_figures(results)) + "</div>",
        "<details><summary>Every summary figure</summary>",
        _table(summary_display(results), numeric=("With program", "No program", "Difference", "90 % interval")),
        "</details>",
        "<h3>Provenance</h3>",
        _table(pd.DataFrame(prov.rows(), columns=["Item", "Value"])),
    ]
    return "\n".join(p for p in parts if p)


def _pilot(results: Any) -> str:
    """The pilot's lifts, measured and true ("" without a pilot)."""
    if results.pilot is None:
        return ""
    shown = pilot.display(results.pilot, results.scenario.economics.currency)
    return f"<h3>The pilot</h3><p>{escape(pilot.caption(results.scenario))}</p>" + _table(shown)


def headline_table(results: Any) -> pd.DataFrame:
    """The headline figures: with and without the program, the difference and its interval."""
    summary = analysis.headline_summary(results.summary, results.monthly)
    reps = int(results.replications["replication"].nunique())
    rows = []
    for name, _, _ in analysis.headline(summary):
        row = _row(results, summary, name)
        if name == "payback_month":
            interval = row["90 % interval"]
            row["90 % interval"] = analysis.payback_caption(summary, reps, interval)
            if math.isnan(analysis.value(summary, name, "incremental")):
                row["Difference"] = f"not within {results.scenario.simulation.horizon_months} months"
        row["Metric"] = analysis.HEADLINE_TITLES.get(name, row["Metric"])
        rows.append(row)
    return pd.DataFrame(rows)


def summary_display(results: Any) -> pd.DataFrame:
    summary = results.summary
    names = sorted(dict.fromkeys(summary["metric"]), key=lambda n: analysis.sort_key(n))
    return pd.DataFrame([_row(results, summary, name) for name in names])


def _row(results: Any, summary: pd.DataFrame, name: str) -> dict[str, str]:
    m, currency = metric(name), results.scenario.economics.currency
    cells = {"Metric": m.label}
    for arm in analysis.ARMS:
        cells[analysis.ARM_NAMES[arm]] = fmt(analysis.value(summary, name, arm), m.kind, currency)
    change = analysis.value(summary, name, "incremental")
    if not math.isnan(change) and analysis.is_change(summary, name, "incremental"):
        cells["Difference"] = fmt(change, m.kind, currency, signed=True)
    low, high = (analysis.value(summary, name, "incremental", q) for q in ("p05", "p95"))
    cells["90 % interval"] = fmt_interval(
        low, high, m.kind, currency, signed=analysis.is_change(summary, name, "incremental")
    )
    return cells


def _drivers(results: Any) -> str:
    sens = results.sensitivity
    if sens is None or sens.empty:
        return f'<p class="muted">{escape(uncertainty.NOISE_ONLY)}</p>' if not _sampled(results) else ""
    table = sens[sens["metric"] == "net_profit"].sort_values("share", ascending=False).head(8)
    frame = pd.DataFrame(
        {
            "Assumption": [p if p == uncertainty.RESIDUAL else path_label(p) for p in table["parameter"]],
            "Share of the spread of incremental profit": [f"{s:.0%}" for s in table["share"]],
        }
    )
    n = int(results.replications["replication"].nunique())
    note = f"Over {n} replications{'; rough below 50' if n < 50 else ''}."
    return f'<h3>What drives the spread</h3><p class="muted">{note}</p>' + _table(frame)


def _sampled(results: Any) -> bool:
    return results.parameters is not None and not results.parameters.empty


def _assumptions(results: Any) -> str:
    """The judgement parameters behind the behaviour, with the ranges they are (or would be) sampled over."""
    sc = results.scenario
    sampled = _sampled(results)
    probe = (
        sc
        if sampled
        else sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"sample": "judgement"})})
    )
    draws = uncertainty.sampled(probe)
    if not draws:
        return '<p class="muted">This design uses no judgement parameter with a documented range.</p>'
    rows = [
        {
            "Assumption": path_label(d.path, sc),
            "Value": "x 1 (each item's own)" if d.multiplier else f"{d.mode:.3g}",
            "Range": f"x {d.low:.3g} to x {d.high:.3g}" if d.multiplier else f"{d.low:.3g} to {d.high:.3g}",
            "Shape": d.dist,
            "Source": d.source,
        }
        for d in draws.values()
    ]
    lead = (
        "Sampled across the replications (one point per replication), so the intervals include them:"
        if sampled
        else "Held at their values in this run (the intervals are simulation noise only); "
        "with <code>uncertainty.sample: judgement</code> they are sampled over these ranges:"
    )
    return f"<p>{lead}</p>" + _table(pd.DataFrame(rows), numeric=("Value", "Range"))


def report_figures(results: Any) -> list[Any]:
    """The charts of a run, in the order of the app's Results page."""
    monthly, currency = results.monthly, results.scenario.economics.currency
    out = [
        figures.over_time(monthly, "active_customers", currency=currency, marks=figures.phase_marks(results.scenario)),
        figures.over_time(monthly, "retention", currency=currency, marks=figures.phase_marks(results.scenario)),
        figures.ladder_over_time(monthly, "program"),
        figures.ladder_flows(results.flows, "program"),
        figures.profit_waterfall(results.summary, currency),
    ]
    groups = [g for g in GROUP_BY_LABELS if g in set(results.clv["group_by"])]
    out += [figures.clv_by_group(results.clv, g, currency) for g in groups[:1]]
    return out + [fig for _, fig in figures.instrument_figures(results)]


def _comparison(runs: list[Run]) -> str:
    """Every summary metric side by side, with the difference to the first scenario."""
    labels = _unique([r.scenario.meta.name for r, _ in runs])
    summaries = {label: r.summary for label, (r, _) in zip(labels, runs, strict=True)}
    replications = {label: r.replications for label, (r, _) in zip(labels, runs, strict=True)}
    table = analysis.compare_table(summaries, replications)
    first = runs[0][0]
    key = {(name, arm) for name, arm, _ in analysis.headline(first.summary)}
    key |= {(name, "incremental") for name, _ in key}
    headline = table[[(m, a) in key for m, a in zip(table["metric"], table["arm"], strict=True)]]
    currency = first.scenario.economics.currency
    shown, full = (analysis.compare_display(t, first.summary, currency).fillna("–") for t in (headline, table))
    note = (
        f"Each scenario's mean (5-95 % interval); the difference to “{labels[0]}” is paired by replication "
        "when the runs share seeds and replications."
    )
    return (
        f'<h2>Comparison</h2><p class="muted">{escape(note)}</p>'
        + _table(shown, numeric=tuple(shown.columns[2:]))
        + "<details><summary>Every summary figure</summary>"
        + _table(full, numeric=tuple(full.columns[2:]))
        + "</details>"
    )


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        label, n = name, 2
        while label in out:
            label, n = f"{name} ({n})", n + 1
        out.append(label)
    return out
