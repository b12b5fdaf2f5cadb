"""The Budget page (app/screens/budget.py, app/budget.py) with AppTest, on the small library."""

from __future__ import annotations

from test_app_support import app, assert_ok, charts, library_dir, texts  # noqa: F401

import simulation
from app import budget, drafts, runs
from app.settings import drafts_dir
from simulation import frontier, uncertainty

BUDGET, DESIGN, COMPARE, EXPORT = (f"screens/{n}.py" for n in ("budget", "design", "compare", "export"))
EARN = "program.points.earn_rate"


def test_levers_are_the_design_choices_of_the_program(library_dir):  # noqa: F811
    coffee = simulation.load(library_dir / "coffee-points-card.yaml")
    levers = budget.levers_of(coffee)
    assert EARN in levers and levers[EARN] == "Points: Earn rate"
    assert not set(levers) & set(uncertainty.REGISTRY)  # judgement parameters are the tornado's
    assert not any(p.startswith("program.membership") for p in levers)
    fashion = simulation.load(library_dir / "fashion-tiers-club.yaml")
    tiers = [p for p in budget.levers_of(fashion) if p.startswith("program.tiers.tiers.1.")]
    assert "program.tiers.tiers.1.discount" in tiers and "program.tiers.tiers.1.status_lift" not in tiers
    low, high = budget.default_range(coffee, EARN)
    assert (low, high) == (0.5 * coffee.program.points.earn_rate, 1.5 * coffee.program.points.earn_rate)
    assert budget.default_range(fashion, "program.tiers.tiers.1.discount")[1] <= 0.9  # the field's bound


def test_a_sweep_on_the_budget_page(library_dir):  # noqa: F811
    at = app().run()
    at.switch_page(BUDGET).run()
    assert_ok(at)
    assert at.multiselect(key="budget.levers").value == [EARN]
    assert "then press **Run the sweep**" in texts(at)
    at.number_input(key=f"budget.steps.{EARN}").set_value(3)
    at.number_input(key="budget.replications").set_value(2)
    at.number_input(key="budget.limit").set_value(1e12)
    at.button(key="budget.run").click().run()
    assert_ok(at)
    assert "Cancel" not in [b.label for b in at.button]  # the sweep is over: its bar and Cancel are gone
    fig = [f for f in charts(at) if "What the money buys" in f["layout"]["title"]["text"]][0]
    names = {trace.get("name") for trace in fig["data"]}
    assert {"designs", "frontier", "current design", "best within budget"} <= names
    assert "Best within" in texts(at) and "paired replications" in texts(at)
    scenario = simulation.load(library_dir / "coffee-points-card.yaml")
    kept = budget.Kept  # the sweep is kept with the scenario: the page shows it again without a run
    at.switch_page(DESIGN).run()
    at.switch_page(BUDGET).run()
    assert_ok(at)
    assert any("What the money buys" in f["layout"]["title"]["text"] for f in charts(at))
    # the best design goes to Compare, and opens in Design
    at.button(key="budget.keep").click().run()
    ws = drafts.load(drafts_dir(), at.query_params["draft"])
    assert ws.variants[-1]["label"].endswith("(best within budget)")
    best_rate = ws.variants[-1]["data"]["program"]["points"]["earn_rate"]
    assert best_rate in (0.5 * scenario.program.points.earn_rate, scenario.program.points.earn_rate,
                         1.5 * scenario.program.points.earn_rate)  # fmt: skip
    at.switch_page(COMPARE).run()
    assert any(o.endswith("(best within budget)") for o in at.multiselect(key="compare.pick").options)
    # Export offers the sweep of the scenario that ran
    at.button(key="run").click().run()
    at.switch_page(EXPORT).run()
    assert_ok(at)
    assert "Budget sweep (CSV)" in [b.label for b in at.get("download_button")]
    assert kept is budget.Kept
    at.switch_page(BUDGET).run()
    at.button(key="budget.open").click().run()
    assert_ok(at)
    ws = drafts.load(drafts_dir(), at.query_params["draft"])
    assert ws.data["program"]["points"]["earn_rate"] == best_rate


