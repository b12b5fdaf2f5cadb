"""Writing a scenario back onto its file: unchanged, byte for byte; edited, only the edited lines."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from app import library
from simulation import scenario_io
from simulation.scenario_io import override, to_yaml

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLED = sorted(p.name for p in SCENARIOS.glob("*.yaml"))  # every library file, with its comments and quotes


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a line diff."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def edited(text: str, changes: dict) -> str:
    new = override(scenario_io.loads(text), changes)
    out = to_yaml(new, text)
    assert scenario_io.loads(out) == new  # the file says what the edited scenario says
    return out


@pytest.mark.parametrize("name", BUNDLED)
def test_an_untouched_scenario_is_written_back_byte_for_byte(name, tmp_path):
    raw = (SCENARIOS / name).read_bytes()
    text = scenario_io.read_text(SCENARIOS / name)
    assert to_yaml(scenario_io.loads(text), text).encode("utf-8") == raw
    # through the library as the app saves it (replacing the file)
    (tmp_path / name).write_bytes(raw)
    entry = library.list_scenarios(tmp_path)[0]
    library.save_new(tmp_path, name, to_yaml(entry.scenario, entry.text), overwrite=True)
    assert (tmp_path / name).read_bytes() == raw


@pytest.mark.parametrize(
    "name, changes, old, new",
    [
        ("fashion-tiers-club.yaml", {"program.points.earn_rate": 2}, "    earn_rate: 1.0", "    earn_rate: 2.0"),
        ("fashion-tiers-club.yaml", {"customers.segments.1.basket_value": 700}, "      basket_value: 650", "      basket_value: 700"),
        ("coffee-points-card.yaml", {"economics.launch_cost": 90000}, "  launch_cost: 150000", "  launch_cost: 90000"),
        ("webshop-referral.yaml", {"simulation.seed": 99}, None, "  seed: 99"),
        # a file with a quoted name: an edit elsewhere keeps its quotes ("..." came back as '...')
        ("grocer-discounts-or-points.yaml", {"simulation.seed": 99}, None, "  seed: 99"),
    ],
)  # fmt: skip
def test_an_edit_changes_exactly_its_line(name, changes, old, new):
    text = (SCENARIOS / name).read_text()
    removed, added = changed_lines(text, edited(text, changes))
    if old is None:  # an edit of a line the file has under another value
        assert len(removed) == 1 and removed[0].startswith(new.split(":")[0] + ":")
    else:
        assert removed == [old]
    assert added == [new]


def test_a_new_field_is_added_where_the_schema_puts_it_in_its_shortest_form():
    text = (SCENARIOS / "fashion-tiers-club.yaml").read_text()
    out = edited(text, {"customers.word_of_mouth.conversion_per_listener": 0.09})
    removed, added = changed_lines(text, out)
    assert removed == [] and added == ["  word_of_mouth:", "    conversion_per_listener: 0.09"]
    lines = out.splitlines()  # after the ladder, before acquisition (schema order)
    assert lines.index("  ladder:") < lines.index("  word_of_mouth:") == lines.index("  acquisition:") - 2
    # a whole new instrument block: only what differs from its defaults
    removed, added = changed_lines(text, edited(text, {"program.referral": {"conversion": 0.1}}))
    assert removed == [] and added == ["  referral:", "    conversion: 0.1"]


def test_comments_layout_and_line_ends_are_kept():
    text = (
        "# header\r\nmeta:\r\n    name: X   # the name\r\n\r\ncustomers:\r\n    size: 1000   # small\r\n"
        "    segments:\r\n    -   name: A\r\n        share: 0.50  # half\r\n    -   name: B\r\n        share: 0.5\r\n"
        "# the program\r\nprogram:\r\n    points: {earn_rate: 1, expiry_months: 6}\r\n"
    )
    assert to_yaml(scenario_io.loads(text), text) == text
    out = edited(text, {"program.points.earn_rate": 3, "meta.description": "new"})
    removed, added = changed_lines(text, out)
    assert removed == ["    points: {earn_rate: 1, expiry_months: 6}"]
    assert added == ["    description: new", "    points: {earn_rate: 3, expiry_months: 6}"]
    assert out.count("\r\n") == out.count("\n")  # CRLF stays CRLF
    # the blank line and the comment that open the next section stay above it
    out = edited(text, {"customers.ladder.drift_without_contact": 0.1})
    assert "        share: 0.5\r\n    ladder:\r\n        drift_without_contact: 0.1\r\n# the program\r\n" in out


def test_segments_added_and_removed_and_an_instrument_switched_off():
    text = (SCENARIOS / "fashion-tiers-club.yaml").read_text()
    scenario = scenario_io.loads(text)
    two = scenario.customers.model_copy(update={"segments": scenario.customers.segments[:2]})
    data = scenario.model_dump(mode="json")
    data["customers"]["segments"] = [s.model_dump(mode="json") for s in two.segments]
    data["customers"]["segments"][1]["share"] = 0.55
    data["program"]["subscription"] = None
    new = scenario_io.validate(data)
    out = to_yaml(new, text)
    assert scenario_io.loads(out) == new
    removed, added = changed_lines(text, out)
    assert added == ["      share: 0.55"]
    assert "    - name: Premium" in removed and "  subscription:" in removed and "economics:" not in removed


def test_without_an_original_or_with_an_invalid_one_the_short_form_is_written():
    scenario = scenario_io.load(SCENARIOS / "coffee-points-card.yaml")
    assert to_yaml(scenario) == scenario_io.dumps(scenario)
    assert to_yaml(scenario, "customers: [") == scenario_io.dumps(scenario)


def test_a_tools_comment_goes_on_its_line_and_keeps_the_comment_there():
    from simulation.roundtrip import BEFORE, with_comments

    text = (SCENARIOS / "b2b-trade-club.yaml").read_text()
    removed, added = changed_lines(text, with_comments(text, {"customers.acquisition.paid_per_month": "held"}))
    line = "    paid_per_month: 32               # accounts won by the sales team"
    assert removed == [line + ": as many as hold 5,000 steady without the program (lojal hold --customers)"]
    assert added == [removed[0] + "; held"]
    # a tool that changed the value: the line's comment spoke of the old one and goes with it
    _, added = changed_lines(
        text, with_comments(text, {"customers.acquisition.paid_per_month": f"held (was 32{BEFORE})"})
    )
    assert added == [
        "    paid_per_month: 32               # held (was 32: accounts won by the sales team: as many as"
        " hold 5,000 steady without the program (lojal hold --customers))"
    ]
    _, added = changed_lines(text, with_comments(text, {"simulation.seed": f"why (was 1{BEFORE})"}))
    assert added[0].endswith("  # why (was 1)")
    removed, added = changed_lines(text, with_comments(text, {"simulation.seed": "why"}))
    assert len(removed) == 1 and added == [removed[0] + "  # why"]
    assert with_comments(text, {"customers.ladder.drift_without_contact": "x"}) == text  # (a field the file leaves out)
    # comment lines after the value sit in the value's comment token: left alone rather than lost
    after = "simulation:\n  seed: 7\n  # the seed of the review\n  replications: 4\n"
    assert with_comments(after, {"simulation.seed": "why"}) == after
