"""The levers a sweep or a search moves, checked against the schema.

`--vary PATH=LOW:HIGH:STEPS` (a grid: STEPS evenly spaced values from LOW to HIGH) and
`--tune PATH=LOW:HIGH` (a range for the optimiser) name a numeric field of the scenario by
its dotted path, with list items by number (`program.tiers.tiers.1.threshold`). A path that
is not a number field, a range outside the field's bounds or a block the scenario does not
have is a clear error naming the option and the field.
"""

from __future__ import annotations

import itertools
import math
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from .scenario_io import ScenarioError, override
from .schema import Scenario, field_info
from .uncertainty import _strip_optional

MAX_DESIGNS = 100_000  # a grid larger than this is a typo, not a plan


@dataclass(frozen=True)
class Lever:
    """One field a sweep or a search moves: over `steps` grid values, or (steps 0) a range."""

    path: str
    low: float
    high: float
    steps: int = 0
    integer: bool = False  # the field holds whole numbers: values are rounded

    def values(self) -> list[float]:
        """The grid values, low to high (rounded to whole numbers for an integer field)."""
        grid = np.linspace(self.low, self.high, self.steps) if self.steps > 1 else np.array([self.low])
        values = [round(float(v)) if self.integer else float(v) for v in grid]
        return list(dict.fromkeys(values))

    def value(self, unit: float) -> float:
        """The value a fraction `unit` (0..1) of the way from low to high (the optimiser's)."""
        v = self.low + unit * (self.high - self.low)
        return round(v) if self.integer else v

    @property
    def label(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def _option(kind: str, text: str) -> str:
    return f"--{kind} {text}"


def parse_vary(text: str, scenario: Scenario) -> Lever:
    """`PATH=LOW:HIGH:STEPS` as a checked lever."""
    return _parse("vary", text, scenario, parts=3, form="PATH=LOW:HIGH:STEPS, e.g. program.points.earn_rate=0.5:2:4")


def parse_tune(text: str, scenario: Scenario) -> Lever:
    """`PATH=LOW:HIGH` as a checked lever."""
    return _parse("tune", text, scenario, parts=2, form="PATH=LOW:HIGH, e.g. program.points.earn_rate=0.5:2")


def _parse(kind: str, text: str, scenario: Scenario, parts: int, form: str) -> Lever:
    path, sep, spec = text.partition("=")
    fields = spec.split(":")
    if not sep or not path.strip() or len(fields) != parts:
        raise ScenarioError([f"{_option(kind, text)}: expected {form}"])
    try:
        low, high = float(fields[0]), float(fields[1])
        steps = int(fields[2]) if parts == 3 else 0
    except ValueError:
        raise ScenarioError([f"{_option(kind, text)}: LOW and HIGH must be numbers and STEPS a whole number"]) from None
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ScenarioError([f"{_option(kind, text)}: LOW must be a number at most HIGH"])
    if parts == 3 and steps < 1:
        raise ScenarioError([f"{_option(kind, text)}: STEPS must be at least 1"])
    path = path.strip()
    problem, integer = check_path(path, low, high, scenario)
    if problem:
        raise ScenarioError([f"{_option(kind, text)}: {path}: {problem}"])
    return Lever(path, low, high, steps, integer)


def _fields(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def check_path(path: str, low: float, high: float, scenario: Scenario) -> tuple[str | None, bool]:
    """(what is wrong with moving `path` over low..high in this scenario or None, whether the
    field holds whole numbers)."""
    found = field_of(path, scenario)
    if isinstance(found, str):
        return found, False
    model, name, annotation = found
    return _bounds_problem(model, name, low, high), annotation is int


def field_of(path: str, scenario: Scenario) -> tuple[type[BaseModel], str, type] | str:
    """(model, field name, int or float) of a number field the scenario has at `path`, or what is wrong."""
    model: type[BaseModel] = Scenario
    obj: Any = scenario
    parts = path.split(".")
    if parts[0] in ("meta", "simulation", "uncertainty"):
        return f"`{parts[0]}` settings are not design levers"
    i = 0
    while i < len(parts):
        name = parts[i]
        if name not in model.model_fields:
            where = ".".join(parts[:i]) or "the scenario"
            return f"not a field ({where} has: {_fields(model)})"
        annotation = _strip_optional(model.model_fields[name].annotation)
        obj = getattr(obj, name) if obj is not None else None
        last = i == len(parts) - 1
        if typing.get_origin(annotation) is list:
            if last or not parts[i + 1].isdigit():
                return f"`{name}` is a list: name an item by number, e.g. {path}.0.<field>"
            index = int(parts[i + 1])
            if obj is None or index >= len(obj):
                return f"the scenario has no item {index} in `{name}`"
            obj, annotation = obj[index], typing.get_args(annotation)[0]
            i += 1
            last = i == len(parts) - 1
        if last:
            if annotation not in (int, float):
                return "not a number field (only numbers can be varied)"
            return model, name, annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return f"`{name}` has no fields below it"
        if obj is None:
            return f"the scenario has no `{'.'.join(parts[: i + 1])}` block (add it to the file first)"
        model = annotation
        i += 1
    return "not a field of the scenario"


def bounds(path: str, scenario: Scenario) -> tuple[float, float]:
    """The lowest and highest value the schema allows at `path` (a number field)."""
    model, name, _ = field_of(path, scenario)  # type: ignore[misc]  (a checked path)
    info = field_info(model, name)
    return info.get("ge", info.get("gt", -math.inf)), info.get("le", info.get("lt", math.inf))


def _bounds_problem(model: type[BaseModel], name: str, low: float, high: float) -> str | None:
    info = field_info(model, name)
    checks = (("ge", low >= info.get("ge", -math.inf), ">=", "LOW"), ("gt", low > info.get("gt", -math.inf), ">", "LOW"),
              ("le", high <= info.get("le", math.inf), "<=", "HIGH"), ("lt", high < info.get("lt", math.inf), "<", "HIGH"))  # fmt: skip
    for key, ok, word, end in checks:
        if key in info and not ok:
            return f"{end} must be {word} {info[key]} (the field's bounds)"
    return None


def grid(levers: list[Lever]) -> list[dict[str, float]]:
    """Every combination of the levers' values: one design per combination, the first lever
    varying slowest."""
    size = math.prod(len(lever.values()) for lever in levers)
    if size > MAX_DESIGNS:
        raise ScenarioError([f"--vary: {size:,} designs is more than {MAX_DESIGNS:,}; use fewer STEPS"])
    return [
        dict(zip([lever.path for lever in levers], combo, strict=True))
        for combo in itertools.product(*(lever.values() for lever in levers))
    ]


def design(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the levers set (validated: a combination the schema refuses is an error)."""
    return override(scenario, values)
