"""What differs between two scenarios, in schema terms: every field with a different value
(defaults filled in), by dotted path (the `--set` syntax) and label, with both values.

Used by `lojal diff` and the app's Scenario library page.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .schema import Scenario, path_labels


@dataclass(frozen=True)
class Difference:
    path: str  # e.g. customers.segments.1.share (list items by index, as --set takes them)
    label: str  # e.g. Customers › Segments › Families › Share
    unit: str
    a: Any  # the value in the first scenario, None where it has no such field (a block left out)
    b: Any


def diff(a: Scenario, b: Scenario) -> list[Difference]:
    """Every leaf field whose value differs, in schema order. A block only one scenario has
    (an instrument, a segment) shows each of its fields, with None on the other side."""
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    out: list[Difference] = []
    _walk([], da, db, out, da if da else db)
    return out


def _walk(parts: list[Any], va: Any, vb: Any, out: list[Difference], names: Any) -> None:
    if va == vb:
        return
    if isinstance(va, dict) or isinstance(vb, dict):
        keys = list(dict.fromkeys([*(va or {}), *(vb or {})]))
        for key in keys:
            _walk([*parts, key], _get(va, key), _get(vb, key), out, names)
    elif _is_block_list(va) or _is_block_list(vb):
        for i in range(max(len(va or []), len(vb or []))):
            _walk([*parts, i], _get(va, i), _get(vb, i), out, names)
    else:
        labels, unit = path_labels(parts, names)
        out.append(Difference(".".join(map(str, parts)), " › ".join(labels), unit, va, vb))


def _get(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int) and key < len(value):
        return value[key]
    return None


def _is_block_list(value: Any) -> bool:
    """A list of blocks (segments, tiers) is compared item by item; a list of numbers as one value."""
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


# --------------------------------------------------------------------------- presentation
def show(value: Any) -> str:
    """A value as it reads in a scenario file; `—` where the scenario has no such field."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rows(diffs: list[Difference]) -> list[dict[str, str]]:
    """One display row per difference: Field, Path, A, B, Unit."""
    return [{"Field": d.label, "Path": d.path, "A": show(d.a), "B": show(d.b), "Unit": d.unit} for d in diffs]


def table(diffs: list[Difference], name_a: str, name_b: str) -> str:
    """A plain-text table for the terminal."""
    if not diffs:
        return f"{name_a} and {name_b} describe the same scenario (every field, defaults included)."
    head = {"Field": "field", "Path": "path", "A": name_a, "B": name_b, "Unit": "unit"}
    lines = [head, *({**r, "A": _cut(r["A"]), "B": _cut(r["B"])} for r in rows(diffs))]
    widths = {k: max(len(r[k]) for r in lines) for k in head}
    text = ["  ".join(f"{r[k]:<{widths[k]}}" for k in head).rstrip() for r in lines]
    count = f"{len(diffs)} field{'s' if len(diffs) != 1 else ''} differ{'s' if len(diffs) == 1 else ''}"
    return f"{count} between {name_a} (A) and {name_b} (B):\n\n" + "\n".join(text)


def _cut(text: str, width: int = 40) -> str:
    """Long values (a description) shortened for the terminal; `--format json` has them whole."""
    return text if len(text) <= width else text[: width - 1] + "…"


def as_json(diffs: list[Difference], name_a: str, name_b: str) -> str:
    return json.dumps(
        {"a": name_a, "b": name_b, "same": not diffs, "differences": [asdict(d) for d in diffs]},
        indent=2,
        ensure_ascii=False,
    )
