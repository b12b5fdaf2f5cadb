"""Results as files: CSV and an Excel workbook (bytes, so the app and the CLI can both use them).

Pure functions of a `Results` (anything with the `summary`, `monthly`, `replications`,
`flows`, `clv`, `cohorts` and `scenario` attributes).
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from .scenario_io import dumps, to_yaml

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


def excel_bytes(results: Any) -> bytes:
    """A workbook: the tidy tables, monthly means per arm side by side, and the scenario as YAML."""
    scenario = results.scenario
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        about = pd.DataFrame(
            {
                "item": ["scenario", "description", "horizon (months)", "replications", "seed", "currency"],
                "value": [
                    scenario.meta.name,
                    scenario.meta.description,
                    scenario.simulation.horizon_months,
                    scenario.simulation.replications,
                    scenario.simulation.seed,
                    scenario.economics.currency,
                ],
            }
        )
        about.to_excel(writer, sheet_name="About", index=False)
        for sheet, attr in TABLES.items():
            frame = summary_table(results) if attr == "summary" else getattr(results, attr, None)
            if frame is not None:
                frame.to_excel(writer, sheet_name=sheet, index=False)
        arms = [a for a in ("program", "baseline", "incremental") if a in set(results.monthly["arm"])]
        for arm in arms:
            monthly_wide(results, arm).to_excel(writer, sheet_name=f"Monthly {arm}", index=False)
        yaml_lines = dumps(scenario, full=True).splitlines()
        pd.DataFrame({"scenario.yaml": yaml_lines}).to_excel(writer, sheet_name="Scenario", index=False)
        for sheet in writer.sheets.values():
            for column in sheet.columns:
                width = max(len(str(cell.value)) if cell.value is not None else 0 for cell in column[:200])
                sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)
    return buf.getvalue()


def scenario_yaml(results_or_scenario: Any, original: str | None = None) -> bytes:
    """The scenario file; written onto `original` (the text it was opened from) when given."""
    scenario = getattr(results_or_scenario, "scenario", results_or_scenario)
    return to_yaml(scenario, original).encode("utf-8")
