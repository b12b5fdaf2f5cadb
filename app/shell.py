"""What every page shares: the sidebar with the scenario's status and the Run button.

A run in the worker pool streams in (app/runs.py): Run starts it and shows the Results page, which
waits a moment for the first replication; the sidebar then polls (a fragment that reruns on its
own) with the progress, a time estimate and Cancel, and reruns the whole page when the Results
page has more replications to show or the run is over.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from simulation.instruments import PROBLEMS
from simulation.schema import Scenario

from . import drafts, runs, state, views

UNHANDLED = "This page hit a problem it could not handle"
# how often the sidebar looks for more replications: each look is a script run on the server and
# a redraw in the browser (bench/bench_polling.py: every 0.5 s cost 0.39 of a core, every 1 s 0.21,
# taken from the replications); near the end of a run it waits for the last ones instead
POLL_SECONDS = 1.0
# the Results page waits this long at most for the first replication of a run it is to show
# (~0.5 s on the examples), so that it opens on figures rather than on a wait
FIRST_FIGURES_WAIT = 2.0
CANCEL = "run.cancel"  # the Cancel button's key
REDRAW_SECONDS = 2.0  # provisional results are drawn again at most this often
log = logging.getLogger("lojal.app")


def frame(results_page: st.Page, current_page: st.Page) -> None:
    """Draw the sidebar; when Run is pressed, start the run (or simulate a small one here; a cached
    one is at hand) and show the Results page."""
    st.html(views.PAGE_CSS)  # style only: takes no room on the page
    ws = state.workspace()
    scenario, problems = state.current()
    st.session_state.pop(state.SHOWN, None)  # the Results page sets it again when it draws a run under way
    _end_of_run(ws)
    name = ws.data.get("meta", {}).get("name") or "Untitled scenario"
    with st.sidebar:
        st.markdown(f"### {name}")
        origin = f"`{ws.origin}`" if ws.origin else "not saved in the library"
        st.caption(origin + (" · unsaved changes" if ws.modified else ""))
        for problem in PROBLEMS:  # a plug-in instrument that could not be loaded (left out)
            st.error(problem)
        if problems:
            count = sum(len(v) for v in problems.values())
            st.warning(f"{count} problem{'s' if count != 1 else ''} to fix on the Design page before a run.")
        clicked = st.button("Run", key=state.RUN, type="primary", disabled=scenario is None, width="stretch")
        streamed = clicked and scenario is not None and runs.streams(scenario)
        if streamed:
            _keep_edits(ws, scenario)
            runs.start(ws.id, scenario)  # (the Results page waits for its first replication: meanwhile it opens)
        job = runs.job(ws.id)
        status = st.empty()
        if job is not None and job.running:  # (a run Run took over may be over at once: show Results then)
            _follow(ws.id, results_page if clicked else current_page)
        elif scenario is not None and not clicked:
            _status(ws, scenario, job, status)
    state.show_flash()
    if clicked and scenario is not None and not streamed and not _run_here(ws, scenario, status):
        return
    if clicked and scenario is not None and current_page.url_path != results_page.url_path:
        st.switch_page(results_page)


def _status(ws: drafts.Workspace, scenario: Scenario, job: runs.Job | None, status) -> None:
    """Where the design on screen stands (and its head start, when it has not been run)."""
    if job is not None and job.key == runs.key(scenario):
        status.caption(f"Stopped after {job.done} of {job.planned} replications: press Run to finish the run.")
    elif ws.last_run == runs.key(scenario):
        status.caption("Results are up to date.")
    elif runs.cached(scenario) is not None:
        status.caption("Results of this design are ready: press Run.")
    else:
        status.caption(f"Press Run to simulate ({scenario.simulation.replications} replications).")
        runs.head_start(ws.id, scenario)


def _keep_edits(ws: drafts.Workspace, scenario: Scenario) -> None:
    """A design run with unsaved edits is kept for Compare."""
    if ws.modified:
        state.keep_variant(f"{scenario.meta.name} (edited)")
    state.commit()


def _run_here(ws: drafts.Workspace, scenario: Scenario, status) -> bool:
    """A run that does not stream (small, cached, or one process): the whole of it, with a progress
    bar. Whether it succeeded."""
    update, bar = runs.progress_bar(status, "Simulating")
    try:
        runs.results(scenario, update, owner=ws.id)
    except Exception as exc:  # noqa: BLE001 - the engine failed: say so, keep the design
        bar.empty()
        _failed(exc)
        return False
    bar.empty()
    ws.ran(runs.key(scenario))
    _keep_edits(ws, scenario)
    return True


def _end_of_run(ws: drafts.Workspace) -> None:
    """A streamed run that is over since the last look: its results become the tab's last run."""
    runs.poll(ws.id)
    ended = runs.finish(ws.id)
    if ended is None:
        return
    if ended.error is not None:
        _failed(ended.error)
        return
    ws.ran(ended.key)
    state.commit()


