"""Budget: what the money buys. One or two levers over a range, a budget, the frontier of program
cost against an outcome, the best design within the budget, and which assumptions move it."""

import streamlit as st

from app import budget, runs, state, views
from simulation import design_space, figures_budget, frontier, sensitivity
from simulation.metrics import fmt, fmt_interval, metric
from simulation.runner import Cancelled
from simulation.scenario_io import ScenarioError
from simulation.sweep import estimate as sweep_estimate

ws = state.workspace()
scenario, problems = state.current()
st.title("Budget")
st.caption(
    "Sweep one or two levers of the design over a range: every combination is simulated with the same customers and "
    "random numbers, so the differences between designs are theirs, not noise."
)
if scenario is None:
    views.problems_box(problems)
    st.stop()
choices = budget.levers_of(scenario)
if not choices:
    st.info("This design has no program lever to vary: add an instrument on the Design page first.")
    st.stop()

currency = scenario.economics.currency
picked = st.multiselect(
    "Levers (one or two; every combination is a design)", list(choices), format_func=choices.get,
    max_selections=budget.MAX_LEVERS, default=list(choices)[:1], key="budget.levers",
)  # fmt: skip
levers, errors = [], []
for path in picked:
    low0, high0 = budget.default_range(scenario, path)
    left, mid, right = st.columns(3)
    low = left.number_input(f"{choices[path]}: from", value=low0, key=f"budget.low.{path}")
    high = mid.number_input("to", value=high0, key=f"budget.high.{path}")
    steps = right.number_input("values", 2, budget.MAX_STEPS, budget.DEFAULT_STEPS, key=f"budget.steps.{path}")
    try:
        levers.append(design_space.parse_vary(f"{path}={low}:{high}:{int(steps)}", scenario))
    except ScenarioError as exc:
        errors += exc.problems
left, mid, right = st.columns(3)
outcomes = list(frontier.OUTCOMES)
before = budget.kept(scenario)  # a sweep kept with this scenario: its outcome and budget come back with it
st.session_state.setdefault("budget.objective", before.objective if before else frontier.DEFAULT_OBJECTIVE)
st.session_state.setdefault("budget.limit", (before.budget or 0.0) if before else 0.0)
objective = left.selectbox("Outcome", outcomes, format_func=lambda m: metric(m).label, key="budget.objective")
limit = mid.number_input(
    f"Budget: program cost over the horizon ({currency}; 0 = none)", min_value=0.0,
    step=budget.budget_step(runs.cached(scenario)), format="%.0f", key="budget.limit",
)  # fmt: skip
replications = right.number_input(
    "Replications per design", 1, scenario.simulation.replications, min(scenario.simulation.replications, 5),
    key="budget.replications",
)  # fmt: skip
with st.expander("Where the work runs"):
    st.text_input("Dask scheduler (empty: this machine)", key=budget.SCHEDULER, placeholder="tcp://host:8786")
for problem in errors:
    st.error(problem)

cap = limit or None
n_designs = len(budget.designs_of(scenario, levers)) if levers else 0
if levers and not errors:
    try:
        estimate = sweep_estimate(budget.runner(), scenario, n_designs, int(replications))
        st.caption(f"{n_designs} designs x {int(replications)} replications: about {max(estimate.seconds, 1):.0f} s.")
    except ScenarioError as exc:  # the Dask scheduler set below does not answer
        errors += exc.problems
        st.error("; ".join(exc.problems))
go = st.button("Run the sweep", key="budget.run", type="primary", disabled=not levers or bool(errors))
if go:
    bar, running = views.progress_with_cancel("Sweeping", "budget.cancel")
    try:
        where = budget.runner()
        result = budget.sweep(scenario, levers, int(replications), budget.paced(bar.progress, "Sweeping"), where)
        budget.keep(scenario, budget.Kept(result, objective, cap))
    except (Cancelled, ScenarioError) as exc:
        st.warning("The sweep was cancelled." if isinstance(exc, Cancelled) else "; ".join(exc.problems))
    running.empty()

