"""Reading, overriding and writing scenario files.

ruamel.yaml keeps the line of every key, so a validation error can say
`scenarios/x.yaml:14 program.points.earn_rate: must be >= 0 (got -1)`.
"""

from __future__ import annotations

import difflib
import io
import re
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .schema import Scenario


class ScenarioError(Exception):
    """Invalid scenario input; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


# A scenario has a few hundred values. YAML aliases can make a small file stand for an
# enormous one (`a: &a [*b, *b, ...]`, the "billion laughs"): past this many values, stop.
MAX_VALUES = 100_000


def _plain(node: Any, budget: list[int] | None = None) -> Any:
    """ruamel's commented containers to plain dicts and lists (at most MAX_VALUES values)."""
    budget = [MAX_VALUES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise ScenarioError([f"the scenario is too large: more than {MAX_VALUES:,} values (YAML aliases expanded)"])
    if isinstance(node, dict):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget) for v in node]
    return node


def _locate(root: Any, loc: Iterable[Any]) -> tuple[int | None, bool]:
    """The 1-based line of the deepest key on `loc` that exists in the parsed YAML, and whether
    every key on `loc` stands in the file (False when --set added one or it is missing)."""
    node, line, in_file = root, None, True
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            pos = _key_position(node, part)
            in_file = in_file and pos is not None
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            pos = node.lc.item(part)
        else:
            in_file = in_file and not isinstance(node, (CommentedMap, CommentedSeq))
            break
        line = pos[0] + 1 if pos else line
        node = node[part]
    if line is None and isinstance(root, CommentedMap) and root.lc.line is not None:
        line = root.lc.line + 1
    return line, in_file


def _key_position(node: CommentedMap, key: Any) -> tuple[int, int] | None:
    """Where a key stands in the file; None for a key that --set added (ruamel has no mark for it)."""
    try:
        return node.lc.key(key)
    except KeyError:
        return None


def _message(err: dict[str, Any], loc: list[Any] | None = None) -> str:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "extra_forbidden":
        return _unknown_field(loc or [])
    if kind == "missing":
        return "required field is missing"
    msg = msg.removeprefix("Value error, ")
    msg = msg[0].lower() + msg[1:] if msg else msg
    if kind.startswith(("greater", "less", "literal", "int_", "float_", "bool_", "string_", "too_")):
        return f"{msg} (got {value!r})"
    return msg


def _unknown_field(loc: list[Any]) -> str:
    """Which field was probably meant, and which fields the place has (read from the schema)."""
    known = _fields_at(loc[:-1])
    if not known:
        return (
            "unknown field (check the spelling; the scenario reference, docs/scenario-reference.md, lists every field)"
        )
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"unknown field ({hint}the fields here are {', '.join(known)}; the scenario reference, docs/scenario-reference.md, lists every field)"


def _fields_at(loc: list[Any]) -> list[str]:
    """The field names of the schema block at `loc` (list items and dict keys stepped over); [] if unknown."""
    model, keyed = Scenario, False
    for part in loc:
        if keyed or isinstance(part, int):
            keyed = False
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        model, keyed = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The pydantic model inside `X | None`, `list[X]` or `dict[str, X]` (True: a dict, keyed by name)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = typing.get_args(annotation)
    is_dict = typing.get_origin(annotation) is dict
    for arg in args[1:] if is_dict else args:
        found = _model_in(arg)
        if found is not None:
            return found[0], is_dict or found[1]
    return None


def _dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def format_validation_error(
    exc: ValidationError, source: str, root: Any = None, overrides: dict[str, str] | None = None
) -> list[str]:
    """One line per problem: `file:line field.path: what is wrong`; a problem in a field that
    a --set override wrote names that override instead of a line of the file."""
    problems = []
    for err in exc.errors():
        # pydantic appends the union member's name to the path of `X | None` fields; drop it
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper())]
        if not loc:  # a check across sections names its field first: `pilot.segments: ...`
            loc, err = _named_in_message(err)
        line, in_file = _locate(root, loc)
        override = _override_of(_dotted(loc), overrides or {}, in_file)
        if override is not None:
            where = f"--set {override}"
        else:
            where = f"{source}:{line}" if line else source
        problems.append(f"{where} {_dotted(loc)}: {_message(err, loc)}")
    return problems


_NAMED = re.compile(r"^(?:Value error, )?([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): (.*)$", re.S)


