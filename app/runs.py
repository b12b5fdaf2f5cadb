"""Running the engine from the app: cached by the scenario's JSON, with a progress bar.

`st.cache_data` keeps the results of every scenario run in this server process, keyed by
the scenario JSON, so an unchanged scenario is never simulated twice. The engine runs
outside the cached function so its progress can be drawn while it runs (Streamlit would
otherwise record the progress bar and replay it on every cache hit).

A big run spreads its replications over the machine's cores with the engine's own
task function (`simulation.runner.run_task`) and `combine` (replication r has its own random streams, so the numbers
are the same as `simulation.run`'s); a small one runs in the server process.

Head start: while a consultant looks at a valid design that has not been run, its
replications are already started in the worker pool (one design per browser tab; a newer
design cancels the replications of the older one that have not begun). Pressing Run then
waits only for what is left. Nothing is shown until Run is pressed, and the numbers are the
same: the head start runs the same pure function of (scenario, seed, replication).
`LOJAL_HEAD_START=0` switches it off (e.g. on a server shared by many users).

Streaming: Run on a design that runs in the pool does not wait for the whole run. It starts a
`Job` for the tab (taking over the head start), waits at most a moment for the first
replication, and the pages then show the results of the replications done so far, marked
provisional, while the sidebar polls for the rest; the last one makes them final (the very
numbers of `simulation.run`: the engine's `combine` sorts the replications first). Cancel stops
the replications not begun and keeps those done; Run on the same design finishes them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import streamlit as st

import simulation
from simulation.results import ReplicationResult, combine
from simulation.runner import estimate_seconds, run_task, tasks_of, workers_setting
from simulation.scenario_io import ScenarioError
from simulation.schema import Scenario

# below this much work (customers x months x replications) a run stays in the server process:
# the pool is started with the app, so only the smallest runs (~0.1 s) are not worth sending.
# (At 2,000,000 the 5,000-customer b2b example ran in the server, without a head start or
# streaming: its first figures came after 2.6-3.4 s, bench_app, against ~0.5 s for the others.)
PARALLEL_MIN_WORK = 500_000
# above this much work (about 5 s on 2 cores) a design waits for Run: a head start would keep
# the cores busy with a design the user may not want to run at all
HEAD_START_MAX_WORK = 40_000_000
MAX_HEAD_STARTS = 16  # browser tabs whose head starts are kept (the oldest is dropped)


class _NotCached(Exception):
    pass


@st.cache_data(show_spinner=False, max_entries=64)
def _store(scenario_json: str, _results: simulation.Results | None = None) -> simulation.Results:
    """Cache slot for one scenario: a lookup raises (nothing is cached), a store returns `_results`."""
    if _results is None:
        raise _NotCached
    return _results


def key(scenario: Scenario) -> str:
    return scenario.model_dump_json()


def cached(scenario: Scenario) -> simulation.Results | None:
    """Results of this exact scenario if it was run before in this server, else None."""
    return _lookup(key(scenario))


def _lookup(scenario_key: str) -> simulation.Results | None:
    try:
        return _store(scenario_key)
    except _NotCached:
        return None


def results(
    scenario: Scenario, progress: Callable[[float], None] | None = None, owner: str | None = None
) -> simulation.Results:
    """Cached results, or a fresh run (reporting progress 0..1), using `owner`'s head start."""
    hit = cached(scenario)
    if hit is not None:
        return hit
    return _store(key(scenario), simulate(scenario, progress, owner=owner))


def work(scenario: Scenario) -> int:
    """Customers x months x replications: what a run costs, roughly."""
    sim = scenario.simulation
    return scenario.customers.size * sim.horizon_months * sim.replications


def workers() -> int:
    """Processes for replications: the cores, or `$LOJAL_WORKERS` (1 = never start processes);
    a setting that is not a number is reported in the server log and runs everything here."""
    try:
        wanted = workers_setting()
    except ScenarioError as exc:
        logging.getLogger("lojal.app").warning("%s; running replications in the server process", exc.problems[0])
        return 1
    return wanted or max(1, os.cpu_count() or 1)


@st.cache_resource(show_spinner=False)
def _pool(n: int) -> ProcessPoolExecutor:
    """One pool per server. Workers are spawned, not forked: a forked child would inherit the
    server's open sockets and keep connections from closing."""
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
    with _plain_main():  # every worker starts here; import the engine in each now, not at the first Run
        for _ in range(n):
            pool.submit(run_task, tasks_of(_tiny())[0])
    return pool


