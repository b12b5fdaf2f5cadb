"""Generate docs/scenario-reference.md from the scenario schema (simulation/schema.py), and
the generated tables of docs/model.md (the month's plan, the lever table of section 12.1,
the sampled assumptions of section 11.1) from the instrument registry.

    python docs/gen_reference.py            # rewrite docs/scenario-reference.md and those tables
    python docs/gen_reference.py --check    # exit 1 if a committed file is stale

Every section and field of `simulation.schema.Scenario` is walked recursively through
`model_fields`, with label, unit, help text and bounds read by `simulation.schema.field_info`.
Cross-field checks (shares sum to 1, thresholds ascending, ...) are read from the messages
of the models' validators, so they cannot drift from the code either. `tests/test_docs.py`
regenerates the text in memory and compares it with the committed file.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation import instruments, membership, schema, uncertainty  # noqa: E402
from simulation.schema import LEVELS, LevelValues, Scenario, field_info  # noqa: E402

OUTPUT = ROOT / "docs" / "scenario-reference.md"
MODEL = ROOT / "docs" / "model.md"
# the generated tables of docs/model.md, each between its two markers
MODEL_TABLES = {
    "plan": instruments.plan_table,
    "levers": lambda: instruments.lever_table(membership.LEVERS),
    "judgements": uncertainty.registry_table,
}

# Defaults that the schema fills in from a module constant when a field is left out.
DERIVED_DEFAULTS = {
    "customers.segments[].initial_ladder": (
        "DEFAULT_INITIAL_LADDER",
        "used when neither `initial_ladder` nor `initial_nps_counts` is given",
    ),
}


# --------------------------------------------------------------------------- the walk
@dataclass(frozen=True)
class Entry:
    """One field of the schema, at its dotted path (`[]` marks an item of a list)."""

    path: str
    model: type[BaseModel]  # the model that declares the field
    name: str
    info: dict[str, Any]  # from schema.field_info
    default: Any  # the effective default at this path (PydanticUndefined if required)
    kind: str  # "block", "blocks" (list of blocks), "levels" (one value per level), "level", "value"
    depth: int  # nesting below the section of the table it is listed in


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    ann, _ = _strip_optional(annotation)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _list_item(annotation: Any) -> Any | None:
    ann, _ = _strip_optional(annotation)
    if typing.get_origin(ann) is list:
        return typing.get_args(ann)[0]
    return None


def _kind(annotation: Any) -> str:
    model = _model_of(annotation)
    if model is not None:
        return "levels" if issubclass(model, LevelValues) else "block"
    item = _list_item(annotation)
    if item is not None and _model_of(item) is not None:
        return "blocks"
    return "value"


def walk(model: type[BaseModel] = Scenario, prefix: str = "", default: Any = None, depth: int = 0) -> Iterator[Entry]:
    """Every field below `model`, depth first, in declaration order."""
    for name in model.model_fields:
        info = field_info(model, name)
        path = f"{prefix}{name}"
        if default is not None:
            value = getattr(default, name)
        else:
            value = info["default"]
        kind = _kind(info["annotation"])
        yield Entry(path, model, name, info, value, kind, depth)
        if kind == "levels":
            sub = _model_of(info["annotation"])
            for level in LEVELS:
                child = field_info(sub, level)
                level_default = getattr(value, level) if value is not None else None
                yield Entry(f"{path}.{level}", sub, level, child, level_default, "level", depth + 1)
        elif kind == "block":
            yield from walk(_model_of(info["annotation"]), f"{path}.", value, depth + 1)
        elif kind == "blocks":
            yield from walk(_model_of(_list_item(info["annotation"])), f"{path}[].", None, depth + 1)


def entries() -> list[Entry]:
    return list(walk())


# --------------------------------------------------------------------------- formatting
def fmt_number(x: float | int) -> str:
    """Shortest exact text of a number: 0.025, 1500, 1e-05."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def fmt_value(value: Any) -> str:
    """A default as the reference (and docs/model.md's parameter tables) print it."""
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return fmt_number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, LevelValues):
        return " / ".join(fmt_number(v) for v in value.as_tuple())
    if isinstance(value, BaseModel):
        return "block below"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def _flow(value: Any) -> str:
    """A list item in YAML flow style, showing only what differs from the item defaults."""
    if isinstance(value, BaseModel):
        data = value.model_dump(exclude_defaults=True)
        if not data:
            return "{} (all defaults)"
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in data.items()) + "}"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return fmt_number(value)
    return str(value)


