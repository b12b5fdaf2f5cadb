"""Results as files: CSV and an Excel workbook (bytes, so the app and the CLI can both use them).

Pure functions of a `Results` (anything with the `summary`, `monthly`, `replications`,
`flows`, `clv`, `cohorts` and `scenario` attributes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import analysis, pilot
from .analysis import ARM_NAMES
from .describe import level_label, with_currency
from .metrics import group_label, metric, sort_key
from .scenario_io import dumps, to_yaml
from .schema import path_label
from .uncertainty import RESIDUAL

# sheet name -> Results attribute, in workbook order
TABLES = {
    "Summary": "summary",
    "Monthly": "monthly",
    "Replications": "replications",
    "Flows": "flows",
    "CLV": "clv",
    "Cohorts": "cohorts",
}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def summary_table(results: Any) -> pd.DataFrame:
    """The summary with a `note` column that says in words what an empty number means
    (a payback month not reached within the horizon) and how many replications pay back."""
    frame = results.summary.copy()
    frame["note"] = ""
    rows = frame["arm"] == "incremental"
    share = frame.loc[rows & (frame["metric"] == "payback_share"), "mean"]
    if len(share) and pd.notna(share.iloc[0]):
        runs = int(results.replications["replication"].nunique())
        paid = round(float(share.iloc[0]) * runs)
        horizon = results.scenario.simulation.horizon_months
        month = rows & (frame["metric"] == "payback_month")
        reached = frame.loc[month, "mean"].notna().any()
        has_interval = frame.loc[month, "p05"].notna().any()
        text = f"{paid} of {runs} replications pay back"
        if not reached:
            text = f"not within the {horizon}-month horizon; {text}"
        elif not has_interval:
            text += " (too few for an interval)"
        else:
            text += " (interval from those)"
        frame.loc[month, "note"] = text
        frame.loc[rows & (frame["metric"] == "payback_share"), "note"] = f"{paid} of {runs} replications"
    return frame


def csv_files(results: Any, prov: Any) -> dict[str, bytes]:
    """The CSV folder of a run: file name -> contents (the sampled assumptions only when sampled)."""
    files = {
        "summary.csv": summary_csv(results),
        "monthly.csv": csv_bytes(results.monthly),
        "cohorts.csv": csv_bytes(results.cohorts),
    }
    if results.parameters is not None and not results.parameters.empty:
        files["parameters.csv"] = csv_bytes(results.parameters)
        files["sensitivity.csv"] = csv_bytes(results.sensitivity)
    if results.pilot is not None:
        files["pilot.csv"] = csv_bytes(results.pilot)
    files["provenance.csv"] = csv_bytes(pd.DataFrame(prov.rows(), columns=["item", "value"]))
    return files


def summary_csv(results: Any) -> bytes:
    """Columns metric, arm, mean, p05, p95, note."""
    return csv_bytes(summary_table(results))


def monthly_csv(results: Any) -> bytes:
    """Columns month, metric, arm, mean, p05, p95."""
    return csv_bytes(results.monthly)


def monthly_wide(results: Any, arm: str = "program") -> pd.DataFrame:
    """One row per month, one column per metric (means of one arm): easy to chart in Excel."""
    frame = results.monthly[results.monthly["arm"] == arm]
    wide = frame.pivot_table(index="month", columns="metric", values="mean", sort=False)
    wide.columns.name = None
    return wide.reset_index()


# column ids -> headers people read
HEADERS = {
    "metric": "Metric", "arm": "Arm", "mean": "Mean", "p05": "5 %", "p95": "95 %", "note": "Note",
    "month": "Month", "replication": "Replication", "value": "Value", "customers": "Customers",
    "from_level": "From level", "to_level": "To level", "group_by": "Customers by", "group": "Group",
    "cohort": "Cohort", "months_since_arrival": "Months since arrival", "parameter": "Assumption",
    "share": "Share of the spread", "coefficient": "Direction", "method": "Method",
}  # fmt: skip
KIND_FORMATS = {"share": "0.0%", "count": "#,##0", "score": "0.0", "months": "0.0", "number": "#,##0.00"}
# what the numbers of tables without a metric column are
TABLE_KINDS = {"clv": "money", "cohorts": "share", "flows": "count", "sensitivity": "share"}


@dataclass
class _Sheet:
    name: str
    frame: pd.DataFrame
    formats: dict[str, str | list[str]] = field(default_factory=dict)  # column -> format, or one per row
    freeze: str = "A2"


def _number_format(kind: str, currency: str) -> str:
    if kind == "money":
        return with_currency("#,##0", f'"{currency}"')
    return KIND_FORMATS.get(kind, KIND_FORMATS["number"])


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Labels instead of ids: metric and arm names, levels, customer groups, assumptions."""
    out = frame.copy()
    maps = {
        "metric": lambda v: metric(v).label,
        "arm": lambda v: ARM_NAMES.get(v, v),
        "from_level": level_label,
        "to_level": lambda v: "Churned" if v == "churned" else level_label(v),
        "group_by": lambda v: str(v).capitalize(),
        "group": group_label,
        "parameter": lambda v: v if v == RESIDUAL else path_label(v),
        "coefficient": lambda v: "higher → higher" if v > 0 else ("higher → lower" if v < 0 else "none"),
    }
    for column, func in maps.items():
        if column in out:
            out[column] = out[column].map(func)
    return out.rename(columns=HEADERS)


