"""The docs cannot go stale: the scenario reference and model.md's parameter tables follow the schema.

- docs/scenario-reference.md must equal what docs/gen_reference.py generates now;
- every parameter of the schema (outside `meta`) must have a row in a parameter table of
  docs/model.md, and the default in that row must be the schema's default;
- every schema-like path quoted in docs/model.md must exist in the schema (renamed or
  removed fields show up here).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from simulation import Scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SECTIONS = tuple(Scenario.model_fields)  # every top-level section of the schema


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
MODEL_MD = (DOCS / "model.md").read_text(encoding="utf-8")
ENTRIES = gen.entries()
ALL_PATHS = {e.path for e in ENTRIES}


def _parameter_rows(text: str) -> dict[str, str]:
    """`| `path` | default | ...` rows of the markdown tables: path -> default cell."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*`([a-z_\[\].]+)`\s*\|\s*([^|]*?)\s*\|", line)
        if m and m.group(1).split(".")[0] in SECTIONS:
            # the first row of a path is its parameter table's; later tables (the lever
            # responses of section 12.1) quote the path in their first column too
            rows.setdefault(m.group(1), m.group(2))
    return rows


def _documented_parameters() -> list:
    """What model.md must document: every value and per-level field outside `meta`
    (the six level entries of a per-level field are covered by its row)."""
    return [e for e in ENTRIES if e.kind in ("value", "levels") and not e.path.startswith("meta.")]


def test_reference_is_up_to_date():
    committed = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == gen.render(), "docs/scenario-reference.md is stale: run `python docs/gen_reference.py`"


def test_reference_lists_every_field():
    text = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    missing = [path for path in ALL_PATHS if f"`{path}`" not in text]
    assert not missing, f"fields missing from the reference: {missing}"


def test_every_parameter_has_a_row_in_model_md_with_its_default():
    rows = _parameter_rows(MODEL_MD)
    missing = [e.path for e in _documented_parameters() if e.path not in rows]
    assert not missing, f"docs/model.md has no parameter-table row for: {missing}"
    wrong = {
        e.path: (rows[e.path], gen.fmt_value(e.default))
        for e in _documented_parameters()
        if rows[e.path] != gen.fmt_value(e.default)
    }
    assert not wrong, (
        f"docs/model.md shows stale defaults (documented, schema); update the row and its source note: {wrong}"
    )


def test_paths_quoted_in_model_md_exist():
    quoted = set(re.findall(r"`((?:" + "|".join(SECTIONS) + r")\.[a-z_\[\].]+)`", MODEL_MD))
    unknown = sorted(p for p in quoted if p not in ALL_PATHS)
    assert not unknown, f"docs/model.md names fields the schema does not have: {unknown}"


def test_the_checks_can_fail():
    """The row parser and the comparison catch a stale default and a missing row."""
    entry = next(e for e in ENTRIES if e.path == "customers.ladder.churn_per_month")
    good = f"| `{entry.path}` | {gen.fmt_value(entry.default)} | x | y |"
    assert _parameter_rows(good)[entry.path] == gen.fmt_value(entry.default)
    stale = good.replace("0.004", "0.005")
    assert _parameter_rows(stale)[entry.path] != gen.fmt_value(entry.default)
    assert entry.path not in _parameter_rows(MODEL_MD.replace(f"| `{entry.path}` |", "| churn |"))
    assert "program.points.earn_rat" not in ALL_PATHS


@pytest.mark.parametrize(
    "value, text", [(0.025, "0.025"), (1500.0, "1500"), (True, "true"), (None, "not set"), ("kr", '"kr"')]
)
def test_default_formatting(value, text):
    assert gen.fmt_value(value) == text
