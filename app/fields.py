"""Fields of a scenario dict addressed by dotted path (`customers.segments[0].share`), and checking.

The editor works on the scenario as a plain dict (what `model_dump(mode="json")` gives)
so that a half-typed invalid value is kept, explained, and never lost. No Streamlit here.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from simulation.scenario_io import ScenarioError, validate
from simulation.schema import LevelValues, Scenario

SOURCE = "scenario"
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PROBLEM = re.compile(rf"^{SOURCE}(?::\d+)? (?P<path>\S+): (?P<message>.*)$", re.S)
TOP = ""  # problems that belong to no single field


def parse(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _PART.findall(path)]


def join(*parts: str | int) -> str:
    out = ""
    for part in parts:
        if part == "":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def get_in(data: Any, path: str, default: Any = None) -> Any:
    node = data
    for part in parse(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def set_in(data: dict, path: str, value: Any) -> None:
    """Set a value, creating missing sections on the way."""
    parts = parse(path)
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, dict) and node.get(part) is None:
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def is_field_key(key: Any) -> bool:
    """Widget keys are field paths; they start with a top-level section of the scenario."""
    return isinstance(key, str) and bool(parse(key)) and parse(key)[0] in Scenario.model_fields


# --------------------------------------------------------------------------- reading the schema
@dataclass(frozen=True)
class Kind:
    name: str  # bool, choice, int, float, str, levels, model, table, vector, mapping
    inner: Any = None  # the model / level class / item type / choices
    optional: bool = False


def kind_of(annotation: Any) -> Kind:
    optional = False
    if get_origin(annotation) in (types.UnionType, typing.Union):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        annotation = args[0]
    if get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if annotation is bool:
        return Kind("bool", optional=optional)
    if get_origin(annotation) is Literal:
        return Kind("choice", get_args(annotation), optional)
    if annotation in (int, float, str):
        return Kind(annotation.__name__, optional=optional)
    if isinstance(annotation, type) and issubclass(annotation, LevelValues):
        return Kind("levels", annotation, optional)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Kind("model", annotation, optional)
    if get_origin(annotation) is dict:  # uncertainty.parameters: kept in the file, not edited here
        return Kind("mapping", get_args(annotation)[1], optional)
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        if get_origin(item) is typing.Annotated:
            item = get_args(item)[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            return Kind("table", item, optional)
        return Kind("vector", item, optional)
    raise TypeError(f"no widget for {annotation!r}")


def model_at(path: str, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class of the block at `path` (list indices step into the item model)."""
    model: Any = root
    for part in parse(path):
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        kind = kind_of(model.model_fields[part].annotation)
        model = kind.inner if kind.name in ("model", "table", "levels") else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def fields_by_kind(model: type[BaseModel]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        out.setdefault(kind_of(info.annotation).name, []).append(name)
    return out


def check(data: dict) -> tuple[Scenario | None, dict[str, list[str]]]:
    """The validated scenario (or None) and the problems by field path (`TOP` for the rest)."""
    try:
        return validate(data, SOURCE), {}
    except ScenarioError as exc:
        problems: dict[str, list[str]] = {}
        for line in exc.problems:
            match = _PROBLEM.match(line)
            path, message = (match["path"], match["message"]) if match else (TOP, line)
            if path == "(top level)":
                path = TOP
            path, message = _route(path, message)
            problems.setdefault(path, []).append(message)
        return None, problems


def under(problems: dict[str, list[str]], path: str) -> list[tuple[str, str]]:
    """Problems at `path` or inside it, as (path, message)."""
    out = []
    for where, messages in problems.items():
        if where == path or where.startswith(path + ".") or where.startswith(path + "["):
            out.extend((where, m) for m in messages)
    return out


def _route(path: str, message: str) -> tuple[str, str]:
    """A block-level message about one of its fields (`segments: shares must sum to 1`) goes to that field."""
    head, sep, rest = message.partition(": ")
    model = model_at(path, Scenario) if path else Scenario
    if sep and model is not None and head in model.model_fields:
        return join(path, head) if path else head, rest
    return path, message
