"""Running the engine from the app: cached by the scenario's JSON, with a progress bar.

`st.cache_data` keeps the results of every scenario run in this server process, keyed by
the scenario JSON, so an unchanged scenario is never simulated twice. The engine runs
outside the cached function so its progress can be drawn while it runs (Streamlit would
otherwise record the progress bar and replay it on every cache hit).

A big run spreads its replications over the machine's cores with the engine's own
`run_replication` and `combine` (replication r has its own random streams, so the numbers
are the same as `simulation.run`'s); a small one runs in the server process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import types
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import streamlit as st

import simulation
from simulation.results import combine
from simulation.schema import Scenario

# below this much work (customers x months x replications) starting processes is not worth it
PARALLEL_MIN_WORK = 2_000_000


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
    try:
        return _store(key(scenario))
    except _NotCached:
        return None


def results(scenario: Scenario, progress: Callable[[float], None] | None = None) -> simulation.Results:
    """Cached results, or a fresh run (reporting progress 0..1)."""
    hit = cached(scenario)
    if hit is not None:
        return hit
    return _store(key(scenario), simulate(scenario, progress))


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


def simulate(
    scenario: Scenario, progress: Callable[[float], None] | None = None, parallel: bool | None = None
) -> simulation.Results:
    """`simulation.run`, with the replications of a big run spread over worker processes."""
    sim = scenario.simulation
    n = sim.replications
    if parallel is None:
        parallel = workers() > 1 and n > 1 and scenario.customers.size * sim.horizon_months * n >= PARALLEL_MIN_WORK
    if not parallel:
        return simulation.run(scenario, progress=progress)
    start = time.perf_counter()
    try:
        pool = _pool(workers())
        futures = [pool.submit(simulation.run_replication, scenario, r) for r in range(n)]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done / n)
        reps = [f.result() for f in futures]
    except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh, in this process
        _pool.clear()
        return simulation.run(scenario, progress=progress)
    return combine(scenario, reps, time.perf_counter() - start)


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
    scenarios: dict[str, Scenario], container: st.delta_generator.DeltaGenerator
) -> dict[str, simulation.Results]:
    """Results for several scenarios, running the ones not in the cache, with one progress bar."""
    out: dict[str, simulation.Results] = {}
    todo = [label for label, s in scenarios.items() if cached(s) is None]
    for label, scenario in scenarios.items():
        if label in todo:
            i = todo.index(label)
            update, bar = progress_bar(container, f"Simulating {label} ({i + 1} of {len(todo)})")
            out[label] = results(scenario, update)
            bar.empty()
        else:
            out[label] = results(scenario)
    return out


def clear() -> None:
    """Forget every cached result (tests; a server restart does the same)."""
    _store.clear()
