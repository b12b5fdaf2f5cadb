"""The response suite: every lever moves what it should, in the right direction, and nothing else.

The rows come from docs/model.md section 12.1 (one table, read here, so the documented
expectation and the test cannot drift apart). Each lever is pulled from
tests/data/response-base.yaml on the same customers and seed; the paired differences per
replication give the tolerance (2.5 standard errors), not a tuned number; a size band says
the order of magnitude the mechanism's equations give.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Union, get_args, get_origin

import numpy as np
import pytest

from simulation import Scenario, load, run

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "tests" / "data" / "response-base.yaml"
SECTION = "### 12.1 How each lever moves the results"
ROW = re.compile(r"^\|\s*`(program\.[a-z_\[\].]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|")
SE_MULTIPLE = 2.5


def lever_rows() -> list[tuple[str, str, str]]:
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :].split("\n## ", 1)[0]
    return [m.groups() for line in section.splitlines() if (m := ROW.match(line))]


def program_fields(model=None, prefix="program") -> list[str]:
    """Every field path under `program` (list items as `[]`, per-level tables as one field)."""
    from pydantic import BaseModel

    from simulation.schema import LevelValues, Program

    model = model or Program
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        inner = info.annotation
        if get_origin(inner) in (Union, UnionType):  # an optional block
            inner = next(a for a in get_args(inner) if a is not type(None))
        item = get_args(inner)[0] if get_origin(inner) is list else None
        if isinstance(item, type) and issubclass(item, BaseModel):
            out += program_fields(item, path + "[]")
        elif isinstance(inner, type) and issubclass(inner, BaseModel) and not issubclass(inner, LevelValues):
            out += program_fields(inner, path)
        else:
            out.append(path)
    return out


def _change(value, how: str):
    if how.startswith("x"):
        factor = float(how[1:])
        if isinstance(value, dict):  # a per-level table of probabilities
            return {k: min(1.0, v * factor) for k, v in value.items()}
        return type(value)(value * factor)
    text = how[1:]
    if text in ("true", "false"):
        return text == "true"
    try:
        return type(value)(float(text)) if isinstance(value, (int, float)) else text
    except ValueError:
        return text


def base_for(path: str) -> Scenario:
    """The base design, with the lever's instrument switched on at its defaults if the base
    does not have it (the instruments added after the base was set: section 12.1 measures
    each of them against the base plus itself)."""
    base = load(BASE)
    key = path.split(".")[1]
    if key in type(base.program).model_fields and getattr(base.program, key) is None:
        data = base.model_dump(mode="json")
        data["program"][key] = {}
        return Scenario.model_validate(data)
    return base


def pulled(path: str, how: str) -> Scenario:
    data = base_for(path).model_dump(mode="json")
    parts = path.split(".")

    def apply(node, parts):
        head, rest = parts[0], parts[1:]
        if head.endswith("[]"):
            for item in node[head[:-2]]:
                apply(item, rest)
        elif rest:
            apply(node[head], rest)
        else:
            node[head] = _change(node[head], how)

    apply(data, parts)
    if path.endswith("tiers[].name"):  # names must stay unique
        for i, tier in enumerate(data["program"]["tiers"]["tiers"]):
            tier["name"] = f"{tier['name']} {i}"
    return Scenario.model_validate(data)


@cache
def per_replication(scenario_json: str):
    res = run(Scenario.model_validate_json(scenario_json))
    return res.replications.pivot_table(index="replication", columns=["metric", "arm"], values="value")


def values(scenario: Scenario):
    return per_replication(scenario.model_dump_json())


def test_every_program_field_has_a_row():
    documented = {path for path, _, _ in lever_rows()}
    missing = [f for f in program_fields() if f not in documented]
    assert not missing, f"docs/model.md section 12.1 has no row for: {missing}"
    unknown = documented - set(program_fields())
    assert not unknown, f"section 12.1 names fields the schema does not have: {sorted(unknown)}"


@pytest.mark.parametrize("path, how, moves", lever_rows(), ids=[r[0] + " " + r[1] for r in lever_rows()])
def test_lever(path, how, moves):
    base = values(base_for(path))
    changed = values(pulled(path, how))
    # the baseline arm is the same customers without the program: identical up to the
    # round-off of sums over a wider array (the program arm may bring more customers)
    baseline = [c for c in base.columns if c[1] == "baseline" and c in changed.columns]
    assert np.allclose(changed[baseline], base[baseline], rtol=1e-9, atol=1e-9, equal_nan=True), (
        f"{path} {how} moved the baseline arm"
    )
    for expectation in (e.strip() for e in moves.split(",")):
        metric, rule = expectation.split(" ", 1)
        check(f"{path} {how}", metric, rule, base, changed)


def check(lever: str, metric: str, rule: str, base, changed) -> None:
    """One expectation of section 12.1 on the paired replications; AssertionError if it fails."""
    before = base[(metric, "program")]
    after = changed[(metric, "program")] if (metric, "program") in changed.columns else 0.0  # instrument off
    d = (after - before).to_numpy()
    mean, se, level = d.mean(), d.std(ddof=1) / np.sqrt(len(d)), abs(before.mean())
    shown = f"{lever}: {metric} changed by {mean:+.4g} (se {se:.2g}, base {before.mean():.4g})"
    if rule.startswith(("up", "down")):
        sign = 1.0 if rule.startswith("up") else -1.0
        assert sign * mean > 0 and sign * mean > SE_MULTIPLE * se, shown
        if band := re.fullmatch(r"(?:up|down) ([\d.]+)-([\d.]+) %", rule):
            low, high = (float(x) for x in band.groups())
            change = 100.0 * sign * mean / level
            assert low <= change <= high, f"{shown}: {change:.3g} % outside {low:g}-{high:g} %"
    elif rule == "same":
        assert np.allclose(d, 0.0, atol=1e-9 * level + 1e-12), shown
    elif rule.startswith("within"):
        assert abs(mean) <= float(rule.split()[1]) / 100 * level, shown
    else:
        raise AssertionError(f"unknown rule {rule!r} in section 12.1")


def test_the_rules_can_fail():
    """Each rule rejects what it should: a wrong direction, a wrong size, a lever with no
    effect claimed to move, a moved figure claimed the same, an unknown rule."""
    base = values(load(BASE))
    doubled = values(pulled("program.points.earn_rate", "x2"))
    renamed = values(pulled("program.tiers.tiers[].name", "=Renamed"))
    for metric, rule, changed in (
        ("purchases", "down", doubled),
        ("points_issued", "up 10-50 %", doubled),
        ("purchases", "up", renamed),
        ("points_issued", "same", doubled),
        ("purchases", "within 0.01 %", doubled),
        ("purchases", "sideways", doubled),
    ):
        with pytest.raises(AssertionError):
            check("test", metric, rule, base, changed)
    check("test", "points_issued", "up 80-130 %", base, doubled)  # and accepts what is right
