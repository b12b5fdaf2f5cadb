"""Sampled judgement parameters (simulation/uncertainty.py, docs/model.md section 11.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation import uncertainty
from simulation.cli import main
from simulation.engine import Sim
from simulation.results import run_replication, summarise_replication
from simulation.schema import ParameterRange

ROOT = Path(__file__).resolve().parents[1]
COFFEE = ROOT / "scenarios" / "coffee-points-card.yaml"
SMALL = ["customers.size=1500", "simulation.horizon_months=12"]


def coffee(*overrides: str, replications: int = 6):
    return simulation.load(COFFEE, [*SMALL, f"simulation.replications={replications}", *overrides])


# --------------------------------------------------------------------------- the registry
def test_every_registry_path_is_a_decimal_field_of_the_schema():
    wrong = {path: problem for path in uncertainty.REGISTRY if isinstance(problem := uncertainty.field_at(path), str)}
    assert not wrong, f"registry entries that name no decimal field of the schema: {wrong}"
    for path, j in uncertainty.REGISTRY.items():
        assert 0 <= j.low <= 1 <= j.high, path  # the scenario's own value lies inside its range
        assert j.dist in ("uniform", "triangular") and j.source, path
        assert all(isinstance(uncertainty.field_at(b + ".enabled"), str) or True for b in j.needs)


def test_the_registry_check_can_fail():
    for bad in ("program.points.goal_gradent", "customers.segments.price_sensitivity", "program.points.expiry_months",
                "simulation.seed", "customers.ladder", "program.tiers.tiers[]"):  # fmt: skip
        assert isinstance(uncertainty.field_at(bad), str), bad


def test_docs_table_lists_the_registry():
    """docs/model.md 11.1 carries the registry table as `registry_table()` makes it now."""
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    table = uncertainty.registry_table()
    assert table in text, (
        "docs/model.md section 11.1: the registry table is stale; paste the output of "
        '`python -c "from simulation.uncertainty import registry_table; print(registry_table())"`'
    )
    assert table.count("\n") == len(uncertainty.REGISTRY) + 1


# --------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("replications", [1, 7, 50])
def test_latin_hypercube_uses_each_stratum_once(replications):
    for path in ("program.points.goal_gradient", "customers.segments[].price_sensitivity"):
        u = uncertainty.unit_sample(3, path, replications)
        assert ((0 <= u) & (u < 1)).all()
        assert sorted(np.floor(u * replications).astype(int)) == list(range(replications))
    a = uncertainty.unit_sample(3, "program.points.goal_gradient", 50)
    b = uncertainty.unit_sample(3, "program.points.reward_satisfaction_lift", 50)
    assert not np.allclose(np.argsort(a), np.argsort(b))  # each parameter has its own permutation


def test_sampled_values_cover_the_range_one_stratum_each():
    sc = coffee(replications=10)
    sc = simulation.override(
        sc, {"uncertainty.parameters": {"program.points.goal_gradient": {"low": 0.1, "high": 0.3}}}
    )
    values = [uncertainty.point(sc, 5, 10, r)["program.points.goal_gradient"] for r in range(10)]
    assert sorted(np.floor((np.array(values) - 0.1) / 0.02).astype(int)) == list(range(10))


def test_triangular_quantile():
    d = uncertainty.Draw("x", 1.0, 3.0, 2.0, "triangular", "")
    assert (
        d.quantile(0.0) == 1.0 and d.quantile(0.5) == pytest.approx(2.0) and d.quantile(1 - 1e-12) == pytest.approx(3.0)
    )
    skew = uncertainty.Draw("x", 0.0, 1.0, 0.0, "triangular", "")  # mode at the low end: median 1 - sqrt(0.5)
    assert skew.quantile(0.5) == pytest.approx(1 - np.sqrt(0.5))


def test_judgement_samples_the_registry_around_the_files_values():
    sc = coffee("uncertainty.sample=judgement")
    draws = uncertainty.sampled(sc)
    assert "program.points.goal_gradient" in draws and "program.tiers.upgrade_satisfaction_lift" not in draws
    assert "customers.segments[].price_sensitivity" not in draws  # no discounts in this design
    gg = draws["program.points.goal_gradient"]
    assert (gg.low, gg.mode, gg.high) == pytest.approx((0.1, 0.2, 0.3))
    # a range in the file wins over the registry; the file's value is the mode
    mine = simulation.override(sc, {"uncertainty.parameters": {"program.points.goal_gradient": {"low": 0.0, "high": 1.0, "dist": "triangular"}}})  # fmt: skip
    gg = uncertainty.sampled(mine)["program.points.goal_gradient"]
    assert (gg.low, gg.mode, gg.high, gg.dist) == (0.0, 0.2, 1.0, "triangular")


def test_a_list_path_multiplies_every_item():
    sc = coffee("program.tiers.enabled=true", "uncertainty.sample=judgement")
    values = uncertainty.point(sc, 1, 6, 2)
    m = values["customers.segments[].price_sensitivity"]
    applied = uncertainty.apply(sc, values)
    assert [s.price_sensitivity for s in applied.customers.segments] == pytest.approx(
        [s.price_sensitivity * m for s in sc.customers.segments]
    )
    assert applied.program.points.goal_gradient == values["program.points.goal_gradient"]


# --------------------------------------------------------------------------- runs
def test_no_sampling_is_bit_identical_to_the_plain_engine():
    sc = coffee(replications=3)
    res = simulation.run(sc)
    assert res.parameters.empty and res.sensitivity.empty
    for r in range(3):
        plain = summarise_replication(Sim(sc, r, sc.simulation.seed).run())
        got = res.replications[res.replications.replication == r]
        for metric, value in plain.summary.items():
            expect = value if np.ndim(value) == 0 else value[1]
            arm = "incremental" if np.ndim(value) == 0 else "program"
            row = got[(got.metric == metric) & (got.arm == arm)].value.iloc[0]
            assert row == expect or (np.isnan(row) and np.isnan(expect)), metric
    # an explicit `sample: none` block is the same scenario as none at all
    again = simulation.run(simulation.override(sc, {"uncertainty.sample": "none"}))
    pd.testing.assert_frame_equal(again.replications, res.replications)


def test_same_file_and_seed_same_numbers_and_workers_get_the_same_point():
    sc = coffee("uncertainty.sample=judgement", replications=4)
    a, b = simulation.run(sc), simulation.run(sc)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    alone = run_replication(sc, 2)  # what a worker process runs
    assert alone.parameters == dict(a.parameters[a.parameters.replication == 2][["parameter", "value"]].values)
    got = a.replications[(a.replications.replication == 2) & (a.replications.arm == "program")]
    assert got.set_index("metric").value["net_profit"] == alone.summary["net_profit"][1]
    other = simulation.run(sc, seed=sc.simulation.seed + 1)
    assert not np.allclose(other.parameters.value, a.parameters.value)


def test_two_designs_get_the_same_points():
    """Pairing: replication r of two designs with the same seed and replications samples the same values."""
    a = coffee("uncertainty.sample=judgement", replications=4)
    b = coffee(
        "uncertainty.sample=judgement", "program.points.earn_rate=2", "program.tiers.enabled=true", replications=4
    )
    pa = simulation.run(a).parameters
    pb = simulation.run(b).parameters
    assert set(pb.parameter) > set(pa.parameter)  # the second design samples its tier parameters too
    shared = pb[pb.parameter.isin(set(pa.parameter))].reset_index(drop=True)
    pd.testing.assert_frame_equal(shared, pa.reset_index(drop=True))


# --------------------------------------------------------------------------- validation
def _problems(text: str) -> str:
    with pytest.raises(simulation.ScenarioError) as exc:
        simulation.loads(text, "x.yaml")
    return str(exc.value)


def test_validation_names_the_path():
    msg = _problems("uncertainty:\n  parameters:\n    program.points.goal_gradent: {low: 0.1, high: 0.3}\n")
    assert "uncertainty" in msg and "program.points.goal_gradent: not a field" in msg
    msg = _problems(
        "program:\n  points: {}\nuncertainty:\n  parameters:\n    program.points.goal_gradient: {low: 0.1, high: 3.5}\n"
    )
    assert "program.points.goal_gradient: high must be <= 3" in msg
    msg = _problems("uncertainty:\n  parameters:\n    customers.ladder.drift_without_contact: {low: 0.3, high: 0.1}\n")
    assert "uncertainty.parameters.customers.ladder.drift_without_contact" in msg and "low must be <= high" in msg
    msg = _problems("uncertainty:\n  parameters:\n    program.points.goal_gradient: {low: 0.1, high: 0.3}\n")
    assert "parameters.program.points.goal_gradient: this scenario has no `program.points` block" in msg
    msg = _problems("uncertainty:\n  parameters:\n    customers.segments[].price_sensitivity: {low: -1, high: 2}\n")
    assert "customers.segments[].price_sensitivity: multipliers must be >= 0" in msg
    msg = _problems("uncertainty:\n  sample: everything\n")
    assert "uncertainty.sample" in msg
    ok = simulation.loads(
        "uncertainty:\n  parameters:\n    customers.segments[].price_sensitivity: {low: 0.5, high: 2}\n"
    )
    assert ok.uncertainty.parameters["customers.segments[].price_sensitivity"] == ParameterRange(low=0.5, high=2)
    assert "uncertainty:" in simulation.dumps(ok)  # a saved file keeps the block


# --------------------------------------------------------------------------- attribution
def test_rank_shares_find_the_driver():
    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    y = 10 * X[:, 1] + X[:, 0] + 0.3 * rng.random(40)
    shares, coef, method = uncertainty._shares(X, y)
    assert method == "rank regression" and np.argmax(shares) == 1 and shares.sum() <= 1
    shares, coef, method = uncertainty._shares(X[:5], y[:5])  # fewer replications than k + 3
    assert method == "rank correlation" and shares.sum() <= 1
    noise = uncertainty._shares(X, rng.random(40))[0]
    assert noise.sum() < 0.3  # unrelated parameters explain little


def test_sensitivity_finds_the_wide_parameter_in_the_coffee_example(tmp_path, capsys):
    wide = {
        "program.points.reward_satisfaction_lift": {"low": 0.0, "high": 0.3},
        "program.points.goal_gradient": {"low": 0.19, "high": 0.21},
        "customers.word_of_mouth.conversion_per_listener": {"low": 0.019, "high": 0.021},
    }
    sc = simulation.override(coffee(replications=12), {"uncertainty.parameters": wide})
    path = tmp_path / "wide.yaml"
    path.write_text(simulation.dumps(sc), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "What drives the spread" in printed
    sens = pd.read_csv(out / "sensitivity.csv")
    params = pd.read_csv(out / "parameters.csv")
    assert list(params.columns) == ["replication", "parameter", "value"] and len(params) == 3 * 12
    assert list(sens.columns) == ["metric", "arm", "parameter", "share", "coefficient", "method"]
    profit = sens[sens.metric == "net_profit"].set_index("parameter").share
    assert profit.idxmax() == "program.points.reward_satisfaction_lift"
    assert profit["program.points.reward_satisfaction_lift"] > 0.5
    assert profit.sum() == pytest.approx(1.0)
