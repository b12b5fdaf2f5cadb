"""Holding today's NPS (and customers) without the program (simulation/steady.py, `lojal hold`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import scenario

from simulation import steady
from simulation.scenario_io import override

ROOT = Path(__file__).resolve().parent.parent


def _base(purchases_per_month: float, **ladder):
    return scenario(size=3000, months=24, replications=2, seed=5,
                    customers={"size": 3000, "acquisition": {"paid_per_month": 30}, "ladder": ladder,
                               "segments": [{"purchases_per_month": purchases_per_month}]})  # fmt: skip


def _gap(sc) -> float:
    return steady.NPS.gap(steady.course(sc, 2))


def test_frequent_buyers_are_held_with_fewer_delighting_months():
    sc = _base(8.0)  # every month a chance of delight: NPS climbs without any program
    assert _gap(sc) > 5
    held = steady.hold(sc)
    assert held.reached and held.value < sc.customers.ladder.positive_experience and list(held.moves) == [steady.FIELD]
    # (checked apart from the search)
    assert abs(_gap(override(sc, {steady.FIELD: held.value}))) <= steady.NPS.tolerance
    assert steady.NPS.gap(held.was) > 5 and held.evaluations <= steady.MAX_EVALUATIONS + 1
    assert "Holds today's NPS" in held.text() and f"(before: {held.was.nps_end:+.1f})" in held.text()
    # fewer delighted customers: fewer stay and recommend, so the base ends smaller than before
    assert held.now.customers_end < held.was.customers_end and held.now.customers_today == 3000
    assert f"{held.now.customers_end:,.0f} in month 24 (before: {held.was.customers_end:,.0f})" in held.text()
    assert "With fewer delighted months fewer customers stay" in held.text()


def test_rare_buyers_are_held_with_more_and_a_drift_too_strong_is_said():
    sc = _base(0.3)  # most months without a purchase: the drift pulls NPS down
    assert _gap(sc) < -2
    held = steady.hold(sc)
    assert held.reached and held.value > sc.customers.ladder.positive_experience
    strong = steady.hold(_base(0.3, drift_without_contact=0.6))
    assert not strong.reached and strong.value == steady.NPS.bounds[1] and strong.found.nps_end < strong.found.nps_today
    assert "lower customers.ladder.drift_without_contact" in strong.text()


def test_the_number_of_customers_is_held_by_paid_acquisition_with_nps():
    sc = _base(8.0)
    held = steady.hold(sc, customers=True)
    assert held.reached and set(held.moves) == {steady.FIELD, steady.ACQUISITION}
    paid = held.values()[steady.ACQUISITION]
    assert isinstance(paid, int) and paid != 30  # a whole number of customers a month, not the scenario's
    check = steady.course(override(sc, held.values()), 2)  # the values as written into a file
    assert abs(check.customers_end / 3000 - 1) <= 0.02 and abs(steady.NPS.gap(check)) <= 1.0
    assert held.text().startswith("Holds today's NPS and number of customers")


def test_lojal_hold_writes_the_values_into_the_file_and_nothing_else(tmp_path):
    out, src = tmp_path / "held.yaml", tmp_path / "coffee.yaml"
    shipped = (ROOT / "scenarios" / "coffee-points-card.yaml").read_text()  # (it ships held: back to the default)
    src.write_text(re.sub(r"    positive_experience: .*", "    positive_experience: 0.06  # the default", shipped))
    cmd = [sys.executable, "-m", "simulation.cli", "hold", str(src), "--replications", "2", "--write", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Holds today's NPS" in proc.stdout and "--set customers.ladder.positive_experience=" in proc.stdout
    before, after = src.read_text().splitlines(), out.read_text().splitlines()
    added = [line for line in after if line not in before]
    assert [line for line in before if line not in after] == ["    positive_experience: 0.06  # the default"]
    assert (
        len(added) == 1
        and added[0].startswith("    positive_experience: 0.0")
        and "# lojal hold: holds NPS +" in added[0]
    )
    assert added[0].endswith(
        "without the program (was 0.06: the default)"
    )  # (the line's comment went with the old value)
    # on a file that holds already, nothing to change: the file is written as it was
    again = subprocess.run(
        cmd[:4] + [str(out)] + cmd[5:-1] + [str(tmp_path / "again.yaml")], capture_output=True, text=True, cwd=ROOT
    )
    assert again.returncode == 0 and "nothing to change" in again.stdout, again.stdout + again.stderr
    assert (tmp_path / "again.yaml").read_text() == out.read_text()
    bad = subprocess.run(cmd[:-1] + [str(tmp_path / "no" / "x.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "no such folder" in bad.stderr and "Traceback" not in bad.stderr


def test_a_base_that_word_of_mouth_alone_grows_is_said_and_left():
    sc = override(_base(8.0), {"customers.word_of_mouth.conversion_per_listener": 0.3})
    held = steady.hold(sc, customers=True)
    assert held.nps_held and not held.customers_held and not held.reached
    assert held.values()[steady.ACQUISITION] == 0 and held.found.customers_end > 1.01 * 3000  # (no ads, still grows)
    assert held.text().startswith("Holds today's NPS but not the number of customers")
    assert "lower customers.word_of_mouth.conversion_per_listener" in held.text()


def test_held_means_within_half_a_point_of_nps_and_one_percent_of_customers():
    def held(nps_end: float, customers_end: float) -> steady.Held:
        found = steady.Course(15.0, nps_end, 20_000, customers_end)
        return steady.Held({steady.FIELD: (0.06, 0.02)}, found, found, found, 36, 5, customers=True)

    assert held(15.4, 20_190).reached and held(14.6, 19_810).reached
    assert not held(15.6, 20_000).reached and not held(15.0, 20_210).reached and not held(15.0, 19_790).reached
