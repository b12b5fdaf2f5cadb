"""Hold today's NPS (and number of customers) without the program.

Without any program a base's NPS moves as its satisfaction ladder settles (docs/model.md
section 5): customers who buy every month climb, those who buy a few times a year drift
down, and the lower levels churn first. A client whose NPS has been steady for years would
not believe a baseline that climbs from +15 to +41. `hold` finds the chance of a
delighting month (`customers.ladder.positive_experience`) at which the no-program arm ends
the horizon at the NPS it starts with, by false position (the Illinois variant) on the twins
alone, with the scenario's seed: each evaluation simulates the same customers and random
numbers, so NPS at the horizon rises with the value (up to the noise of the last customers'
moves, below the tolerance). With `customers`, paid acquisition
(`customers.acquisition.paid_per_month`) is then found the same way so that the base ends the
horizon as large as it starts, and NPS held again if new customers moved it. Docs:
docs/model.md section 12.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .analysis import Course
from .people import BASELINE
from .runner import Runner, Task
from .scenario_io import override, value_at
from .schema import Scenario
from .twin import without_program

LADDER = "customers.ladder"
FIELD = f"{LADDER}.positive_experience"
ACQUISITION = "customers.acquisition.paid_per_month"
MAX_EVALUATIONS = 14  # per field searched
ROUNDS = 4  # NPS, then customers, then NPS again if the new customers moved it, ...
SEARCH_REPLICATIONS = 4  # twins per evaluation while searching (the course reported: the scenario's)


@dataclass(frozen=True)
class Target:
    """A figure of the course to hold by moving one field within bounds."""

    field: str
    bounds: tuple[float, float]
    gap: Callable[[Course], float]  # rises with the field; 0 when held
    tolerance: float
    integer: bool = False


# NPS within 0.5 points: far inside what a survey can tell (400 answers: a standard error of ~4)
NPS = Target(FIELD, (0.0, 0.5), lambda c: c.nps_change, 0.5)
CUSTOMERS_TOLERANCE = 0.01  # customers at the horizon within 1 % of today's


def customers_target(scenario: Scenario) -> Target:
    """Paid acquisition from none to a tenth of the base a month."""
    return Target(
        ACQUISITION, (0, max(scenario.customers.size // 10, 10)), lambda c: c.growth, CUSTOMERS_TOLERANCE, integer=True
    )


@dataclass(frozen=True)
class Held:
    """What `hold` found: the fields it set (before, after) and the no-program course before and after."""

    moves: dict[str, tuple[float, float]]
    was: Course  # the scenario's, over its replications (as its results read)
    now: Course  # with the fields set, the same
    found: Course  # with the fields set, over the search's replications: what is held
    horizon: int
    evaluations: int
    customers: bool  # the number of customers held too

    @property
    def nps_held(self) -> bool:
        return abs(self.found.nps_change) <= NPS.tolerance

    @property
    def customers_held(self) -> bool:
        return abs(self.found.growth) <= CUSTOMERS_TOLERANCE

    @property
    def reached(self) -> bool:
        return self.nps_held and (self.customers_held or not self.customers)

    def values(self) -> dict[str, float | int]:
        """The fields set, to four significant digits (as written into a file)."""
        return {
            f: (float(f"{after:.4g}") if isinstance(after, float) else after) for f, (_, after) in self.moves.items()
        }

    def why(self, after_was: str = "") -> dict[str, str]:
        """Each field set and what it holds, in a few words (a comment in the file written), with
        `after_was` after the value it had."""
        was = {f: f"{before:g}" for f, (before, _) in self.moves.items()}
        holds = {FIELD: f"NPS {self.now.nps_today:+.1f}", ACQUISITION: f"{self.now.customers_today:,.0f} customers"}
        return {f: f"holds {holds[f]} without the program (was {was[f]}{after_was})"
                for f, (before, after) in self.moves.items() if before != after}  # fmt: skip

    @property
    def value(self) -> float:
        """The positive experience set."""
        return self.moves.get(FIELD, (math.nan, math.nan))[1]

    def text(self, label: Callable[[str], str] = str, arrow: str = "->") -> str:
        """In words (fields named by `label`: their paths, or the app's labels), with what else to
        change when the bounds do not hold it."""
        now, was, month = self.now, self.was, f"month {self.horizon}"
        moves = "; ".join(f"{label(f)} {a:.4g} {arrow} {b:.4g}" for f, (a, b) in self.moves.items() if a != b)
        course = (
            f"without the program NPS {now.nps_today:+.1f} today and {now.nps_end:+.1f} in {month} (before: "
            f"{was.nps_end:+.1f}), {now.customers_today:,.0f} customers today and {now.customers_end:,.0f} in "
            f"{month} (before: {was.customers_end:,.0f})"
        )
        if self.reached:
            what = "NPS and number of customers" if self.customers else "NPS"
            done = f"Holds today's {what}: {moves or 'nothing to change'}; {course}."
            if self.customers or not moves:
                return done
            why = "fewer" if self.value < self.moves[FIELD][0] else "more"
            return f"{done} With {why} delighted months {why} customers stay and recommend: {label(ACQUISITION)} sets how many come in."
        if not self.nps_held:
            falls = now.nps_end < now.nps_today
            drift, negative = label(f"{LADDER}.drift_without_contact"), label(f"{LADDER}.negative_experience")
            other = f"lower {drift} or {negative}" if falls else f"raise {negative}"
            return (f"No {label(FIELD)} from {NPS.bounds[0]:g} to {NPS.bounds[1]:g} holds today's NPS: at {self.value:.3g} "
                    f"it still {'falls' if falls else 'rises'} ({course}). To hold it, {other} as well.")  # fmt: skip
        grows = now.customers_end > now.customers_today
        other = (f"word of mouth alone brings more customers than leave: lower {label('customers.word_of_mouth.conversion_per_listener')}"
                 if grows else f"paid acquisition up to a tenth of the base a month still leaves {now.customers_end:,.0f}")  # fmt: skip
        return f"Holds today's NPS but not the number of customers ({moves}; {course}): {other}."


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


def _solve(
    scenario: Scenario, target: Target, start: Course, evaluate: Callable[[Scenario, float], Course]
) -> tuple[float, Course]:
    """The field's value (within bounds) whose course has the smallest gap, from the scenario's
    value (whose course is `start`): false position with the Illinois modification (the end kept
    twice running counts half), bracketed by that value and the bound on the side that closes
    the gap. `evaluate(design, value)` runs the twins of the design with the field at value."""
    a = float(value_at(scenario, target.field))
    tried: dict[float, Course] = {a: start}

    def gap(value: float) -> float:
        value = int(round(value)) if target.integer else value
        if value not in tried:
            tried[value] = evaluate(override(scenario, {target.field: value}), value)
        return target.gap(tried[value])

    ga = gap(a)
    if abs(ga) <= target.tolerance:
        return a, start
    # the bracket: steps from the value towards the side that closes the gap, doubling up to the bound
    toward = target.bounds[0] if ga > 0 else target.bounds[1]
    step = max(abs(a) / 4, (target.bounds[1] - target.bounds[0]) / 100)
    b = a
    while True:
        b = min(b + step, toward) if toward > a else max(b - step, toward)
        gb = gap(b)
        if np.sign(gb) != np.sign(ga) or b == toward or len(tried) >= MAX_EVALUATIONS:
            break
        a, ga, step = b, gb, 2 * step
    side = 0
    while np.sign(gb) != np.sign(ga) and len(tried) < MAX_EVALUATIONS:
        if target.integer and abs(b - a) <= 1:
            break  # (neighbouring integers: nothing between them)
        c = (a * gb - b * ga) / (gb - ga)
        gc = gap(c)
        if abs(gc) <= target.tolerance:
            break
        if np.sign(gc) == np.sign(ga):
            a, ga, gb, side = c, gc, (gb / 2 if side == -1 else gb), -1
        else:
            b, gb, ga, side = c, gc, (ga / 2 if side == 1 else ga), 1
    value = min(tried, key=lambda v: abs(target.gap(tried[v])))
    return value, tried[value]


def hold(
    scenario: Scenario,
    customers: bool = False,
    replications: int | None = None,
    runner: Runner | None = None,
    on_step: Callable[[int, str, float, Course], None] | None = None,
) -> Held:
    """The positive experience at which NPS without the program ends the horizon where it starts
    (within 0.5 points), and with `customers` the paid acquisition at which the number of
    customers does too (within 1 %); the nearest bound where none does.
    `on_step(evaluation, field, value, course)` after each run of the twins."""
    if runner is None:  # (one pool for the search's many small runs)
        with Runner(keep_pool=True) as own:
            return hold(scenario, customers, replications, own, on_step)
    count = 0
    targets = [NPS, customers_target(scenario)] if customers else [NPS]

    def run(design: Scenario, field: str, value: float, reps: int) -> Course:
        nonlocal count
        out = course(design, reps, runner)
        count += 1
        if on_step is not None:
            on_step(count, field, value, out)
        return out

    full = replications or scenario.simulation.replications
    search = min(full, SEARCH_REPLICATIONS)
    current = scenario
    now = first = run(scenario, FIELD, scenario.customers.ladder.positive_experience, search)
    for _ in range(ROUNDS if customers else 1):
        for target in targets:
            if abs(target.gap(now)) > target.tolerance:
                value, now = _solve(current, target, now, lambda d, v, f=target.field: run(d, f, v, search))
                current = override(current, {target.field: value})
        if all(abs(t.gap(now)) <= t.tolerance for t in targets):
            break
    moves = {t.field: (value_at(scenario, t.field), value_at(current, t.field)) for t in targets}
    found = now
    if search == full:  # (the search's runs are the scenario's replications: its courses are those)
        was = first
    else:  # as the scenario's results read them
        was = course(scenario, full, runner)
        now = course(current, full, runner) if current is not scenario else was
    return Held(moves, was, now, found, scenario.simulation.horizon_months, count, customers)
