"""What every page shares: the sidebar with the scenario's status and the Run button."""

from __future__ import annotations

import logging

import streamlit as st

from . import runs, state, views

UNHANDLED = "This page hit a problem it could not handle"
log = logging.getLogger("lojal.app")


def frame(results_page: st.Page, current_page: st.Page) -> None:
    """Draw the sidebar; when Run is pressed, simulate (cached) and show the Results page."""
    st.html(views.PAGE_CSS)  # style only: takes no room on the page
    ws = state.workspace()
    scenario, problems = state.current()
    name = ws.data.get("meta", {}).get("name") or "Untitled scenario"
    with st.sidebar:
        st.markdown(f"### {name}")
        origin = f"`{ws.origin}`" if ws.origin else "not saved in the library"
        st.caption(origin + (" · unsaved changes" if ws.modified else ""))
        if problems:
            count = sum(len(v) for v in problems.values())
            st.warning(f"{count} problem{'s' if count != 1 else ''} to fix on the Design page before a run.")
        clicked = st.button("Run", key=state.RUN, type="primary", disabled=scenario is None, width="stretch")
        status = st.empty()
        if scenario is not None and not clicked:
            if ws.last_run == runs.key(scenario):
                status.caption("Results are up to date.")
            elif runs.cached(scenario) is not None:
                status.caption("Results of this design are ready: press Run.")
            else:
                reps = scenario.simulation.replications
                status.caption(f"Press Run to simulate ({reps} replications).")
                runs.head_start(ws.id, scenario)
    state.show_flash()
    if clicked and scenario is not None:
        update, bar = runs.progress_bar(status, "Simulating")
        try:
            runs.results(scenario, update, owner=ws.id)
        except Exception as exc:  # noqa: BLE001 - the engine failed: say so, keep the design
            bar.empty()
            st.error(f"The simulation failed: {type(exc).__name__}: {exc}. Your design is kept as it is.")
            return
        bar.empty()
        ws.ran(runs.key(scenario))
        if ws.modified:
            state.keep_variant(f"{scenario.meta.name} (edited)")
        state.commit()
        if current_page.url_path != results_page.url_path:
            st.switch_page(results_page)


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
