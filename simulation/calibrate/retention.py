"""Yearly renewal cohorts: the shifted-beta-geometric model and the agent model's own churn.

Input: one row per customer with `recency` (years stayed, 1..T; T means still a customer
after the last renewal observed), `T` and `cohort` (the format of Fader & Hardie 2007's
data, data/retention-cohorts/sbg_cohorts.csv). The agent model's churn: a customer on level
`L` leaves with `churn_per_month[L] * churn_multiplier` a month, so a cohort whose starting
levels are the ladder `pi` survives `t` years with `sum_L pi_L (1 - h_L)^(12 t)` (levels held:
renewal data say nothing of level moves). Fitted per cohort by maximum likelihood: the churn
multiplier and a tilt of the scenario's starting ladder, `pi_L ~ pi0_L exp(tilt * L)`
(positive: more satisfied than the scenario's mix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import LEVELS, Scenario
from . import sbg
from .optimize import fit_positive
from .transactions import DataError, read_table

COLUMNS = ("recency", "T", "cohort")


def read_cohorts(source, name: str = "cohorts") -> dict[str, np.ndarray]:
    """Survivors at the start of each observed year, per cohort."""
    table = read_table(source, name)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            [f"{name}: no column {', '.join(repr(c) for c in missing)} (the columns are: {', '.join(table.columns)})"]
        )
    problems = []
    values = {}
    for col in ("recency", "T"):
        v = pd.to_numeric(table[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(v.to_numpy()) | (v.to_numpy() < 1) | (v.to_numpy() % 1 != 0))
        problems += [
            f"{name}: row {r + 2}, column '{col}': a whole number of years >= 1 (got {table[col].iloc[r]!r})"
            for r in bad[:5]
        ]
        values[col] = v
    if problems:
        raise DataError(problems)
    if (values["recency"] > values["T"]).any():
        r = int(np.flatnonzero((values["recency"] > values["T"]).to_numpy())[0])
        raise DataError(
            [
                f"{name}: row {r + 2}, column 'recency': more years than 'T' ({table.recency.iloc[r]} > {table['T'].iloc[r]})"
            ]
        )
    out = {}
    for cohort, rows in pd.DataFrame({"cohort": table.cohort, **values}).groupby("cohort", sort=True):
        years = int(rows["T"].max())
        stayed = rows.recency.to_numpy()
        out[str(cohort)] = np.array([(stayed > t).sum() for t in range(years)], float)
    return out


def agent_survival(params: tuple[float, float], ladder0: np.ndarray, churn: np.ndarray, years: int) -> np.ndarray:
    multiplier, tilt = params
    shares = ladder0 * np.exp(tilt * np.arange(len(ladder0)))
    shares = shares / shares.sum()
    stay = (1 - np.minimum(churn * multiplier, 1.0)) ** 12
    survival = np.array([shares @ stay**t for t in range(years)])
    survival[0] = 1.0  # (by definition: the shares' sum is 1 only to the last bit)
    return survival


def _survival_ll(survival: np.ndarray, survivors: np.ndarray) -> float:
    lost = -np.diff(survivors)
    p = np.maximum(-np.diff(survival), 1e-300)
    return float(lost @ np.log(p) + survivors[-1] * np.log(max(survival[-1], 1e-300)))


def fit_agent(survivors: np.ndarray, scenario: Scenario) -> dict[str, float]:
    ladder0 = np.array(scenario.customers.segments[0].ladder_shares())
    churn = np.array(scenario.customers.ladder.churn_per_month.as_tuple())
    n = len(survivors)

    def negative_ll(p):  # (the tilt is fitted as exp: shift it to allow both signs)
        return -_survival_ll(agent_survival((p[0], np.log(p[1])), ladder0, churn, n), survivors)

    fit = fit_positive(negative_ll, (1.0, 1.0), ("churn_multiplier", "exp_tilt"))
    shares = ladder0 * np.exp(np.log(fit["exp_tilt"]) * np.arange(len(ladder0)))
    return {"churn_multiplier": fit["churn_multiplier"], "tilt": float(np.log(fit.pop("exp_tilt"))),
            "initial_ladder": dict(zip(LEVELS, (shares / shares.sum()).tolist(), strict=True)),
            "log_likelihood": fit["log_likelihood"]}  # fmt: skip


def project(survivors: np.ndarray, scenario: Scenario, years: int, fit_years: int | None = None) -> dict:
    """Both models fitted on the first `fit_years` survivor counts (all by default), projected
    over `years` years, as counts of the cohort's starting size."""
    used = survivors[: fit_years or len(survivors)]
    classic = sbg.fit(used)
    agent = fit_agent(used, scenario)
    ladder0 = np.array(scenario.customers.segments[0].ladder_shares())
    churn = np.array(scenario.customers.ladder.churn_per_month.as_tuple())
    n0 = survivors[0]
    return {
        "sbg": {"alpha": classic["alpha"], "beta": classic["beta"],
                "survivors": (n0 * sbg.survival(classic["alpha"], classic["beta"], years)).tolist()},
        "agent": {**agent, "survivors": (n0 * agent_survival((agent["churn_multiplier"], agent["tilt"]), ladder0, churn, years)).tolist()},
        "actual": survivors.tolist(),
    }  # fmt: skip


def scenario_with(cohorts: dict[str, dict], base: Scenario) -> Scenario:
    """The base scenario with one segment per cohort: its share of customers, starting ladder
    and churn multiplier as fitted."""
    total = sum(c["actual"][0] for c in cohorts.values())
    data = base.model_dump(exclude_none=True)
    template = data["customers"]["segments"][0]
    template.pop("initial_nps_counts", None)
    segments = []
    for name, c in cohorts.items():
        agent = c["agent"]
        segments.append({**template, "name": name, "share": c["actual"][0] / total,
                         "churn_multiplier": round(agent["churn_multiplier"], 4),
                         "initial_ladder": _rounded_shares(agent["initial_ladder"])})  # fmt: skip
    _fix_shares(segments)
    data["customers"]["segments"] = segments
    return Scenario.model_validate(data)


def _rounded_shares(shares: dict[str, float]) -> dict[str, float]:
    """Shares to 4 decimals that still sum to 1 (the rest on the largest)."""
    out = {k: round(v, 4) for k, v in shares.items()}
    top = max(out, key=out.get)
    out[top] = round(out[top] + 1 - sum(out.values()), 4)
    return out


def _fix_shares(segments: list[dict]) -> None:
    for s in segments:
        s["share"] = round(s["share"], 4)
    segments[0]["share"] = round(segments[0]["share"] + 1 - sum(s["share"] for s in segments), 4)
