"""What the money buys: the Pareto frontier of program cost against an outcome, and the best
design within a budget.

A design is on the frontier when no design costs as little or less and does at least as well
on the outcome (mean over replications). Within a budget (program cost at most the amount,
mean over replications), the best design is the one with the best mean outcome; how sure that
is: its 5-95 % interval, and the share of the paired replications (the same seeds, the same
customers) in which it does better than the runner-up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .results import PROGRAM_ONLY_METRICS
from .sweep import Sweep

COST = ("program_cost", "program")  # what a design costs: the program arm's program cost
DEFAULT_OBJECTIVE = "net_profit"
# outcomes an executive asks about (the CLI and the app offer these first; any summary metric works)
OUTCOMES = ("net_profit", "retention_12m", "retention_24m", "retention_36m", "clv_mean", "nps_end", "roi")


def outcome_arm(metric: str) -> str:
    """The arm an outcome is read from: the program's effect (incremental), or the program arm
    for figures without a baseline."""
    return "program" if metric in PROGRAM_ONLY_METRICS else "incremental"


def check_objective(sweep: Sweep, metric: str) -> tuple[str, str]:
    """(metric, arm) of an objective; a clear error for a metric the sweep does not have."""
    from .scenario_io import ScenarioError

    key = (metric, outcome_arm(metric))
    if key not in sweep.columns:
        known = ", ".join(m for m in sweep.metrics())
        raise ScenarioError([f"--objective {metric}: not a summary metric (one of: {known})"])
    return key


def pareto(cost: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Mask of the designs on the frontier: lower cost and higher outcome are better. Designs
    with an undefined outcome are never on it."""
    on = np.zeros(cost.size, bool)
    best = -math.inf
    for i in np.lexsort((-outcome, cost)):  # by cost, the better outcome first among equal costs
        if not np.isnan(outcome[i]) and outcome[i] > best:
            on[i], best = True, outcome[i]
    return on


def frontier(sweep: Sweep, objective: str = DEFAULT_OBJECTIVE) -> np.ndarray:
    """Mask of the sweep's designs on the cost / `objective` frontier."""
    metric, arm = check_objective(sweep, objective)
    return pareto(sweep.stat(*COST), sweep.stat(metric, arm))


@dataclass(frozen=True)
class Best:
    """The best design within a budget."""

    design: int
    values: dict[str, float]  # its lever values
    cost: float
    mean: float  # outcome
    p05: float
    p95: float
    runner_up: int | None
    runner_up_mean: float
    p_beats_runner_up: float  # share of paired replications in which it does better (ties: half)
    within_budget: int  # designs within the budget

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def best_within(sweep: Sweep, budget: float, objective: str = DEFAULT_OBJECTIVE) -> Best | None:
    """The design with the best mean `objective` whose mean program cost is at most `budget`,
    or None when no design fits."""
    metric, arm = check_objective(sweep, objective)
    cost, outcome = sweep.stat(*COST), sweep.stat(metric, arm)
    fits = np.flatnonzero((cost <= budget) & ~np.isnan(outcome))
    if not fits.size:
        return None
    order = fits[np.argsort(-outcome[fits], kind="stable")]
    best = int(order[0])
    runner_up = int(order[1]) if order.size > 1 else None
    p = math.nan
    if runner_up is not None:
        reps = sweep.per_replication(metric, arm)
        diff = reps[best] - reps[runner_up]
        p = float(np.mean((diff > 0) + 0.5 * (diff == 0)))
    return Best(
        best, sweep.designs[best], float(cost[best]), float(outcome[best]),
        float(sweep.stat(metric, arm, "p05")[best]), float(sweep.stat(metric, arm, "p95")[best]),
        runner_up, float(outcome[runner_up]) if runner_up is not None else math.nan, p, int(fits.size),
    )  # fmt: skip