def _named_in_message(err: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The field path a model-level check's message starts with, and the message without it."""
    found = _NAMED.match(err["msg"])
    if not found:
        return [], err
    loc = [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", found.group(1)) if p]
    return loc, {**err, "msg": found.group(2)}


def _override_of(path: str, overrides: dict[str, str], in_file: bool) -> str | None:
    """The --set item that wrote `path` or a section holding it, or (for a section the file
    does not have) one it created; the last such item wins."""
    found = None
    for target, item in overrides.items():
        if path == target or path.startswith(target + ".") or path.startswith(target + "["):
            found = item
        elif not in_file and target.startswith(path + "."):
            found = item
    return found


def parse_yaml(text: str, source: str) -> Any:
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError([f"{source}{line}: not valid YAML: {exc.problem or exc.context}"]) from None
    except Exception as exc:  # ruamel raises a few non-marked errors (duplicate keys, bad bytes)
        raise ScenarioError([f"{source}: not valid YAML: {exc}"]) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{source}:1: a scenario file must be a mapping of sections (meta, customers, program, ...)"]
        )
    return data


def validate(
    data: Any, source: str = "<scenario>", root: Any = None, overrides: dict[str, str] | None = None
) -> Scenario:
    try:
        plain = _plain(data)
    except (ScenarioError, RecursionError) as exc:
        problem = exc.problems[0] if isinstance(exc, ScenarioError) else "the scenario is nested too deeply"
        raise ScenarioError([f"{source}: {problem}"]) from None
    try:
        return Scenario.model_validate(plain)
    except ValidationError as exc:
        root = root if root is not None else data
        raise ScenarioError(format_validation_error(exc, source, root, overrides)) from None


def loads(text: str, source: str = "<scenario>", overrides: Sequence[str] = ()) -> Scenario:
    data = parse_yaml(text, source)
    return validate(data, source, overrides=apply_overrides(data, overrides))


def read_text(path: str | Path) -> str:
    """The text of a scenario file (a ScenarioError naming the file if it cannot be read)."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")  # line ends as they are: a save must give the same bytes
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read the file ({exc})"]) from None


def load(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override and validate one scenario file."""
    return loads(read_text(path), str(path), overrides)


def _parse_value(text: str) -> Any:
    try:
        return _plain(_yaml().load(text))
    except Exception:
        return text


def apply_overrides(data: dict, overrides: Sequence[str]) -> dict[str, str]:
    """Apply `path.to.field=value` overrides in place; the value is read as YAML.
    Returns the dotted path each override wrote, with its item (for error messages)."""
    written: dict[str, str] = {}
    for item in overrides:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise ScenarioError([f"--set {item}: expected FIELD=VALUE, e.g. program.points.earn_rate=2"])
        parts = [int(p) if p.isdigit() else p for p in path.strip().split(".")]
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = node[part] if _has(node, part) else None
            if nxt is None:
                if isinstance(part, int):
                    raise ScenarioError([f"--set {item}: {_dotted(parts[: i + 1])} does not exist"])
                nxt = CommentedMap()
                node[part] = nxt
            node = nxt
            if not isinstance(node, (dict, list)):
                raise ScenarioError([f"--set {item}: {_dotted(parts[: i + 1])} is not a section"])
        last = parts[-1]
        if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
            raise ScenarioError([f"--set {item}: {_dotted(parts)} does not exist"])
        node[last] = _parse_value(raw)
        written[_dotted(parts)] = item.strip()
    return written


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def override(scenario: Scenario, overrides: Sequence[str] | dict[str, Any]) -> Scenario:
    """A validated copy of `scenario` with dotted-path overrides applied."""
    if isinstance(overrides, dict):
        overrides = [f"{k}={_yaml_scalar(v)}" for k, v in overrides.items()]
    data = scenario.model_dump(mode="json")
    return validate(data, "--set", overrides=apply_overrides(data, overrides))


def value_at(scenario: Scenario, path: str) -> Any:
    """The value at a dotted path (`program.points.earn_rate`, list items by number), as `override` writes it."""
    obj: Any = scenario
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def _yaml_scalar(value: Any) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(value, buf)
    return buf.getvalue().strip().removesuffix("...").strip()


def dumps(scenario: Scenario, full: bool = False) -> str:
    """YAML text of a scenario; only what differs from the defaults unless `full`."""
    data = scenario.model_dump(mode="json", exclude_defaults=not full)
    # keep meta.name and the seed so a saved file is self-describing and reproducible
    data.setdefault("meta", {})["name"] = scenario.meta.name
    data.setdefault("meta", {})["schema_version"] = scenario.meta.schema_version
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.dump(_ordered(data), buf)
    return buf.getvalue()


def _ordered(data: dict) -> dict:
    """The sections in schema order; an empty one left out unless it is an optional block that
    is there (`pilot: {}` switches the pilot on with its defaults)."""
    optional = {name for name, f in Scenario.model_fields.items() if not f.is_required() and f.default is None}
    return {k: data[k] for k in Scenario.model_fields if k in data and (data[k] != {} or k in optional)}


def to_yaml(scenario: Scenario, original: str | None = None) -> str:
    """The YAML text of a scenario. Given `original` (the text it was opened from), that text
    with only the changed values rewritten, so a review diff shows the edits alone; without
    it (or when it is not a valid scenario), the short form of `dumps`."""
    from .roundtrip import update_text

    text = update_text(original, scenario) if original else None
    return dumps(scenario) if text is None else text
