"""Compare: two to five designs side by side, with paired differences and who beats whom."""

import streamlit as st

from app import runs, state, views
from app.settings import MAX_COMPARE
from simulation import analysis, figures
from simulation.metrics import metric, sort_key

ws = state.workspace()
st.title("Compare designs")
options = state.comparable()
# opens on the last run against the one before; a new run from the sidebar resets the pick
state.follow("compare.pick", state.compare_defaults(options), f"{ws.id}:{ws.run_history[-2:]}")
if "compare.pick.renamed" in st.session_state:  # a rename below: the pick follows (set before the widget exists)
    st.session_state["compare.pick"] = st.session_state.pop("compare.pick.renamed")
picked = st.multiselect(
    f"Scenarios to compare (two to {MAX_COMPARE}; the first is the reference)",
    list(options),
    max_selections=MAX_COMPARE,
    key="compare.pick",
)
if ws.variants:
    with st.expander("Rename the designs kept in this session"):
        left, right, button = st.columns([2, 2, 1], vertical_alignment="bottom")
        old = left.selectbox("Design", [v["label"] for v in ws.variants], key="compare.rename_from")
        new = right.text_input("New name", key="compare.rename_to", placeholder="e.g. Richer rewards")
        if button.button("Rename", key="compare.rename") and (new or "").strip():
            got = ws.rename_variant(old, new)
            st.session_state["compare.pick.renamed"] = [got if p == old else p for p in picked]
            state.commit()
            state.flash(f"Renamed “{old}” to “{got}”.")
            st.rerun()
scenarios = {label: options[label] for label in picked}
ready = {label: runs.cached(s) for label, s in scenarios.items()}
missing = [label for label, r in ready.items() if r is None]
clicked = st.button("Compare", key="compare.run", type="primary", disabled=len(picked) < 2)
if len(picked) < 2:
    st.info("Pick at least two scenarios: library files, designs kept on the Design page, or edits you ran.")
    st.stop()
if missing and not clicked:
    st.info("Press **Compare** to simulate the scenarios that have not been run yet: " + ", ".join(missing) + ".")
    st.stop()
try:
    results = runs.run_all(scenarios, st.container(), owner=ws.id) if missing else ready
except Exception as exc:  # noqa: BLE001 - the engine failed on one of them: say which, keep going
    st.error(f"The simulation failed: {type(exc).__name__}: {exc}. Nothing was lost; pick other scenarios or retry.")
    st.stop()

summaries = {label: r.summary for label, r in results.items()}
reps = {label: r.replications for label, r in results.items()}
currency = next(iter(results.values())).scenario.economics.currency
if not analysis.paired(reps):
    st.warning(
        "The scenarios differ in their number of replications, so they are compared as independent "
        "samples, not replication by replication."
    )

st.subheader("Every metric side by side")
arms = st.pills(
    "Arms", list(analysis.ARMS), default=["program", "incremental"], selection_mode="multi", key="compare.arms",
    format_func=lambda a: figures.ARM_NAMES[a],
)  # fmt: skip
table = analysis.compare_table(summaries, reps, tuple(arms or analysis.ARMS))
reference = picked[0]
# (the metric and the arm stay in view while the designs' columns scroll: five do not fit at 1024 px)
pinned = {column: st.column_config.TextColumn(pinned=True) for column in ("Metric", "Arm")}
shown = analysis.compare_display(table, summaries[reference], currency)
st.dataframe(shown, hide_index=True, height=420, column_config=pinned, key="compare.table")
st.caption("Mean (5-95 % interval over replications). Differences are paired replication by replication.")

st.subheader("Over time")
left, right = views.pair(len(results))
monthlies = {label: r.monthly for label, r in results.items()}
with left:
    views.chart(figures.overlay(monthlies, "active_customers", currency=currency), "compare.active")
with right:
    views.chart(figures.overlay(monthlies, "net_profit_cumulative", "incremental", currency), "compare.profit")

st.subheader("Which design wins?")
every = summaries[reference]
choices = sorted(
    {(n, a) for n, a in zip(every["metric"], every["arm"], strict=True)},
    key=lambda t: (sort_key(t[0]), analysis.ARMS.index(t[1])),
)
default = choices.index(("net_profit", "incremental")) if ("net_profit", "incremental") in choices else 0
chosen = st.selectbox(
    "Metric",
    choices,
    index=default,
    format_func=lambda t: f"{metric(t[0]).label} ({figures.ARM_NAMES.get(t[1], t[1]).lower()})",
    key="compare.metric",
)
name, arm = chosen
m = metric(name)
better = {1: "higher is better", -1: "lower is better", 0: "higher counts as better"}[m.better]
left, right = views.pair(len(results))
with left:
    views.chart(
        figures.compare_bars(analysis.compare_table(summaries, reps, (arm,)), name, arm, currency), "compare.bars"
    )
with right:
    matrix = analysis.beat_matrix(reps, name, arm)
    views.chart(figures.beat_heatmap(matrix, f"P(row beats column) on {m.label.lower()} ({better})"), "compare.beats")