def fmt_type(annotation: Any) -> str:
    ann, optional = _strip_optional(annotation)
    text: str
    if typing.get_origin(ann) is Literal:
        text = "choice"
    elif ann is bool:
        text = "boolean"
    elif ann is int:
        text = "integer"
    elif ann is float:
        text = "number"
    elif ann is str:
        text = "text"
    elif isinstance(ann, type) and issubclass(ann, LevelValues):
        text = f"per level ({ann.__name__})"
    elif isinstance(ann, type) and issubclass(ann, BaseModel):
        text = "block"
    elif typing.get_origin(ann) is list:
        item = typing.get_args(ann)[0]
        if _model_of(item) is not None:
            text = "list of blocks"
        else:
            base = typing.get_args(item)[0] if typing.get_origin(item) is typing.Annotated else item
            text = f"list of {fmt_type(base)}s"
    else:
        text = getattr(ann, "__name__", str(ann))
    return f"{text}, optional" if optional else text


def _item_bounds(annotation: Any) -> dict[str, Any]:
    """Bounds on the items of a list field (e.g. `list[Annotated[int, Field(ge=0)]]`)."""
    item = _list_item(annotation)
    out: dict[str, Any] = {}
    if item is not None and typing.get_origin(item) is typing.Annotated:
        for meta in typing.get_args(item)[1:]:
            for sub in getattr(meta, "metadata", [meta]):
                for key in ("ge", "gt", "le", "lt"):
                    if getattr(sub, key, None) is not None:
                        out[key] = getattr(sub, key)
    return out


def _range(bounds: dict[str, Any], what: str = "") -> str:
    lo = (">", bounds["gt"]) if "gt" in bounds else ((">=", bounds["ge"]) if "ge" in bounds else None)
    hi = ("<", bounds["lt"]) if "lt" in bounds else (("<=", bounds["le"]) if "le" in bounds else None)
    sym = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
    lo_sym = {">": "<", ">=": "≤"}
    if lo and hi:
        return f"{fmt_number(lo[1])} {lo_sym[lo[0]]} {what or 'x'} {sym[hi[0]]} {fmt_number(hi[1])}"
    if lo:
        return f"{what or 'x'} {sym[lo[0]]} {fmt_number(lo[1])}" if what else f"{sym[lo[0]]} {fmt_number(lo[1])}"
    if hi:
        return f"{what or 'x'} {sym[hi[0]]} {fmt_number(hi[1])}" if what else f"{sym[hi[0]]} {fmt_number(hi[1])}"
    return ""


def fmt_allowed(entry: Entry) -> str:
    info = entry.info
    ann, _ = _strip_optional(info["annotation"])
    parts: list[str] = []
    if typing.get_origin(ann) is Literal:
        parts.append(", ".join(f"`{c}`" for c in typing.get_args(ann)))
    elif entry.kind == "levels":
        parts.extend(validator_messages(_model_of(ann)))
    number_bounds = {k: info[k] for k in ("ge", "gt", "le", "lt") if k in info}
    if number_bounds:
        parts.append(_range(number_bounds))
    lengths = {k: info[k] for k in ("min_length", "max_length") if k in info}
    if lengths:
        unit = "characters" if ann is str else "items"
        lo, hi = lengths.get("min_length"), lengths.get("max_length")
        if lo is not None and lo == hi:
            parts.append(f"exactly {lo} {unit}")
        elif lo is not None and hi is not None:
            parts.append(f"{lo} to {hi} {unit}")
        elif lo is not None:
            parts.append(f"at least {lo} {'character' if ann is str and lo == 1 else unit if lo != 1 else 'item'}")
        else:
            parts.append(f"at most {hi} {unit}")
    item = _item_bounds(info["annotation"])
    if item:
        parts.append("each " + _range(item))
    return "; ".join(parts)


def validator_messages(model: type[BaseModel] | None) -> list[str]:
    """The rules a model's validators enforce, from their error messages."""
    if model is None:
        return []
    out: list[str] = []
    functions = [d.func for d in model.__pydantic_decorators__.model_validators.values()]
    if issubclass(model, schema.ProgramBase):  # checks across blocks are the instruments' own
        functions += [m.check_program for m in instruments.REGISTRY.values()]
    for func in functions:
        source = inspect.getsource(func)
        for match in re.finditer(r'ValueError\(\s*f?"((?:[^"\\]|\\.)*)"', source):
            text = match.group(1)
            while re.search(r"\{[^{}]*\}", text):
                text = re.sub(r"\{[^{}]*\}", "", text)
            text = re.sub(r"\s*\(got\s*\)", "", text).lstrip(": ").strip()
            if text and text not in out:
                out.append(text)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- the page
