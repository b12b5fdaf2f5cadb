"""The `lojal` command line, run as a user would (a subprocess) and in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main

ROOT = Path(__file__).resolve().parent.parent
COFFEE = ROOT / "scenarios" / "coffee-points-card.yaml"
SMALL = ["--set", "customers.size=1500", "--set", "simulation.horizon_months=13", "--replications", "3"]


def lojal(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_run_writes_tidy_csvs_and_prints_a_table(tmp_path):
    proc = lojal("run", str(COFFEE), *SMALL, "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "retention_12m" in proc.stdout and "incremental" in proc.stdout
    assert "simulation noise only" in proc.stdout  # nothing sampled: the table says what its intervals leave out
    summary = pd.read_csv(tmp_path / "summary.csv")
    monthly = pd.read_csv(tmp_path / "monthly.csv")
    assert list(summary.columns) == ["metric", "arm", "mean", "p05", "p95", "note"]
    assert list(monthly.columns) == ["month", "metric", "arm", "mean", "p05", "p95"]
    assert set(summary.arm) == {"program", "baseline", "incremental"}
    assert monthly.month.max() == 13
    cohorts = pd.read_csv(tmp_path / "cohorts.csv")
    assert list(cohorts.columns) == ["arm", "cohort", "months_since_arrival", "customers", "mean", "p05", "p95"]
    assert "retention_24m" not in set(summary.metric)  # the horizon does not reach it


def test_json_output_and_seed_reproducibility(capsys):
    assert main(["run", str(COFFEE), *SMALL, "--format", "json", "--seed", "5"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first["net_profit"]) == {"program", "baseline", "incremental"}
    assert set(first["net_profit"]["program"]) == {"mean", "p05", "p95"}
    assert set(first["roi"]) == {"incremental"}
    assert main(["run", str(COFFEE), *SMALL, "--format", "json", "--seed", "5"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert main(["run", str(COFFEE), *SMALL, "--format", "json", "--seed", "6"]) == 0
    assert json.loads(capsys.readouterr().out) != first


def test_bad_input_exits_2_with_a_clear_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("program:\n  points:\n    earn_rate: -1\n")
    proc = lojal("run", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:3 program.points.earn_rate: input should be greater than or equal to 0 (got -1)" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = lojal("run", str(COFFEE), "--set", "customers.size=-4")
    assert proc.returncode == 2 and "customers.size" in proc.stderr and "Traceback" not in proc.stderr
    proc = lojal("run", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_validate_checks_every_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("simulation:\n  seeds: 3\n")
    assert main(["validate", str(COFFEE)]) == 0
    assert main(["validate", str(COFFEE), str(bad)]) == 2
    out = capsys.readouterr()
    assert f"ok: {COFFEE}" in out.out and f"{bad}:2 simulation.seeds: unknown field" in out.err


def test_show_fills_every_default(tmp_path, capsys):
    path = tmp_path / "min.yaml"
    path.write_text("program:\n  points: {}\n")
    assert main(["show", str(path)]) == 0
    shown = capsys.readouterr().out
    for field in ("earn_rate: 1.0", "redemption_threshold: 500.0", "horizon_months: 36", "churn_per_month:"):
        assert field in shown


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "lojal scenario" and "program" in schema["properties"]


@pytest.mark.parametrize("args", [["run"], ["frobnicate"]])
def test_usage_errors_exit_2(args):
    proc = lojal(*args)
    assert proc.returncode == 2 and "usage:" in proc.stderr
