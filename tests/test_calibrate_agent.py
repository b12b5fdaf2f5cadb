"""The agent model's own calibration: its likelihood recovers the parameters of a log drawn
from the model itself, its posterior starting state and forecast, and the `lojal calibrate`
and `lojal retention` commands."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import scenario_io
from simulation.calibrate import agent_fit, conditional, pipeline, synthetic
from simulation.calibrate import transactions as tx
from simulation.cli import main
from simulation.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
COHORTS = ROOT / "data" / "retention-cohorts" / "sbg_cohorts.csv"
LADDER = agent_fit.Ladder.of(Scenario())
START_LADDER = np.array([0.0, 0.1, 0.3, 0.3, 0.2, 0.1])
TRUTH = {"purchases_per_month": 0.3, "purchase_rate_shape": 1.5, "churn_multiplier": 2.0}
CAL_END, HOLD_END = synthetic.START + pd.Timedelta(days=300), synthetic.START + pd.Timedelta(days=480)


def _log(n: int, seed: int, churn_multipliers=(TRUTH["churn_multiplier"],), shares=(1.0,)) -> pd.DataFrame:
    return synthetic.agent_log(n, TRUTH["purchases_per_month"], TRUTH["purchase_rate_shape"], LADDER, START_LADDER,
                               churn_multipliers=churn_multipliers, shares=shares, seed=seed)  # fmt: skip


@pytest.fixture(scope="module")
def known():
    log = _log(3000, seed=3)
    summary = tx.summarize(log, CAL_END, HOLD_END)
    h = agent_fit.histories(log, summary)
    return log, summary, h, agent_fit.fit(h, LADDER, [START_LADDER], n_segments=1)


def _standard_errors(h: agent_fit.Histories, at: np.ndarray) -> np.ndarray:
    """Of the log parameters (mean, shape, churn multiplier), from the observed information
    (central differences of the log-likelihood)."""
    likelihood = agent_fit.Likelihood(h, LADDER)

    def ll(theta):
        mean, shape, churn = np.exp(theta)
        return h.weight @ likelihood.per_pattern([agent_fit.SegmentFit(1.0, mean, shape, churn, START_LADDER)])

    step, k = 1e-3, len(at)
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            hess[i, j] = (ll(at + ei + ej) - ll(at + ei - ej) - ll(at - ei + ej) + ll(at - ei - ej)) / (4 * step**2)
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


def test_the_likelihood_recovers_the_parameters_of_a_log_drawn_from_the_model(known):
    _, _, h, fit = known
    seg = fit.segments[0]
    estimate = np.log([seg.purchases_per_month, seg.purchase_rate_shape, seg.churn_multiplier])
    truth = np.log(list(TRUTH.values()))
    se = _standard_errors(h, estimate)
    assert np.all(se < [0.1, 0.3, 0.3])  # (3,000 customers pin them down)
    assert np.all(np.abs(estimate - truth) < 4 * se), (estimate, truth, se)


def test_the_fast_likelihood_equals_the_sum_over_segments_and_levels(known):
    _, _, h, _ = known
    segs = [
        agent_fit.SegmentFit(0.3, 0.2, 0.7, 0.4, START_LADDER),
        agent_fit.SegmentFit(0.7, 0.2, 0.7, 3.5, START_LADDER),
    ]
    slow = np.logaddexp(*[np.log(s.share) + agent_fit.segment_ll(s, h, LADDER) for s in segs])
    assert np.allclose(agent_fit.Likelihood(h, LADDER).per_pattern(segs), slow, rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def two_segments():
    """Everyone on one level (there the ladder's own spread of churn cannot stand in for the
    segments), watched for three years (over one, a 50/50 mix of churn 0.005 and 0.08 a
    month and one churn of 0.035 leave nearly the same survivors): histories and the level."""
    one_level = np.eye(6)[3]
    log = synthetic.agent_log(1000, 0.5, 1.5, LADDER, one_level, churn_multipliers=(0.25, 4.0), shares=(0.5, 0.5),
                              days=1100, seed=5)  # fmt: skip
    return agent_fit.histories(log, tx.summarize(log, log.date.max())), one_level


def test_two_churn_segments_are_found_where_the_log_has_them(two_segments):
    h, one_level = two_segments
    one = agent_fit.fit(h, LADDER, [one_level], n_segments=1)
    two = agent_fit.fit(h, LADDER, [one_level], n_segments=2)
    assert two.bic < one.bic - 10  # the data support the second segment
    low, high = sorted(two.segments, key=lambda s: s.churn_multiplier)
    assert low.churn_multiplier < 1.0 < 2.0 < high.churn_multiplier
    assert 0.3 < low.share < 0.7


def test_a_segment_found_twice_is_merged_and_two_real_ones_are_not(two_segments):
    # (the CDNOW master file's 3-segment fit found its low-churn segment twice: 0.292 and 0.295)
    h, one_level = two_segments
    two = agent_fit.fit(h, LADDER, [one_level], n_segments=2)
    likelihood = agent_fit.Likelihood(h, LADDER)
    assert agent_fit._fewer(two, likelihood, h) == two  # two segments the data support stay two
    low, high = two.segments
    halves = [replace(low, share=low.share / 2, churn_multiplier=low.churn_multiplier * f) for f in (0.99, 1.01)]
    split = [halves[0], high, halves[1]]
    ll = float(np.dot(likelihood.evaluate(split)[0], h.weight))
    found_twice = agent_fit.AgentFit(split, ll, two.n_params + 2, two.n_customers)
    merged = agent_fit._fewer(found_twice, likelihood, h)
    assert len(merged.segments) == 2 and merged.n_params == two.n_params
    assert merged.segments[1] == high and merged.segments[0].share == pytest.approx(low.share)
    assert merged.segments[0].churn_multiplier == pytest.approx(low.churn_multiplier, rel=1e-12)
    assert merged.log_likelihood == pytest.approx(two.log_likelihood, abs=0.01) and merged.bic < found_twice.bic


def test_posterior_alive_falls_with_the_time_since_the_last_purchase(known):
    _, summary, h, fit = known
    post = conditional.posterior(fit, h, LADDER)
    c = summary.customers.assign(p_alive=post.p_alive)
    assert np.allclose(post.probability.sum(axis=1), 1.0)
    buyers = c[c.x == 2]
    recent = buyers[buyers["T"] - buyers.t_x < 4].p_alive.mean()
    lapsed = buyers[buyers["T"] - buyers.t_x > 20].p_alive.mean()
    assert recent > lapsed + 0.2


def test_the_conditional_forecast_matches_the_holdout_of_a_log_drawn_from_the_model():
    # (two churn segments: the classical models' dropout heterogeneity has something to fit)
    log = _log(1500, seed=7, churn_multipliers=(0.3, 3.0), shares=(0.5, 0.5))
    out = pipeline.calibrate(log, CAL_END, HOLD_END, replications=2, n_segments=2, fit_ladder=False)
    totals, summary = out["holdout"]["holdout_repeat_transactions"], out["summary"]
    # the spread of the actual total: a sum over independent customers
    spread = np.sqrt(len(summary.customers) * summary.customers.x_holdout.var())
    assert abs(totals["predicted"] - totals["actual"]) < 3 * spread
    assert spread < 0.06 * totals["actual"]  # (so the check above has teeth)
    assert set(out["holdout"]["by_calibration_transactions"]) == {"0", "1", "2", "3", "4", "5", "6", "7+"}


@pytest.fixture(scope="module")
def small_log(tmp_path_factory) -> Path:
    # (two churn segments: the classical models' dropout heterogeneity has something to fit)
    log = _log(500, seed=11, churn_multipliers=(0.3, 3.0), shares=(0.5, 0.5)).rename(
        columns={"customer": "id", "date": "day", "amount": "value"}
    )
    path = tmp_path_factory.mktemp("log") / "log.csv"
    log.assign(day=log.day.dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path


COLS = ["--customer-col", "id", "--date-col", "day", "--amount-col", "value"]


def test_calibrate_command_json_and_the_scenario_it_writes(small_log, tmp_path, capsys):
    args = ["calibrate", str(small_log), *COLS, "--calibration-end", str(CAL_END.date()),
            "--holdout-end", str(HOLD_END.date()), "--out", str(tmp_path), "--format", "json", "--replications", "2"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    totals = out["holdout_repeat_transactions"]
    assert set(totals) == {"predicted", "actual", "bgnbd", "pareto_nbd"}
    assert totals["actual"] > 0 and out["customers"] == 500
    weekly = out["weekly_cumulative"]
    assert len(weekly["week"]) == len(weekly["actual"]) == len(weekly["agent"]) == len(weekly["bgnbd"]) == 26
    assert weekly["actual"][-1] == totals["actual"]
    assert list(out["by_calibration_transactions"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    scenario = scenario_io.load(tmp_path / "calibrated.yaml")
    assert scenario.customers.size == 500
    assert scenario.customers.ladder.positive_experience == 0.0
    assert sum(s.share for s in scenario.customers.segments) == pytest.approx(1.0)
    assert main(args) == 0 and json.loads(capsys.readouterr().out) == out  # same input, same numbers


def test_calibrate_with_an_nps_survey_sets_each_segments_starting_ladder(small_log, tmp_path, capsys):
    nps = tmp_path / "nps.csv"
    nps.write_text(
        "segment,0,1,2,3,4,5,6,7,8,9,10\nCasual,5,5,5,5,5,10,10,20,20,10,5\nFans,0,0,0,0,0,0,5,10,20,30,35\n"
    )
    assert main(["calibrate", str(small_log), *COLS, "--nps", str(nps), "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "segment 2" in text and "Repeat transactions in the holdout" not in text
    segments = scenario_io.load(tmp_path / "calibrated.yaml").customers.segments
    assert [s.name for s in segments] == ["Casual", "Fans"]
    assert segments[1].initial_nps_counts[10] == 35


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calibration-end", "someday"], "--calibration-end 'someday': not a date"),
        (["--calibration-end", "2020-06-01", "--holdout-end", "2020-05-01"], "must be after --calibration-end"),
        (["--calibration-end", "2019-01-01"], "before the first transaction"),
        (["--out", "/nonexistent/folder"], "no such folder"),
    ],
)
def test_calibrate_bad_options_exit_2_with_a_clear_message(small_log, extra, message, capsys):
    assert main(["calibrate", str(small_log), *COLS, *extra]) == 2
    assert message in capsys.readouterr().err


def test_calibrate_bad_files_name_the_row_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,day,value\nc1,2020-01-01,10\nc1,2020-02-30,5\nc2,2020-01-03,-4\n")
    assert main(["calibrate", str(bad), *COLS, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "row 3, column 'day'" in err and "row 4, column 'value': a negative amount" in err
    assert main(["calibrate", str(bad), "--customer-col", "who", "--date-col", "day", "--amount-col", "value"]) == 2
    assert "no column 'who'" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["calibrate", str(empty), *COLS]) == 2
    assert "the file is empty" in capsys.readouterr().err


def test_retention_command_projects_each_cohort(tmp_path, capsys):
    assert main(["retention", str(COHORTS), "--years", "12", "--format", "json", "--out", str(tmp_path)]) == 0
    agent = json.loads(capsys.readouterr().out)
    assert set(agent) == {"regular", "highend"}
    assert all(len(v) == 12 and v[0] == 1000 and np.all(np.diff(v) < 0) for v in agent.values())
    assert main(["retention", str(COHORTS), "--model", "sbg", "--format", "json"]) == 0
    sbg = json.loads(capsys.readouterr().out)
    assert len(sbg["regular"]) == 8
    # both fit the observed years: within 5 % of the starting size of the actual survivors
    actual = [1000, 631, 468, 382, 326, 289, 262, 241]
    assert np.abs(np.array(sbg["regular"]) - actual).max() < 10
    assert np.abs(np.array(agent["regular"][:8]) - actual).max() < 50
    segments = scenario_io.load(tmp_path / "retention.yaml").customers.segments
    assert {s.name for s in segments} == {"regular", "highend"}
    assert (
        next(s for s in segments if s.name == "regular").churn_multiplier
        > 1
        > next(s for s in segments if s.name == "highend").churn_multiplier
    )


def test_retention_bad_input(tmp_path, capsys):
    assert main(["retention", str(COHORTS), "--years", "0"]) == 2
    assert "--years: must be >= 1" in capsys.readouterr().err
    bad = tmp_path / "c.csv"
    bad.write_text("recency,T,cohort\n1,8,a\nx,8,a\n")
    assert main(["retention", str(bad)]) == 2
    assert "row 3, column 'recency'" in capsys.readouterr().err


def test_validation_page_is_what_its_generator_makes_now(capsys):
    # (the cohort and CDNOW-sample sections and the sample's chart; `--check --full` adds the master file)
    spec = importlib.util.spec_from_file_location("gen_validation", ROOT / "docs" / "gen_validation.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, capsys.readouterr().out
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert "## CDNOW master (23,570 customers)" in text and "validation-master.svg" in text


_FIT_SCRIPT = """
import sys, json, numpy as np
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from test_calibrate_agent import _log, LADDER, START_LADDER, CAL_END, HOLD_END, agent_fit, tx
log = _log(2000, seed=11, churn_multipliers=(0.3, 5.0), shares=(0.5, 0.5))
h = agent_fit.histories(log, tx.summarize(log, CAL_END, HOLD_END))
f = agent_fit.fit(h, LADDER, [START_LADDER], n_segments=2, fit_ladder=True)
print(json.dumps([f.log_likelihood.hex()] + [[float(v).hex() for v in (s.share, s.purchases_per_month,
      s.purchase_rate_shape, s.churn_multiplier, *s.ladder)] for s in f.segments]))
"""


def _fit_bits(env: dict) -> list:
    import subprocess
    import sys

    script = _FIT_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_agent_fit_is_the_same_to_the_bit_without_the_cpus_vectorised_maths():
    """numpy's exp/log/power and the BLAS kernels differ in the last bit between CPUs (AVX-512 or
    not), and a fit over a flat likelihood amplifies it (docs/model.md 12, the same fit on every
    machine). With numpy's dispatched SIMD code switched off (as on a CPU without it) and, on
    x86-64, OpenBLAS's oldest kernel, a two-segment fit must come out identical to the bit."""
    import os
    import platform

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__
    plain = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__)}
    if platform.machine() in ("x86_64", "AMD64"):
        plain["OPENBLAS_CORETYPE"] = "Nehalem"
    here = _fit_bits(dict(os.environ))
    assert _fit_bits(plain) == here
    # two segments kept: the test covers the mixture's flat directions (with churn 0.5 and 4.0 and
    # 1,500 customers the fit found one segment twice, 0.906 and 0.908, merged since)
    assert len(here) == 3
