"""Running the engine from the app: cached by the scenario's JSON, with a progress bar.

`st.cache_data` keeps the results of every scenario run in this server process, keyed by
the scenario JSON, so an unchanged scenario is never simulated twice. The engine runs
outside the cached function so its progress can be drawn while it runs (Streamlit would
otherwise record the progress bar and replay it on every cache hit).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import simulation
from simulation.schema import Scenario


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
    return _store(key(scenario), simulation.run(scenario, progress=progress))


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
