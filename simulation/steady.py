"""Hold today's NPS without the program: the ladder's positive experience that keeps it.

Without any program a base's NPS moves as its satisfaction ladder settles (docs/model.md
section 5): customers who buy every month climb, those who buy a few times a year drift
down, and the lower levels churn first. A client whose NPS has been steady for years would
not believe a baseline that climbs from +15 to +41. `hold_nps` finds the chance of a
delighting month (`customers.ladder.positive_experience`) at which the no-program arm ends
the horizon at the NPS it starts with, by false position (the Illinois variant) on the twins
alone, with the scenario's seed: each evaluation simulates the same customers and random
numbers, so NPS at the horizon rises with the value (up to the noise of the last customers'
moves, below the tolerance). Docs: docs/model.md section 12.3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .people import BASELINE
from .runner import Runner, Task
from .scenario_io import override
from .schema import Scenario
from .twin import without_program

LADDER = "customers.ladder"
FIELD = f"{LADDER}.positive_experience"
ACQUISITION = "customers.acquisition.paid_per_month"
BOUNDS = (0.0, 0.5)  # a delighting month in two at most: beyond, no ladder of the model's settles
TOLERANCE = 0.5  # NPS points at the horizon: below what a survey of a few hundred answers can tell
MAX_EVALUATIONS = 14


@dataclass(frozen=True)
class Course:
    """The no-program arm today and at the horizon: mean NPS and active customers."""

    nps_today: float
    nps_end: float
    customers_today: float
    customers_end: float

    @property
    def gap(self) -> float:
        """NPS at the horizon less today's."""
        return self.nps_end - self.nps_today


@dataclass(frozen=True)
class Held:
    """What `hold_nps` found: the value, and the no-program course before and after."""

    before: float  # the scenario's positive experience
    value: float  # the one found (the nearest bound when none holds)
    was: Course  # at `before`
    now: Course  # at `value`
    horizon: int
    evaluations: int

    @property
    def reached(self) -> bool:
        """Whether NPS at the horizon is within TOLERANCE of today's."""
        return abs(self.now.gap) <= TOLERANCE

    def text(self, label: Callable[[str], str] = str, arrow: str = "->") -> str:
        """In words (fields named by `label`: their paths, or the app's labels), with what to do
        when no value within BOUNDS holds it, and what holding NPS does to the number of customers."""
        move = f"{label(FIELD)} {self.before:.3g} {arrow} {self.value:.3g}"
        now, month = self.now, f"month {self.horizon}"
        course = f"NPS without the program {now.nps_today:+.1f} today and {now.nps_end:+.1f} in {month}"
        if self.reached:
            why = "fewer" if self.value < self.before else "more"
            return (
                f"Holds today's NPS: {move}; {course} (before: {self.was.nps_end:+.1f}). The "
                f"{now.customers_today:,.0f} customers of today become {now.customers_end:,.0f} in {month} "
                f"(before: {self.was.customers_end:,.0f}): with {why} delighted months {why} stay and recommend. "
                f"{label(ACQUISITION)} sets how many come in."
            )
        falls = now.nps_end < now.nps_today
        drift, negative = label(f"{LADDER}.drift_without_contact"), label(f"{LADDER}.negative_experience")
        other = f"lower {drift} or {negative}" if falls else f"raise {negative}"
        return (
            f"No positive experience from {BOUNDS[0]:g} to {BOUNDS[1]:g} holds today's NPS: at {self.value:.3g} "
            f"it still {'falls' if falls else 'rises'} ({course}). To hold it, {other} as well."
        )


def course(scenario: Scenario, replications: int | None = None, runner: Runner | None = None) -> Course:
    """The no-program arm's course over `replications` twins (default: the scenario's, so that
    today's NPS reads as in its results) with the scenario's seed."""
    twin = without_program(scenario)
    replications = replications or scenario.simulation.replications
    tasks = [Task(twin, r, scenario.simulation.seed, replications, "baseline") for r in range(replications)]
    runs = (runner or Runner()).map(tasks)
    nps = np.mean([rep.monthly["nps"][BASELINE] for rep in runs], axis=0)
    active = np.mean([rep.monthly["active_customers"][BASELINE] for rep in runs], axis=0)
    return Course(float(nps[0]), float(nps[-1]), float(active[0]), float(active[-1]))


def hold_nps(
    scenario: Scenario,
    replications: int | None = None,
    runner: Runner | None = None,
    on_step: Callable[[int, float, float], None] | None = None,
) -> Held:
    """The positive experience at which the baseline's NPS at the horizon is today's (within
    TOLERANCE), or the bound nearest to it. `on_step(evaluation, value, nps_end)` after each run."""
    tried: list[tuple[float, Course]] = []

    def gap(value: float) -> float:
        tried.append((value, course(override(scenario, {FIELD: value}), replications, runner)))
        if on_step is not None:
            on_step(len(tried), value, tried[-1][1].nps_end)
        return tried[-1][1].gap

    before = scenario.customers.ladder.positive_experience
    ga = gap(before)

    def best() -> Held:
        value, now = min(tried, key=lambda t: abs(t[1].gap))
        return Held(before, value, tried[0][1], now, scenario.simulation.horizon_months, len(tried))

    if abs(ga) <= TOLERANCE:
        return best()
    # the bracket: the scenario's value and the bound on the side that moves NPS back
    a, b = before, (BOUNDS[0] if ga > 0 else BOUNDS[1])
    gb = gap(b)
    if np.sign(gb) == np.sign(ga):  # even the bound does not bring it back
        return best()
    side = 0
    while len(tried) < MAX_EVALUATIONS:
        c = (a * gb - b * ga) / (gb - ga)
        gc = gap(c)
        if abs(gc) <= TOLERANCE:
            break
        if np.sign(gc) == np.sign(ga):  # (Illinois: the end kept twice running counts half)
            a, ga, gb, side = c, gc, (gb / 2 if side == -1 else gb), -1
        else:
            b, gb, ga, side = c, gc, (ga / 2 if side == 1 else ga), 1
    return best()
