"""A pilot with a held-out control group (docs/model.md section 8.1).

The program opens first to a pilot group only; a control group is held out, as a client would
run it; the rest of the base waits. At `rollout_month` the program opens to everyone. The
groups are customer attributes (drawn from their own random stream, so every other draw is
unchanged), the same in both arms: the program arm is the world with the pilot, the
no-program twin the same customers without any program.

At the end of the pilot window (the rollout month, or the horizon) two lifts are measured on
the customers who were there at launch:
- the lift a client would measure: pilot group against control group in the program arm
  (different customers: sampling noise and any spill-over between the groups included), with
  its confidence interval and p-value;
- the true effect the simulation knows: the pilot group with the program against the same
  customers without it (the twin, common random numbers).
and the pilot size (customers per group) a test needs to detect the true effect with the
chosen power.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from .people import BASELINE, PROGRAM
from .rng import poisson_from_uniform

if TYPE_CHECKING:
    import pandas as pd

    from .engine import Sim
    from .schema import Pilot, Scenario

OUTSIDE, PILOT, CONTROL = 0, 1, 2  # the rest of the base waits for the rollout
GROUP_STREAM = "pilot_group"
PRE_PERIOD_STREAM = "pilot_pre_period"
ADJUSTED = ("spend", "value")  # the measures a customer's spend before the pilot predicts
_NORMAL = NormalDist()

# what a pilot measures, per customer over the window: (key, label, kind of number)
MEASURES = (
    ("spend", "Spend per customer", "money"),
    ("active", "Still a customer", "share"),
    ("value", "Profit per customer (discounted, after program costs)", "money"),
)


def difference(a: np.ndarray, b: np.ndarray, alpha: float) -> dict[str, float]:
    """Mean of `a` minus mean of `b` (independent groups), its (1 - alpha) confidence interval
    and two-sided p-value (Welch's standard error; the normal approximation, sound for groups
    of a hundred or more)."""
    if min(a.size, b.size) < 2:  # no test without two customers in each group
        return dict.fromkeys(("lift", "low", "high", "p_value", "se"), math.nan)
    return difference_of(_moments(a), _moments(b), alpha)


def _moments(x: np.ndarray) -> tuple[float, float, int]:
    """Mean, variance (n - 1) and size of a group's values."""
    return float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else math.nan, int(x.size)


def difference_of(a: tuple[float, float, int], b: tuple[float, float, int], alpha: float) -> dict[str, float]:
    """`difference` from each group's (mean, variance, size)."""
    if min(a[2], b[2]) < 2:
        return dict.fromkeys(("lift", "low", "high", "p_value", "se"), math.nan)
    diff = a[0] - b[0]
    se = math.sqrt(a[1] / a[2] + b[1] / b[2])
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    p = 2 * (1 - _NORMAL.cdf(abs(diff) / se)) if se > 0 else float(diff == 0) or 0.0
    return {"lift": diff, "low": diff - z * se, "high": diff + z * se, "p_value": p, "se": se}


