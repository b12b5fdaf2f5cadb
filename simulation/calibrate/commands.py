"""What `lojal calibrate` and `lojal retention` compute and print (the app and the validation
page use the same functions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import LEVEL_LABELS, Scenario, Segment, field_info
from . import gammagamma, pipeline, retention
from .transactions import Columns, DataError, check_period, read_transactions, weekly_repeat_curve

MODEL_NAMES = {"predicted": "agent model", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "actual": "actual"}
# the CDNOW files' columns and the literature's split of them (39 weeks calibrate, 39 weeks hold out)
CDNOW_COLUMNS = Columns("customer_id", "date", "amount")
CDNOW_PERIOD = ("1997-09-30", "1998-06-30")
# what each classical model's parameters are (Fader, Hardie & Lee 2005; docs/model.md 12.2)
PARAMETERS = {
    "bgnbd": ("BG/NBD", {"r": "shape of the purchase rates' gamma", "alpha": "scale of the purchase rates' gamma (weeks)",
                         "a": "dropout after a purchase: beta a", "b": "dropout after a purchase: beta b"}),
    "pareto_nbd": ("Pareto/NBD", {"r": "shape of the purchase rates' gamma",
                                  "alpha": "scale of the purchase rates' gamma (weeks)",
                                  "s": "shape of the dropout rates' gamma", "beta": "scale of the dropout rates' gamma (weeks)"}),
    "gamma_gamma": ("Gamma-Gamma spend", {"p": "shape of a purchase's amount", "q": "shape of the mean amounts' gamma",
                                          "gamma": "scale of the mean amounts' gamma"}),
}  # fmt: skip


def parse_date(value: str | None, option: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError):
        raise DataError([f"{option} {value!r}: not a date (use YYYY-MM-DD)"]) from None


def calibrate_file(path, columns: Columns, calibration_end: str | None = None, holdout_end: str | None = None,
                   nps_path=None, replications: int = 4, seed: int = 1, name: str | None = None) -> dict:  # fmt: skip
    """Read, check and calibrate a transaction log. Without a calibration end, the whole log
    calibrates (its last date)."""
    name = name or str(path)
    log = read_transactions(path, columns, name)
    cal_end = parse_date(calibration_end, "--calibration-end") or log.date.max()
    hold_end = parse_date(holdout_end, "--holdout-end")
    check_period(log, cal_end, hold_end, name)
    nps = pipeline.read_nps(nps_path, str(nps_path)) if nps_path is not None else None
    return calibrate_log(log, name, cal_end, hold_end, nps, replications, seed)


def calibrate_log(log: pd.DataFrame, name: str, calibration_end, holdout_end=None, nps: pd.DataFrame | None = None,
                  replications: int = 4, seed: int = 1, progress=pipeline._quiet) -> dict:  # fmt: skip
    """Calibrate a log already read and checked (`name`: its file's, which names the scenario)."""
    base = Scenario.model_validate({"meta": {"name": f"Calibrated on {Path(name).name}"}})
    return pipeline.calibrate(log, calibration_end, holdout_end, base, nps, replications, seed, progress=progress)


def fit_record(out: dict) -> dict:
    """The fitted parameters, JSON-ready."""
    fits = out["fits"]
    agent = fits["agent"]
    segments = [
        {"share": s.share, "purchases_per_month": s.purchases_per_month, "purchase_rate_shape": s.purchase_rate_shape,
         "churn_multiplier": s.churn_multiplier, "initial_ladder": [float(v) for v in s.ladder]}
        for s in agent.segments
    ]  # fmt: skip
    return {
        "bgnbd": fits["bgnbd"],
        "pareto_nbd": fits["pareto_nbd"],
        "gamma_gamma": fits["gamma_gamma"],
        "agent": {"segments": segments, "log_likelihood": float(agent.log_likelihood), "bic": float(agent.bic)},
    }


def calibration_json(out: dict, scenario_file: str | None) -> dict:
    summary = out["summary"]
    record = {
        "customers": int(len(summary.customers)),
        "calibration_end": str(summary.calibration_end.date()),
        "holdout_end": None if summary.holdout_end is None else str(summary.holdout_end.date()),
        "scenario_file": scenario_file,
        "fits": fit_record(out),
    }
    if "holdout" in out:
        record.update(out["holdout"])
    return record


def holdout_table(holdout: dict) -> pd.DataFrame:
    """Total repeat transactions in the holdout by model, with the error against the actual."""
    totals = holdout["holdout_repeat_transactions"]
    rows = [
        {"model": MODEL_NAMES[k], "repeat transactions": v, "error": holdout["errors"].get(k, 0.0)}
        for k, v in totals.items()
    ]
    return pd.DataFrame(rows)


def by_count_table(holdout: dict) -> pd.DataFrame:
    table = pd.DataFrame(holdout["by_calibration_transactions"]).T
    table.index.name = "calibration transactions"
    cols = ["customers", "actual", "agent", "bgnbd", "pareto_nbd"]
    return table[cols].rename(columns={"agent": "agent model", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"})


def curve_table(holdout: dict) -> pd.DataFrame:
    curves = pd.DataFrame(holdout["weekly_cumulative"]).set_index("week")
    return curves.rename(columns={"agent": "agent model", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"})


def classical_table(out: dict) -> pd.DataFrame:
    """The classical models' fitted parameters, each with what it is, and each model's log-likelihood."""
    rows = []
    for key, (model, meaning) in PARAMETERS.items():
        params = out["fits"][key]
        rows += [{"model": model, "parameter": p, "value": params[p], "meaning": m} for p, m in meaning.items()]
        rows.append({"model": model, "parameter": "log-likelihood", "value": params["log_likelihood"],
                     "meaning": "of the fit (higher is better)"})  # fmt: skip
    mean = gammagamma.mean_spend(out["fits"]["gamma_gamma"])
    rows.append({"model": "Gamma-Gamma spend", "parameter": "mean amount", "value": mean,
                 "meaning": "a customer's expected mean amount per transaction"})  # fmt: skip
    return pd.DataFrame(rows)


SEGMENT_FIELDS = ("share", "purchases_per_month", "purchase_rate_shape", "churn_multiplier", "basket_value", "basket_cv")  # fmt: skip


def segment_table(scenario: Scenario) -> pd.DataFrame:
    """The calibrated scenario's segments: one row each, the fitted fields and the starting
    ladder's shares, under the schema's labels."""
    rows = []
    for seg in scenario.customers.segments:
        row = {field_info(Segment, f)["label"]: getattr(seg, f) for f in SEGMENT_FIELDS}
        rows.append({**row, **dict(zip(LEVEL_LABELS, seg.ladder_shares(), strict=True))})
    return pd.DataFrame(rows, index=pd.Index([s.name for s in scenario.customers.segments], name="Segment"))


def cumulative_table(out: dict, log: pd.DataFrame) -> pd.DataFrame:
    """Cumulative repeat transactions of the calibrated customers by weeks since the log's first
    purchase: the actual at the end of each week through the holdout end, and each model's
    forecast from the calibration end on (at its weeks since then, starting from the actual
    count at the calibration end). A column is empty where it has no value."""
    summary = out["summary"]
    actual = weekly_repeat_curve(log, summary).astype(float)
    end = calibration_week(summary)
    curves = curve_table(out["holdout"]).drop(columns="actual")
    weeks = np.minimum(curves.index.to_numpy() - curves.index[0] + 1, summary.weeks_holdout)  # (the last one partly)
    base = float(summary.customers.x.sum())  # the repeat transactions by the calibration end
    models = pd.concat([pd.DataFrame(base, index=[0.0], columns=curves.columns),
                        (curves + base).set_axis(weeks)]).set_axis(end + np.concatenate([[0.0], weeks]))  # fmt: skip
    table = pd.concat([actual.rename("actual").set_axis(actual.index.astype(float)), models], axis=1).sort_index()
    table.index.name = "week"
    return table


def calibration_week(summary) -> float:
    """Where the calibration end is in weeks since the log's first purchase (the end of its day)."""
    return ((summary.calibration_end - summary.start).days + 1) / 7


def calibration_text(out: dict, scenario_file: str | None) -> str:
    summary, rec = out["summary"], fit_record(out)
    lines = [
        f"{len(summary.customers):,} customers, calibration to {summary.calibration_end.date()}"
        + (f", holdout to {summary.holdout_end.date()}" if summary.holdout_end is not None else ""),
        "",
        "Classical models (time in weeks):",
        "  BG/NBD      " + _params(rec["bgnbd"]),
        "  Pareto/NBD  " + _params(rec["pareto_nbd"]),
        "  Gamma-Gamma " + _params(rec["gamma_gamma"]),
        "Agent model (ladder held still; months):",
    ]
    for i, s in enumerate(rec["agent"]["segments"], 1):
        ladder = " ".join(f"{v:.2f}" for v in s["initial_ladder"])
        lines.append(
            f"  segment {i}: share {s['share']:.3f}, {s['purchases_per_month']:.4f} purchases/month, rate shape "
            f"{s['purchase_rate_shape']:.3f}, churn multiplier {s['churn_multiplier']:.3f}, starting ladder {ladder}"
        )
    lines.append(f"  log-likelihood {rec['agent']['log_likelihood']:,.1f}, BIC {rec['agent']['bic']:,.1f}")
    if "holdout" in out:
        h = out["holdout"]
        table = holdout_table(h)
        table["repeat transactions"] = table["repeat transactions"].map(lambda v: f"{v:,.0f}")
        table["error"] = table["error"].map(lambda v: f"{v:+.1%}")
        counts = by_count_table(h)
        lines += ["", "Repeat transactions in the holdout:", table.to_string(index=False), "",
                  "Mean holdout transactions by calibration-period transactions:",
                  counts.to_string(float_format=lambda v: f"{v:.3f}"), "",
                  "Cumulative repeat transactions in the holdout, every 4th week:",
                  curve_table(h).iloc[3::4].to_string(float_format=lambda v: f"{v:,.0f}")]  # fmt: skip
    if scenario_file:
        lines += ["", f"wrote the calibrated scenario to {scenario_file}"]
    return "\n".join(lines)


def _params(params: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items() if k != "log_likelihood")


def retention_fit(path, years: int | None, base: Scenario | None = None) -> dict[str, dict]:
    """Each cohort's sBG and agent-model fits and projections over `years` (default: the
    years observed)."""
    cohorts = retention.read_cohorts(path, str(path))
    if years is not None and years < 1:
        raise DataError([f"--years: must be >= 1 (got {years})"])
    base = base or Scenario()
    return {name: retention.project(surv, base, years or len(surv)) for name, surv in cohorts.items()}


def retention_text(fits: dict[str, dict], model: str) -> str:
    lines = []
    for name, fit in fits.items():
        agent, sbg = fit["agent"], fit["sbg"]
        lines += [
            f"Cohort {name}: sBG alpha {sbg['alpha']:.3f}, beta {sbg['beta']:.3f}; agent model churn multiplier "
            f"{agent['churn_multiplier']:.3f}, ladder tilt {agent['tilt']:+.3f}"
        ]
        n = len(agent["survivors"])
        actual = fit["actual"] + [np.nan] * (n - len(fit["actual"]))
        table = pd.DataFrame(
            {"year": range(n), "actual": actual[:n], "sBG": sbg["survivors"], "agent model": agent["survivors"]}
        )
        lines += [table.to_string(index=False, float_format=lambda v: f"{v:,.0f}", na_rep="-"), ""]
    lines.append(f"(JSON output: the {'agent model' if model == 'agent' else 'sBG'} projection)")
    return "\n".join(lines)


def retention_json(fits: dict[str, dict], model: str) -> dict[str, list[float]]:
    return {name: [float(v) for v in fit[model]["survivors"]] for name, fit in fits.items()}
