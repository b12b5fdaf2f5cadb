"""The `lojal` command line, run as a user would (a subprocess) and in-process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulation import metrics
from simulation.cli import main

ROOT = Path(__file__).resolve().parent.parent
COFFEE = ROOT / "scenarios" / "coffee-points-card.yaml"
SMALL_SETS = ["customers.size=1500", "simulation.horizon_months=13"]
SMALL = ["--set", SMALL_SETS[0], "--set", SMALL_SETS[1], "--replications", "3"]


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
    # the table reads in the product's one number style (the CSVs keep every digit)
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[3:] if line and not line[0].isspace()}
    assert list(rows)[:3] == ["retention_12m", "net_profit", "roi"]  # headline first, as in the app
    profit = summary.set_index(["metric", "arm"]).loc[("net_profit", "incremental"), "mean"]
    assert metrics.fmt(profit, "money", signed=True) in rows["net_profit"] and " kr " in rows["net_profit"]
    assert " to " in rows["net_profit"] and "[" not in rows["net_profit"]
    assert "%" in rows["roi"] and "+" not in rows["roi"] and "pp" not in rows["roi"]  # ROI is a figure, not a change
    assert " pp" in rows["retention_12m"] and "-0.0" not in proc.stdout
    assert not re.search(r"\d\.\d{4}", proc.stdout)  # no raw floats
    # and where the customers go without the program, what every change is measured against
    end = summary.set_index(["metric", "arm"]).loc[("active_customers_end", "baseline"), "mean"]
    assert f"customers today and {end:,.0f} in month 13" in proc.stdout


def test_json_output_and_seed_reproducibility(capsys):
    def numbers() -> dict:
        assert main(["run", str(COFFEE), *SMALL, "--format", "json", "--seed", seed]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out.pop("provenance")["seed"] == int(seed)
        return out

    seed = "5"
    first = numbers()
    assert set(first["net_profit"]) == {"program", "baseline", "incremental"}
    assert set(first["net_profit"]["program"]) == {"mean", "p05", "p95"}
    assert set(first["roi"]) == {"incremental"}
    assert numbers() == first
    seed = "6"
    assert numbers() != first


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


# --------------------------------------------------------------------------- provenance
def test_provenance_shows_the_seed_and_replications_actually_used(tmp_path, capsys):
    import hashlib
    import io

    from openpyxl import load_workbook

    from simulation import export, provenance, scenario_io
    from simulation.results import run

    sha = hashlib.sha256(COFFEE.read_bytes()).hexdigest()
    assert main(["run", str(COFFEE), *SMALL, "--seed", "99", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "seed 99" in table.splitlines()[0] and "seed 2026" not in table  # the override, not the file's seed
    assert sha in table and "lojal run" in table and "--seed 99 --replications 3" in table
    assert main(["run", str(COFFEE), *SMALL, "--seed", "99", "--format", "json"]) == 0
    prov = json.loads(capsys.readouterr().out)["provenance"]
    assert (prov["seed"], prov["replications"], prov["scenario_sha256"]) == (99, 3, sha)
    assert prov["lojal_version"] and prov["created"][:2] == "20"
    assert prov["overrides"] == ["customers.size=1500", "simulation.horizon_months=13"]
    rows = dict(pd.read_csv(tmp_path / "provenance.csv").values.tolist())
    assert rows["Seed"] == "99" and rows["Replications"] == "3" and rows["Scenario file sha256"] == sha
    # Excel: the About sheet says the same
    results = run(scenario_io.load(COFFEE, SMALL_SETS), replications=3, seed=99)
    book = load_workbook(io.BytesIO(export.excel_bytes(results, provenance.of_run(results, "c.yaml", b"x"))))
    about = {r[0].value: r[1].value for r in book["About"].iter_rows(min_row=2)}
    assert about["Seed"] == 99 and about["Replications"] == 3
    assert about["Scenario file sha256"] == hashlib.sha256(b"x").hexdigest()


# --------------------------------------------------------------------------- diff
def test_diff_lists_the_fields_that_differ_with_labels_and_exit_status(tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text(COFFEE.read_text().replace("earn_rate: 1.0", "earn_rate: 2.0"), encoding="utf-8")
    assert main(["diff", str(COFFEE), str(COFFEE)]) == 0
    assert "same scenario" in capsys.readouterr().out
    assert main(["diff", str(COFFEE), str(other)]) == 1
    out = capsys.readouterr().out
    assert "1 field differs" in out
    line = next(row for row in out.splitlines() if "program.points.earn_rate" in row)
    assert line.split()[:5] == ["Program", "›", "Points", "›", "Earn"] and line.split()[-6:-4] == ["1", "2"]
    assert main(["diff", str(COFFEE), str(other), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["same"] is False
    assert data["differences"] == [
        {"path": "program.points.earn_rate", "label": "Program › Points › Earn rate",
         "unit": "points per currency unit", "a": 1.0, "b": 2.0}
    ]  # fmt: skip


def test_diff_fills_defaults_and_expands_a_block_only_one_side_has(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("simulation:\n  seed: 42\n")  # the default, written out
    b.write_text("program:\n  referral: {conversion: 0.1}\n")
    assert main(["diff", str(a), str(b), "--format", "json"]) == 1
    found = {d["path"]: d for d in json.loads(capsys.readouterr().out)["differences"]}
    assert "simulation.seed" not in found  # 42 is the default: the same in both
    assert found["program.referral.conversion"]["a"] is None and found["program.referral.conversion"]["b"] == 0.1
    assert found["program.referral.two_sided"]["b"] is True  # the default of the new block, filled in


def test_diff_of_bad_files_names_file_line_and_field_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("customers:\n  size: -4\n")
    proc = lojal("diff", str(COFFEE), str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:2 customers.size: input should be greater than or equal to 1" in proc.stderr
    proc = lojal("diff", str(COFFEE), str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "missing.yaml: no such file" in proc.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("customers:\n  size: [1, 2\n")
    proc = lojal("diff", str(broken), str(COFFEE))
    assert proc.returncode == 2 and "broken.yaml:3: not valid YAML" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- report
def _report_data(html: str) -> list[dict]:
    import re

    block = re.search(r'<script type="application/json" id="lojal-data">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def test_report_is_one_offline_file_with_headline_numbers_and_provenance(tmp_path, capsys):
    import hashlib
    import re

    from simulation.metrics import fmt

    out = tmp_path / "report.html"
    assert (
        main(["report", str(COFFEE), *SMALL, "--seed", "11", "--out", str(out), "--xlsx", str(tmp_path / "r.xlsx")])
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", html) and not re.search(r"<link[^>]*href=[\"']https?:", html)
    assert "Plotly" in html and html.count('class="plotly-graph-div"') >= 5  # the charts, drawn by the inline JS
    (data,) = _report_data(html)
    profit = data["summary"]["net_profit"]["incremental"]["mean"]
    assert "<td>Incremental profit</td>" in html and fmt(profit, "money", "kr", signed=True) in html
    assert "The design" in html and "Assumptions and their ranges" in html and "Headline results" in html
    assert re.search(r"<p>Break-even: (pays back in month \d+|does not pay back)", html)  # what must be true to pay
    assert re.search(r"<p>Without the program \(what every change is measured against\): [\d,]+ customers today", html)
    sha = hashlib.sha256(COFFEE.read_bytes()).hexdigest()
    assert sha in html and data["provenance"]["scenario_sha256"] == sha
    assert (data["provenance"]["seed"], data["provenance"]["replications"]) == (11, 3)
    assert pd.read_excel(tmp_path / "r.xlsx", sheet_name="About").set_index("Item").loc["Seed", "Value"] == 11


def test_rerunning_a_reports_scenario_with_its_recorded_seed_reproduces_its_numbers(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(COFFEE), *SMALL, "--seed", "21", "--out", str(out)]) == 0
    capsys.readouterr()
    (data,) = _report_data(out.read_text(encoding="utf-8"))
    prov = data["provenance"]
    sets = [arg for item in prov["overrides"] for arg in ("--set", item)]
    again = [prov["scenario_file"], *sets, "--seed", str(prov["seed"]), "--replications", str(prov["replications"])]
    assert prov["rerun"] == "lojal run " + " ".join(again)
    assert main(["run", *again, "--format", "json"]) == 0
    rerun = json.loads(capsys.readouterr().out)
    rerun.pop("provenance")
    assert rerun == data["summary"]


def test_report_of_several_scenarios_compares_them(tmp_path, capsys):
    out, book = tmp_path / "both.html", tmp_path / "both.xlsx"
    fashion = ROOT / "scenarios" / "fashion-tiers-club.yaml"
    assert main(["report", str(COFFEE), str(fashion), *SMALL, "--out", str(out), "--xlsx", str(book)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<h2>Comparison</h2>" in html and len(_report_data(html)) == 2
    sheets = pd.read_excel(book, sheet_name=None)
    assert {"Comparison", "1 About", "2 Summary"} <= set(sheets)


def test_report_of_a_bad_file_names_the_problem_and_writes_nothing(tmp_path):
    bad, out = tmp_path / "bad.yaml", tmp_path / "r.html"
    bad.write_text("program:\n  points:\n    earn_rate: -1\n")
    proc = lojal("report", str(COFFEE), str(bad), "--out", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{bad}:3 program.points.earn_rate: input should be greater than or equal to 0" in proc.stderr
    assert not out.exists()
    proc = lojal("report", str(COFFEE), "--out", str(tmp_path / "no" / "such" / "r.html"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    proc = lojal("report", str(COFFEE))
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_a_bad_workers_setting_is_a_clear_error():
    env = {**os.environ, "LOJAL_WORKERS": "abc"}
    out = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "run", str(COFFEE), *SMALL],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 2 and "LOJAL_WORKERS='abc': a whole number" in out.stderr
    assert "Traceback" not in out.stderr
