"""Sweeps, the frontier and the best design within a budget (simulation/design_space.py,
sweep.py, frontier.py) and `lojal sweep`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import scenario

import simulation
from simulation import design_space, frontier
from simulation.cli import main
from simulation.scenario_io import ScenarioError
from simulation.sweep import run_sweep

POINTS = {"points": {"earn_rate": 1.0, "reward_value": 5.0}}


def _base(**kw):
    return scenario(size=600, months=13, replications=3, program=POINTS, **kw)


@pytest.fixture(scope="module")
def sweep():
    sc = _base()
    levers = [design_space.parse_vary("program.points.earn_rate=0:2:3", sc)]
    return run_sweep(sc, levers)


def test_levers_are_parsed_and_checked_against_the_schema():
    sc = _base()
    lever = design_space.parse_vary("program.points.earn_rate=0.5:2:4", sc)
    assert lever.values() == [0.5, 1.0, 1.5, 2.0] and not lever.integer
    months = design_space.parse_vary("program.points.expiry_months=6:24:4", _base())
    assert months.integer and months.values() == [6, 12, 18, 24]
    assert design_space.parse_tune("economics.launch_cost=0:1000", sc).steps == 0
    seg = design_space.parse_vary("customers.segments.0.enrollment_propensity=0.2:0.6:2", sc)
    assert seg.values() == [0.2, 0.6]
    problems = {
        "program.points.earn_rat=1:2:3": "not a field (program.points has: ",
        "program.points.earn_rate=1:2": "expected PATH=LOW:HIGH:STEPS",
        "program.points.earn_rate=a:2:3": "LOW and HIGH must be numbers",
        "program.points.earn_rate=3:2:3": "LOW must be a number at most HIGH",
        "program.points.earn_rate=1:2:0": "STEPS must be at least 1",
        "program.points.earn_rate=-1:2:3": "LOW must be >= 0 (the field's bounds)",
        "program.tiers.review_every_months=1:3:3": "the scenario has no `program.tiers` block",
        "program.points.expiry=1:3:3": "not a field",
        "customers.segments.3.basket_value=1:3:3": "the scenario has no item 3 in `segments`",
        "customers.segments=1:3:3": "`segments` is a list",
        "meta.name=1:2:2": "`meta` settings are not design levers",
        "program.tiers.qualifying_metric=1:2:2": "the scenario has no `program.tiers` block",
    }
    for text, message in problems.items():
        with pytest.raises(ScenarioError) as info:
            design_space.parse_vary(text, sc)
        assert message in info.value.problems[0] and info.value.problems[0].startswith(f"--vary {text}: ")
    with pytest.raises(ScenarioError, match="not a number field"):
        design_space.parse_vary("economics.currency=1:2:2", sc)


def test_a_grid_is_every_combination():
    sc = _base()
    a = design_space.parse_vary("program.points.earn_rate=1:2:2", sc)
    b = design_space.parse_vary("program.points.reward_value=5:15:3", sc)
    combos = design_space.grid([a, b])
    assert len(combos) == 6 and combos[1] == {"program.points.earn_rate": 1.0, "program.points.reward_value": 10.0}
    with pytest.raises(ScenarioError, match="designs is more than"):
        design_space.grid([design_space.parse_vary("program.points.earn_rate=1:2:400", sc)] * 2)


def test_each_design_of_a_sweep_is_its_own_run(sweep):
    """A design's row is `simulation.run` of the design's scenario (shared twin: to round-off)."""
    assert len(sweep.designs) == 3 and sweep.values.shape[:2] == (3, 3)
    assert sweep.twins == 3  # one per replication, shared by the three designs
    for d in (0, 2):
        alone = simulation.run(sweep.scenario_of(d))
        for metric, arm in (("net_profit", "incremental"), ("program_cost", "program"), ("retention_12m", "baseline")):
            for stat in ("mean", "p05", "p95"):
                assert sweep.stat(metric, arm, stat)[d] == pytest.approx(alone.value(metric, arm, stat), rel=1e-12)
        assert sweep.stat("purchases", "program")[d] == alone.value("purchases", "program")
        for stat in ("mean", "p05", "p95"):  # (NaN when it does not pay back: equal here)
            got, want = (
                sweep.stat("payback_month", "incremental", stat)[d],
                alone.value("payback_month", "incremental", stat),
            )
            np.testing.assert_equal(got, want)
        np.testing.assert_equal(
            sweep.stat("payback_share", "incremental")[d], alone.value("payback_share", "incremental")
        )
    # a design's baseline is the same customers without the program: the same in every design
    assert np.ptp(sweep.stat("revenue", "baseline")) == 0
    assert sweep.stat("program_cost", "program")[2] > sweep.stat("program_cost", "program")[0]


def test_the_sweep_table_has_a_row_per_design_and_every_metric(sweep):
    table = sweep.table()
    assert list(table.columns[:2]) == ["design", "program.points.earn_rate"]
    assert table["program.points.earn_rate"].tolist() == [0.0, 1.0, 2.0]
    for metric in ("net_profit", "retention_12m", "clv_mean", "nps_end"):
        for arm in ("program", "baseline", "incremental"):
            assert {f"{metric}.{arm}.{s}" for s in ("mean", "p05", "p95")} <= set(table.columns)
    assert table["net_profit.incremental.mean"].tolist() == sweep.stat("net_profit", "incremental").tolist()


def test_pareto_frontier_by_hand():
    cost = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 0.5])
    outcome = np.array([5.0, 4.0, 7.0, 7.0, 9.0, np.nan])
    # 1 (cost 2, 4) is beaten by 0; 3 (cost 3, 7) ties 2 at a higher cost; 5 is undefined
    assert frontier.pareto(cost, outcome).tolist() == [True, False, True, False, True, False]


def test_best_within_a_budget_and_its_chance_to_beat_the_runner_up(sweep):
    cost = sweep.stat("program_cost", "program")
    profit = sweep.stat("net_profit", "incremental")
    budget = float(np.sort(cost)[1])  # the two cheapest fit
    best = frontier.best_within(sweep, budget)
    fits = np.flatnonzero(cost <= budget)
    assert best.within_budget == 2 and best.design == fits[np.argmax(profit[fits])]
    assert best.runner_up == fits[np.argmin(profit[fits])]
    reps = sweep.per_replication("net_profit", "incremental")
    assert best.p_beats_runner_up == np.mean(reps[best.design] > reps[best.runner_up])
    assert best.p05 <= best.mean <= best.p95
    assert frontier.best_within(sweep, float(cost.min()) - 1) is None
    with pytest.raises(ScenarioError, match="--objective profit: not a summary metric"):
        frontier.best_within(sweep, budget, "profit")
    assert frontier.check_objective(sweep, "engagement") == ("engagement", "program")


def test_lojal_sweep_writes_a_row_per_design_and_the_best_design(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(simulation.dumps(_base()), encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(path), "--vary", "program.points.earn_rate=0:2:3", "--budget", "1e9", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Best within a budget of kr 1 bn (3 designs fit): design " in printed
    assert "3 designs x 3 replications; 3 no-program twins shared" in printed
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 3 and table["on_frontier"].any() and table["within_budget"].all()
    best = simulation.load(out / "best.yaml")
    assert best.program.points.earn_rate in (0.0, 1.0, 2.0)
    assert main([*args[:4], "--objective", "retention_12m", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["objective"] == {"metric": "retention_12m", "arm": "incremental"} and len(data["designs"]) == 3
    assert data["provenance"]["replications"] == 3 and data["run"]["tasks"] == 12
    from simulation import runner

    runner_pace = runner.SECONDS_PER_CUSTOMER_MONTH
    try:  # a long sweep is announced (at a pace 1e5 times slower than measured: 3 x 3 x 600 x 13 customer-months)
        runner.SECONDS_PER_CUSTOMER_MONTH = runner_pace * 1e5
        assert main(args[:4]) == 0
    finally:
        runner.SECONDS_PER_CUSTOMER_MONTH = runner_pace
    assert "note: 3 designs: this run will take about " in capsys.readouterr().err
    assert main(["sweep", str(path), "--vary", "program.points.earn_rat=0:2:3"]) == 2
    assert (
        "error: --vary program.points.earn_rat=0:2:3: program.points.earn_rat: not a field" in capsys.readouterr().err
    )


def test_a_sweeps_estimate_counts_the_tasks_it_runs(monkeypatch):
    """The time said before a sweep (the CLI's note, the Budget page's caption) counts what the
    sweep runs: a program arm per design and replication and one shared twin per replication,
    each weighed by what it leaves out (the twin's program, the draws kept for a replication)."""
    from simulation import runner as runner_module
    from simulation import sweep as sweep_module

    base, seen = _base(), {}

    def record(name):
        def spy(self, tasks, *args, **kwargs):
            seen[name] = sorted((t.arm, t.replication, t.keep_draws) for t in tasks)
            return original[name](self, tasks, *args, **kwargs)

        return spy

    original = {"estimate": runner_module.Runner.estimate, "map": runner_module.Runner.map}
    monkeypatch.setattr(runner_module.Runner, "estimate", record("estimate"))
    monkeypatch.setattr(runner_module.Runner, "map", record("map"))
    levers = [design_space.parse_vary("program.points.earn_rate=0:2:3", base)]
    run = runner_module.Runner(workers=1)
    est = sweep_module.estimate(run, base, designs=3, replications=2)
    run_sweep(base, levers, replications=2, runner=run)
    assert seen["estimate"] == seen["map"]  # the same tasks: 6 program arms and 2 twins
    assert [arm for arm, _, _ in seen["map"]].count("baseline") == 2 and len(seen["map"]) == 8
    one = base.customers.size * base.simulation.horizon_months * runner_module.KEPT_SHARE
    work = one * (6 * runner_module.ARM_SHARE["program"] + 2 * runner_module.ARM_SHARE["baseline"])
    assert est.seconds == pytest.approx(work * runner_module.SECONDS_PER_CUSTOMER_MONTH)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real `dask scheduler` and one `dask worker` on 127.0.0.1, stopped after the tests."""
    import subprocess
    import sys
    from pathlib import Path

    bin_dir = Path(sys.executable).parent
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    common = {"cwd": logs, "stdout": subprocess.DEVNULL, "stderr": open(logs / "log", "w")}  # noqa: SIM115
    procs = [subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **common)]  # fmt: skip
    procs.append(subprocess.Popen([bin_dir / "dask", "worker", address, "--nthreads", "1", "--no-nanny",
                                   "--no-dashboard", "--local-directory", str(logs)], **common))  # fmt: skip
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(10)


def test_a_sweep_on_a_dask_cluster_is_the_sweep_run_here(dask_cluster, sweep, monkeypatch):
    from simulation import runner as runner_module
    from simulation.runner import Runner

    sc = _base()
    levers = [design_space.parse_vary("program.points.earn_rate=0:2:3", sc)]
    with Runner(dask_cluster) as runner:
        there = run_sweep(sc, levers, runner=runner)
    assert there.record.where == f"dask {dask_cluster}" and there.record.tasks == 3 + 9
    np.testing.assert_array_equal(there.values, sweep.values)  # bit for bit
    np.testing.assert_array_equal(there.stats, sweep.stats)
    monkeypatch.setattr(runner_module, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ScenarioError, match="--scheduler tcp://127.0.0.1:1: no Dask scheduler answers there"):
        Runner("tcp://127.0.0.1:1").map([])