def test_the_tornado_for_the_current_design(library_dir):  # noqa: F811
    at = app().run()
    at.switch_page(BUDGET).run()
    at.number_input(key="budget.replications").set_value(1)
    at.number_input(key=f"budget.steps.{EARN}").set_value(2)
    at.button(key="budget.run").click().run()
    assert "Set a budget" in texts(at)
    # the grid (half and one and a half times the design's earn rate) misses the design on screen: it is added
    assert "3 designs x 1 replications" in texts(at)
    fig = [f for f in charts(at) if "What the money buys" in f["layout"]["title"]["text"]][0]
    assert "current design" in {trace.get("name") for trace in fig["data"]}
    at.button(key="budget.tornado").click().run()
    assert_ok(at)
    assert "Cancel" not in [b.label for b in at.button]
    fig = [f for f in charts(at) if "Which assumption moves" in f["layout"]["title"]["text"]][0]
    assert [t["name"] for t in fig["data"]] == ["at the low end", "at the high end"]
    inputs = simulation.sensitivity.inputs(simulation.load(library_dir / "coffee-points-card.yaml"))
    assert len(fig["data"][0]["y"]) == min(12, len(inputs))
    assert "Points › Reward delight" in fig["data"][0]["y"]  # labels, never raw paths
    assert not any("_" in name or "." in name for name in fig["data"][0]["y"])
    assert f"Shown: the 12 that move it most of {len(inputs)} assumptions" in texts(at)
    assert frontier.DEFAULT_OBJECTIVE == at.selectbox(key="budget.objective").value


def test_a_scheduler_that_does_not_answer_is_said_on_the_page(library_dir, monkeypatch):  # noqa: F811
    """(The runner's own error, as tests/test_sweep.py gets it from a closed port; here without
    waiting for Dask to give up.)"""
    from simulation import runner
    from simulation.scenario_io import ScenarioError

    def unreachable(address):
        raise ScenarioError([f"--scheduler {address}: no Dask scheduler answers there (refused)"])

    monkeypatch.setattr(runner, "connect", unreachable)
    at = app().run()
    at.switch_page(BUDGET).run()
    at.text_input(key=budget.SCHEDULER).set_value("tcp://127.0.0.1:1").run()
    assert_ok(at)
    assert "--scheduler tcp://127.0.0.1:1: no Dask scheduler answers there" in texts(at)
    assert at.button(key="budget.run").disabled


def test_the_estimate_counts_the_design_on_screen_and_the_bar_says_the_time_left(library_dir):  # noqa: F811
    at = app().run()
    at.switch_page(BUDGET).run()
    at.number_input(key=f"budget.steps.{EARN}").set_value(2).run()
    assert "3 designs x 3 replications" in texts(at)  # (half and 1.5 times the earn rate, and the design itself)
    assert budget.seconds_left(6.0, 0.25) == 18.0  # at the pace so far
    assert budget.seconds_left(6.0, 0.05) is None  # too early: the first tasks start the workers
    assert budget.seconds_left(0.5, 0.5) is None and budget.seconds_left(60.0, 1.0) is None
    shown = []
    update = budget.paced(lambda fraction, text: shown.append((fraction, text)), "Sweeping")
    update(0.0)
    assert shown == [(0.0, "Sweeping 0%")]


class _Ran:
    """Results of a run that cost `cost` (what `budget_step` reads)."""

    def __init__(self, cost: float):
        self.cost = cost

    def value(self, metric: str, arm: str) -> float:
        assert (metric, arm) == ("program_cost", "program")
        return self.cost


def test_the_budget_steps_in_round_amounts_that_fit_the_design(library_dir):  # noqa: F811
    assert budget.budget_step(_Ran(6.91e6)) == 500_000  # the coffee example: a twentieth, rounded up
    assert budget.budget_step(_Ran(48_000)) == 2_500
    assert budget.budget_step(_Ran(0.0)) == budget.budget_step(None) == 100_000  # no cost, no run yet
    runs.clear()  # (no results kept from other tests)
    at = app().run()
    at.switch_page(BUDGET).run()
    box = at.number_input(key="budget.limit")
    assert box.step == 100_000 and box.format == "%.0f"  # whole kroner, not "0.00"
    at.button(key="run").click().run()
    at.switch_page(BUDGET).run()
    assert_ok(at)
    step = at.number_input(key="budget.limit").step
    assert step != 100_000 and f"{step:.1e}"[:3] in ("1.0", "2.0", "2.5", "5.0")  # the run's own scale, round
