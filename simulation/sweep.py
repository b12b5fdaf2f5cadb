"""A sweep: every design of a grid of levers, each with its replications and its no-program
twin on common random numbers, summarised one row per design.

Replication r of every design uses the streams of (seed, r): design differences are paired,
not buried in noise. The twin is simulated once per distinct customer base (simulation/twin.py)
and the tasks send back their summary figures only (`Task.light`). Every figure of a design is
that of `lojal run` on the design's scenario (to float round-off; counts exactly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import design_space, twin
from .design_space import Lever
from .results import ReplicationResult, _stats, payback, replication_values
from .runner import Cancel, Estimate, Progress, Runner, RunRecord, Task
from .schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

STATS = ("mean", "p05", "p95")


@dataclass
class Sweep:
    """The designs of a sweep and their figures."""

    scenario: Scenario  # the starting design (with the replications and seed the sweep used)
    levers: list[Lever]
    designs: list[dict[str, float]]  # lever values of each design
    columns: list[tuple[str, str]]  # (metric, arm) of every figure
    values: np.ndarray  # (designs, replications, columns): each replication's figures
    stats: np.ndarray  # (designs, columns, 3): mean, p05, p95
    record: RunRecord | None = None
    twins: int = 0  # no-program twins simulated (one per distinct customer base and replication)
    extra: dict = field(default_factory=dict)

    def column(self, metric: str, arm: str) -> int:
        try:
            return self.columns.index((metric, arm))
        except ValueError:
            raise KeyError(f"{metric} ({arm})") from None

    def per_replication(self, metric: str, arm: str) -> np.ndarray:
        """(designs, replications) values of one figure."""
        return self.values[:, :, self.column(metric, arm)]

    def stat(self, metric: str, arm: str, stat: str = "mean") -> np.ndarray:
        """One statistic of one figure, per design."""
        return self.stats[:, self.column(metric, arm), STATS.index(stat)]

    def metrics(self) -> list[str]:
        return list(dict.fromkeys(m for m, _ in self.columns))

    def scenario_of(self, index: int) -> Scenario:
        """Design `index` as a scenario."""
        return design_space.design(self.scenario, self.designs[index])

    def table(self) -> pd.DataFrame:
        """One row per design: the lever values, then every figure's mean, p05 and p95 as
        `metric.arm.stat` columns."""
        import pandas as pd

        frame = pd.DataFrame(self.designs)
        frame.insert(0, "design", range(len(self.designs)))
        flat = self.stats.reshape(len(self.designs), -1)
        names = [f"{m}.{a}.{s}" for m, a in self.columns for s in STATS]
        return pd.concat([frame, pd.DataFrame(flat, columns=names)], axis=1)


def run_sweep(
    scenario: Scenario,
    levers: Sequence[Lever],
    replications: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    runner: Runner | None = None,
    share_twin: bool = True,
) -> Sweep:
    """Simulate every design of the grid of `levers` (each with its replications) and summarise."""
    sim = scenario.simulation
    n_reps = sim.replications if replications is None else int(replications)
    seed = sim.seed if seed is None else int(seed)
    designs = design_space.grid(list(levers))
    scenarios = [design_space.design(scenario, values) for values in designs]
    return sweep_designs(scenario, list(levers), designs, scenarios, n_reps, seed, progress, cancel, runner, share_twin)


def sweep_designs(
    scenario: Scenario,
    levers: list[Lever],
    designs: list[dict[str, float]],
    scenarios: list[Scenario],
    n_reps: int,
    seed: int,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    runner: Runner | None = None,
    share_twin: bool = True,
    twins_cache: twin.TwinCache | None = None,
) -> Sweep:
    """`run_sweep` of given designs (their lever values and scenarios); `twins_cache` keeps the
    twins for the next call (an optimiser's trials)."""
    if n_reps < 1:
        raise ValueError("replications must be >= 1")
    tasks = design_tasks(scenarios, n_reps, seed)
    runner = runner or Runner()
    if share_twin:
        cache = twins_cache if twins_cache is not None else twin.TwinCache()
        before = len(cache.reps)
        reps = cache.map(runner, tasks, progress, cancel)
        twins = len(cache.reps) - before
    else:
        reps, twins = runner.map(tasks, progress, cancel), len(tasks)
    by_design = [reps[i :: len(scenarios)] for i in range(len(designs))]
    columns, values, stats = summarise(by_design)
    from .results import as_run

    return Sweep(as_run(scenario, n_reps, seed), levers, designs, columns, values, stats, runner.last, twins)


def design_tasks(scenarios: Sequence[Scenario], n_reps: int, seed: int) -> list[Task]:
    """The tasks of a sweep: replication by replication, so that a process runs one replication's
    designs in a row and draws its uniforms and customers once (Task.keep_draws); each design's
    replications are put back together afterwards."""
    return [Task(sc, r, seed, n_reps, light=True, keep_draws=True) for r in range(n_reps) for sc in scenarios]


def estimate(runner: Runner, scenario: Scenario, designs: int, replications: int | None = None) -> Estimate:
    """Time and memory of a sweep of `designs` designs like `scenario`, as `sweep_designs` runs
    it: the program arms alone and one shared twin per replication (every design whole where the
    arms cannot run apart, as with a pilot)."""
    n_reps = scenario.simulation.replications if replications is None else int(replications)
    one = design_tasks([scenario], n_reps, scenario.simulation.seed)
    if not all(twin.splittable(t) for t in one):
        return runner.estimate(one * designs)
    shared = twin.share(one)  # (the twins, then one design's program arms)
    programs = shared.tasks[shared.first_program :]
    return runner.estimate(shared.tasks[: shared.first_program] + programs * designs)


def summarise(by_design: list[list[ReplicationResult]]) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """The (metric, arm) columns, each replication's values and each design's mean, p05 and
    p95 (the payback month as `results.payback` works it out, with `payback_share`)."""
    first = by_design[0][0]
    columns = [(m, a) for m, a, _ in replication_values(first)] + [("payback_share", "incremental")]
    values = np.array([[[v for _, _, v in replication_values(rep)] + [np.nan] for rep in reps] for reps in by_design])
    stats = np.empty((len(by_design), len(columns), 3))
    payback_col, share_col = columns.index(("payback_month", "incremental")), len(columns) - 1
    for d, reps in enumerate(by_design):
        stats[d, :, 0], stats[d, :, 1], stats[d, :, 2] = _stats(values[d])
        month, low, high, share = payback(reps)
        stats[d, payback_col] = month, low, high
        stats[d, share_col] = share, np.nan, np.nan
    values[:, :, share_col] = ~np.isnan(values[:, :, payback_col])
    return columns, values, stats


def on_progress_every(step: float, progress: Callable[[float], None]) -> Callable[[float], None]:
    """`progress`, called only when the share done has grown by `step` (a sweep has thousands of tasks)."""
    last = [-1.0]

    def update(fraction: float) -> None:
        if fraction - last[0] >= step or fraction >= 1.0:
            last[0] = fraction
            progress(fraction)

    return update
