"""Running the engine from the app: cached by the scenario's JSON, with a progress bar.

`st.cache_data` keeps the results of every scenario run in this server process, keyed by
the scenario JSON, so an unchanged scenario is never simulated twice. The engine runs
outside the cached function so its progress can be drawn while it runs (Streamlit would
otherwise record the progress bar and replay it on every cache hit).

A big run spreads its replications over the machine's cores with the engine's own
`run_replication` and `combine` (replication r has its own random streams, so the numbers
are the same as `simulation.run`'s); a small one runs in the server process.

Head start: while a consultant looks at a valid design that has not been run, its
replications are already started in the worker pool (one design per browser tab; a newer
design cancels the replications of the older one that have not begun). Pressing Run then
waits only for what is left. Nothing is shown until Run is pressed, and the numbers are the
same: the head start runs the same pure function of (scenario, seed, replication).
`LOJAL_HEAD_START=0` switches it off (e.g. on a server shared by many users).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import streamlit as st

import simulation
from simulation.results import combine
from simulation.schema import Scenario

# below this much work (customers x months x replications) starting processes is not worth it
PARALLEL_MIN_WORK = 2_000_000
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
    """Processes for replications: the cores, or `$LOJAL_WORKERS` (1 = never start processes)."""
    try:
        return max(1, int(os.environ.get("LOJAL_WORKERS", os.cpu_count() or 1)))
    except ValueError:
        return 1


@st.cache_resource(show_spinner=False)
def _pool(n: int) -> ProcessPoolExecutor:
    """One pool per server. Workers are spawned, not forked: a forked child would inherit the
    server's open sockets and keep connections from closing."""
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
    tiny = Scenario.model_validate({"customers": {"size": 10}, "simulation": {"horizon_months": 1, "replications": 1}})
    with _plain_main():  # every worker starts here; import the engine in each now, not at the first Run
        for _ in range(n):
            pool.submit(simulation.run_replication, tiny, 0)
    return pool


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
    """Start the worker processes early (called when the app opens)."""
    if workers() > 1:
        _pool(workers())


def _parallel(scenario: Scenario) -> bool:
    return workers() > 1 and scenario.simulation.replications > 1 and work(scenario) >= PARALLEL_MIN_WORK


def _submit(scenario: Scenario) -> list[Future]:
    pool = _pool(workers())
    return [pool.submit(simulation.run_replication, scenario, r) for r in range(scenario.simulation.replications)]


def simulate(
    scenario: Scenario,
    progress: Callable[[float], None] | None = None,
    parallel: bool | None = None,
    owner: str | None = None,
) -> simulation.Results:
    """`simulation.run`, with the replications of a big run spread over worker processes
    (those `owner` gave a head start to are taken over, not started again)."""
    n = scenario.simulation.replications
    if not (_parallel(scenario) if parallel is None else parallel):
        return simulation.run(scenario, progress=progress)
    start = time.perf_counter()
    try:
        futures = _claim_head_start(owner, scenario)
        if futures is None or any(f.cancelled() for f in futures):
            futures = _submit(scenario)
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done / n)
        reps = [f.result() for f in futures]
    except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh, in this process
        _pool.clear()
        with _lock:
            _head_starts.clear()
        return simulation.run(scenario, progress=progress)
    return combine(scenario, reps, time.perf_counter() - start)


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
    """Forget every cached result and head start (tests; a server restart does the same)."""
    _store.clear()
    with _lock:
        for _, futures in _head_starts.values():
            _cancel(futures)
        _head_starts.clear()
