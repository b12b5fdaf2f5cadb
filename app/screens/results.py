"""Results: headline cards and charts of the last run, program against the no-program baseline.

While a run streams in, the page shows the replications done so far, marked provisional; the
sidebar reruns it as more come in (app/shell.py)."""

import time

import streamlit as st

from app import budget, runs, shell, state, views
from simulation import analysis, figures, steady
from simulation.describe import describe
from simulation.schema import short_label


def _hold(design, customers: bool) -> None:
    """Set the design's ladder (and paid acquisition) to the values that hold today's figures without the program."""
    shown, months = st.empty(), design.simulation.horizon_months

    def step(i: int, field: str, value: float, course: steady.Course) -> None:  # (the search, as it goes)
        shown.caption(f"Run {i}: {short_label(field)} {value:.4g} → NPS {course.nps_end:+.1f} and "
                      f"{course.customers_end:,.0f} customers in month {months} (today {course.nps_today:+.1f}, "
                      f"{course.customers_today:,.0f})")  # fmt: skip

    held = steady.hold(design, customers, runner=budget.runner(), on_step=step)
    text = held.text(short_label, "→")
    if held.reached:
        values = held.values()
        state.set_fields(values)
        for path in values:
            state.clear_widgets(path)
        state.flash(f"{text} Press **Run** to see the design against it.")
    else:
        state.flash(text, "warning")


ws = state.workspace()
scenario, problems = state.current()
st.title("Results")

job = runs.job(ws.id)
if job is not None and job.running:
    job.wait_first(shell.FIRST_FIGURES_WAIT)
    st.session_state[state.SHOWN] = (job.done, time.monotonic())  # the sidebar draws it again as more come in
if job is not None and (job.running or job.done):
    results = job.results()
else:
    last = state.last_run()
    results = runs.cached(last) if last is not None else None
if results is None:
    if scenario is not None:
        st.markdown(
            f"**{scenario.meta.name}**" + (f" — {scenario.meta.description}" if scenario.meta.description else "")
        )
        st.markdown("\n".join(f"- {line}" for line in describe(scenario)))
        st.info(
            "Simulating: the first figures appear when the first replication is in."
            if job is not None
            else "Press **Run** in the sidebar to simulate this design against the same customers without the program."
        )
        views.starting_cards(analysis.starting_position(scenario))
        views.chart(figures.starting_ladder(analysis.starting_ladder(scenario)), "results.start")
    else:
        views.problems_box(problems)
    st.stop()

if scenario is None or runs.key(scenario) != runs.key(results.scenario):
    st.info("The design has changed since this run. These are the results of the last run; press **Run** to update.")
sim = results.scenario.simulation
running = job is not None and job.running
views.run_badge(results, running=running)
st.caption(
    f"**{results.scenario.meta.name}** · {sim.replications} replications · {sim.horizon_months} months · "
    f"seed {sim.seed} · {results.scenario.customers.size:,} customers"
)
with st.expander("The program in plain words", expanded=False):
    st.markdown("\n".join(f"- {line}" for line in describe(results.scenario)))
views.headline_cards(results)
views.break_even_line(results)
views.baseline_course(results, lambda customers: _hold(scenario or results.scenario, customers))
views.pilot_table(results)
views.sensitivity_table(results)
views.results_charts(results, key="results", brief=results.provisional and running)
