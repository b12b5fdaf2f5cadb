"""From replications to results: plain tidy DataFrames.

A replication yields, per arm, a ledger of monthly figures and a dict of summary
figures. Across replications every figure gets a mean and a 5-95 % interval; the
`incremental` arm is the paired difference program - baseline within each replication
(common random numbers), not the difference of two noisy means.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import pilot, uncertainty
from .engine import PROGRAM, REPURCHASE_MONTHS, Sim
from .instruments import REGISTRY
from .people import ARMS, SOURCES
from .schema import LEVELS, Scenario

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported where tables are made, not with the module: a worker process that only
# simulates replications (`run_replication`) then starts ~0.4 s sooner.

RATIO_METRICS = ("roi", "payback_month", "cost_per_retained_customer")
# undefined without a program (no members, no points): reported for the program arm only
PROGRAM_ONLY_METRICS = ("engagement", "breakage_rate")
# an interval for the payback month only when at least this share of replications pays back
PAYBACK_INTERVAL_MIN_SHARE = 0.5
SUMMARY_ARMS = ("program", "baseline", "incremental")
# monthly series every run reports, 0 when their instrument is off (fee income: part of net profit)
ALWAYS_REPORTED = tuple(dict.fromkeys(("fee_income", *(m for cls in REGISTRY.values() for m in cls.always_reported))))


@dataclass
class ReplicationResult:
    replication: int
    monthly: dict[str, np.ndarray]  # metric -> (2, T+1)
    summary: dict[str, np.ndarray]  # metric -> (2,) or scalar for RATIO_METRICS
    flows: np.ndarray  # (2, levels, levels + 1): initial level -> end level or churned
    clv_groups: list[tuple[str, str, int, np.ndarray, np.ndarray]]  # (group_by, group, arm, n, mean)
    cohorts: np.ndarray  # (2, cohorts, 2, T+1): customers observed, still active, by age
    parameters: dict[str, float] = field(default_factory=dict)  # sampled values (uncertainty.py)
    retained: np.ndarray = field(default_factory=lambda: np.zeros(2))  # (2,) starting base alive at the end
    pilot: dict[str, float] = field(default_factory=dict)  # a pilot's measurement (pilot.py), if any


@dataclass
class Results:
    scenario: Scenario
    summary: pd.DataFrame
    monthly: pd.DataFrame
    replications: pd.DataFrame
    flows: pd.DataFrame
    clv: pd.DataFrame
    cohorts: pd.DataFrame
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # sampled judgement parameters (simulation/uncertainty.py): replication, parameter, value;
    # and the share of each key metric's spread each one explains (empty when nothing is sampled)
    parameters: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    # replications the run is meant to have: more than `done` while the rest are still running
    # (the app shows such provisional results as they come in), 0 = as many as were combined
    planned: int = 0
    # a pilot's lifts, measured and true, one row per measure (simulation/pilot.py); None without one
    pilot: pd.DataFrame | None = None
    rep_pilot: list[dict[str, float]] = field(default_factory=list)  # each replication's measurement

    @property
    def done(self) -> int:
        """Replications these results combine."""
        return int(self.replications["replication"].nunique())

    @property
    def provisional(self) -> bool:
        """Whether these are the results of only the first of the planned replications."""
        return self.done < self.planned

    def summary_dict(self) -> dict[str, dict[str, dict[str, float]]]:
        """`{metric: {arm: {mean, p05, p95}}}` with NaN as None (JSON-safe)."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for row in self.summary.itertuples(index=False):
            out.setdefault(row.metric, {})[row.arm] = {
                k: (None if v is None or math.isnan(v) else float(v))
                for k, v in (("mean", row.mean), ("p05", row.p05), ("p95", row.p95))
            }
        return out

    def to_json(self) -> str:
        return json.dumps(self.summary_dict(), indent=2)

    def value(self, metric: str, arm: str = "program", stat: str = "mean") -> float:
        row = self.summary[(self.summary.metric == metric) & (self.summary.arm == arm)]
        return float(row[stat].iloc[0]) if len(row) else float("nan")


