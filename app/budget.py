"""The Budget page's helpers: which levers a design has, their default ranges, running a sweep
and a tornado on the app's worker pool (or a Dask scheduler), and the sweeps kept per scenario.

A sweep runs in the page's script run, its tasks in the server's worker pool (`runs._pool`, the
pool the app's runs use) through the engine's runner (simulation/runner.py): a click on Cancel
stops the script run, and the runner then drops the tasks not begun. A finished sweep is kept
with the scenario it was run from (by its JSON) for the rest of the session: the page shows it
again, Compare can take its best design, and Export offers its table.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st
from pydantic import BaseModel

from app import runs, views
from simulation import design_space, figures, frontier, sensitivity, uncertainty
from simulation.design_space import Lever
from simulation.runner import Runner
from simulation.scenario_io import value_at
from simulation.schema import Scenario, field_info
from simulation.sweep import Sweep, sweep_designs

SWEEPS = "budget.sweeps"  # session state: scenario key -> Kept
MAX_LEVERS = 2
DEFAULT_STEPS = 5
MAX_STEPS = 12
SCHEDULER = "budget.scheduler"  # the Dask scheduler setting (empty: this machine)


def levers_of(scenario: Scenario) -> dict[str, str]:
    """Path -> label of every number field of the design's program that is a design choice: the
    program's instruments and their items, not the judgement parameters of the registry
    (those are what the tornado moves)."""
    out: dict[str, str] = {}
    _walk(scenario.program, "program", "", out)
    return out


def _walk(block: BaseModel, path: str, prefix: str, out: dict[str, str]) -> None:
    if getattr(block, "enabled", True) is False or path == "program.membership":
        return
    for name, info in type(block).model_fields.items():
        value, here = getattr(block, name), f"{path}.{name}"
        if isinstance(value, BaseModel):
            _walk(value, here, f"{info.title or name}: ", out)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _walk(item, f"{here}.{i}", f"{getattr(item, 'name', i)}: ", out)
        elif (
            type(value) in (int, float)
            and here not in uncertainty.REGISTRY
            and _generic(here) not in uncertainty.REGISTRY
        ):
            out[here] = prefix + field_info(type(block), name)["label"]


def _generic(path: str) -> str:
    """`program.tiers.tiers.1.status_lift` as the registry writes it (`program.tiers.tiers[].status_lift`)."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[: i - 1] + [parts[i - 1] + "[]"] + parts[i + 1 :])
    return path


def current_value(scenario: Scenario, path: str) -> float:
    return float(value_at(scenario, path))


def default_range(scenario: Scenario, path: str) -> tuple[float, float]:
    """Half to one and a half times the design's value, within the field's bounds (0 to 1 for a
    field at 0 with an upper bound of 1, else 0 to 10)."""
    value = current_value(scenario, path)
    lo, hi = design_space.bounds(path, scenario)
    low, high = (0.5 * value, 1.5 * value) if value > 0 else (0.0, 1.0 if hi <= 1 else 10.0)
    return max(low, lo if math.isfinite(lo) else low), min(high, hi if math.isfinite(hi) else high)


@dataclass
class Kept:
    """A finished sweep of a scenario and what it was asked."""

    sweep: Sweep
    objective: str
    budget: float | None
    tornado: sensitivity.Tornado | None = None
    extra: dict = field(default_factory=dict)

    @property
    def on_frontier(self) -> np.ndarray:
        return frontier.frontier(self.sweep, self.objective)

    @property
    def best(self) -> frontier.Best | None:
        return None if self.budget is None else frontier.best_within(self.sweep, self.budget, self.objective)

    def current(self, scenario: Scenario) -> int | None:
        """The index of the design on screen among the sweep's designs, if it is one of them."""
        return index_of(scenario, self.sweep.levers, self.sweep.designs)

    def csv(self) -> bytes:
        table = self.sweep.table()
        table["on_frontier"] = self.on_frontier
        if self.budget is not None:
            table["within_budget"] = self.sweep.stat(*frontier.COST) <= self.budget
        return table.to_csv(index=False).encode("utf-8")


def kept(scenario: Scenario) -> Kept | None:
    """The sweep last run from this scenario in this session."""
    return st.session_state.get(SWEEPS, {}).get(runs.key(scenario))


def keep(scenario: Scenario, item: Kept) -> None:
    st.session_state.setdefault(SWEEPS, {})[runs.key(scenario)] = item


def scheduler() -> str | None:
    """The Dask scheduler the page sends its work to: the setting on the page, else $LOJAL_SCHEDULER."""
    text = (st.session_state.get(SCHEDULER) or os.environ.get("LOJAL_SCHEDULER") or "").strip()
    return text or None


def runner() -> Runner:
    """The runner of the page's work: the Dask scheduler if one is set, else the app's worker pool
    (a spawned pool: forking the server is unsafe), else this process."""
    address = scheduler()
    if address:
        return Runner(address)
    if runs.workers() > 1:
        return Runner(executor=runs._pool(runs.workers()))
    return Runner(workers=1)


def budget_step(results: Any) -> float:
    """What + and - add to the budget: a round twentieth of the design's program cost when it has
    been run (kr 500,000 for the coffee example's kr 6.9 M), else 100,000."""
    cost = results.value("program_cost", "program") if results is not None else math.nan
    return figures.nice_ticks(cost, 20)[1] if cost > 0 else 100_000.0


def designs_of(scenario: Scenario, levers: list[Lever]) -> list[dict[str, float]]:
    """The grid of the levers, with the design on screen added when the grid misses it (so that
    the frontier chart can mark it)."""
    designs = design_space.grid(levers)
    if index_of(scenario, levers, designs) is None:
        designs.append({lever.path: current_value(scenario, lever.path) for lever in levers})
    return designs


def index_of(scenario: Scenario, levers: list[Lever], designs: list[dict[str, float]]) -> int | None:
    """The index of the design on screen among `designs` (its values of the levers), if it is one."""
    values = {lever.path: current_value(scenario, lever.path) for lever in levers}
    for i, design in enumerate(designs):
        if all(math.isclose(design[k], v, rel_tol=1e-9, abs_tol=1e-12) for k, v in values.items()):
            return i
    return None


def paced(show: Callable[[float, str], None], label: str) -> Callable[[float], None]:
    """A progress callback: `show(fraction, text)` with the share done and, at the pace so far
    (which the host's load moves more than any estimate made beforehand), the time left."""
    start = time.perf_counter()

    def update(fraction: float) -> None:
        left = seconds_left(time.perf_counter() - start, fraction)
        show(fraction, f"{label} {fraction:.0%}{views.time_left(left)}")

    return update


def seconds_left(gone: float, fraction: float) -> float | None:
    """What the work still needs at its pace so far; None before a tenth is done (the first
    tasks start the workers: too early to tell) and in its last second and a half."""
    if fraction < 0.1 or fraction >= 1:
        return None
    left = gone * (1 - fraction) / fraction
    return left if left >= views.LEFT_SHOWN_FROM else None


def sweep(scenario: Scenario, levers: list[Lever], replications: int, progress, where: Runner) -> Sweep:
    """The sweep of `designs_of` the levers."""
    designs = designs_of(scenario, levers)
    scenarios = [design_space.design(scenario, values) for values in designs]
    seed = scenario.simulation.seed
    return sweep_designs(scenario, levers, designs, scenarios, replications, seed, progress, runner=where)


def tornado(scenario: Scenario, objective: str, replications: int, progress, where: Runner) -> sensitivity.Tornado:
    return sensitivity.tornado(scenario, objective, None, replications, None, where, progress)