def _table_sheet(name: str, frame: pd.DataFrame, currency: str, kind: str = "number") -> _Sheet:
    """A tidy table; its numbers formatted by their metric's kind (or by `kind`)."""
    values = [c for c in ("mean", "p05", "p95", "value", "share") if c in frame]
    if "metric" in frame and "parameter" not in frame:
        per_row = [_number_format(metric(m).kind, currency) for m in frame["metric"]]
        formats: dict[str, str | list[str]] = {HEADERS[c]: per_row for c in values}
    else:
        formats = {HEADERS[c]: _number_format(kind, currency) for c in values}
    if "customers" in frame:
        formats[HEADERS["customers"]] = _number_format("count", currency)
    return _Sheet(name, _readable(frame), formats)


def _wide_sheet(results: Any, arm: str, currency: str) -> _Sheet:
    wide = monthly_wide(results, arm)
    names = [c for c in wide.columns if c != "month"]
    formats = {metric(n).label: _number_format(metric(n).kind, currency) for n in names}
    wide = wide.rename(columns={"month": "Month", **{n: metric(n).label for n in names}})
    return _Sheet(f"Monthly {ARM_NAMES[arm].lower()}", wide, formats, freeze="B2")


def _about_sheet(results: Any, prov: Any) -> _Sheet:
    sc = results.scenario
    rows = [
        ("Scenario", sc.meta.name),
        ("Description", sc.meta.description),
        ("Horizon (months)", sc.simulation.horizon_months),
        ("Currency", sc.economics.currency),
        ("Intervals", "5-95 % across replications; the incremental arm is paired (same customers, same chance)"),
        *(
            prov.rows()
            if prov is not None
            else [("Seed", sc.simulation.seed), ("Replications", sc.simulation.replications)]
        ),
    ]
    return _Sheet("About", pd.DataFrame(rows, columns=["Item", "Value"]))