# ---------------------------------------------------------------- one replication
def summarise_replication(sim: Sim) -> ReplicationResult:
    T = sim.T
    led: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((2, T + 1)))
    led.update({k: v.copy() for k, v in sim.ledger.items()})
    cost_lines = [line for line in sim.cost_lines if line in led]
    led["program_cost"] = sum((led[line] for line in cost_lines), np.zeros((2, T + 1)))
    for name in (*sim.cost_lines, *ALWAYS_REPORTED):
        led[name]  # noqa: B018 (creates the zero series, so every run reports the same metrics)
    led["net_profit"] = led["gross_margin"] - led["program_cost"] + led["fee_income"] - led["acquisition_cost"]
    led["net_profit_cumulative"] = np.cumsum(led["net_profit"], axis=1)

    s: dict[str, np.ndarray] = {}
    totals = (
        "revenue", "gross_margin", "program_cost", "fee_income", "acquisition_cost", "net_profit",
        "acquisitions", "purchases", "churned", *sim.cost_lines,
    )  # fmt: skip
    for name in totals:
        s[name] = led[name].sum(axis=1)
    for months in (12, 24, 36):
        if T >= months:
            s[f"retention_{months}m"] = led["retention"][:, months]
    s["active_customers_end"] = led["active_customers"][:, -1]
    s["members_end"] = led["members"][:, -1]
    s["nps_end"] = led["nps"][:, -1]

    people = sim.people
    n = people.n
    used = np.arange(n)[None, :] < people.n_used[:, None]  # slots that exist in each arm
    value = sim.view("value")
    # CLV of the starting base: the same customers in both arms, so the difference is the
    # program's effect per customer, not a change in who the customers are
    s["clv_mean"] = value[:, : sim.n0].mean(axis=1)
    acquired = used.copy()
    acquired[:, : sim.n0] = False
    n_acquired = acquired.sum(axis=1)
    # 0 for an arm without arrivals (a sum of nothing over at least one)
    s["clv_acquired_mean"] = np.where(acquired, value, 0).sum(axis=1) / np.maximum(n_acquired, 1)
    _repurchase(sim, used, s)
    sales = led["list_sales"].sum(axis=1)
    # the share of list spend above the base basket (section 4.3); not the brief's "upsell
    # ratio" (customers buying more than one kind of product): the model has no product kinds
    s["upsell_spend_share"] = np.divide(led["upsell"].sum(axis=1), sales, out=np.zeros(2), where=sales > 0)
    if "repurchase_rate" in s:
        s["loyalty_index"] = 100.0 * (s["nps_end"] / 100.0 + s["repurchase_rate"] + s["upsell_spend_share"]) / 3.0
    member_months = led["members"][:, :-1].sum(axis=1)
    # program arm only (PROGRAM_ONLY_METRICS): the baseline has no members
    s["engagement"] = np.divide(
        led["active_members"].sum(axis=1), member_months, out=np.zeros(2), where=member_months > 0
    )
    for cls in REGISTRY.values():  # (what every run reports, the instrument on or not)
        cls.summary_defaults(led, s)
    for module in sim.instruments:
        s.update({name: led[name].sum(axis=1) for name in module.totals})
        module.summary(s)

    rep = ReplicationResult(sim.replication, dict(led), s, _flows(sim), _clv_groups(sim, used), _cohorts(sim, used))
    rep.retained = (sim.view("is_alive")[:, : sim.n0]).sum(axis=1)
    rep.pilot = dict(sim.pilot.measured) if sim.pilot is not None else {}
    add_ratios(rep)
    return rep


def add_ratios(rep: ReplicationResult) -> None:
    """The metrics that compare the arms (RATIO_METRICS), from both arms' figures."""
    s, led = rep.summary, rep.monthly
    inc_profit = s["net_profit"][PROGRAM] - s["net_profit"][0]
    cost = s["program_cost"][PROGRAM]
    s["roi"] = inc_profit / cost if cost > 0 else np.nan
    s["payback_month"] = _payback_month(led["net_profit_cumulative"][PROGRAM] - led["net_profit_cumulative"][0], cost)
    extra_retained = rep.retained[PROGRAM] - rep.retained[0]
    s["cost_per_retained_customer"] = cost / extra_retained if extra_retained > 0 and cost > 0 else np.nan


