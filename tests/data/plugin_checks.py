"""Checks of the toy plug-in instrument, run by tests/test_plugin.py in a fresh process with
LOJAL_INSTRUMENTS=tests/data/toy_instrument.py (the registry is built at import, so the
plug-in must be named before lojal is imported). Not collected on its own (not `test_*`)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from helpers import scenario  # noqa: E402
from test_app_support import app, assert_ok, charts, library_dir, texts  # noqa: E402, F401

import simulation  # noqa: E402
from simulation import export, instruments, metrics, provenance  # noqa: E402
from simulation.describe import describe  # noqa: E402
from simulation.schema import Program, Scenario  # noqa: E402

KEY = "thank_you_notes"
TOY = {KEY: {"share_sent": 0.6, "cost_per_note": 1.5}}


def run(program, **kw):
    return simulation.run(scenario(program=program, size=1500, months=12, replications=2, **kw))


def test_the_registry_and_the_schema_have_it():
    assert list(instruments.REGISTRY)[-1] == KEY
    assert Program.model_fields[KEY].title == "Thank-you notes"
    sc = Scenario.model_validate({"program": TOY})
    assert sc.program.active_instruments()[KEY].cost_per_note == 1.5
    with pytest.raises(simulation.ScenarioError, match=r"program\.thank_you_notes\.cost_per_nte"):
        simulation.loads("program:\n  thank_you_notes:\n    cost_per_nte: 2\n", "x.yaml")
    assert KEY in simulation.json_schema()["$defs"]["Program"]["properties"]


def test_describe_plan_and_reference_show_it():
    sc = Scenario.model_validate({"program": TOY, "economics": {"currency": "€"}})
    assert "Thank-you notes: 60 % of the members who buy get one, at €1.50 a note." in describe(sc)
    off = Scenario.model_validate({"program": {KEY: {"enabled": False}}})
    assert "Switched off: Thank-you notes." in describe(off)
    plan = subprocess.run([sys.executable, "-m", "simulation.cli", "plan"], capture_output=True, text=True, check=True)
    assert plan.stdout.rstrip().endswith(f", {KEY}")
    sys.path.insert(0, str(TESTS.parent / "docs"))
    import gen_reference

    page = gen_reference.render()
    assert f"`program.{KEY}.cost_per_note`" in page and "Thank-you notes" in page
    assert f"`program.{KEY}.cost_per_note` | x2 |" in instruments.lever_table()


def test_results_and_exports_carry_its_lines_and_a_switched_off_toy_changes_nothing():
    res = run({"points": {}, **TOY})
    notes = res.value("thank_you_notes_sent")
    cost = res.value("cost_thank_you_notes")
    assert notes > 100 and cost == pytest.approx(1.5 * notes)
    assert res.value("program_cost") > cost
    assert metrics.metric("cost_thank_you_notes").label == "Cost: thank-you notes"
    assert metrics.sort_key("thank_you_notes_sent") < metrics.sort_key("acquisitions")
    monthly = res.monthly[(res.monthly.metric == "thank_you_notes_sent") & (res.monthly.arm == "program")]
    assert monthly["mean"].sum() == pytest.approx(notes)
    csv = export.summary_csv(res).decode()
    assert "cost_thank_you_notes" in csv and "thank_you_notes_sent" in csv
    book = export.excel_bytes(res, provenance.of_run(res, "toy.yaml", b""))
    import openpyxl

    cells = {c.value for ws in openpyxl.load_workbook(io.BytesIO(book)) for row in ws.iter_rows() for c in row}
    assert "Cost: thank-you notes" in cells and "Thank-you notes sent" in cells
    assert "Thank-you notes" in set(simulation.analysis.profit_bridge(res.summary)["step"])
    # switched off, the block changes no number
    plain, off = run({"points": {}}), run({"points": {}, KEY: {"enabled": False}})
    assert plain.summary.equals(off.summary)


def test_the_app_shows_it_with_no_change(library_dir):  # noqa: F811
    at = app().run()
    at.switch_page("screens/design.py").run()
    assert_ok(at)
    at.toggle(key=f"program.{KEY}.enabled").set_value(True).run()
    assert_ok(at)
    at.number_input(key=f"program.{KEY}.cost_per_note").set_value(2.0).run()
    assert "of the members who buy get one, at kr 2 a note" in texts(at)
    at.button(key="run").click().run()
    at.switch_page("screens/results.py").run()
    assert_ok(at)
    titles = [f["layout"]["title"]["text"] for f in charts(at)]
    assert any(t.startswith("Thank-you notes sent") for t in titles), titles
