"""Design: every field of the scenario, generated from the schema, with a plain-language summary."""

import streamlit as st

from app import schema_form, state, views
from simulation import analysis, figures
from simulation.describe import describe
from simulation.schema import Scenario

ws = state.workspace()
scenario, problems = state.current()
st.title("Design")

summary = st.container(border=True)
with summary:
    if scenario is not None:
        st.markdown("**The program in plain words**")
        st.markdown("\n".join(f"- {line}" for line in describe(scenario)))
    else:
        views.problems_box(problems, "this page (marked in place below)")

buttons = views.button_row()
if buttons.button(
    "Keep for Compare",
    key="design.keep",
    disabled=scenario is None,
    help="Keep a copy of this design to compare it with others.",
):
    label = state.keep_variant(f"{scenario.meta.name} (kept)")
    state.commit()
    st.toast(f"Kept as “{label}” for the Compare page.")
if buttons.button(
    "Undo all changes",
    key="design.revert",
    disabled=not ws.modified or ws.pristine is None,
    help="Go back to the saved version; your edits are kept for Compare.",
):
    state.open_scenario(ws.pristine, ws.origin, source=ws.source)
    st.rerun()

currency = (scenario.economics.currency if scenario else ws.data.get("economics", {}).get("currency")) or "kr"
form = schema_form.Form(ws.data, problems, currency, ws.revision)
parts = schema_form.sections(Scenario)
for tab, section in zip(st.tabs([s.title for s in parts]), parts, strict=True):
    with tab:
        schema_form.render_section(section, form)
        if section.path == "customers" and scenario is not None:  # the ladder as edited
            views.chart(figures.starting_ladder(analysis.starting_ladder(scenario)), "design.start")