def _repurchase(sim: Sim, used: np.ndarray, s: dict[str, np.ndarray]) -> None:
    """Cohort repurchase rate: among the customers whose first purchase in the run came at
    least REPURCHASE_MONTHS before the horizon (so their whole window is observed), the share
    who bought again within REPURCHASE_MONTHS of it (the engine's `repurchased`); for the
    starting base (`repurchase_rate`) and for arrivals (`repurchase_rate_acquired`, NaN
    when no arrival qualifies). Not reported for horizons shorter than the window."""
    T = sim.T
    if T < REPURCHASE_MONTHS:
        return
    first = sim.view("ti_first_purchase")
    observed = used & (first >= 0) & (first <= T - REPURCHASE_MONTHS)
    again = observed & sim.view("repurchased")
    base = np.zeros(first.shape[1], bool)
    base[: sim.n0] = True
    for name, mask in (("repurchase_rate", base), ("repurchase_rate_acquired", ~base)):
        n = (observed & mask).sum(axis=1)
        s[name] = np.divide((again & mask).sum(axis=1), n, out=np.full(2, np.nan), where=n > 0)


def _payback_month(cumulative_incremental: np.ndarray, cost: float) -> float:
    """First month from which cumulative incremental profit stays >= 0 through the horizon
    (1 if it is never negative; NaN if it is negative at the horizon or nothing was spent)."""
    if cost <= 0:
        return np.nan
    negative = np.flatnonzero(cumulative_incremental[1:] < 0)
    if negative.size == 0:
        return 1.0
    last = negative[-1] + 1  # month index of the last negative month
    return float(last + 1) if last < len(cumulative_incremental) - 1 else np.nan


def _flows(sim: Sim) -> np.ndarray:
    n0, L = sim.n0, len(LEVELS)
    start = sim.people.start_level[:n0].astype(np.int64)
    out = np.zeros((2, L, L + 1))
    for arm in (0, 1):
        alive = sim.people.is_alive[arm, :n0]
        end = np.where(alive, sim.people.level[arm, :n0], L).astype(np.int64)
        out[arm] = np.bincount(start * (L + 1) + end, minlength=L * (L + 1)).reshape(L, L + 1)
    return out


