"""The no-program twin, simulated once for every design that shares it.

A replication simulates two arms: the design's program arm and its no-program twin (the same
customers, the same random numbers, no program). The twin depends only on the customer base,
the economics, the seed and the replication, never on the program: every design of a sweep
that varies only program levers has the same twin. `share` turns a list of tasks into the
program arms alone plus one baseline task per distinct twin, and puts each design's two arms
back together afterwards. The figures are those of running each design with its own twin, up
to float round-off (relative 1e-12; counts exactly): an arm alone adds up its customers'
figures over arrays that hold only its own customers, a run of both over those still there in
either arm, so the sums run in another order (tests/test_runner.py). A sweep of many designs
does a little over half the work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .people import BASELINE, PROGRAM
from .results import ReplicationResult, add_ratios
from .runner import Task
from .schema import Scenario


def without_program(scenario: Scenario) -> Scenario:
    """The scenario with no instrument, no name and nothing sampled: what the twin simulates
    (the sampled values come with the task)."""
    empty = {name: type(getattr(scenario, name))() for name in ("meta", "program", "uncertainty", "phases")}
    return scenario.model_copy(update={**empty, "pilot": None})


def splittable(task: Task) -> bool:
    """Whether the task's arms can run apart: not with a pilot, whose measurement compares the
    pilot group's arms within one run (simulation/pilot.py)."""
    return task.arm == "both" and getattr(task.scenario, "pilot", None) is None


def twin_task(task: Task) -> Task:
    """The baseline arm of `task` alone: its sampled values outside the program, on the
    scenario without the program."""
    from . import uncertainty

    values = uncertainty.point(task.scenario, task.seed, task.replications, task.replication)
    kept = tuple(sorted((path, v) for path, v in values.items() if not path.startswith("program.")))
    return Task(without_program(task.scenario), task.replication, task.seed, task.replications, "baseline",
                kept, task.light, task.keep_draws)  # fmt: skip


def _key(task: Task) -> tuple:
    return task.scenario.model_dump_json(), task.seed, task.replication, task.replications, task.values, task.light


@dataclass
class Shared:
    """The tasks to run (one twin per distinct key first, then every program arm) and how to
    put the results back together (`assemble`)."""

    tasks: list[Task]
    twin_of: list[int]  # for each original task, the index of its twin in `tasks`
    first_program: int  # index in `tasks` of the first program arm

    @property
    def twins(self) -> int:
        return self.first_program

    def assemble(self, results: Sequence[ReplicationResult]) -> list[ReplicationResult]:
        """Each original task's replication: its program arm with its twin's baseline arm."""
        programs = results[self.first_program :]
        return [merge(p, results[t]) for p, t in zip(programs, self.twin_of, strict=True)]


def share(tasks: Sequence[Task], twin: Callable[[Task], Task] = twin_task) -> Shared:
    """Program arms alone and one twin per distinct twin key."""
    index: dict[tuple, int] = {}
    twins: list[Task] = []
    twin_of = []
    for task in tasks:
        t = twin(task)
        k = _key(t)
        if k not in index:
            index[k] = len(twins)
            twins.append(t)
        twin_of.append(index[k])
    programs = [replace(task, arm="program") for task in tasks]
    return Shared(twins + programs, twin_of, len(twins))


def merge(program: ReplicationResult, twin: ReplicationResult) -> ReplicationResult:
    """One replication from a program arm simulated alone and its twin's baseline arm. Figures
    the twin has no line for (an instrument's) are 0 in the baseline, as in a run of both arms."""
    monthly = {name: _rows(values, twin.monthly.get(name)) for name, values in program.monthly.items()}
    summary = {
        name: _rows(values, twin.summary.get(name)) for name, values in program.summary.items() if np.ndim(values)
    }
    flows = program.flows.copy()
    flows[BASELINE] = twin.flows[BASELINE]
    cohorts = program.cohorts.copy()
    cohorts[BASELINE] = twin.cohorts[BASELINE]
    clv = [g for g in twin.clv_groups if g[2] == BASELINE] + [g for g in program.clv_groups if g[2] == PROGRAM]
    retained = np.array([twin.retained[BASELINE], program.retained[PROGRAM]])
    rep = ReplicationResult(program.replication, monthly, summary, flows, clv, cohorts, program.parameters, retained)
    add_ratios(rep)
    return rep


def _rows(program: np.ndarray, twin: np.ndarray | None) -> np.ndarray:
    """The baseline row from the twin (0 where it has none), the program row from the program arm."""
    out = np.array(program, dtype=float, copy=True)
    out[BASELINE] = 0.0 if twin is None else twin[BASELINE]
    return out


class TwinCache:
    """Twins kept between runs (an optimiser's trials share one customer base): `map` runs the
    program arms of `tasks` and only the twins not seen before."""

    def __init__(self) -> None:
        self.reps: dict[tuple, ReplicationResult] = {}

    def map(self, runner, tasks: Sequence[Task], progress=None, cancel=None) -> list[ReplicationResult]:
        if not all(splittable(t) for t in tasks):
            return runner.map(tasks, progress, cancel)
        shared = share(tasks)
        twins, programs = shared.tasks[: shared.first_program], shared.tasks[shared.first_program :]
        keys = [_key(t) for t in twins]
        todo = [i for i, k in enumerate(keys) if k not in self.reps]
        results = runner.map([twins[i] for i in todo] + programs, progress, cancel)
        self.reps.update((keys[i], rep) for i, rep in zip(todo, results, strict=False))
        return shared.assemble([self.reps[k] for k in keys] + list(results[len(todo) :]))