def _headline_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order people read a summary: headline metrics first, arms in order."""
    arms = list(ARM_NAMES)
    keys = [
        (sort_key(m), arms.index(a) if a in arms else len(arms))
        for m, a in zip(frame["metric"], frame["arm"], strict=True)
    ]
    order = sorted(range(len(frame)), key=keys.__getitem__)
    return frame.iloc[order].reset_index(drop=True)


def _sheets(results: Any, prov: Any) -> list[_Sheet]:
    currency = results.scenario.economics.currency
    sheets = [_about_sheet(results, prov), _table_sheet("Summary", _headline_first(summary_table(results)), currency)]
    for sheet, attr in list(TABLES.items())[1:]:
        frame = getattr(results, attr, None)
        if frame is not None:
            sheets.append(_table_sheet(sheet, frame, currency, TABLE_KINDS.get(attr, "number")))
    sampled = results.parameters is not None and not results.parameters.empty
    if sampled and results.sensitivity is not None and not results.sensitivity.empty:
        sheets.append(_table_sheet("What drives the spread", results.sensitivity, currency, "share"))
    if results.pilot is not None:
        shown = pilot.display(results.pilot, currency)
        setup = pd.DataFrame({"Measure": [pilot.caption(results.scenario)]})
        sheets.append(_Sheet("Pilot", pd.concat([shown, setup], ignore_index=True).fillna("")))
    arms = [a for a in ("program", "baseline", "incremental") if a in set(results.monthly["arm"])]
    sheets += [_wide_sheet(results, arm, currency) for arm in arms]
    yaml_lines = dumps(results.scenario, full=True).splitlines()
    sheets.append(_Sheet("Scenario", pd.DataFrame({"Scenario (YAML, every default filled in)": yaml_lines})))
    return sheets


def _style(ws: Any, sheet: _Sheet) -> None:
    """Bold frozen header, number formats, column widths from the contents."""
    from openpyxl.styles import Font

    ws.freeze_panes = sheet.freeze
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, column in enumerate(sheet.frame.columns):
        cells = [row[i] for row in ws.iter_rows(min_row=2)]
        fmt = sheet.formats.get(column)
        for r, cell in enumerate(cells):
            if fmt is not None and isinstance(cell.value, (int, float)):
                cell.number_format = fmt if isinstance(fmt, str) else fmt[r]
        width = max([len(str(column)), *(len(str(c.value)) for c in cells[:500] if c.value is not None)])
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = min(max(10, width + 2), 70)


def _book(sheets: list[_Sheet]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for sheet in sheets:
            sheet.frame.to_excel(writer, sheet_name=sheet.name, index=False)
            _style(writer.sheets[sheet.name], sheet)
    return buf.getvalue()


def excel_bytes(results: Any, prov: Any = None) -> bytes:
    """A workbook to read, not only to compute with: About (what was run, with its provenance),
    the summary and the tidy tables with labels, monthly means per arm side by side, and the
    scenario with every default filled in."""
    return _book(_sheets(results, prov))


def excel_comparison_bytes(runs: list[tuple[Any, Any]]) -> bytes:
    """One workbook for several runs: a Comparison sheet, then each run's sheets numbered
    `1 Summary`, `2 Summary`, ... in the order given (each run's About names its scenario)."""
    labels = [f"{i} {results.scenario.meta.name}" for i, (results, _) in enumerate(runs, 1)]
    table = analysis.compare_table(
        {label: r.summary for label, (r, _) in zip(labels, runs, strict=True)},
        {label: r.replications for label, (r, _) in zip(labels, runs, strict=True)},
    )
    first = runs[0][0]
    shown = analysis.compare_display(table, first.summary, first.scenario.economics.currency).fillna("–")
    sheets = [_Sheet("Comparison", shown, freeze="C2")]
    for i, (results, prov) in enumerate(runs, 1):
        sheets += [_Sheet(f"{i} {s.name}"[:31], s.frame, s.formats, s.freeze) for s in _sheets(results, prov)]
    return _book(sheets)


def scenario_yaml(results_or_scenario: Any, original: str | None = None) -> bytes:
    """The scenario file; written onto `original` (the text it was opened from) when given."""
    scenario = getattr(results_or_scenario, "scenario", results_or_scenario)
    return to_yaml(scenario, original).encode("utf-8")
