"""One runner for every simulation: the CLI's runs, the app's, sweeps, calibration.

The unit of work is a `Task`: one replication of one design (both arms, or one arm alone for
a sweep's shared twin, simulation/twin.py). Replication r is a pure function of (scenario,
seed, r, the run's size), so tasks can run anywhere, in any order, and give the same numbers:

- here, in this process (small runs; or where forking is unsafe);
- in a local pool of forked worker processes, one per CPU (`$LOJAL_WORKERS` caps it);
- on a Dask cluster (`Runner(scheduler="tcp://host:8786")`, `--scheduler` in the CLI).

`Runner.map` reports progress (0..1), can be cancelled (`cancel()` returns True: the tasks not
begun are dropped and `Cancelled` is raised), and `estimate` says beforehand how long a run
will take and whether it fits in memory. Every run leaves a `RunRecord` of what it ran.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import asdict, dataclass, field

from . import rng, uncertainty
from .engine import Sim
from .people import BASELINE, PROGRAM
from .provenance import version
from .results import ReplicationResult, summarise_replication
from .scenario_io import ScenarioError
from .schema import Scenario

# Below this much work (customers x months x replications) starting worker processes does
# not pay (they take ~0.5 s to start and import the engine); LOJAL_WORKERS=1 keeps every run here.
PARALLEL_MIN_WORK = 2_000_000
# What one customer-month of one replication (both arms) costs on a core shared with another
# worker (measured 2026-12-04 in a fast period of the host: the examples 0.18-0.30 CPU s a
# replication of 720,000 customer-months, 2.5-4.2e-7, fintech's 60 months 3.7e-7; the host's
# pace varies by up to 1.7x, so 4-7e-7 in a slow one; an estimate only: instruments move it
# too). (Was 7e-7, from 2026-12-03's slower engine and host; 2.1e-7 before that.)
SECONDS_PER_CUSTOMER_MONTH = 5e-7
# of a task's time when it simulates one arm alone (bench_sweep (b), 2026-12-04: both arms
# 0.252 s, program arm 0.204 s, twin 0.098 s)
ARM_SHARE = {"both": 1.0, "program": 0.81, "baseline": 0.39}
# of a task's time when the task before it drew its replication's uniforms and customers (a
# sweep's, rng.KEPT: a program arm 0.167 s instead of 0.204 s)
KEPT_SHARE = 0.82
MEMORY_OVERHEAD = 2.5  # peak / the state arrays: a month's temporaries, scratch, the archive
PROCESS_BYTES = 150e6  # an interpreter with numpy, pandas and the engine imported
LONG_RUN_SECONDS = 600.0  # warn above this

Progress = Callable[[float], None]
Cancel = Callable[[], bool]
ARMS = {"both": None, "program": PROGRAM, "baseline": BASELINE}


class Cancelled(Exception):
    """The run was cancelled; the tasks done are in `done` (in task order, None for the rest)."""

    def __init__(self, done: list):
        super().__init__("cancelled")
        self.done = done


@dataclass(frozen=True)
class Task:
    """Replication `replication` of a run of `replications` with `seed`: the sampled judgement
    parameters are those of that point (`values`, when given, are used as they are). `arm`:
    "both", or one arm alone ("program" or "baseline"). `light`: only the summary figures are
    sent back (and the cumulative profit the payback month needs), not every monthly ledger."""

    scenario: Scenario
    replication: int
    seed: int
    replications: int
    arm: str = "both"
    values: tuple[tuple[str, float], ...] | None = None
    light: bool = False
    keep_draws: bool = False  # keep the replication's uniforms for the next task (a sweep's: rng._Kept)

    def work(self) -> float:
        """Customer-months (both arms = 1), weighed by what the task leaves out."""
        one = self.scenario.customers.size * self.scenario.simulation.horizon_months
        return one * ARM_SHARE[self.arm] * (KEPT_SHARE if self.keep_draws else 1.0)


def tasks_of(scenario: Scenario, replications: int | None = None, seed: int | None = None) -> list[Task]:
    """The tasks of one run: every replication of the scenario, both arms."""
    sim = scenario.simulation
    n = sim.replications if replications is None else int(replications)
    if n < 1:
        raise ValueError("replications must be >= 1")
    seed = sim.seed if seed is None else int(seed)
    return [Task(scenario, r, seed, n) for r in range(n)]


def run_task(task: Task, on_month: Callable[[int], None] | None = None) -> ReplicationResult:
    """Simulate one task: the scenario with the replication's sampled parameters (none unless
    the file asks, docs/model.md section 11.1), summarised."""
    if task.values is None:
        values = uncertainty.point(task.scenario, task.seed, task.replications, task.replication)
    else:
        values = dict(task.values)
    rng.KEPT.keep(task.keep_draws, task.seed, task.replication)
    sim = Sim(uncertainty.apply(task.scenario, values), task.replication, task.seed, only=ARMS[task.arm])
    rep = summarise_replication(sim.run(on_month))
    rep.parameters = values
    if task.light:
        rep.monthly = {"net_profit_cumulative": rep.monthly["net_profit_cumulative"]}
    return rep


# --------------------------------------------------------------------------- workers
def workers_setting() -> int | None:
    """`$LOJAL_WORKERS` (processes for replications; 1 = none), None when unset; a clear error otherwise.
    The one place the setting is read: the CLI stops on a bad value, the app logs it."""
    text = os.environ.get("LOJAL_WORKERS")
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise ScenarioError([f"LOJAL_WORKERS={text!r}: a whole number of processes (1 runs everything here)"])
    return max(1, int(text))


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def local_workers(n_tasks: int, work: float) -> int:
    """How many forked processes to run `n_tasks` tasks of `work` customer-months in all: 1
    (this one) unless the run is big and forking is safe: Linux, the only thread of a process
    that is not itself a worker (forking a process with other threads, e.g. a web server's,
    can deadlock the child)."""
    if n_tasks < 2 or sys.platform != "linux" or multiprocessing.parent_process() is not None:
        return 1
    if threading.active_count() > 1 or threading.current_thread() is not threading.main_thread():
        return 1
    wanted = workers_setting()
    if wanted is not None:
        return max(1, min(wanted, n_tasks))
    if work < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(cpus(), n_tasks))


# --------------------------------------------------------------------------- estimate
@dataclass(frozen=True)
class Estimate:
    """What a run will take, worked out from the scenarios before it starts."""

    seconds: float  # wall time on `workers` processes
    peak_bytes: float  # memory of all the processes at once
    available_bytes: float | None  # memory the machine has free (None: unknown)
    workers: int

    @property
    def fits(self) -> bool:
        return self.available_bytes is None or self.peak_bytes <= self.available_bytes

    def warning(self) -> str | None:
        """A line to show before a long run, or None."""
        if self.seconds < LONG_RUN_SECONDS:
            return None
        return f"this run will take about {_duration(self.seconds)} on {self.workers} process(es)"

    def check(self) -> None:
        """Refuse, with what to change, a run that would not fit in memory."""
        if self.fits:
            return
        need, have = self.peak_bytes / 1e9, (self.available_bytes or 0) / 1e9
        raise ScenarioError([
            f"this run needs about {need:.1f} GB of memory ({self.workers} process(es) at once) and the machine has "
            f"{have:.1f} GB free: simulate fewer customers (customers.size), or fewer at a time (LOJAL_WORKERS=1)"
        ])  # fmt: skip


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def available_memory() -> float | None:
    """MemAvailable from /proc/meminfo (bytes), None where there is none."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def task_bytes(scenario: Scenario) -> float:
    """Peak memory of one replication: the state arrays per slot (measured on a small copy of
    the scenario, so every instrument's state counts) times the slots it will need."""
    small = scenario.model_copy(update={"customers": scenario.customers.model_copy(update={"size": 256})})
    sim = Sim(small, 0)
    sim._start()
    people = sim.people
    per_slot = sum(a.nbytes for _, a in people._arrays()) / people.capacity
    c, months = scenario.customers, scenario.simulation.horizon_months
    slots = c.size + months * (c.acquisition.paid_per_month + 0.03 * c.size) + 1024
    return per_slot * slots * MEMORY_OVERHEAD


