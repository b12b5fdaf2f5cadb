"""From a transaction log to a calibrated scenario and, with a holdout, the forecast check."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import LEVELS, NPS_ANSWER_LEVEL, Scenario
from . import agent_fit, bgnbd, conditional, gammagamma, paretonbd
from .retention import _fix_shares, _rounded_shares
from .transactions import MONTH_DAYS, WEEK_DAYS, DataError, Summary, holdout_curve, read_table, summarize

STILL_LADDER = {"positive_experience": 0.0, "negative_experience": 0.0, "drift_without_contact": 0.0}
N_SEGMENTS = 3  # latent churn segments fitted (those left empty are dropped, those found twice merged)
MAX_BY_COUNT = 7  # the by-count table's last row is "7 or more"


def read_nps(source, name: str = "nps") -> pd.DataFrame:
    """NPS answer counts per segment: columns `segment`, `0` .. `10` (and optionally `share`)."""
    table = read_table(source, name)
    answers = [str(i) for i in range(11)]
    missing = [c for c in ["segment", *answers] if c not in table.columns]
    if missing:
        raise DataError([f"{name}: no column {', '.join(repr(c) for c in missing)} (needed: segment, 0, 1, ..., 10)"])
    counts = table[answers].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(counts.to_numpy()) | (counts.to_numpy() < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            [f"{name}: row {r + 2}, column '{answers[c]}': a count of answers >= 0 (got {table[answers[c]].iloc[r]!r})"]
        )
    out = pd.DataFrame({"segment": table.segment.str.strip(), **{a: counts[a].astype(int) for a in answers}})
    out["share"] = (
        pd.to_numeric(table["share"], errors="coerce") if "share" in table.columns else out[answers].sum(axis=1)
    )
    out["share"] = out["share"] / out["share"].sum()
    return out


def nps_ladder(counts: list[int]) -> np.ndarray:
    levels = np.zeros(len(LEVELS))
    np.add.at(levels, np.array(NPS_ANSWER_LEVEL), counts)
    return levels / levels.sum()


def _quiet(_text: str) -> None:
    """The default progress report: none."""


def fit_all(log: pd.DataFrame, summary: Summary, base: Scenario, nps: pd.DataFrame | None = None,
            n_segments: int = N_SEGMENTS, fit_ladder: bool = True, progress=_quiet) -> dict:  # fmt: skip
    """Every model's fit; `progress(text)` hears what is being fitted (and the agent model's steps)."""
    c = summary.customers
    x, t_x, T = c.x.to_numpy(float), c.t_x.to_numpy(), c["T"].to_numpy()
    out = {}
    for key, label, model in (("bgnbd", "BG/NBD", bgnbd), ("pareto_nbd", "Pareto/NBD", paretonbd)):
        progress(f"Fitting {label} ({len(c):,} customers)")
        out[key] = model.fit(x, t_x, T)
    progress("Fitting Gamma-Gamma spend")
    out["gamma_gamma"] = gammagamma.fit(x, c.monetary.to_numpy())
    progress("Fitting the agent model")
    hist = agent_fit.histories(log, summary)
    ladder = agent_fit.Ladder.of(base)

    def step(n: int) -> None:
        progress(f"Fitting the agent model: step {n} ({len(hist.weight):,} distinct purchase histories)")

    if nps is None:
        ladders = [np.array(base.customers.segments[0].ladder_shares())]
        agent = agent_fit.fit(hist, ladder, ladders, n_segments, fit_ladder=fit_ladder, on_step=step)
    else:
        ladders = [nps_ladder(row[[str(i) for i in range(11)]].tolist()) for _, row in nps.iterrows()]
        agent = agent_fit.fit(hist, ladder, ladders, shares=nps["share"].tolist(), on_step=step)
    return {**out, "agent": agent, "histories": hist, "ladder": ladder}


def calibrated_scenario(fits: dict, summary: Summary, base: Scenario, nps: pd.DataFrame | None) -> Scenario:
    """The base scenario with its customers replaced by the fitted ones: segment rates, rate
    shapes, churn multipliers, starting ladders (or the survey's answer counts), baskets from
    the Gamma-Gamma spread of mean spend; the ladder held still without a program."""
    data = base.model_dump(exclude_none=True)
    template = data["customers"]["segments"][0]
    for key in ("initial_nps_counts", "initial_ladder"):
        template.pop(key, None)
    spend = fits["gamma_gamma"]
    upsell = np.array(base.customers.ladder.upsell_share.as_tuple())
    segments = []
    fitted = fits["agent"].segments
    for i, seg in enumerate(fitted):
        mean_basket = gammagamma.mean_spend(spend) / float(seg.ladder @ (1 + upsell))
        item = {**template, "name": template["name"] if len(fitted) == 1 else f"Segment {i + 1}",
                "share": seg.share, "purchases_per_month": round(seg.purchases_per_month, 5),
                "purchase_rate_shape": round(seg.purchase_rate_shape, 4), "churn_multiplier": round(seg.churn_multiplier, 4),
                "basket_value": round(mean_basket, 2), "basket_cv": round(1 / np.sqrt(max(spend["q"] - 2, 0.04)), 3)}  # fmt: skip
        if nps is not None:
            row = nps.iloc[i]
            item["name"] = row.segment
            item["initial_nps_counts"] = [int(row[str(a)]) for a in range(11)]
        else:
            item["initial_ladder"] = _rounded_shares(dict(zip(LEVELS, seg.ladder.tolist(), strict=True)))
        segments.append(item)
    _fix_shares(segments)
    data["customers"]["segments"] = segments
    data["customers"]["size"] = len(summary.customers)
    data["customers"]["ladder"].update(STILL_LADDER)
    return Scenario.model_validate(data)


def holdout(log: pd.DataFrame, summary: Summary, fits: dict, scenario: Scenario, replications: int, seed: int) -> dict:
    """The forecast of the holdout period by the calibrated agent model (started from each
    customer's posterior state) and by the classical models, against what happened."""
    c = summary.customers
    x, t_x, T = c.x.to_numpy(float), c.t_x.to_numpy(), c["T"].to_numpy()
    weeks = summary.weeks_holdout
    months_exact = weeks * WEEK_DAYS / MONTH_DAYS
    months = int(np.ceil(months_exact))
    post = conditional.posterior(fits["agent"], fits["histories"], fits["ladder"])
    monthly, per_customer = conditional.forecast(scenario, post, months, replications, seed)
    per_customer = per_customer * (months_exact / months)  # (the last month partly)
    cumulative = np.concatenate([[0.0], np.cumsum(monthly)])
    week = np.arange(1, int(np.ceil(weeks)) + 1)
    agent_curve = np.interp(np.minimum(week, weeks) * WEEK_DAYS / MONTH_DAYS, np.arange(months + 1), cumulative)
    at = paretonbd.pairs(x, t_x), paretonbd.pairs(x, T)  # (once for every week's forecast)
    classical = {
        "bgnbd": lambda t: bgnbd.expected_conditional(fits["bgnbd"], t, x, t_x, T),
        "pareto_nbd": lambda t: paretonbd.expected_conditional(fits["pareto_nbd"], t, x, t_x, T, at),
    }
    # (weeks counted from the calibration end, labelled by the week since the log's start they
    # end in: when the calibration end is not on a week's end since the start, the weeks since
    # the start would mix calibration days into the holdout's first week)
    calib_weeks = int(np.ceil(((summary.calibration_end - summary.start).days + 1) / WEEK_DAYS))
    curves = {"week": (calib_weeks + week).tolist(), "actual": holdout_curve(log, summary).tolist(),
              "agent": agent_curve.tolist()}  # fmt: skip
    totals = {"predicted": float(agent_curve[-1]), "actual": int(c.x_holdout.sum())}
    by_count = pd.DataFrame({"calibration": np.minimum(c.x.to_numpy(), MAX_BY_COUNT), "actual": c.x_holdout.to_numpy(),
                             "agent": per_customer})  # fmt: skip
    for name, expect in classical.items():
        totals[name] = float(expect(weeks).sum())
        curves[name] = [float(expect(min(w, weeks)).sum()) for w in week]
        by_count[name] = expect(weeks)
    table = by_count.groupby("calibration").agg(["mean"]).droplevel(1, axis=1)
    table["customers"] = by_count.groupby("calibration").size()
    table.index = [f"{i}+" if i == MAX_BY_COUNT else str(i) for i in table.index]
    errors = {k: v / totals["actual"] - 1 for k, v in totals.items() if k != "actual"}
    return {"holdout_repeat_transactions": totals, "errors": errors, "weekly_cumulative": curves,
            "by_calibration_transactions": {k: {**{m: float(v) for m, v in row.items() if m != "customers"},
                                                 "customers": int(row["customers"])} for k, row in table.iterrows()},
            "p_alive_mean": float(post.p_alive.mean())}  # fmt: skip


def calibrate(log: pd.DataFrame, calibration_end, holdout_end=None, base: Scenario | None = None,
              nps: pd.DataFrame | None = None, replications: int = 4, seed: int = 1,
              n_segments: int = N_SEGMENTS, fit_ladder: bool = True, progress=_quiet) -> dict:  # fmt: skip
    """Everything `lojal calibrate` reports. The agent model's default structure, `n_segments`
    latent churn segments (those found twice merged) and a fitted common starting ladder, has
    the best BIC of those tried on the CDNOW master file (docs/model.md section 12.2). `progress(text)` hears what
    is being done, often (the app shows it)."""
    base = base or Scenario()
    progress("Summarising each customer's purchases")
    summary = summarize(log, calibration_end, holdout_end)
    if summary.customers.empty:
        raise DataError([f"no customer bought by the calibration end {summary.calibration_end.date()}"])
    if summary.customers.x.sum() == 0:  # (the rates' and the spend's fits have nothing to go on)
        raise DataError([f"no customer bought twice by the calibration end {summary.calibration_end.date()}: the models "
                         "learn from repeat purchases (choose a later calibration end, or a longer log)"])  # fmt: skip
    fits = fit_all(log, summary, base, nps, n_segments, fit_ladder, progress)
    scenario = calibrated_scenario(fits, summary, base, nps)
    out = {"summary": summary, "fits": fits, "scenario": scenario}
    if summary.holdout_end is not None:
        progress(f"Forecasting the holdout ({replications} replications of the agent model)")
        out["holdout"] = holdout(log, summary, fits, scenario, replications, seed)
    return out
