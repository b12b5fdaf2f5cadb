"""The runner (simulation/runner.py) and the shared twin (simulation/twin.py): the same numbers
wherever and however replications run; cancel, estimates, the LOJAL_WORKERS setting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import ALL_INSTRUMENTS, scenario

import simulation
from simulation import runner, twin
from simulation.engine import BASELINE, PROGRAM
from simulation.runner import Cancelled, Runner, Task, run_task, tasks_of
from simulation.scenario_io import ScenarioError

ROOT = Path(__file__).resolve().parent.parent


def _same_rep(a, b, rtol: float = 0.0) -> None:
    """The same replication: every figure equal (`rtol`: up to float round-off); counts exactly."""
    assert list(a.summary) == list(b.summary)
    for k in a.summary:
        np.testing.assert_allclose(a.summary[k], b.summary[k], rtol=rtol, atol=0, err_msg=k)
    assert set(a.monthly) == set(b.monthly)
    for k in a.monthly:
        np.testing.assert_allclose(a.monthly[k], b.monthly[k], rtol=rtol, atol=rtol, err_msg=k)
    for k in ("purchases", "churned", "acquisitions", "active_customers", "members"):
        assert np.array_equal(a.monthly.get(k, 0), b.monthly.get(k, 0)), k
    assert np.array_equal(a.flows, b.flows) and np.array_equal(a.cohorts, b.cohorts)
    assert np.array_equal(a.retained, b.retained) and a.parameters == b.parameters


# An arm alone sums its customers' figures in another order than a run of both (the arrays
# hold the customers still there in either arm): float sums agree to round-off, counts exactly.
ROUND_OFF = 1e-12


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_one_arm_alone_is_that_arm_of_both(path):
    """Each arm simulated alone (the other's row empty) gives that arm's figures of a run of
    both (to round-off): through arrivals, compactions and every instrument of the examples,
    with the judgement parameters sampled."""
    sc = simulation.load(path, ["customers.size=1500", "simulation.horizon_months=25", "uncertainty.sample=judgement"])
    task = Task(sc, 1, 11, 3)
    both = run_task(task)
    shared = twin.share([task])
    alone = [run_task(t) for t in shared.tasks]
    _same_rep(shared.assemble(alone)[0], _without_tier_rows(both), ROUND_OFF)
    assert alone[0].summary["revenue"][PROGRAM] == 0 and alone[1].summary["revenue"][BASELINE] == 0


def test_one_arm_alone_with_every_registered_instrument():
    """The same with every instrument plug-in switched on (a new plug-in that touched the
    baseline's row would fail here)."""
    from simulation import instruments

    sc = scenario(size=1500, months=25, program={key: {} for key in instruments.REGISTRY})
    task = Task(sc, 1, 11, 3)
    shared = twin.share([task])
    _same_rep(shared.assemble([run_task(t) for t in shared.tasks])[0], _without_tier_rows(run_task(task)), ROUND_OFF)


def _without_tier_rows(rep):
    """The twin has no tiers: the baseline's "not a member" tier group of a run of both is left out."""
    rep.clv_groups = [g for g in rep.clv_groups if not (g[2] == BASELINE and g[0] == "tier")]
    return rep


def test_designs_that_differ_in_the_program_share_one_twin():
    tasks = [
        Task(scenario(size=300, months=6, program={"points": {"earn_rate": e}}), r, 5, 2)
        for e in (1.0, 2.0, 3.0)
        for r in (0, 1)
    ]
    tasks.append(Task(scenario(size=400, months=6, program={"points": {}}), 0, 5, 2))  # another customer base
    shared = twin.share(tasks)
    assert shared.twins == 3 and len(shared.tasks) == 3 + len(tasks)
    assert shared.twin_of == [0, 1, 0, 1, 0, 1, 2]
    merged = shared.assemble([run_task(t) for t in shared.tasks])
    for task, rep in zip(tasks, merged, strict=True):
        _same_rep(rep, run_task(task), ROUND_OFF)


def test_the_pool_and_here_give_the_same_results_in_task_order():
    sc = scenario(size=300, months=6, replications=4, program=ALL_INSTRUMENTS)
    tasks = tasks_of(sc, seed=3)
    seen: list[float] = []
    pooled = Runner(workers=2).map(tasks, seen.append)
    assert seen == pytest.approx([0.25, 0.5, 0.75, 1.0])
    here = Runner(workers=1).map(tasks)
    assert [r.replication for r in pooled] == [0, 1, 2, 3]
    for a, b in zip(pooled, here, strict=True):
        _same_rep(a, b)


def test_a_runner_that_keeps_its_pool_uses_one_for_its_maps_and_closes_it():
    sc = scenario(size=300, months=6, replications=4, program=ALL_INSTRUMENTS)
    tasks = tasks_of(sc, seed=3)
    here = Runner(workers=1).map(tasks)
    with Runner(workers=2, keep_pool=True) as kept:
        first = kept.map(tasks)
        pool = kept._pool
        again = kept.map(tasks)
        assert pool is not None and kept._pool is pool  # (not a new pool a map)
    assert kept._pool is None and pool._shutdown_thread
    for a, b, c in zip(first, again, here, strict=True):
        _same_rep(a, c)
        _same_rep(b, c)


def test_cancel_stops_the_run_and_keeps_what_was_done():
    tasks = tasks_of(scenario(size=200, months=4, replications=3), seed=1)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2  # after two tasks

    with pytest.raises(Cancelled) as info:
        Runner(workers=1).map(tasks, cancel=cancel)
    assert [r is not None for r in info.value.done] == [True, True, False]
    with pytest.raises(Cancelled):  # in the pool: the tasks not begun are dropped
        Runner(workers=2).map(tasks_of(scenario(size=200, months=4, replications=8), seed=1), cancel=lambda: True)


def test_a_caller_that_stops_drops_the_tasks_not_begun():
    """A progress callback that raises (Streamlit stopping a script run for a click on Cancel)
    cancels the tasks still queued in the caller's executor."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    class Stop(BaseException):
        pass

    def stop(fraction):
        raise Stop

    submitted = []
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        submit = pool.submit
        pool.submit = lambda *a: submitted.append(submit(*a)) or submitted[-1]
        with pytest.raises(Stop):
            Runner(executor=pool).map(tasks_of(scenario(size=200, months=4, replications=20), seed=1), stop)
        # all but the one done and those the pool had already handed on when the callback ran: it
        # keeps workers + 1 calls in flight, and on a busy machine it may refill that after the
        # first result, before the callback runs (seen: 4 of 8 not cancelled); of 20, most are dropped
        assert len(submitted) == 20 and sum(f.cancelled() for f in submitted) >= 10


def test_light_tasks_send_back_the_summary_only():
    sc = scenario(size=200, months=13, replications=2, program={"points": {}})
    full, light = run_task(Task(sc, 0, 1, 2)), run_task(Task(sc, 0, 1, 2, light=True))
    assert list(light.monthly) == ["net_profit_cumulative"]
    _same_rep(light, type(full)(**{**full.__dict__, "monthly": light.monthly}))


def test_estimate_warns_of_long_runs_and_refuses_what_does_not_fit(monkeypatch):
    sc = scenario(size=20_000, months=36, replications=10, program=ALL_INSTRUMENTS)
    est = runner.estimate(tasks_of(sc), workers=2)
    # 10 x 20,000 x 36 customer-months at the measured pace, on two processes
    assert est.seconds == pytest.approx(10 * 20_000 * 36 * runner.SECONDS_PER_CUSTOMER_MONTH / 2)
    assert est.warning() is None
    per_task = runner.task_bytes(sc)
    assert 10e6 < per_task < 100e6  # a few hundred bytes per slot (bench/README.md (d): ~800 per customer at 1M)
    assert runner.task_bytes(scenario(size=200_000, months=36, program=ALL_INSTRUMENTS)) > 9 * per_task
    big = runner.estimate(tasks_of(scenario(size=100_000, months=36), replications=1000), workers=1)
    minutes = 1000 * 100_000 * 36 * runner.SECONDS_PER_CUSTOMER_MONTH / 60  # over LONG_RUN_SECONDS
    assert big.warning() == f"this run will take about {minutes:.0f} min on 1 process(es)"
    monkeypatch.setattr(runner, "available_memory", lambda: 1e9)
    huge = scenario(size=5_000_000, months=36, replications=2, program=ALL_INSTRUMENTS)
    with pytest.raises(ScenarioError, match=r"needs about \d+\.\d GB of memory .* has 1\.0 GB free"):
        Runner(workers=1).map(tasks_of(huge))


def test_lojal_workers_is_read_in_one_place(monkeypatch):
    monkeypatch.setenv("LOJAL_WORKERS", " 3 ")
    assert runner.workers_setting() == 3
    monkeypatch.setenv("LOJAL_WORKERS", "two")
    with pytest.raises(ScenarioError, match="LOJAL_WORKERS='two': a whole number"):
        runner.workers_setting()
    from app import runs  # the app logs it and runs everything in the server process

    assert runs.workers() == 1


def test_a_design_with_a_pilot_runs_with_its_own_twin():
    sc = scenario(size=300, months=6, program={"points": {}}, pilot={"share": 0.3, "control_share": 0.3})
    plain = scenario(size=300, months=6, program={"points": {}})
    assert not twin.splittable(Task(sc, 0, 1, 2)) and twin.splittable(Task(plain, 0, 1, 2))
    assert twin.without_program(sc) == twin.without_program(plain)
    cache = twin.TwinCache()
    reps = cache.map(Runner(workers=1), [Task(sc, r, 1, 2) for r in range(2)])
    assert not cache.reps and reps[1].pilot == run_task(Task(sc, 1, 1, 2)).pilot != {}
