"""A pilot with a held-out control group (simulation/pilot.py, docs/model.md 8.1)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from test_app_support import app, assert_ok, library_dir, texts  # noqa: F401

import simulation
from simulation import pilot
from simulation.engine import Sim
from simulation.people import PROGRAM
from simulation.scenario_io import ScenarioError, load, loads

ROOT = Path(__file__).resolve().parents[1]
COFFEE = ROOT / "scenarios" / "coffee-points-card.yaml"
SMALL = ["customers.size=3000", "simulation.horizon_months=18", "simulation.replications=2"]


def coffee(*overrides: str) -> simulation.Scenario:
    return load(COFFEE, overrides=[*SMALL, *overrides])


# --------------------------------------------------------------------------- statistics
def test_difference_matches_welchs_test_for_large_groups():
    g = np.random.default_rng(1)
    a, b = g.gamma(2.0, 50.0, 4000), g.gamma(2.0, 47.0, 3000)
    got = pilot.difference(a, b, alpha=0.05)
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert got["lift"] == pytest.approx(a.mean() - b.mean())
    assert got["p_value"] == pytest.approx(welch.pvalue, rel=0.02)
    assert got["high"] - got["lift"] == pytest.approx(1.959964 * got["se"], rel=1e-6)


def test_pilot_size_is_the_textbook_formula():
    # half a standard deviation, 5 % two-sided, 80 % power: 2 (1.96 + 0.8416)^2 / 0.25 = 62.8 -> 63 per group
    assert pilot.pilot_size(0.5, 1.0, 0.05, 0.8) == 63
    assert pilot.pilot_size(0.25, 1.0, 0.05, 0.8) == 252  # half the effect, four times the customers
    assert math.isinf(pilot.pilot_size(0.0, 1.0, 0.05, 0.8))


# --------------------------------------------------------------------------- the engine
def test_a_pilot_open_to_everyone_changes_no_figure():
    """share 1, no control: the program opens to all at launch, as without a pilot (the pilot's
    own random stream shifts no other draw; keeping everyone in the arrays changes no figure
    beyond the last bits of sums taken in another order)."""
    plain = simulation.run(coffee())
    everyone = simulation.run(coffee("pilot.share=1", "pilot.control_share=0", "pilot.rollout_month=6"))
    a = plain.summary.set_index(["metric", "arm"])["mean"]
    b = everyone.summary.set_index(["metric", "arm"])["mean"]
    assert a.index.equals(b.index)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1e-6)
    assert plain.pilot is None and everyone.pilot is not None


def test_only_the_pilot_group_joins_until_the_rollout():
    sc = coffee("pilot.share=0.2", "pilot.control_share=0.3", "pilot.rollout_month=9")
    sim = Sim(sc, 0).run()
    members = sim.ledger["members"][PROGRAM]
    pilot_customers = sim.pilot.measured["pilot_customers"]
    # the starting base's pilot group plus arrivals in it: well under the 40-50 % who join when all may
    assert members[1:10].max() <= 1.1 * pilot_customers
    assert members[12] > 2 * members[9]  # the rest join after the rollout
    # the groups are about the shares asked for
    assert sim.pilot.measured["pilot_customers"] / 3000 == pytest.approx(0.2, abs=0.03)
    assert sim.pilot.measured["control_customers"] / 3000 == pytest.approx(0.3, abs=0.03)


def test_a_pilot_measures_the_true_effect_on_average():
    """Over replications (each a pilot the client might run), the lift measured against the
    control group is centred on the true effect, within what the replications' spread allows."""
    sc = coffee("pilot.share=0.5", "pilot.control_share=0.5", "pilot.rollout_month=12", "simulation.replications=8")
    res = simulation.run(sc)
    spend = res.pilot.set_index("measure").loc["spend"]
    reps = [r for r in res.replications.replication.unique()]
    assert len(reps) == 8
    assert spend.true_effect > 0  # the points card lifts spend
    # the measured lifts' spread across pilots is about the standard error each pilot reports
    half = spend.interval_half_width / 1.959964
    assert abs(spend.measured - spend.true_effect) < 4 * half / math.sqrt(8)


def test_adjusting_by_a_covariate_removes_the_variance_it_explains():
    """CUPED on synthetic data: y = 3 x + e; the adjusted values keep the mean of y, and
    their variance is what x does not explain (var e), with rho the correlation of x and y."""
    g = np.random.default_rng(5)
    x = g.gamma(2.0, 10.0, 20_000)
    y = 3.0 * x + g.normal(0.0, 20.0, x.size)
    got, rho = pilot.adjusted(y, x)
    assert got.mean() == pytest.approx(y.mean(), rel=1e-12)
    assert got.var() == pytest.approx(400.0, rel=0.05)
    assert rho == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-9)
    assert got.var() == pytest.approx(y.var() * (1 - rho**2), rel=1e-6)
    flat, none = pilot.adjusted(y, np.full(x.size, 2.0))  # a constant covariate explains nothing
    assert none == 0.0 and np.array_equal(flat, y)


def test_spend_before_the_pilot_narrows_its_interval_without_moving_its_centre():
    """The pilot's test adjusted by each customer's spend before the launch (a stream of its
    own): a narrower interval and a smaller pilot for spend and profit, centred on the true
    effect over replications as the plain test is."""
    sc = coffee("pilot.share=0.5", "pilot.control_share=0.5", "pilot.rollout_month=12", "simulation.replications=8")
    res = simulation.run(sc)
    table = res.pilot.set_index("measure")
    for key in pilot.ADJUSTED:
        row = table.loc[key]
        assert 0.3 < row.adjusted_rho < 1
        assert row.adjusted_half_width < row.interval_half_width * math.sqrt(1 - 0.3**2)
        assert row.adjusted_needed < row.customers_needed
    lifts = np.array([r["spend_adjusted_lift"] for r in res.rep_pilot])
    spread = lifts.std(ddof=1) / math.sqrt(lifts.size)
    assert abs(lifts.mean() - table.loc["spend"].true_effect) < 4 * spread
    assert math.isnan(table.loc["active"].adjusted_half_width)  # spend before does not predict staying


