"""Scenario files: validation with file:line errors, defaults, overrides, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import simulation
from simulation import ScenarioError, scenario_io
from simulation.schema import json_schema

SCENARIOS = sorted(Path(__file__).resolve().parent.parent.joinpath("scenarios").glob("*.yaml"))

BAD = """\
meta:
  name: Bad one
customers:
  size: 1000
program:
  points:
    earn_rate: -1
"""


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        scenario_io.load(path, overrides)
    return err.value.problems


def test_examples_are_valid():
    assert len(SCENARIOS) >= 8
    for path in SCENARIOS:
        sc = scenario_io.load(path)
        assert sc.meta.name and sc.meta.description


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_example_names_its_industry_and_the_sources_of_its_numbers(path):
    """The library groups by industry; a reader of the file finds where its numbers come from."""
    sc = scenario_io.load(path)
    assert sc.meta.industry is not None, f"{path.name}: meta.industry is not set"
    comments = [line for line in path.read_text().splitlines() if line.lstrip().startswith("#")]
    assert any("Sources of the numbers" in line for line in comments), f"{path.name}: no sources comment"
    assert "Sources in the file's comments" in sc.meta.description or "source" in sc.meta.description.lower()


def test_error_names_file_line_field_and_value(tmp_path):
    path = write(tmp_path, BAD)
    (msg,) = problems(path)
    assert msg == f"{path}:7 program.points.earn_rate: input should be greater than or equal to 0 (got -1)"


def test_unknown_key_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, "customers:\n  size: 10\n  segmnets: []\n")
    (msg,) = problems(path)
    assert msg.startswith(f"{path}:3 customers.segmnets: unknown field")


def test_list_items_and_model_rules_point_at_the_item(tmp_path):
    text = "customers:\n  segments:\n    - name: A\n      share: 0.5\n    - name: B\n      share: 0.2\n"
    (msg,) = problems(write(tmp_path, text))
    assert "customers" in msg and "shares must sum to 1 (got 0.7)" in msg
    text = "customers:\n  segments:\n    - name: A\n      share: 1\n      basket_value: zero\n"
    (msg,) = problems(write(tmp_path, text))
    assert msg.startswith(f"{tmp_path / 'x.yaml'}:5 customers.segments[0].basket_value:")


def test_several_problems_are_all_reported(tmp_path):
    text = "simulation:\n  horizon_months: 0\n  replications: -3\n"
    found = problems(write(tmp_path, text))
    assert len(found) == 2
    assert any(":2 simulation.horizon_months" in p for p in found)
    assert any(":3 simulation.replications" in p for p in found)


def test_yaml_syntax_error_names_the_line(tmp_path):
    (msg,) = problems(write(tmp_path, "meta:\n  name: [unclosed\ncustomers: {}\n"))
    assert msg.startswith(str(tmp_path / "x.yaml")) and "not valid YAML" in msg


@pytest.mark.parametrize("text", ["- a list\n- not a mapping\n", "just text\n"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    (msg,) = problems(write(tmp_path, text))
    assert "must be a mapping" in msg


def test_missing_file_and_duplicate_keys(tmp_path):
    (msg,) = problems(tmp_path / "nope.yaml")
    assert "no such file" in msg
    (msg,) = problems(write(tmp_path, "meta:\n  name: a\n  name: b\n"))
    assert "not valid YAML" in msg


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]  # 10**9 values
    path = write(tmp_path, "\n".join(lines) + "\nmeta: {name: *a8}\n")
    (msg,) = problems(path)
    assert msg == f"{path}: the scenario is too large: more than 100,000 values (YAML aliases expanded)"


def test_left_out_fields_take_documented_defaults(tmp_path):
    sc = scenario_io.load(write(tmp_path, "program:\n  points: {}\n"))
    defaults = simulation.schema.Points()
    assert sc.program.points == defaults
    assert sc.customers.size == simulation.schema.Customers.model_fields["size"].default
    assert sc.program.tiers is None


def test_overrides_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, "program:\n  points: {}\n")
    sc = scenario_io.load(path, ["program.points.earn_rate=2", "customers.size=1000000"])
    assert sc.program.points.earn_rate == 2.0 and sc.customers.size == 1_000_000
    sc = scenario_io.load(path, ["program.tiers.review_every_months=6"])  # creates the block
    assert sc.program.tiers.review_every_months == 6
    (msg,) = problems(path, ["program.points.earn_rate=-5"])
    assert "program.points.earn_rate" in msg and "(got -5)" in msg
    (msg,) = problems(path, ["program.points.earn_rat=2"])
    assert "program.points.earn_rat: unknown field (did you mean `earn_rate`?" in msg
    assert "the fields here are enabled, earn_rate," in msg  # the points block's own fields, from the schema
    with pytest.raises(ScenarioError) as err:  # inside a list item
        scenario_io.loads("customers:\n  segments:\n    - name: a\n      shar: 1\n", "seg.yaml")
    assert "seg.yaml:4 customers.segments[0].shar: unknown field (did you mean `share`?" in err.value.problems[0]
    (msg,) = problems(path, ["nonsense"])
    assert "expected FIELD=VALUE" in msg
    (msg,) = problems(path, ["customers.segments.3.share=0.5"])
    assert "does not exist" in msg


def test_a_bad_override_is_named_as_the_place_of_its_problem(tmp_path):
    path = write(tmp_path, "meta:\n  name: x\nprogram:\n  points:\n    earn_rate: 1\n")
    (msg,) = problems(path, ["program.points.earn_rate=-5"])  # a field the file has
    assert msg.startswith("--set program.points.earn_rate=-5 program.points.earn_rate:")
    (msg,) = problems(path, ["program.points.typo=1"])  # a new key in a section of the file
    assert msg.startswith("--set program.points.typo=1 program.points.typo: unknown field")
    (msg,) = problems(path, ["nonsense.x=1"])  # a new section (this was a traceback once)
    assert msg.startswith("--set nonsense.x=1 nonsense: unknown field")
    (msg,) = problems(path, ["program.points.earn_rate=2", "meta.name="])  # the file's own problems keep their line
    assert msg.startswith("--set meta.name= meta.name:")
    bad = write(tmp_path, "customers:\n  size: 0\n", name="bad.yaml")
    (msg,) = problems(bad, ["program.points.earn_rate=2"])
    assert msg.startswith(f"{bad}:2 customers.size:")


def test_override_function_returns_validated_copy():
    base = simulation.validate({})
    changed = simulation.override(base, {"customers.size": 500, "program.points.earn_rate": 3})
    assert changed.customers.size == 500 and changed.program.points.earn_rate == 3
    assert base.customers.size != 500


def test_dump_round_trip_keeps_everything():
    for path in SCENARIOS:
        sc = scenario_io.load(path)
        assert scenario_io.loads(scenario_io.dumps(sc)) == sc
        assert scenario_io.loads(scenario_io.dumps(sc, full=True)) == sc


def test_json_schema_describes_every_section_and_forbids_extras():
    schema = json_schema()
    assert set(schema["properties"]) == {"meta", "customers", "program", "economics", "simulation", "uncertainty", "pilot", "phases"}
    points = schema["$defs"]["Points"]
    assert points["additionalProperties"] is False
    earn = points["properties"]["earn_rate"]
    assert earn["minimum"] == 0 and earn["unit"] and earn["description"]
    json.dumps(schema)


def test_tier_rules():
    with pytest.raises(ScenarioError, match="strictly ascending"):
        simulation.validate({"program": {"tiers": {"tiers": [{"name": "A"}, {"name": "B", "threshold": 0}]}}})
    with pytest.raises(ScenarioError, match="needs the points instrument"):
        simulation.validate({"program": {"tiers": {"qualifying_metric": "points"}}})


def test_nps_counts_set_the_initial_ladder():
    seg = simulation.schema.Segment(initial_nps_counts=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10])
    shares = seg.ladder_shares()
    assert shares[0] == pytest.approx(3 / 20) and shares[5] == pytest.approx(10 / 20)
    with pytest.raises(ValueError):
        simulation.schema.Segment(initial_nps_counts=[1] * 11, initial_ladder=simulation.schema.DEFAULT_INITIAL_LADDER)