def cohort_names(horizon_months: int) -> list[str]:
    """The starting base, then one cohort per year of arrival."""
    return ["starting base"] + [f"arrived in year {y + 1}" for y in range((horizon_months + 11) // 12)]


def _cohorts(sim: Sim, used: np.ndarray) -> np.ndarray:
    """Retention by cohort and months since arrival: per arm and cohort, how many customers
    were observed that long after they arrived and how many of them were still active.
    A customer who arrived at month index m (0 for the starting base) is active a months
    later unless they churned in one of the months m .. m + a - 1."""
    T = sim.T
    arrived = sim.view("ti_arrived").astype(np.int64)
    churned = sim.view("ti_churned").astype(np.int64)
    cohort = np.where(arrived == 0, 0, (arrived - 1) // 12 + 1)  # arrivals at index 1..12 are year 1
    out = np.zeros((2, len(cohort_names(T)), 2, T + 1))
    ages = T - arrived + 1  # ages 0 .. T - m are observed
    lived = np.where(churned < 0, T + 1, churned - arrived + 1)  # active at ages 0 .. lived - 1
    for arm in (0, 1):
        mask = used[arm]
        c, observed, active = cohort[arm][mask], ages[arm][mask], np.minimum(lived[arm][mask], ages[arm][mask])
        for i in range(out.shape[1]):
            mine = c == i
            out[arm, i, 0] = _at_least(observed[mine], T)  # observed at age >= a
            out[arm, i, 1] = _at_least(active[mine], T)  # and still active then
    return out


def _at_least(counts_of: np.ndarray, T: int) -> np.ndarray:
    """For a = 0..T: how many of the values (ages 0..T+1) are greater than a."""
    return np.bincount(counts_of, minlength=T + 2)[::-1].cumsum()[::-1][1 : T + 2]


def _by_arm(values: np.ndarray, axis: int) -> dict[str, np.ndarray]:
    """program, baseline and their paired difference (replication by replication) of an array
    whose `axis` is the arm."""
    program, baseline = np.take(values, PROGRAM, axis=axis), np.take(values, 0, axis=axis)
    return {"program": program, "baseline": baseline, "incremental": program - baseline}


def _clv_groups(sim: Sim, used: np.ndarray):
    people = sim.people
    n = people.n
    value = sim.view("value")
    groups = [("segment", people.segment[:n], [s.name for s in sim.sc.customers.segments]),
              ("source", None, list(SOURCES))]  # fmt: skip
    out = []
    for arm in (0, 1):
        arm_groups = [
            (name, codes if codes is not None else people.source[arm, :n], labels) for name, codes, labels in groups
        ]
        for module in sim.instruments:  # (an instrument's own groups: the end-of-run tier)
            arm_groups += type(module).clv_groups(sim, arm, module.p)
        mask = used[arm]
        for name, codes, labels in arm_groups:
            codes = np.asarray(codes, dtype=np.int64)[mask]
            counts = np.bincount(codes, minlength=len(labels))
            sums = np.bincount(codes, weights=value[arm][mask], minlength=len(labels))
            for i, label in enumerate(labels):
                if counts[i]:
                    out.append((name, label, arm, counts[i], sums[i] / counts[i]))
    return out


# ---------------------------------------------------------------- across replications
def _stats(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"), _quiet():
        return np.nanmean(values, axis=axis), *_percentiles(values, (5, 95), axis)


def _percentiles(values: np.ndarray, qs: tuple[float, ...], axis: int) -> list[np.ndarray]:
    """NaN-aware percentiles. `np.nanpercentile` loops in Python over every column, so it
    is used only on the columns that hold a NaN; the rest (nearly all) take the fast
    `np.percentile`, which gives the same numbers on NaN-free data."""
    values = np.moveaxis(values, axis, 0)
    has_nan = np.isnan(values).any(axis=0)
    out = []
    for q in qs:
        result = np.percentile(values, q, axis=0)
        if has_nan.any():
            result[has_nan] = np.nanpercentile(values[:, has_nan], q, axis=0)
        out.append(result)
    return out


class _quiet:
    """Silence numpy's 'all-NaN slice' warnings (a metric may be undefined in every replication)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def replication_values(rep: ReplicationResult) -> Iterator[tuple[str, str, float]]:
    """(metric, arm, value) of every summary figure of one replication: program, baseline and
    their paired difference, the ratios (incremental only) and the program-only figures."""
    for metric, val in rep.summary.items():
        if metric in RATIO_METRICS:
            yield metric, "incremental", float(val)
            continue
        yield metric, "program", float(val[PROGRAM])
        if metric in PROGRAM_ONLY_METRICS:
            continue
        yield metric, "baseline", float(val[0])
        yield metric, "incremental", float(val[PROGRAM] - val[0])


def combine(
    scenario: Scenario, reps: list[ReplicationResult], seconds: float = 0.0, planned: int | None = None
) -> Results:
    """Results of the replications `reps`, in any order: those of a whole run, or (with `planned`
    the run's size) the provisional results of the ones done so far. Sorted by replication first,
    so that every mean is summed in the same order: all of a run's replications, however they
    arrived, give `run`'s numbers to the last bit."""
    import pandas as pd

    reps = sorted(reps, key=lambda rep: rep.replication)
    rep_rows = [(rep.replication, *row) for rep in reps for row in replication_values(rep)]
    replications = pd.DataFrame(rep_rows, columns=["replication", "metric", "arm", "value"])
    wide = replications.pivot(index="replication", columns=["metric", "arm"], values="value")
    mean, p05, p95 = _stats(wide.to_numpy(dtype=float))
    summary = pd.DataFrame({
        "metric": wide.columns.get_level_values(0), "arm": wide.columns.get_level_values(1),
        "mean": mean, "p05": p05, "p95": p95,
    })  # fmt: skip
    summary = _payback_rows(summary, reps)

    metrics = sorted(reps[0].monthly)
    T1 = next(iter(reps[0].monthly.values())).shape[1]
    cube = np.stack([np.stack([rep.monthly[m] for m in metrics]) for rep in reps])  # (R, M, 2, T+1)
    arms = _by_arm(cube, axis=2)
    frames = []
    for arm, values in arms.items():
        mean, p05, p95 = _stats(values)
        frames.append(pd.DataFrame({
            "month": np.tile(np.arange(T1), len(metrics)),
            "metric": np.repeat(metrics, T1),
            "arm": arm,
            "mean": mean.ravel(), "p05": p05.ravel(), "p95": p95.ravel(),
        }))  # fmt: skip
    monthly = pd.concat(frames, ignore_index=True)

    flows = np.stack([rep.flows for rep in reps]).mean(axis=0)
    to_names = [*LEVELS, "churned"]
    flow_rows = [
        (ARMS[arm], LEVELS[i], to_names[j], flows[arm, i, j])
        for arm in (PROGRAM, 0)
        for i in range(len(LEVELS))
        for j in range(len(to_names))
        if flows[arm, i, j] > 0
    ]
    flows_df = pd.DataFrame(flow_rows, columns=["arm", "from_level", "to_level", "customers"])

    clv_rows = pd.DataFrame(
        [(rep.replication, ARMS[arm], g, label, n, mean) for rep in reps for g, label, arm, n, mean in rep.clv_groups],
        columns=["replication", "arm", "group_by", "group", "customers", "value"],
    )
    clv = (
        clv_rows.groupby(["arm", "group_by", "group"], sort=False)
        .agg(customers=("customers", "mean"), mean=("value", "mean"),
             p05=("value", lambda v: v.quantile(0.05)), p95=("value", lambda v: v.quantile(0.95)))
        .reset_index()
    )  # fmt: skip
    parameters = pd.DataFrame(
        [(rep.replication, path, value) for rep in reps for path, value in rep.parameters.items()],
        columns=["replication", "parameter", "value"],
    )
    return Results(
        scenario, summary, monthly, replications, flows_df, clv, _cohort_table(scenario, reps), seconds,
        parameters=parameters, sensitivity=uncertainty.sensitivity(parameters, replications),
        planned=max(len(reps), planned or 0),
        pilot=pilot.table([rep.pilot for rep in reps], scenario.pilot.alpha) if reps[0].pilot else None,
        rep_pilot=[rep.pilot for rep in reps] if reps[0].pilot else [],
    )  # fmt: skip


def payback(reps: list[ReplicationResult]) -> tuple[float, float, float, float]:
    """The payback month of the mean over replications of cumulative incremental net profit,
    its 5-95 % interval over the replications that pay back (NaN unless the mean pays back and
    at least PAYBACK_INTERVAL_MIN_SHARE of them do), and the share of replications that pay
    back (NaN when nothing was spent). Returns (month, p05, p95, share)."""
    cost = float(np.mean([rep.summary["program_cost"][PROGRAM] for rep in reps]))
    if cost <= 0:
        return np.nan, np.nan, np.nan, np.nan
    cumulative = np.stack([rep.monthly["net_profit_cumulative"] for rep in reps])  # (R, 2, T+1)
    month = _payback_month((cumulative[:, PROGRAM] - cumulative[:, 0]).mean(axis=0), cost)
    each = np.array([float(rep.summary["payback_month"]) for rep in reps])
    paid = each[~np.isnan(each)]
    share = paid.size / each.size
    low = high = np.nan
    if not np.isnan(month) and share >= PAYBACK_INTERVAL_MIN_SHARE:
        low, high = np.percentile(paid, (5, 95))
    return month, float(low), float(high), share


def _payback_rows(summary: pd.DataFrame, reps: list[ReplicationResult]) -> pd.DataFrame:
    """Replace the payback row (a mean of the replications that pay back says nothing about
    the ones that do not) by `payback`'s, and add `payback_share`."""
    import pandas as pd

    month, low, high, share = payback(reps)
    summary = summary[summary["metric"] != "payback_month"]
    rows = pd.DataFrame({
        "metric": ["payback_month", "payback_share"], "arm": "incremental",
        "mean": [month, share], "p05": [low, np.nan], "p95": [high, np.nan],
    })  # fmt: skip
    frame = pd.concat([summary, rows], ignore_index=True)
    return frame.sort_values(["metric", "arm"], kind="stable", ignore_index=True)


def _cohort_table(scenario: Scenario, reps: list[ReplicationResult]) -> pd.DataFrame:
    """arm, cohort, months_since_arrival, customers (observed that long, mean over
    replications), mean, p05, p95 of retention; `incremental` is paired by replication."""
    import pandas as pd

    cube = np.stack([rep.cohorts for rep in reps])  # (R, 2, cohorts, 2, T+1)
    with np.errstate(all="ignore"):
        retention = cube[:, :, :, 1] / cube[:, :, :, 0]  # NaN where nobody was observed
    arms = _by_arm(retention, axis=1)
    observed = cube[:, :, :, 0].mean(axis=0)
    names = cohort_names(scenario.simulation.horizon_months)
    ages = np.arange(cube.shape[-1])
    frames = []
    for arm, values in arms.items():
        mean, p05, p95 = _stats(values)
        customers = observed[PROGRAM if arm != "baseline" else 0]
        frames.append(pd.DataFrame({
            "arm": arm, "cohort": np.repeat(names, len(ages)), "months_since_arrival": np.tile(ages, len(names)),
            "customers": customers.ravel(), "mean": mean.ravel(), "p05": p05.ravel(), "p95": p95.ravel(),
        }))  # fmt: skip
    table = pd.concat(frames, ignore_index=True)
    return table[table["customers"] > 0].reset_index(drop=True)


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    scheduler: str | None = None,
) -> Results:
    """Simulate a scenario: every replication with its no-program twin, then summarise.

    A pure function of (scenario, seed): replication r always uses the streams of
    (seed, r), so the same file and seed give identical numbers, wherever the replications
    run (here, in local worker processes, or on the Dask cluster at `scheduler`:
    simulation/runner.py). `Results.extra["run"]` records what was run.
    """
    from .runner import Runner, tasks_of

    tasks = tasks_of(scenario, replications, seed)
    with Runner(scheduler) as runner:
        reps = runner.map(tasks, progress)
    n_reps, seed = tasks[0].replications, tasks[0].seed
    results = combine(as_run(scenario, n_reps, seed), reps, runner.last.seconds)
    results.extra["run"] = runner.last.as_dict()
    return results


def as_run(scenario: Scenario, replications: int, seed: int) -> Scenario:
    """The scenario with the replications and seed a run used (they may be overridden), so
    that everything reported from `Results.scenario` says what was actually run."""
    sim = scenario.simulation
    if (sim.replications, sim.seed) == (replications, seed):
        return scenario
    return scenario.model_copy(
        update={"simulation": sim.model_copy(update={"replications": replications, "seed": seed})}
    )


def run_replication(
    scenario: Scenario, replication: int, seed: int | None = None, replications: int | None = None
) -> ReplicationResult:
    """One replication on its own (for distributing replications over workers); `replications`
    (default `simulation.replications`) is the size of the run it belongs to, which fixes the
    Latin-hypercube point of sampled parameters."""
    from .runner import Task, run_task

    sim = scenario.simulation
    n_reps = sim.replications if replications is None else int(replications)
    return run_task(Task(scenario, replication, sim.seed if seed is None else int(seed), n_reps))