def test_the_pilot_segments_limit_who_is_in_the_test():
    sc = load(ROOT / "scenarios" / "fashion-tiers-club.yaml", overrides=[*SMALL, "pilot.share=0.5", "pilot.control_share=0.5"])
    segment = sc.customers.segments[0]
    sc = sc.model_copy(update={"pilot": sc.pilot.model_copy(update={"segments": [segment.name]})})
    sim = Sim(sc, 0).run()
    in_test = sim.pilot.measured["pilot_customers"] + sim.pilot.measured["control_customers"]
    assert in_test / 3000 == pytest.approx(segment.share, abs=0.03)


# --------------------------------------------------------------------------- input and output
@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("pilot: {share: 0.7, control_share: 0.5}", "share + control_share must be at most 1"),
        ("pilot: {segments: [Nobody]}", "pilot.segments: no segment named 'Nobody'"),
        ("pilot: {rollout_month: 99}", "pilot.rollout_month: 99 is after the horizon"),
    ],
)
def test_bad_pilot_settings_are_named(block, expected):
    with pytest.raises(ScenarioError) as err:
        loads(block + "\n", "pilot.yaml")
    assert expected in str(err.value)


def test_the_command_line_prints_and_exports_the_pilot(tmp_path):
    args = [sys.executable, "-m", "simulation.cli", "run", str(COFFEE), *[f"--set={o}" for o in SMALL]]
    args += ["--set=pilot.share=0.3", "--set=pilot.rollout_month=12"]
    out = subprocess.run([*args, "--out", str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "Pilot: the program opens to 30% of the customers" in out
    assert "Lift a pilot measures" in out and "Customers per group needed" in out
    assert (tmp_path / "pilot.csv").read_text().startswith("measure,label,")
    data = json.loads(subprocess.run([*args, "--format", "json"], capture_output=True, text=True, check=True).stdout)
    assert [row["measure"] for row in data["pilot"]] == ["spend", "active", "value"]
    assert data["pilot"][0]["true_effect"] > 0


def test_the_app_switches_a_pilot_on_and_shows_what_it_measures(library_dir):  # noqa: F811
    at = app().run()
    at.switch_page("screens/design.py").run()
    at.toggle(key="pilot.enabled").set_value(True).run()
    assert_ok(at)
    assert "Pilot: the program opens to 30% of the customers" in texts(at)
    segments = at.multiselect(key="pilot.segments")
    assert segments.options == [s.name for s in simulation.load(COFFEE).customers.segments]
    segments.set_value(segments.options[:1]).run()
    assert f"of the segments {segments.options[0]} at launch" in texts(at)
    at.button(key="run").click().run()
    assert_ok(at)
    assert "The pilot: what you would measure" in texts(at)
    tables = [df.value for df in at.dataframe if "Lift a pilot measures" in df.value.columns]
    assert len(tables) == 1
    assert list(tables[0].index) == [label for _, label, _ in pilot.MEASURES]
    assert not tables[0]["True effect"].str.contains("–").any()


# --------------------------------------------------------------------------- an A/B test of two designs
def test_an_ab_test_of_a_design_against_itself_has_no_true_difference():
    a = coffee("simulation.replications=3")
    designs = pilot.ab_scenarios(a, a, 0.5, 12)
    assert designs[0].pilot.offset == 0 and designs[1].pilot.offset == 0.5 and designs[2].pilot.offset == 0
    runs = [simulation.run(sc) for sc in designs]
    table = pilot.ab_table(*(r.rep_pilot for r in runs), 0.05, 0.8).set_index("measure")
    assert (table.true_effect == 0).all()  # the same design on the same customers
    assert (table.measured != 0).all()  # what the client sees: two different halves of the base
    assert table.loc["spend"].detected_share == 0


def test_an_ab_test_finds_the_richer_reward_costs_more_than_it_brings(tmp_path):
    """Design B doubles the reward: members buy more (true spend difference A - B < 0), but the
    rewards cost more than the extra margin (true profit difference A - B > 0)."""
    b = tmp_path / "richer.yaml"
    b.write_text(COFFEE.read_text().replace("reward_value: 45", "reward_value: 90"))
    args = [sys.executable, "-m", "simulation.cli", "abtest", str(COFFEE), str(b), *[f"--set={o}" for o in SMALL]]
    out = subprocess.run([*args, "--months", "12", "--format", "json"], capture_output=True, text=True, check=True)
    test = {row["measure"]: row for row in json.loads(out.stdout)["test"]}
    assert test["spend"]["true_effect"] < 0 < test["value"]["true_effect"]
    table = subprocess.run([*args, "--months", "12"], capture_output=True, text=True, check=True).stdout
    assert "A minus B, measured" in table and "True difference" in table


def test_an_ab_test_needs_the_same_customers(tmp_path):
    b = tmp_path / "other.yaml"
    b.write_text(COFFEE.read_text().replace("size: 20000", "size: 20001"))
    run = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "abtest", str(COFFEE), str(b)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "an A/B test needs the same customers" in run.stderr and "Traceback" not in run.stderr
