"""Phases: a design that changes at a month, and the satisfaction cost of taking benefits away
(docs/model.md section 8.2)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

import simulation
from simulation.describe import describe
from simulation.engine import PROGRAM, Sim

MONTH = 8  # the phase's month in these tests
POINTS = {"points": {}}
REPS = 6


def sc(*changes: dict, program=POINTS, sensitivity: float = 0.5):
    phases = {"changes": list(changes), "takeaway_sensitivity": sensitivity}
    return scenario(size=3000, months=20, replications=REPS, program=program, phases=phases)


def ledgers(design) -> list[dict[str, np.ndarray]]:
    return [Sim(design, r).run().ledger for r in range(design.simulation.replications)]


def program_row(books: list[dict], metric: str) -> np.ndarray:
    """(replications, months + 1) of the program arm."""
    return np.array([b[metric][PROGRAM] for b in books])


@pytest.fixture(scope="module")
def cut():
    """As shipped; the earn rate halved at MONTH, taken as a loss and announced; halved from the start."""
    half = {"month": MONTH, "set": "points.earn_rate=0.5"}
    return {
        "shipped": ledgers(sc()),
        "loss": ledgers(sc(half)),
        "told": ledgers(sc({**half, "felt_as_loss": False})),
        "from start": ledgers(sc(program={"points": {"earn_rate": 0.5}})),
    }


def test_nothing_changes_before_the_phase(cut):
    for metric in ("points_issued", "nps", "members", "revenue"):
        before = program_row(cut["shipped"], metric)[:, : MONTH + 1]
        assert np.array_equal(program_row(cut["loss"], metric)[:, : MONTH + 1], before), metric


def test_from_the_phase_on_the_new_settings_hold(cut):
    issued = program_row(cut["loss"], "points_issued")[:, MONTH + 1 :].sum()
    shipped = program_row(cut["shipped"], "points_issued")[:, MONTH + 1 :].sum()
    # half the points per unit spent, on a little less member spend: the points' lift and
    # their pull to join and stay active shrink with their worth (sections 8, 9.1)
    assert 0.3 < issued / shipped < 0.5, issued / shipped


def test_members_take_a_cut_as_a_loss_only_in_its_month_and_only_when_felt_as_one(cut):
    losing = program_row(cut["loss"], "members_losing_value")
    members = program_row(cut["loss"], "members")
    assert np.all(losing[:, MONTH + 1] > 0.5 * members[:, MONTH])  # every member earning points loses half
    assert losing.sum() == losing[:, MONTH + 1].sum()
    assert program_row(cut["told"], "members_losing_value").sum() == 0


def test_taking_away_costs_more_satisfaction_than_never_giving(cut):
    """Loss aversion: after the cut, the design that cut is below the one that started low,
    and below the same cut announced at the start (paired replications, 3 standard errors)."""

    def nps_after(books):
        return program_row(books, "nps")[:, MONTH + 1 :].mean(axis=1)

    for other in ("told", "from start"):
        diff = nps_after(cut[other]) - nps_after(cut["loss"])
        se = diff.std(ddof=1) / np.sqrt(REPS)
        assert diff.mean() > 3 * se, (other, diff)


def test_the_chance_of_falling_is_the_sensitivity_times_the_share_lost():
    """Closing the program takes all its worth: enrolled members fall a level with the chance
    `takeaway_sensitivity`; at 0 nobody does, and the months after are as if none fell."""
    close = {"month": MONTH, "set": "points.enabled=false"}
    counts = {}
    for sensitivity in (0.0, 0.5):
        design = sc(close, sensitivity=sensitivity)
        sim = Sim(design, 0).run()
        counts[sensitivity] = sim.ledger["moved_down"][PROGRAM, MONTH + 1] - sim.ledger["moved_down"][0, MONTH + 1]
        losing = sim.ledger["members_losing_value"][PROGRAM, MONTH + 1]
    expected = 0.5 * losing
    assert abs(counts[0.5] - counts[0.0] - expected) < 4 * np.sqrt(expected * 0.5), (counts, expected)


def test_a_closed_instrument_stops_its_calendar_and_books():
    close = {"month": MONTH, "set": "points.enabled=false"}
    books = ledgers(sc(close))
    for metric in ("points_issued", "points_redeemed", "points_expired"):
        assert program_row(books, metric)[:, MONTH + 1 :].sum() == 0, metric
    assert program_row(books, "points_issued")[:, 1 : MONTH + 1].sum() > 0


def test_a_phase_that_changes_nothing_changes_no_number():
    same = ledgers(sc({"month": MONTH, "set": "points.earn_rate=1.0"}))
    plain = ledgers(sc())
    for a, b in zip(same, plain, strict=True):
        for metric in ("nps", "revenue", "points_issued", "program_cost" if "program_cost" in b else "members"):
            assert np.array_equal(a[metric], b[metric]), metric


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ("points.earn_rat=1", "x.yaml:7 phases.changes[0].set: points.earn_rat: unknown field"),
        ("points.earn_rate=-1", "x.yaml:7 phases.changes[0].set: points.earn_rate: input should be greater than or equal to 0"),
        ("points.expiry_months=3", "points.expiry_months cannot change during a run"),
        ("", "x.yaml:7 phases.changes[0].set: no change given"),
        ("coupons.rate=1", "`coupons` is not an instrument"),
    ],
)
def test_a_bad_phase_names_the_line_and_the_field(changes, message):
    text = f"program:\n  points: {{}}\nphases:\n  changes:\n    - month: 12\n      name: cut\n      set: '{changes}'\n"
    with pytest.raises(simulation.ScenarioError, match=None) as err:
        simulation.loads(text, "x.yaml")
    assert message in str(err.value), str(err.value)


def test_phases_come_in_order_and_one_after_the_horizon_is_not_reached():
    with pytest.raises(simulation.ScenarioError) as err:
        sc({"month": 9, "set": "points.earn_rate=2"}, {"month": 9, "set": "points.earn_rate=1"})
    assert "phases.changes[1].month: phases must come in order of month" in str(err.value)
    late = sc({"month": 20, "set": "points.earn_rate=2"})  # the horizon is 20 months
    assert "From month 20 (after the horizon: not simulated)" in " ".join(describe(late))
    first = Sim(late, 0).run().ledger
    assert np.array_equal(first["points_issued"], Sim(sc(), 0).run().ledger["points_issued"])


def test_the_describer_says_what_changes_when():
    design = sc(
        {"month": 3, "name": "end of the launch offer", "set": "points.earn_rate=2", "felt_as_loss": False},
        {"month": MONTH, "set": "points.earn_rate=0.5, points.enabled=false"},
    )
    text = " ".join(describe(design))
    assert "From month 3 (end of the launch offer): Points: earn rate 1 → 2 (announced at the start" in text
    assert f"From month {MONTH}: Points: earn rate 2 → 0.5; Points closed." in text


def test_a_phase_of_an_instrument_off_at_the_start_does_nothing_and_says_so():
    """Switching points off in the Design page (or the no-program twin) keeps the file's
    phases valid; they do nothing, and a phase cannot switch an instrument on."""
    on_later = {"month": MONTH, "set": "points.enabled=true, points.earn_rate=2"}
    off = sc(on_later, program={"points": {"enabled": False}, "member_card": {}})
    assert "not applied to Points (off by then: a phase cannot switch an instrument on)" in " ".join(describe(off))
    plain = scenario(size=3000, months=20, replications=REPS, program={"points": {"enabled": False}, "member_card": {}})
    assert np.array_equal(Sim(off, 0).run().ledger["nps"], Sim(plain, 0).run().ledger["nps"])


def test_a_phase_after_one_that_closed_the_instrument_is_described_as_not_applied():
    """The describer follows the program phase by phase, as the engine does: a change to an
    instrument an earlier phase closed does nothing, and the text must not claim it."""
    closed = sc({"month": 3, "set": "points.enabled=false"}, {"month": MONTH, "set": "points.earn_rate=2"})
    text = " ".join(describe(closed))
    assert "From month 3: Points closed." in text
    assert f"From month {MONTH}: not applied to Points (off by then" in text
    assert "earn rate" not in text


def test_designs_that_differ_in_their_phases_share_their_no_program_twin():
    from simulation import twin
    from simulation.runner import Task

    designs = [sc({"month": MONTH, "set": f"points.earn_rate={rate}"}) for rate in (0.5, 2.0)]
    shared = twin.share([Task(d, r, 7, 2) for d in designs for r in range(2)])
    assert shared.twins == 2  # one per replication, not per design