def adjusted(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """CUPED (Deng et al. 2013): `y` less what the pre-period covariate `x` predicts of it,
    y - theta (x - mean x) with theta = cov(x, y) / var(x) pooled over both groups (the
    program cannot move spend from before it started, so the difference of means keeps its
    expectation while its variance falls by the share rho^2 that `x` explains); and rho."""
    if y.size < 3 or not np.var(x) > 0 or not np.var(y) > 0:
        return y, 0.0
    # (the moments as numpy sums, the same on every CPU: np.cov's BLAS product is not; portable.py)
    dx, dy = x - x.mean(), y - y.mean()
    xx, yy, xy = np.sum(dx * dx), np.sum(dy * dy), np.sum(dx * dy)
    theta, rho = xy / xx, xy / math.sqrt(xx * yy)
    return y - theta * dx, float(rho)


def pilot_size(effect: float, sd: float, alpha: float, power: float) -> float:
    """Customers per group (pilot and control the same size) for a two-sided test at `alpha`
    to detect a difference `effect` in means with probability `power`:
    n = 2 (z_{1-alpha/2} + z_power)^2 sd^2 / effect^2 (inf when there is no effect)."""
    if not np.isfinite(sd) or not np.isfinite(effect):
        return math.nan
    if effect == 0:
        return math.inf
    z = _NORMAL.inv_cdf(1 - alpha / 2) + _NORMAL.inv_cdf(power)
    return math.ceil(2 * (z * sd / effect) ** 2)


class PilotGroups:
    """Groups, who may join when, and the measurement at the end of the window."""

    def __init__(self, sim: Sim, p: Pilot):
        self.sim, self.p = sim, p
        self.window = min(p.rollout_month or sim.T, sim.T)  # months the pilot runs
        names = [s.name for s in sim.sc.customers.segments]
        self.in_pilot_segment = np.array([not p.segments or name in p.segments for name in names])
        self.measured: dict[str, float] = {}
        self._u = np.empty(0)  # the group stream's uniforms by id (see `_uniforms`)

    def init(self) -> None:
        people = self.sim.people
        people.add_state("window_spend", np.float64, 0.0)  # spend in the pilot window, per arm

    def group(self, slots: np.ndarray | slice) -> np.ndarray:
        """The group of customers in these slots: from a uniform of their permanent id, in a
        stream of its own, and their segment."""
        people = self.sim.people
        ids = people.ids[: people.n][slots] if people.removed else np.arange(people.n)[slots]
        u = self._uniforms(int(ids.max()) + 1 if ids.size else 0)[ids]
        eligible = self.in_pilot_segment[people.segment[: people.n][slots]]
        out = np.full(ids.shape, OUTSIDE, np.int8)
        start, control = self.p.offset, self.p.offset + self.p.share
        out[eligible & (u >= start) & (u < control)] = PILOT
        out[eligible & (u >= control) & (u < control + self.p.control_share)] = CONTROL
        return out

    def _uniforms(self, size: int) -> np.ndarray:
        """The group stream's uniforms of ids 0 .. size - 1, drawn again only when ids pass
        what was drawn (a longer draw of the same stream starts with the same numbers)."""
        if self._u.size < size:
            self._u = self.sim.streams.fresh(GROUP_STREAM).random(max(size, 2 * self._u.size))
        return self._u[:size]

    def may_join(self, slots: np.ndarray) -> np.ndarray:
        """Which of these customers the program is open to this month."""
        if self.sim.month >= self.window:
            return np.ones(slots.shape, bool)
        return self.group(slots) == PILOT

    def add_spend(self, rows: slice, spend: np.ndarray) -> None:
        """This month's spend of the arms in `rows`, while the window runs."""
        if self.sim.month < self.window:
            self.sim.view("window_spend")[rows] += spend

    def measure(self) -> None:
        """At the end of the window: the lifts on the customers there at launch."""
        sim, people = self.sim, self.sim.people
        n = people.n
        ids = people.ids[:n] if people.removed else np.arange(n)
        launch = np.flatnonzero(ids < people.n_initial)
        group = self.group(launch)
        per_customer = {
            "spend": sim.view("window_spend")[:, launch],
            "active": sim.view("is_alive")[:, launch].astype(np.float64),
            "value": sim.view("value")[:, launch],
        }
        pilot, control = group == PILOT, group == CONTROL
        out: dict[str, float] = {"pilot_customers": float(pilot.sum()), "control_customers": float(control.sum())}
        tested = pilot | control
        before = self.pre_period_spend(launch[tested])
        for key, _, _ in MEASURES:
            values = per_customer[key]
            measured = difference(values[PROGRAM, pilot], values[PROGRAM, control], self.p.alpha)
            true = float((values[PROGRAM, pilot] - values[BASELINE, pilot]).mean()) if pilot.any() else math.nan
            sd = float(values[PROGRAM, control].std(ddof=1)) if control.sum() > 1 else math.nan
            out.update({f"{key}_{name}": v for name, v in measured.items()})
            out[f"{key}_true"] = true
            out[f"{key}_control_mean"] = float(values[PROGRAM, control].mean()) if control.any() else math.nan
            out[f"{key}_needed"] = float(pilot_size(true, sd, self.p.alpha, self.p.power))
            out[f"{key}_pilot_mean"], out[f"{key}_pilot_var"], _ = _moments(values[PROGRAM, pilot]) if pilot.any() else (math.nan,) * 3
            if key in ADJUSTED:  # the same test on values adjusted by the spend before the pilot
                y, rho = adjusted(values[PROGRAM, tested], before)
                in_pilot = pilot[tested]
                better = difference(y[in_pilot], y[~in_pilot], self.p.alpha)
                out.update({f"{key}_adjusted_{name}": v for name, v in better.items()})
                out[f"{key}_adjusted_rho"] = rho
                out[f"{key}_adjusted_needed"] = float(pilot_size(true, sd * math.sqrt(1 - rho**2), self.p.alpha, self.p.power))
        self.measured = out

    def pre_period_spend(self, slots: np.ndarray) -> np.ndarray:
        """What these customers (there at launch) spent in as many months before the launch as
        the pilot runs, as a client's transaction history would show: purchases at their
        starting level's rate (a Poisson count from a stream of its own, so no other draw
        moves) times their basket. (The months before are at the starting level: the ladder's
        moves before the launch are not simulated.)"""
        sim, people = self.sim, self.sim.people
        level = people.start_level[slots].astype(np.intp)
        rate = people.base_rate[slots] * sim.rate_by_level[level] * self.window
        ids = people.ids[slots] if people.removed else slots
        u = sim.streams.fresh(PRE_PERIOD_STREAM).random(int(people.n_initial))[ids]
        return poisson_from_uniform(rate, u) * people.basket[slots] * sim.basket_by_level[level]


def table(measured: list[dict[str, float]], alpha: float):
    """One row per measure over the replications (each a pilot the client might have run):
    the lift measured (mean, and the 5-95 % range of what a pilot shows), the typical half-width
    of its confidence interval, the median p-value, the share of pilots that detect the lift
    (p < alpha, with the right sign), the true effect and the pilot size it needs."""
    import pandas as pd

    rows = []
    for key, label, _ in MEASURES:
        lift = np.array([m[f"{key}_lift"] for m in measured])
        true = np.array([m[f"{key}_true"] for m in measured])
        p = np.array([m[f"{key}_p_value"] for m in measured])
        half = np.array([(m[f"{key}_high"] - m[f"{key}_low"]) / 2 for m in measured])
        needed = np.array([m[f"{key}_needed"] for m in measured])
        rows.append({
            "measure": key, "label": label,
            "pilot_customers": float(np.mean([m["pilot_customers"] for m in measured])),
            "control_customers": float(np.mean([m["control_customers"] for m in measured])),
            "control_mean": float(np.mean([m[f"{key}_control_mean"] for m in measured])),
            "measured": float(lift.mean()), "measured_p05": float(np.quantile(lift, 0.05)),
            "measured_p95": float(np.quantile(lift, 0.95)), "interval_half_width": float(half.mean()),
            "p_value_median": float(np.median(p)), "detected_share": _detected_share(lift, p, true, alpha),
            "true_effect": float(true.mean()), "customers_needed": float(np.median(needed)),
            **_adjusted_columns(measured, key, alpha, true),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _detected_share(lift: np.ndarray, p: np.ndarray, true: np.ndarray, alpha: float) -> float:
    """The share of pilots that detect the lift: p < alpha, with the sign of the true effect."""
    return float(((p < alpha) & (np.sign(lift) == np.sign(true)) & (true != 0)).mean())


def _adjusted_columns(measured: list[dict[str, float]], key: str, alpha: float, true: np.ndarray) -> dict[str, float]:
    """The test adjusted by the spend before the pilot: its interval, detection and size."""
    if f"{key}_adjusted_lift" not in measured[0]:
        return dict.fromkeys(("adjusted_half_width", "adjusted_detected_share", "adjusted_rho", "adjusted_needed"), math.nan)
    lift = np.array([m[f"{key}_adjusted_lift"] for m in measured])
    p = np.array([m[f"{key}_adjusted_p_value"] for m in measured])
    return {
        "adjusted_half_width": float(np.mean([(m[f"{key}_adjusted_high"] - m[f"{key}_adjusted_low"]) / 2 for m in measured])),
        "adjusted_detected_share": _detected_share(lift, p, true, alpha),
        "adjusted_rho": float(np.mean([m[f"{key}_adjusted_rho"] for m in measured])),
        "adjusted_needed": float(np.median([m[f"{key}_adjusted_needed"] for m in measured])),
    }


def caption(scenario: Scenario) -> str:
    """The pilot's set-up in one sentence."""
    p = scenario.pilot
    where = f" of the segments {', '.join(p.segments)}" if p.segments else ""
    months = min(p.rollout_month or scenario.simulation.horizon_months, scenario.simulation.horizon_months)
    rollout = f"open to every customer from month {p.rollout_month}" if p.rollout_month else "a pilot to the horizon"
    return (
        f"Pilot: the program opens to {p.share:.0%} of the customers{where} at launch, {p.control_share:.0%} are held "
        f"out as the control group; {rollout}. Measured on the customers there at launch over months 1-{months}, "
        f"tested at {1 - p.alpha:.0%} confidence; pilot size for {p.power:.0%} power."
    )


def display(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The pilot table as a person reads it: labels and number styles, one row per measure."""
    import pandas as pd

    from .metrics import fmt, fmt_interval

    kinds = {key: kind for key, _, kind in MEASURES}
    rows = []
    for r in frame.itertuples(index=False):
        kind = kinds[r.measure]
        rows.append({
            "Measure": r.label,
            "Control group": fmt(r.control_mean, kind, currency),
            "Lift a pilot measures": fmt(r.measured, kind, currency, signed=True),
            "Pilots range (5-95 %)": fmt_interval(r.measured_p05, r.measured_p95, kind, currency),
            "Confidence interval": _plus_minus(r.interval_half_width, kind, currency),
            "p-value (median)": "–" if math.isnan(r.p_value_median) else f"{r.p_value_median:.3f}",
            "Pilots that detect it": f"{r.detected_share:.0%}",
            "True effect": fmt(r.true_effect, kind, currency, signed=True),
            "Customers per group needed": _needed(r.customers_needed),
            **_adjusted_display(r, kind, currency),
        })  # fmt: skip
    return pd.DataFrame(rows)


_ADJUSTED_COLUMNS = (
    "With spend before the pilot: interval",
    "With spend before: pilots that detect it",
    "With spend before: customers per group needed",
)


def _adjusted_display(r, kind: str, currency: str) -> dict[str, str]:
    """The adjusted test's columns (an A/B test of two designs has none: "–")."""
    if not hasattr(r, "adjusted_half_width"):
        return {}
    half = r.adjusted_half_width
    if math.isnan(half):  # (a measure the spend before does not predict: still a customer)
        return dict.fromkeys(_ADJUSTED_COLUMNS, "–")
    cells = (_plus_minus(half, kind, currency), f"{r.adjusted_detected_share:.0%}", _needed(r.adjusted_needed))
    return dict(zip(_ADJUSTED_COLUMNS, cells, strict=True))


def _needed(n: float) -> str:
    if math.isnan(n):
        return "–"
    return "no effect to detect" if math.isinf(n) else f"{n:,.0f}"


def _plus_minus(half: float, kind: str, currency: str) -> str:
    from .metrics import fmt

    return "–" if math.isnan(half) else "±" + fmt(half, kind, currency, signed=True).lstrip("+")


def text(results) -> str:
    """The pilot block of the command line's output ("" without a pilot)."""
    if results.pilot is None:
        return ""
    shown = display(results.pilot, results.scenario.economics.currency).set_index("Measure").T
    return caption(results.scenario) + "\n\n" + shown.to_string()


def records(frame: pd.DataFrame) -> list[dict]:
    """The pilot table for JSON: one object per measure, undefined numbers as null."""
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


# --------------------------------------------------------------------------- an A/B test of two designs
def ab_scenarios(a: Scenario, b: Scenario, share: float, months: int) -> tuple[Scenario, Scenario, Scenario]:
    """Designs A and B as a split test on the same customers: A opens to the first `share` of
    the base, B to the next `share` (disjoint groups of the same draws), for `months`, then to
    everyone; and B on A's group, for the truth (both designs on the same customers). Raises
    ValueError when the two do not simulate the same customers."""
    from .schema import Pilot

    if a.customers != b.customers:
        raise ValueError("an A/B test needs the same customers: the two scenarios' customers sections differ")
    if not 0 < share <= 0.5:
        raise ValueError(f"--share must be above 0 and at most 0.5 (two disjoint groups), got {share:g}")
    horizon = a.simulation.horizon_months
    if not 1 <= months <= horizon:
        raise ValueError(f"--months must be between 1 and the horizon ({horizon}), got {months}")
    b = b.model_copy(update={"simulation": a.simulation})  # the same seed, horizon and replications
    rollout = 0 if months == horizon else months
    split = {"share": share, "control_share": 0.0, "rollout_month": rollout}
    return (
        a.model_copy(update={"pilot": Pilot(**split, offset=0.0)}),
        b.model_copy(update={"pilot": Pilot(**split, offset=share)}),
        b.model_copy(update={"pilot": Pilot(**split, offset=0.0)}),
    )


def ab_table(a: list[dict], b: list[dict], b_on_a: list[dict], alpha: float, power: float):
    """The A/B test over replications (runs with the same seed): A's group with design A against
    B's group with design B, as the client measures it, and the true difference (design A
    against design B on the same customers, A's group: both against the same no-program twin),
    in the columns of `table`."""
    pairs = []
    for ra, rb, truth in zip(a, b, b_on_a, strict=True):
        row = {"pilot_customers": ra["pilot_customers"], "control_customers": rb["pilot_customers"]}
        for key, _, _ in MEASURES:
            ma = (ra[f"{key}_pilot_mean"], ra[f"{key}_pilot_var"], int(ra["pilot_customers"]))
            mb = (rb[f"{key}_pilot_mean"], rb[f"{key}_pilot_var"], int(rb["pilot_customers"]))
            row.update({f"{key}_{name}": v for name, v in difference_of(ma, mb, alpha).items()})
            row[f"{key}_true"] = ra[f"{key}_true"] - truth[f"{key}_true"]
            row[f"{key}_control_mean"] = mb[0]
            row[f"{key}_needed"] = float(pilot_size(row[f"{key}_true"], math.sqrt(mb[1]), alpha, power))
        pairs.append(row)
    return table(pairs, alpha)


AB_COLUMNS = {
    "Control group": "Design B",
    "Lift a pilot measures": "A minus B, measured",
    "Pilots range (5-95 %)": "Tests range (5-95 %)",
    "Pilots that detect it": "Tests that detect it",
    "True effect": "True difference",
}