def _failed(exc: Exception) -> None:
    st.error(f"The simulation failed: {type(exc).__name__}: {exc}. Your design is kept as it is.")


@st.fragment(run_every=POLL_SECONDS)
def _follow(owner: str, page: st.Page) -> None:
    """Progress of the tab's run under way, with a time estimate and Cancel. The whole page runs
    again when the run is over or stopped, or when the Results page shows fewer replications than
    are done."""
    job = runs.poll(owner)
    if job is not None and st.session_state.get(CANCEL):  # first: a redraw below would swallow the click
        _cancel(owner, job, page)
    left = job.seconds_left() if job is not None else None
    shown = st.session_state.get(state.SHOWN)
    # the end is nearer than the next look: wait for it here, but only in a look of its own while
    # the Results page shows the run; in the run of the whole page that Run starts (`shown` is
    # cleared then) a wait here held back the page's first figures by up to POLL_SECONDS
    if shown is not None and left is not None and left < POLL_SECONDS:
        job.wait_all(timeout=POLL_SECONDS)
        left = job.seconds_left()
    if job is None or not job.running or (shown is not None and _worth_drawing(job.done, *shown, left)):
        _rerun(page)
    text = f"Simulating: {job.done} of {job.planned} replications{views.time_left(left)}"
    st.progress(job.done / job.planned, text=text)
    st.button("Cancel", key=CANCEL, width="stretch", help="Stop the run; the replications done are kept")


def _cancel(owner: str, job: runs.Job, page: st.Page) -> None:
    job.stop()
    if not job.done:  # nothing to show: the last run's results come back
        runs.forget(owner)
    _rerun(page)


def _rerun(page: st.Page) -> None:
    """Run the whole of `page` again. Not `st.rerun()`: from a fragment that polls, it may run the
    page the fragment was first drawn on (Run on the Design page switches to Results)."""
    st.switch_page(page)


def _worth_drawing(done: int, shown: int, drawn_at: float, left: float | None) -> bool:
    """Whether the Results page should draw the run under way again: for its first replications,
    then when their number has doubled, the last drawing is REDRAW_SECONDS old and the run is
    not about to end anyway (`left` seconds). Drawing every chart again costs CPU the
    replications need, most of it in the browser when it shares the machine (measured: with a
    drawing a second on 2 busy cores the browser fell seconds behind the server); and the
    figures change most at the start."""
    if not shown:
        return done > 0
    ending = left is not None and left < REDRAW_SECONDS
    return done >= 2 * shown and time.monotonic() - drawn_at >= REDRAW_SECONDS and not ending


def run_page(page: st.Page) -> None:
    """Run a page; an unexpected error becomes a message (details go to the server log), never a traceback.

    Streamlit's own control flow (rerun, stop, switch page) is not an `Exception` and passes through.
    """
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - last line of defence in front of a client
        log.exception("page %s failed", page.title)
        ws = state.workspace()
        st.error(
            f"{UNHANDLED} ({type(exc).__name__}: {exc}). Your design is safe: it is kept as draft `{ws.id}` "
            "and comes back when the page is reloaded."
        )