def estimate_seconds(tasks: Sequence[Task], workers: int) -> float:
    """Wall time of running `tasks` on `workers` processes, at the measured pace."""
    return sum(t.work() for t in tasks) * SECONDS_PER_CUSTOMER_MONTH / max(workers, 1)


def estimate(tasks: Sequence[Task], workers: int) -> Estimate:
    """Time and memory of running `tasks` on `workers` processes."""
    seconds = estimate_seconds(tasks, workers)
    biggest = max(tasks, key=lambda t: t.scenario.customers.size).scenario if tasks else None
    per_task = task_bytes(biggest) if biggest is not None else 0.0
    peak = min(workers, len(tasks)) * (per_task + PROCESS_BYTES)
    return Estimate(seconds, peak, available_memory(), workers)


# --------------------------------------------------------------------------- provenance
def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the scenario as validated (every default filled in)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """What a run ran: enough to check and to reproduce it."""

    scenario_sha256: str
    seed: int
    replications: int
    tasks: int
    where: str  # "here", "2 local processes", "dask tcp://..."
    seconds: float
    lojal_version: str = field(default_factory=version)

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- the runner
class Runner:
    """Runs tasks here, in local processes, or on a Dask cluster (`scheduler` address)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, executor: Executor | None = None,
                 keep_pool: bool = False):  # fmt: skip
        self.scheduler = scheduler
        self.workers = workers  # local processes; None: `local_workers` decides
        self.executor = executor  # an executor of the caller's (the app's worker pool), used as it is
        self.last: RunRecord | None = None
        self._client = None
        # `keep_pool`: one local process pool for every map, closed by `close` (starting one costs
        # ~0.15 s, as much as a small map's work: a search of many small maps paid it each time)
        self._keep_pool, self._pool = keep_pool, None

    def where(self, n_tasks: int, work: float) -> tuple[str, int]:
        """("here" | "local" | "dask", processes) for a run of `n_tasks` tasks."""
        if self.scheduler:
            return "dask", self._dask_workers()
        if self.executor is not None:
            return "executor", getattr(self.executor, "_max_workers", 1)
        n = local_workers(n_tasks, work) if self.workers is None else max(1, min(self.workers, n_tasks))
        return ("local", n) if n > 1 else ("here", 1)

    def estimate(self, tasks: Sequence[Task]) -> Estimate:
        kind, n = self.where(len(tasks), sum(t.work() for t in tasks))
        est = estimate(tasks, n)
        if kind == "dask":  # the cluster's memory is not this machine's
            est = Estimate(est.seconds, est.peak_bytes, None, n)
        return est

    def map(
        self, tasks: Sequence[Task], progress: Progress | None = None, cancel: Cancel | None = None, check: bool = True
    ) -> list[ReplicationResult]:
        """The results of `tasks`, in their order. `check`: refuse a run that would not fit in memory."""
        start = time.perf_counter()
        tasks = list(tasks)
        kind, n = self.where(len(tasks), sum(t.work() for t in tasks))
        if check and kind in ("here", "local"):
            estimate(tasks, n).check()
        if kind == "here":
            out = _map_here(tasks, progress, cancel)
            where = "here"
        elif kind == "local":
            out, where = self._map_local(tasks, n, progress, cancel), f"{n} local processes"
        elif kind == "executor":
            out, where = _map_executor(self.executor, tasks, progress, cancel), f"{n} worker processes"
        else:
            out, where = _map_executor(self._dask().get_executor(), tasks, progress, cancel), f"dask {self.scheduler}"
        first = tasks[0] if tasks else None
        self.last = RunRecord(
            scenario_hash(first.scenario) if first else "", first.seed if first else 0,
            first.replications if first else 0, len(tasks), where, time.perf_counter() - start,
        )  # fmt: skip
        return out

    def _map_local(self, tasks: list[Task], workers: int, progress, cancel) -> list[ReplicationResult]:
        """`_map_local`, on the runner's own pool with `keep_pool` (started at the first map, again
        when another number of workers is wanted)."""
        if not self._keep_pool:
            return _map_local(tasks, workers, progress, cancel)
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None or self._pool._max_workers != workers:
            self._close_pool()
            self._pool = _local_pool(workers)
        try:
            return _map_executor(self._pool, tasks, progress, cancel)
        except BrokenProcessPool:
            self._close_pool()
            return _map_here(tasks, progress, cancel)

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def _dask(self):
        if self._client is None:
            self._client = connect(self.scheduler)
        return self._client

    def _dask_workers(self) -> int:
        return max(1, sum(w.get("nthreads", 1) for w in self._dask().scheduler_info()["workers"].values()))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._close_pool()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


CONNECT_TIMEOUT = "10s"  # how long to look for a scheduler


def connect(address: str):
    """A Dask client of the scheduler at `address`; a clear error when there is none."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ScenarioError([f"--scheduler: Dask is not installed ({exc}); pip install 'dask[distributed]'"]) from exc
    if "://" not in address:
        address = "tcp://" + address
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:
        raise ScenarioError([f"--scheduler {address}: no Dask scheduler answers there ({exc})"]) from exc