def _tiny() -> Scenario:
    """A run of a few customers: what warms up a process (imports, first calls)."""
    return Scenario.model_validate({"customers": {"size": 20}, "simulation": {"horizon_months": 2, "replications": 2}})


@contextlib.contextmanager
def _plain_main():
    """A spawned worker re-imports the parent's `__main__`, which under Streamlit is the app
    script itself (it would start the app again). Hide it while the workers start."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def warm_up() -> None:
    """Start the worker processes early, and take the first-call costs of the Results page's
    code in this process (called when the app opens)."""
    if workers() > 1:
        _pool(workers())
    _warm_server()


@st.cache_resource(show_spinner=False)
def _warm_server() -> threading.Thread:
    """Once per server, in the background: a tiny run combined and its cards and figures made,
    so that the first Run's figures do not pay for code run here the first time (measured: the
    first `combine` of a server took 0.19 s of the 0.5 s to the first figures, later ones 0.04)."""
    from simulation import analysis, figures

    def work() -> None:
        tiny = _tiny()
        results = combine(tiny, [run_task(task) for task in tasks_of(tiny)], 0.0, planned=3)
        analysis.headline_cards(results)
        figures.over_time(results.monthly, "active_customers", currency=tiny.economics.currency)

    thread = threading.Thread(target=work, name="lojal-warm-up", daemon=True)
    thread.start()
    return thread


def _parallel(scenario: Scenario) -> bool:
    return workers() > 1 and scenario.simulation.replications > 1 and work(scenario) >= PARALLEL_MIN_WORK


def _submit(scenario: Scenario, replications: list[int] | None = None) -> list[Future]:
    """Replications of `scenario` (default all) in the worker pool, in order."""
    tasks = tasks_of(scenario)  # the engine's own tasks (simulation/runner.py), in this server's pool
    todo = [tasks[r] for r in (range(len(tasks)) if replications is None else replications)]
    try:
        pool = _pool(workers())
        return [pool.submit(run_task, task) for task in todo]
    except BrokenProcessPool:  # a worker died since the pool was last used: a new pool
        _reset_pool()
        pool = _pool(workers())
        return [pool.submit(run_task, task) for task in todo]


def _futures(owner: str | None, scenario: Scenario) -> list[Future]:
    """Every replication of `scenario` under way: `owner`'s head start, else submitted now."""
    futures = _claim_head_start(owner, scenario)
    if futures is None or any(f.cancelled() for f in futures):
        futures = _submit(scenario)
    return futures


def simulate(
    scenario: Scenario,
    progress: Callable[[float], None] | None = None,
    parallel: bool | None = None,
    owner: str | None = None,
) -> simulation.Results:
    """`simulation.run`, with the replications of a big run spread over worker processes
    (those `owner` gave a head start to are taken over, not started again; `owner`'s streamed
    run of this design is waited for, not run twice)."""
    if not (_parallel(scenario) if parallel is None else parallel):
        return simulation.run(scenario, progress=progress)
    shared = job(owner) if owner is not None else None
    if shared is not None and shared.key == key(scenario) and shared.running:
        shared.wait_all(progress)
        if shared.finished:
            return shared.results()
    own = Job(scenario, _futures(owner, scenario))
    own.wait_all(progress)
    if own.error is not None:
        raise own.error
    return own.results()


def _reset_pool() -> None:
    """Forget a broken pool (the next submit starts a new one) and the head starts in it."""
    _pool.clear()
    with _lock:
        _head_starts.clear()


# --------------------------------------------------------------------------- head start
_head_starts: OrderedDict[str, tuple[str, list[Future]]] = OrderedDict()  # owner -> (scenario key, futures)
_lock = threading.Lock()


def head_start_enabled() -> bool:
    return os.environ.get("LOJAL_HEAD_START", "1") != "0" and workers() > 1