kept = budget.kept(scenario)
if kept is None:
    st.info("Choose the levers and their ranges, then press **Run the sweep**.")
    st.stop()
kept.objective, kept.budget = objective, cap  # (the outcome and budget can change without a new sweep)
sweep = kept.sweep
key = frontier.check_objective(sweep, objective)
cost = sweep.stat(*frontier.COST)
mean, low, high = (sweep.stat(*key, s) for s in ("mean", "p05", "p95"))
labels = [", ".join(f"{lever.label} {d[lever.path]:.3g}" for lever in sweep.levers) for d in sweep.designs]
best = kept.best
fig = figures_budget.frontier(
    cost, mean, low, high, kept.on_frontier, labels, objective, currency, cap, kept.current(scenario),
    best.design if best else None,
)  # fmt: skip
views.chart(fig, "budget.frontier")
st.caption(
    f"{len(sweep.designs)} designs x {sweep.scenario.simulation.replications} replications ({sweep.record.where},"
    f" {sweep.record.seconds:.1f} s). Bars: 5-95 % interval over replications."
)

kind = metric(objective).kind
if cap is None:
    st.info("Set a budget to see the best design within it.")
elif best is None:
    st.warning(f"No design costs at most {fmt(cap, 'money', currency)}: raise the budget or widen the ranges.")
else:
    values = ", ".join(f"{choices.get(p, p)} {v:.3g}" for p, v in best.values.items())
    text = (f"**Best within {fmt(cap, 'money', currency)}**: {values}: {metric(objective).label.lower()} "
            f"{fmt(best.mean, kind, currency)} ({fmt_interval(best.p05, best.p95, kind, currency, False)}), "
            f"program cost {fmt(best.cost, 'money', currency)}.")  # fmt: skip
    if best.runner_up is not None:
        text += f" It beats the runner-up in {best.p_beats_runner_up:.0%} of the paired replications."
    st.success(text)
    buttons = views.button_row()
    design = sweep.scenario_of(best.design)
    if buttons.button(
        "Open in Design", key="budget.open", help="Edit the best design (your edits are kept for Compare)."
    ):
        state.open_scenario(design.model_dump(mode="json"), ws.origin, pristine=False, source=ws.source)
        st.switch_page("screens/design.py")
    if buttons.button("Keep for Compare", key="budget.keep"):
        label = ws.keep_variant(f"{scenario.meta.name} (best within budget)", design.model_dump(mode="json"))
        state.commit()
        st.toast(f"Kept as “{label}” for the Compare page.")
    buttons.download_button("Sweep (CSV)", kept.csv(), "sweep.csv", "text/csv", key="budget.csv")

st.subheader("Which assumptions move it?")
st.caption(
    "Each behavioural assumption of the design moved to the low and the high end of its documented range "
    "(docs/model.md 11.1), one at a time."
)
if st.button("Tornado for the current design", key="budget.tornado"):
    bar, running = views.progress_with_cancel("Moving the assumptions", "budget.cancel_tornado")
    try:
        progress = budget.paced(bar.progress, "Moving the assumptions")
        kept.tornado = budget.tornado(scenario, objective, int(replications), progress, budget.runner())
    except (Cancelled, ScenarioError) as exc:
        st.warning("Cancelled." if isinstance(exc, Cancelled) else "; ".join(exc.problems))
    running.empty()
if kept.tornado is not None:
    views.chart(
        figures_budget.tornado(kept.tornado.table, kept.tornado.base, kept.tornado.metric[0], currency),
        "budget.tornado_chart",
    )
    n = len(sensitivity.inputs(scenario))
    shown = f"the {figures_budget.TORNADO_TOP} that move it most of " if n > figures_budget.TORNADO_TOP else ""
    st.caption(f"Shown: {shown}{n} assumptions ({sensitivity.designs_needed(n, 'tornado', 0)} designs simulated).")
