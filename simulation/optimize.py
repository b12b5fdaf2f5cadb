"""Design search beyond a grid: Optuna's TPE sampler over the levers' ranges (`--tune`).

Each trial is a design: its lever values drawn by the sampler, its replications run with the
sweep's seed (paired with every other trial, the no-program twin simulated once for all), and
its mean outcome returned. The budget is a constraint (mean program cost at most the amount),
which the sampler learns from (`Trial.set_constraint`); the best trial is the best feasible one.
The sampler is seeded with the run's seed: the same file, levers and seed give the same trials.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import design_space, frontier, twin
from .design_space import Lever
from .runner import Runner
from .schema import Scenario
from .sweep import Sweep, sweep_designs

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Optimization:
    scenario: Scenario
    levers: list[Lever]
    objective: tuple[str, str]
    budget: float | None
    trials: list[dict]  # per trial: number, lever values, cost, mean, p05, p95, feasible
    best: int | None  # index into trials of the best feasible trial
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"trial": t["number"], **t["values"], **{k: t[k] for k in (
            "cost", "mean", "p05", "p95", "feasible")}} for t in self.trials])  # fmt: skip

    def best_scenario(self) -> Scenario | None:
        if self.best is None:
            return None
        return design_space.design(self.scenario, self.trials[self.best]["values"])


def optimize(
    scenario: Scenario,
    levers: list[Lever],
    objective: str = frontier.DEFAULT_OBJECTIVE,
    budget: float | None = None,
    trials: int = 30,
    replications: int | None = None,
    seed: int | None = None,
    runner: Runner | None = None,
    progress: Callable[[float], None] | None = None,
) -> Optimization:
    """Search the levers' ranges for the design with the best mean `objective` within `budget`."""
    import time

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    sim = scenario.simulation
    n_reps = sim.replications if replications is None else int(replications)
    seed = sim.seed if seed is None else int(seed)
    runner = runner or Runner()
    twins = twin.TwinCache()
    metric_arm: list[tuple[str, str]] = []
    rows: list[dict] = []

    def evaluate(trial: optuna.Trial) -> float:
        values = {lever.path: _suggest(trial, lever) for lever in levers}
        result = sweep_designs(scenario, levers, [values], [design_space.design(scenario, values)], n_reps, seed,
                               runner=runner, twins_cache=twins)  # fmt: skip
        if not metric_arm:
            metric_arm.append(frontier.check_objective(result, objective))
        row = _row(trial.number, values, result, *metric_arm[0], budget)
        rows.append(row)
        if budget is not None:  # feasible at <= 0: the sampler learns where the budget binds
            trial.set_constraint("budget", row["cost"] - budget)
        if progress is not None:
            progress(len(rows) / trials)
        return row["mean"] if not math.isnan(row["mean"]) else -math.inf

    sampler = optuna.samplers.TPESampler(seed=seed % 2**32)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(evaluate, n_trials=trials)
    feasible = [i for i, r in enumerate(rows) if r["feasible"] and not math.isnan(r["mean"])]
    best = max(feasible, key=lambda i: rows[i]["mean"]) if feasible else None
    return Optimization(scenario, levers, metric_arm[0], budget, rows, best, time.perf_counter() - start)


def _suggest(trial, lever: Lever) -> float:
    if lever.integer:
        return trial.suggest_int(lever.path, round(lever.low), round(lever.high))
    return trial.suggest_float(lever.path, lever.low, lever.high)


def _row(number: int, values: dict, result: Sweep, metric: str, arm: str, budget: float | None) -> dict:
    cost = float(result.stat(*frontier.COST)[0])
    stats = {s: float(result.stat(metric, arm, s)[0]) for s in ("mean", "p05", "p95")}
    return {"number": number, "values": values, "cost": cost, **stats, "feasible": budget is None or cost <= budget}