HEADER = """\
# Scenario reference

<!-- Generated by docs/gen_reference.py from simulation/schema.py. Do not edit by hand:
     run `python docs/gen_reference.py`; tests/test_docs.py fails when this file is stale. -->

Every section and field of a lojal scenario file, generated from the schema
(`simulation/schema.py`, the single source of truth). What each parameter does in the
model — the equations, and where each default comes from — is in [model.md](model.md).

- **Path** is the field's dotted path, as used by `--set PATH=VALUE` on the command line;
  `[]` marks a field of each item of a list (`customers.segments[].share`), which `--set`
  addresses by position from 0 (`--set customers.segments.0.share=0.6`).
- **Per level** fields take one value for each of the six satisfaction levels, from
  `very_dissatisfied` to `loyal`; their default is listed in that order
  (`0.1 / 0.3 / 0.5 / 1 / 1.6 / 2.5`), and each level is also listed as its own path.
- **Optional** blocks (the program instruments) are absent by default, i.e. switched off;
  when a block is present, its fields take the defaults below. Every instrument block also
  has `enabled`, to switch it off without deleting its settings.
- Unknown keys are errors, so a typo never silently falls back to a default.
"""


def _table(rows: list[Entry]) -> list[str]:
    out = [
        "| Path | Type | Default | Unit | Allowed | Description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in rows:
        info = e.info
        unit = info["unit"]
        help_text = info["help"]
        label = info["label"]
        path = f"`{e.path}`" if e.kind != "level" else f"&nbsp;&nbsp;`{e.path}`"
        if e.path in DERIVED_DEFAULTS:
            const, when = DERIVED_DEFAULTS[e.path]
            help_text += f" Default mix ({when}): {fmt_value(getattr(schema, const))} (`schema.{const}`)."
        description = f"**{label}.** {help_text}" if e.kind != "level" else help_text
        out.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    path,
                    fmt_type(info["annotation"]),
                    fmt_value(e.default),
                    unit,
                    fmt_allowed(e),
                    description,
                )
            )
            + " |"
        )
    return out


def _level_rows_fix(rows: list[Entry], parents: dict[str, Entry]) -> list[Entry]:
    """Level rows: the unit and help are the parent's (a level field itself says 'Value for ...')."""
    fixed = []
    for e in rows:
        if e.kind == "level":
            parent = parents[e.path.rsplit(".", 1)[0]]
            info = {**e.info, "help": f"{parent.info['label']}: {e.info['label'].lower()} customers.", "unit": ""}
            fixed.append(Entry(e.path, e.model, e.name, info, e.default, e.kind, e.depth))
        else:
            fixed.append(e)
    return fixed


def render() -> str:
    all_entries = entries()
    by_path = {e.path: e for e in all_entries}
    # group rows by the block they belong to: a table per block, blocks in walk order
    sections: dict[str, list[Entry]] = {}
    for e in all_entries:
        if e.kind == "level":
            owner = e.path.rsplit(".", 2)[0]
        else:
            owner = e.path.rsplit(".", 1)[0] if "." in e.path else ""
        sections.setdefault(owner, []).append(e)
        if e.kind in ("block", "blocks"):
            sections.setdefault(e.path + ("[]" if e.kind == "blocks" else ""), [])

    lines = [HEADER]
    lines.append("## Contents\n")
    for owner in sections:
        if owner:
            anchor = _anchor(owner)
            indent = "  " * owner.replace("[]", "").count(".")
            lines.append(f"{indent}- [`{owner}`](#{anchor})")
    lines.append("")
    for owner, rows in sections.items():
        if not owner:
            lines.append("## Top level\n")
            lines.append("A scenario file has six sections.\n")
            lines.extend(_table(rows))
            lines.append("")
            continue
        block = by_path[owner.removesuffix("[]")]
        model = _model_of(block.info["annotation"]) or _model_of(_list_item(block.info["annotation"]))
        level = "##" if "." not in owner else "###"
        lines.append(f"{level} `{owner}`\n")
        intro = f"**{block.info['label']}.** {block.info['help']}"
        if block.kind == "blocks":
            intro += " Each item of the list has the fields below."
        elif block.default is None:
            intro += " Optional: absent by default (switched off)."
        lines.append(intro + "\n")
        checks = validator_messages(model)
        if checks:
            lines.append("Checks: " + "; ".join(checks) + ".\n")
        rows = _level_rows_fix(rows, by_path)
        lines.extend(_table(rows))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _anchor(title: str) -> str:
    """GitHub's heading anchor for a heading made of one code span."""
    text = title.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def render_model(text: str) -> str:
    """docs/model.md with its generated tables as the registry makes them now."""
    for name, make in MODEL_TABLES.items():
        begin, end = f"<!-- generated by docs/gen_reference.py: {name} -->\n", f"\n<!-- end of generated {name} -->"
        a, b = text.index(begin) + len(begin), text.index(end)
        text = text[:a] + make() + text[b:]
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    model = MODEL.read_text(encoding="utf-8")
    outputs = {OUTPUT: render(), MODEL: render_model(model)}
    stale = [
        path for path, text in outputs.items() if (path.read_text(encoding="utf-8") if path.exists() else "") != text
    ]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python docs/gen_reference.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
