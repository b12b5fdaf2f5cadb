"""Design search (simulation/optimize.py), sensitivity (simulation/sensitivity.py), break-even
(simulation/breakeven.py) and their commands."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import scenario

import simulation
from simulation import breakeven, design_space, sensitivity
from simulation.cli import main
from simulation.optimize import optimize
from simulation.scenario_io import ScenarioError
from simulation.sweep import sweep_designs

# novelty_lift 0: the novelty period has no effect at all (a control input for the indices)
POINTS = {"points": {"earn_rate": 1.0, "reward_value": 5.0, "novelty_lift": 0.0}}


def _base():
    return scenario(size=400, months=8, replications=2, program=POINTS)


def test_optimize_keeps_the_best_trial_within_budget_and_repeats_itself():
    sc = _base()
    levers = [design_space.parse_tune("program.points.earn_rate=0:3", sc)]
    found = optimize(sc, levers, budget=1e12, trials=5)
    again = optimize(sc, levers, budget=1e12, trials=5)
    pd.testing.assert_frame_equal(found.table(), again.table())  # seeded by the run's seed
    means = [t["mean"] for t in found.trials]
    assert found.best == int(np.argmax(means)) and all(t["feasible"] for t in found.trials)
    # a trial's figures are those of its design run as a sweep of one
    t = found.trials[found.best]
    alone = sweep_designs(sc, levers, [t["values"]], [found.best_scenario()], 2, sc.simulation.seed)
    assert alone.stat("net_profit", "incremental")[0] == pytest.approx(t["mean"], rel=1e-12)
    tight = optimize(sc, levers, budget=min(t["cost"] for t in found.trials) - 1, trials=3)
    assert tight.best is None and tight.best_scenario() is None and not any(t["feasible"] for t in tight.trials)


def test_tornado_moves_one_assumption_at_a_time():
    sc = _base()
    params = ["program.points.purchase_lift", "program.points.novelty_months"]
    result = sensitivity.tornado(sc, params=params)
    table = result.table.set_index("parameter")
    assert list(result.table.parameter) == params  # largest swing first; novelty_months moves nothing
    assert table.loc["program.points.novelty_months", "swing"] == 0
    lift = table.loc["program.points.purchase_lift"]
    assert (lift.low, lift.high) == pytest.approx((0.3 * 0.1, 2.0 * 0.1))  # the registry's range at the default
    assert lift.at_high > result.base > lift.at_low
    one = sweep_designs(
        sc, [], [{}], [simulation.override(sc, {"program.points.purchase_lift": float(lift.high)})], 2, 7
    )
    assert one.stat("net_profit", "incremental")[0] == pytest.approx(lift.at_high, rel=1e-12)
    with pytest.raises(ScenarioError, match="--params program.tiers.upgrade_satisfaction_lift: no range"):
        sensitivity.inputs(sc, ["program.tiers.upgrade_satisfaction_lift"])
    assert "customers.ladder.positive_experience" in [d.path for d in sensitivity.inputs(sc)]


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_global_indices_find_the_assumption_that_matters(method):
    sc = _base()
    params = ["program.points.purchase_lift", "program.points.novelty_months"]
    table = sensitivity.global_indices(sc, params=params, method=method, samples=4).set_index("parameter")
    key = "mu_star" if method == "morris" else "ST"
    assert table.loc["program.points.purchase_lift", key] > 0
    assert table.loc["program.points.novelty_months", key] == 0  # no effect, exactly: common random numbers
    assert sensitivity.designs_needed(2, method, 4) == (12 if method == "morris" else 16)


def test_break_even_of_a_run():
    res = simulation.run(_base())
    be = breakeven.break_even(res)
    inc, margin = res.value("net_profit", "incremental"), res.value("gross_margin", "program")
    assert be.purchase_lift == pytest.approx(-inc / margin)
    # the extra purchases would exactly make up the incremental loss (or use up the headroom)
    assert inc + be.purchase_lift * margin == pytest.approx(0, abs=1e-6 * abs(inc))
    assert be.retention_points == pytest.approx(100 * be.customers_to_keep / 400)
    assert np.sign(be.customers_to_keep) == np.sign(be.purchase_lift) == -np.sign(inc)
    text = be.text()
    assert text.startswith("Break-even: ") and ("more purchases" in text) == (inc < 0)
    np.testing.assert_equal(be.payback_month, res.value("payback_month", "incremental"))


def test_optimize_and_sensitivity_commands(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(simulation.dumps(_base()), encoding="utf-8")
    out = tmp_path / "out"
    args = ["optimize", str(path), "--tune", "program.points.earn_rate=0:3", "--trials", "3", "--budget", "1e12"]
    assert main([*args, "--out", str(out)]) == 0
    assert "Best (trial " in capsys.readouterr().out
    assert len(pd.read_csv(out / "trials.csv")) == 3 and simulation.load(out / "best.yaml").program.points
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trials"]) == 3 and data["best"]["feasible"] is True
    assert main(["optimize", str(path), "--tune", "program.points.earn_rate=0:3:4"]) == 2
    assert "expected PATH=LOW:HIGH" in capsys.readouterr().err
    sens = ["sensitivity", str(path), "--params", "program.points.purchase_lift", "--format", "json"]
    assert main(sens) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["parameter"] for r in rows] == ["program.points.purchase_lift"] and not math.isnan(rows[0]["swing"])
    assert main(["sensitivity", str(path), "--params", "nope.x"]) == 2
    assert "--params nope.x: no range" in capsys.readouterr().err