def head_start(owner: str, scenario: Scenario) -> bool:
    """Start simulating `scenario` in the worker pool for `owner` (a browser tab), unless it is
    cached, small enough to run at once, or too big to run unasked. Replaces the owner's previous
    head start. Returns whether one is under way for this scenario."""
    if not head_start_enabled() or not _parallel(scenario) or work(scenario) > HEAD_START_MAX_WORK:
        return False
    k = key(scenario)
    if _lookup(k) is not None:
        return False
    with _lock:
        old = _head_starts.get(owner)
        if old is not None and old[0] == k:
            return True
        if old is not None:
            _cancel(old[1])
        _head_starts[owner] = (k, _submit(scenario))
        _head_starts.move_to_end(owner)
        while len(_head_starts) > MAX_HEAD_STARTS:
            _cancel(_head_starts.popitem(last=False)[1][1])
    return True


def _claim_head_start(owner: str | None, scenario: Scenario) -> list[Future] | None:
    """The futures of `owner`'s head start if it is for this scenario (they are then the run's)."""
    if owner is None:
        return None
    with _lock:
        entry = _head_starts.get(owner)
        if entry is None or entry[0] != key(scenario):
            return None
        del _head_starts[owner]
        return entry[1]


def _cancel(futures: list[Future]) -> None:
    """Cancel the replications not yet begun (those running finish; their results are dropped)."""
    for future in futures:
        future.cancel()


# --------------------------------------------------------------------------- runs that stream in
class Job:
    """A run started by Run in the worker pool, followed replication by replication."""

    def __init__(self, scenario: Scenario, futures: list[Future]):
        self.scenario, self.key, self.planned = scenario, key(scenario), scenario.simulation.replications
        self.pending: dict[int, Future] = dict(enumerate(futures))  # replication -> its future
        self.reps: dict[int, ReplicationResult] = {}
        self.stopped = False
        self.error: Exception | None = None  # the engine failed: the run is over
        self._pace_from = (time.perf_counter(), 0)  # (when, replications done then) for the estimate
        # before the first replication is in: the runner's estimate from the scenario's size
        self._expected = estimate_seconds(tasks_of(scenario), min(workers(), self.planned))
        self._partial: simulation.Results | None = None
        self._guard = threading.Lock()  # two tabs of one draft may look at the same time
        self._retried = False  # the replications left were submitted again after a worker died

    @property
    def done(self) -> int:
        return len(self.reps)

    @property
    def finished(self) -> bool:
        return self.done == self.planned

    @property
    def running(self) -> bool:
        return not (self.finished or self.stopped or self.error)

    def collect(self) -> None:
        """Take in the replications finished since the last look."""
        with self._guard:
            self._collect()

    def _collect(self) -> None:
        for r, future in list(self.pending.items()):
            if not future.done():  # (a future cancelled behind the run's back ends it, as an error)
                continue
            del self.pending[r]
            try:
                self.reps[r] = future.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory): once, a new pool
                if self._retried:
                    self.error = exc
                    return
                self._retried = True
                _reset_pool()
                self._resubmit()
                return
            except Exception as exc:  # noqa: BLE001 - the engine failed: said on the page, design kept
                self.error = exc
                self.stop()
                return

    def wait_first(self, timeout: float) -> None:
        """Wait up to `timeout` seconds until a replication is done (none is yet)."""
        if not self.reps and self.pending:
            wait(list(self.pending.values()), timeout, FIRST_COMPLETED)
            self.collect()

    def wait_all(self, progress: Callable[[float], None] | None = None, timeout: float | None = None) -> None:
        """Wait until the run is over (or stopped; or `timeout` seconds have passed), reporting the
        share done (0..1) as it grows."""
        until = None if timeout is None else time.monotonic() + timeout
        while self.running:
            before = self.done
            rest = None if until is None else until - time.monotonic()
            if rest is not None and rest <= 0:
                return
            wait(list(self.pending.values()), rest, FIRST_COMPLETED)
            self.collect()
            for done in range(before + 1, self.done + 1) if progress is not None else ():
                progress(done / self.planned)

    def results(self) -> simulation.Results | None:
        """Results of the replications done so far (provisional until all are), None before the first."""
        if not self.reps:
            return None
        if self._partial is None or self._partial.done != self.done:
            seconds = time.perf_counter() - self._pace_from[0]
            self._partial = combine(self.scenario, list(self.reps.values()), seconds, planned=self.planned)
        return self._partial

    def seconds_left(self) -> float | None:
        """Wall time still needed at the pace of the replications finished since (re)start; before
        the first, what the runner estimates from the scenario's size less the time gone (None
        once that is over: the run is slower than estimated, and no figure is better than a wrong one)."""
        since, done_then = self._pace_from
        finished_since = self.done - done_then
        if not self.running:
            return None
        if finished_since < 1:
            left = self._expected * (self.planned - self.done) / self.planned - (time.perf_counter() - since)
            return left if left > 0 else None
        return (time.perf_counter() - since) / finished_since * (self.planned - self.done)

    def stop(self) -> None:
        """Cancel the replications not begun (those running finish, unseen); keep those done."""
        _cancel(list(self.pending.values()))
        self.pending.clear()
        self.stopped = True

    def resume(self) -> None:
        """Run the replications a stop left out."""
        self.stopped = False
        self._resubmit()

    def _resubmit(self) -> None:
        missing = [r for r in range(self.planned) if r not in self.reps]
        self.pending = dict(zip(missing, _submit(self.scenario, missing), strict=True))
        self._pace_from = (time.perf_counter(), self.done)