def _map_here(tasks: list[Task], progress: Progress | None, cancel: Cancel | None) -> list[ReplicationResult]:
    """In this process, reporting progress month by month."""
    out: list = []
    n = len(tasks)
    for i, task in enumerate(tasks):
        if cancel is not None and cancel():
            raise Cancelled(out + [None] * (n - i))
        months = task.scenario.simulation.horizon_months
        on_month = None if progress is None else (lambda m, i=i, months=months: progress((i + m / months) / n))
        out.append(run_task(task, on_month))
    return out


def _map_local(tasks: list[Task], workers: int, progress, cancel) -> list[ReplicationResult]:
    """In forked worker processes; a broken pool (a worker killed, out of memory) runs them here."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        with _local_pool(workers) as pool:
            return _map_executor(pool, tasks, progress, cancel)
    except BrokenProcessPool:
        return _map_here(tasks, progress, cancel)


def _local_pool(workers: int):
    """Forked worker processes (they start with this process's imports and scenario in memory)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


POLL_SECONDS = 0.2  # how often a cancel is looked for while tasks run


def _map_executor(executor: Executor, tasks: list[Task], progress, cancel) -> list[ReplicationResult]:
    """On any concurrent.futures executor (a process pool, Dask's `Client.get_executor()`)."""
    futures: dict[Future, int] = {executor.submit(run_task, task): i for i, task in enumerate(tasks)}
    # the workers are busy now: import what the results need while they run
    import pandas  # noqa: F401

    out: list = [None] * len(tasks)
    pending, finished = set(futures), 0
    try:
        while pending:
            if cancel is not None and cancel():
                raise Cancelled(out)
            done, pending = wait(pending, POLL_SECONDS if cancel is not None else None, FIRST_COMPLETED)
            for future in done:
                out[futures[future]] = future.result()
                finished += 1
                if progress is not None:
                    progress(finished / len(tasks))
    except BaseException:  # cancelled, a task failed, or the caller stopped (a Streamlit rerun)
        for future in pending:
            future.cancel()  # (the tasks not begun; those running finish, unseen)
        raise
    return out


def run_tasks(tasks: Sequence[Task], progress: Progress | None = None, scheduler: str | None = None) -> list:
    """`Runner(scheduler).map(tasks, progress)`, closing the Dask client after."""
    with Runner(scheduler) as runner:
        return runner.map(tasks, progress)


__all__ = [
    "Cancelled", "Estimate", "RunRecord", "Runner", "Task", "estimate", "local_workers", "run_task",
    "tasks_of", "workers_setting",
]  # fmt: skip