_jobs: OrderedDict[str, Job] = OrderedDict()  # owner (browser tab) -> its run


def streams(scenario: Scenario) -> bool:
    """Whether Run on this design streams its results in (a run in the worker pool, not cached)."""
    return _parallel(scenario) and cached(scenario) is None


def start(owner: str, scenario: Scenario) -> Job:
    """`owner`'s run of `scenario`: the one under way, its own stopped run resumed, or a new one
    (taking over the head start) that replaces the owner's run of another design."""
    current = job(owner)
    if current is not None and current.key == key(scenario) and not current.error:
        if current.stopped:
            current.resume()
        return current
    if current is not None:
        current.stop()
    current = Job(scenario, _futures(owner, scenario))
    with _lock:
        _jobs[owner] = current
        _jobs.move_to_end(owner)
        while len(_jobs) > MAX_HEAD_STARTS:
            _jobs.popitem(last=False)[1].stop()
    return current


def job(owner: str) -> Job | None:
    """`owner`'s run, as of the last `poll`: under way, stopped or failed."""
    with _lock:
        return _jobs.get(owner)


def poll(owner: str) -> Job | None:
    """`owner`'s run with the replications finished since the last look taken in."""
    current = job(owner)
    if current is not None:
        current.collect()
    return current


def finish(owner: str) -> Job | None:
    """`owner`'s run if it is over (complete or failed), then forgotten; a complete run's results
    go into the cache."""
    current = job(owner)
    if current is None or not (current.finished or current.error):
        return None
    forget(owner)
    if current.finished:
        _store(current.key, current.results())
    return current


def forget(owner: str) -> None:
    """Drop `owner`'s run (a stopped one's partial results with it)."""
    with _lock:
        old = _jobs.pop(owner, None)
    if old is not None:
        old.stop()


def progress_bar(container: st.delta_generator.DeltaGenerator, label: str) -> tuple[Callable[[float], None], object]:
    """A progress callable that draws into `container` (at most 100 updates)."""
    bar = container.progress(0.0, text=label)
    last = [-1]

    def update(fraction: float) -> None:
        pct = int(100 * min(max(float(fraction), 0.0), 1.0))
        if pct != last[0]:
            last[0] = pct
            bar.progress(pct / 100, text=f"{label} {pct} %")

    return update, bar


def run_all(
    scenarios: dict[str, Scenario], container: st.delta_generator.DeltaGenerator, owner: str | None = None
) -> dict[str, simulation.Results]:
    """Results for several scenarios, running the ones not in the cache (taking over `owner`'s
    head start where it is one of them), with one progress bar."""
    out: dict[str, simulation.Results] = {}
    todo = [label for label, s in scenarios.items() if cached(s) is None]
    for label, scenario in scenarios.items():
        if label in todo:
            i = todo.index(label)
            update, bar = progress_bar(container, f"Simulating {label} ({i + 1} of {len(todo)})")
            out[label] = results(scenario, update, owner=owner)
            bar.empty()
        else:
            out[label] = results(scenario)
    return out


def clear() -> None:
    """Forget every cached result, head start and run (tests; a server restart does the same)."""
    _store.clear()
    with _lock:
        for _, futures in _head_starts.values():
            _cancel(futures)
        _head_starts.clear()
        for old in _jobs.values():
            old.stop()
        _jobs.clear()
