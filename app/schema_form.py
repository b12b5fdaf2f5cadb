"""Widgets generated from the scenario schema.

One renderer per kind of field, never one per field: labels, units, ranges, defaults and
help texts come from `simulation.schema.field_info`. The workspace dict is the source of
truth; a widget's key is its field path, it is seeded from the workspace when it has no
state, and its change is written straight back (and to the draft on disk).

Kinds: number (slider for shares and probabilities, number box otherwise), toggle, choice,
text, a six-level table (all level-valued fields of a block share one table), a table per
list of blocks (segments, tiers) plus a table per nested per-row vector, and a nested
block (a sub-section; an optional instrument gets an on/off toggle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import BaseModel

from simulation.schema import LEVEL_LABELS, LEVELS, LevelProbabilities, field_info

from . import fields, state
from .fields import fields_by_kind, kind_of

SCALARS = ("bool", "choice", "int", "float", "str")
JS_MAX_INT = 2**53 - 1


# --------------------------------------------------------------------------- presentation helpers
@dataclass
class Form:
    """What every renderer needs: the workspace data, its problems and the currency symbol."""

    data: dict
    problems: dict[str, list[str]]
    currency: str
    revision: int


def unit_text(info: dict, currency: str) -> str:
    return info["unit"].replace("currency unit", currency).replace("currency", currency)


def label_of(info: dict, currency: str) -> str:
    unit = unit_text(info, currency)
    return f"{info['label']} ({unit})" if unit else info["label"]


def bounds(info: dict) -> tuple[float | None, float | None]:
    lo = info.get("ge", info.get("gt"))
    hi = info.get("le", info.get("lt"))
    return lo, hi


def help_of(info: dict, path: str) -> str:
    lo, hi = bounds(info)
    parts = [info["help"]]
    if lo is not None or hi is not None:
        low = ("> " if "gt" in info else "≥ ") + f"{lo:g}" if lo is not None else ""
        high = ("< " if "lt" in info else "≤ ") + f"{hi:g}" if hi is not None else ""
        parts.append("Allowed: " + ", ".join(p for p in (low, high) if p) + ".")
    default = info["default"]
    if isinstance(default, (int, float, str, bool)):
        parts.append(f"Default: {default}.")
    parts.append(f"Scenario file: `{path}`")
    return "\n\n".join(parts)


def _decimals(x: float) -> int:
    for d in range(7):
        if abs(round(x, d) - x) < 1e-12:
            return d
    return 6


def number_spec(info: dict, value: Any, is_int: bool) -> dict[str, Any]:
    """min, max, step and format for a number widget, from the field's bounds and default."""
    lo, hi = bounds(info)
    default = info["default"] if isinstance(info["default"], (int, float)) else 0  # (none: a required field)
    value = value if isinstance(value, (int, float)) else 0
    ref = abs(default) or abs(value)
    if is_int:
        step = 10 ** (int(math.log10(ref)) - 1) if ref >= 100 else 1
        lo = None if lo is None else max(int(lo), -JS_MAX_INT)
        hi = None if hi is None else min(int(hi), JS_MAX_INT)  # the browser's numbers stop at 2**53
        return {"min_value": lo, "max_value": hi, "step": int(step), "format": "%d"}
    if hi is not None and hi <= 1:
        step = 0.01
    elif ref == 0:
        step = 1.0
    else:
        step = 10.0 ** (math.floor(math.log10(ref)) - 1)
    digits = max(_decimals(step), _decimals(float(value or 0)), _decimals(float(default)))
    return {
        "min_value": None if lo is None else float(lo),
        "max_value": None if hi is None else float(hi),
        "step": float(step),
        "format": f"%.{min(digits, 6)}f",
    }


SLIDER_STEP = 0.005


def slider_spec(info: dict) -> dict[str, Any]:
    """A share's slider: its ends are values the field allows (a bound the field excludes, as
    `> 0`, is a step further in), so dragging it to an end never makes the design invalid."""
    lo, hi = bounds(info)
    return {
        "min_value": float(lo) + (SLIDER_STEP if "gt" in info else 0.0),
        "max_value": float(hi) - (SLIDER_STEP if "lt" in info else 0.0),
        "step": SLIDER_STEP,
        "format": "%.3f",
    }


def is_share(info: dict) -> bool:
    lo, hi = bounds(info)
    return lo is not None and hi is not None and lo >= 0 and hi <= 1


def show_problems(items: list[tuple[str, str]], base: str = "") -> None:
    for where, message in items:
        rel = where[len(base) :].lstrip(".") if base and where.startswith(base) else where
        st.error(f"{rel}: {message}" if rel else message, icon="⚠️")


def _seed(key: str, value: Any) -> Any:
    """The value a field widget shows: its state, seeded from the workspace when it has none.

    Every widget is also drawn with this value as its default (`value=`), not from the state
    alone. A widget drawn only from the state sends its real value in the first run's message
    and an empty one after; under load the browser can mount a tab's widgets from a later
    message, take the bottom of the range (a slider's minimum, a toggle off) and send that back
    with the next click, which overwrote the design (`test_every_field_widget_defaults_to_what_it_shows`).
    """
    if key not in st.session_state:
        st.session_state[key] = value
    return st.session_state[key]


def _store(key: str, path: str, cast: Any) -> None:
    value = st.session_state[key]
    state.set_field(path, cast(value) if value is not None else None)


# --------------------------------------------------------------------------- scalar widgets
def scalar(model: type[BaseModel], name: str, path: str, form: Form) -> None:
    info = field_info(model, name)
    kind = kind_of(info["annotation"])
    value = fields.get_in(form.data, path, info["default"])
    label, help_text = label_of(info, form.currency), help_of(info, path)
    common = {"key": path, "help": help_text}
    if kind.name == "bool":
        held = _seed(path, bool(value))
        st.toggle(label, value=bool(held), on_change=_store, args=(path, path, bool), **common)
    elif kind.name == "choice" and len(kind.inner) == 1:  # nothing to choose (the schema version)
        st.caption(f"{label}: {kind.inner[0]}", help=help_text)
    elif kind.name == "choice":
        options = [None, *kind.inner] if kind.optional else list(kind.inner)  # an optional choice can be unset
        held = _seed(path, value if value in options else options[0])
        st.selectbox(
            label,
            options,
            index=options.index(held) if held in options else 0,
            placeholder="not set",  # what the browser shows for the None option (Streamlit sends no index for it)
            format_func=lambda o: "not set" if o is None else str(o).replace("_", " "),
            on_change=_store,
            args=(path, path, type(kind.inner[0])),
            **common,
        )
    elif kind.name == "str":
        held = _seed(path, "" if value is None else str(value))
        widget = st.text_area if name == "description" else st.text_input
        widget(label, held, max_chars=info.get("max_length"), on_change=_store, args=(path, path, str), **common)
    else:
        is_int = kind.name == "int"
        cast = int if is_int else float
        slider = not is_int and is_share(info)
        spec = slider_spec(info) if slider else number_spec(info, value, is_int)
        shown = cast(value) if isinstance(value, (int, float)) else cast(info["default"])
        if spec["min_value"] is not None:
            shown = max(shown, cast(spec["min_value"]))
        if spec["max_value"] is not None:
            shown = min(shown, cast(spec["max_value"]))
        held = _seed(path, shown)
        widget = st.slider if slider else st.number_input
        widget(label, value=held, **spec, on_change=_store, args=(path, path, cast), **common)
    show_problems(fields.under(form.problems, path), path)


def scalar_grid(model: type[BaseModel], names: list[str], path: str, form: Form, columns: int = 3) -> None:
    for start in range(0, len(names), columns):
        cols = st.columns(columns)
        for col, name in zip(cols, names[start : start + columns], strict=False):
            with col:
                scalar(model, name, fields.join(path, name), form)


# --------------------------------------------------------------------------- tables
def _bases() -> dict[str, dict[str, Any]]:
    return st.session_state.setdefault(state.EDITOR_BASES, {})


def _editor_key(path: str, form: Form) -> str:
    epoch = _bases().get(path, {}).get("epoch", 0)
    return f"{path}@{form.revision}-{epoch}"


def _base(path: str, key: str, build: Any) -> pd.DataFrame:
    """The table an editor was started from; rebuilt from the workspace when the editor is new."""
    entry = _bases().setdefault(path, {"epoch": 0})
    if key not in st.session_state or entry.get("key") != key:
        entry["frame"], entry["key"] = build(), key
    return entry["frame"]


def _restart(path: str) -> None:
    """Start an editor afresh from the workspace (after rows were added or deleted)."""
    entry = _bases().setdefault(path, {"epoch": 0})
    entry["epoch"] += 1
    entry.pop("frame", None)


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def column_config(model: type[BaseModel], name: str, form: Form) -> Any:
    info = field_info(model, name)
    kind = kind_of(info["annotation"])
    label, help_text = label_of(info, form.currency), info["help"]
    if kind.name == "bool":
        return st.column_config.CheckboxColumn(label, help=help_text, default=info["default"])
    if kind.name == "choice":
        return st.column_config.SelectboxColumn(label, help=help_text, options=list(kind.inner), required=True)
    if kind.name == "str":
        return st.column_config.TextColumn(label, help=help_text, required=True, max_chars=info.get("max_length"))
    spec = number_spec(info, info["default"], kind.name == "int")
    return st.column_config.NumberColumn(
        label,
        help=help_text,
        min_value=spec["min_value"],
        max_value=spec["max_value"],
        step=spec["step"],
        format=spec["format"],
        required=True,
    )


def _new_item(model: type[BaseModel], n: int) -> dict[str, Any]:
    """Defaults for a new row; a required text field gets a numbered placeholder (`Tier 4`)."""
    item = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            item[name] = f"{field_info(model, name)['label']} {n}" if kind_of(info.annotation).name == "str" else None
        else:
            default = info.get_default(call_default_factory=True)
            item[name] = default.model_dump(mode="json") if isinstance(default, BaseModel) else default
    return item


def table(model: type[BaseModel], name: str, path: str, form: Form) -> None:
    """A list of blocks (segments, tiers): one row each, scalar fields as columns, rows can be added."""
    info = field_info(model, name)
    item_model = kind_of(info["annotation"]).inner
    by_kind = fields_by_kind(item_model)
    columns = [n for k in SCALARS for n in by_kind.get(k, [])]
    columns = [n for n in item_model.model_fields if n in columns]  # schema order
    raw = fields.get_in(form.data, path, [])
    items = [i if isinstance(i, dict) else {} for i in raw] if isinstance(raw, list) else []  # a damaged draft
    st.markdown(f"**{info['label']}**")
    st.caption(info["help"])
    key = _editor_key(path, form)

    def build() -> pd.DataFrame:
        rows = [{c: (item or {}).get(c) for c in columns} for item in items]
        return pd.DataFrame(rows, columns=columns)

    base = _base(path, key, build)
    edited = st.data_editor(
        base,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        column_config={c: column_config(item_model, c, form) for c in columns},
        width="stretch",
    )
    new_items = []
    for position, (label, row) in enumerate(edited.iterrows()):
        old = int(label) if str(label).isdigit() else -1  # rows the editor started with keep their position
        start = dict(items[old]) if 0 <= old < min(len(base), len(items)) else None
        item = start if start is not None else _new_item(item_model, position + 1)
        item.update({c: _clean(row[c]) for c in columns if not (start is None and _clean(row[c]) is None)})
        new_items.append(item)
    structural = list(edited.index) != list(base.index)
    if new_items != items:
        state.set_field(path, new_items)
        if structural:
            _restart(path)
            state.clear_widgets(path + "[")
        st.rerun()
    own = [(w, m) for w, m in fields.under(form.problems, path) if not _in_nested(w, path, item_model)]
    show_problems(own, path)
    for nested in by_kind.get("levels", []) + by_kind.get("vector", []):
        row_vectors(item_model, nested, path, items, form)


def _in_nested(where: str, path: str, item_model: type[BaseModel]) -> bool:
    """Whether a problem belongs to a per-row vector (shown under that vector's own table)."""
    names = [p for p in fields.parse(where[len(path) :]) if isinstance(p, str)]
    if not names or names[0] not in item_model.model_fields:
        return False
    return kind_of(item_model.model_fields[names[0]].annotation).name in ("levels", "vector")


def row_vectors(item_model: type[BaseModel], name: str, path: str, items: list[dict], form: Form) -> None:
    """A per-row vector of a list of blocks (a segment's initial ladder, its NPS answer counts).

    One row per block, one column per level (or per position); an empty row means "not given".
    """
    info = field_info(item_model, name)
    kind = kind_of(info["annotation"])
    if kind.name == "levels":
        keys, labels = list(LEVELS), list(LEVEL_LABELS)
    else:
        size = info.get("max_length") or 11
        keys, labels = list(range(size)), [str(i) for i in range(size)]
    row_names = [f"{i + 1}. {(item or {}).get('name', '')}" for i, item in enumerate(items)]
    table_path = fields.join(path, name)
    key = f"{table_path}@{form.revision}-{_bases().get(path, {}).get('epoch', 0)}"  # restarts with its list

    def build() -> pd.DataFrame:
        rows = []
        for item in items:
            vector = (item or {}).get(name)
            if isinstance(vector, dict):
                rows.append([vector.get(k) for k in keys])
            elif isinstance(vector, list):
                rows.append((list(vector) + [None] * len(keys))[: len(keys)])
            else:
                rows.append([None] * len(keys))
        frame = pd.DataFrame(rows, columns=labels, index=row_names, dtype="float64")
        return frame

    with st.expander(f"{info['label']} ({unit_text(info, form.currency)}) by {item_model.__name__.lower()}"):
        st.caption(info["help"] + " Leave a row empty to leave it out.")
        base = _base(table_path, key, build)
        number = st.column_config.NumberColumn(min_value=0, max_value=1 if kind.name == "levels" else None)
        edited = st.data_editor(
            base, key=key, num_rows="fixed", column_config=dict.fromkeys(labels, number), width="stretch"
        )
        changed = False
        for i, item in enumerate(items):
            values = [_clean(v) for v in edited.iloc[i].tolist()]
            if all(v is None for v in values):
                vector = None
            elif kind.name == "levels":
                vector = dict(zip(keys, values, strict=True))
            else:
                vector = [None if v is None else int(v) for v in values]
            if (item or {}).get(name) != vector:
                state.set_field(fields.join(path, i, name), vector)
                changed = True
        if changed:
            st.rerun()
        for i in range(len(items)):
            show_problems(fields.under(form.problems, fields.join(path, i, name)), path)


def level_table(model: type[BaseModel], names: list[str], path: str, form: Form) -> None:
    """All level-valued fields of one block in one table: a row per satisfaction level."""
    infos = [field_info(model, n) for n in names]
    table_path = fields.join(path, "levels")
    key = _editor_key(table_path, form)
    labels = [label_of(i, form.currency) for i in infos]

    def build() -> pd.DataFrame:
        cols = {}
        for n, label in zip(names, labels, strict=True):
            values = _mapping(fields.get_in(form.data, fields.join(path, n)))
            cols[label] = [values.get(level) for level in LEVELS]
        return pd.DataFrame(cols, index=list(LEVEL_LABELS), dtype="float64")

    base = _base(table_path, key, build)
    config = {}
    for info, label in zip(infos, labels, strict=True):
        probability = issubclass(kind_of(info["annotation"]).inner, LevelProbabilities)
        config[label] = st.column_config.NumberColumn(
            label, help=info["help"], min_value=0.0, max_value=1.0 if probability else None, format="%.3f"
        )
    edited = st.data_editor(base, key=key, num_rows="fixed", column_config=config, width="stretch")
    changed = False
    for n, label in zip(names, labels, strict=True):
        values = {level: _clean(v) for level, v in zip(LEVELS, edited[label].tolist(), strict=True)}
        if fields.get_in(form.data, fields.join(path, n)) != values:
            state.set_field(fields.join(path, n), values)
            changed = True
    if changed:
        st.rerun()
    for n in names:
        show_problems(fields.under(form.problems, fields.join(path, n)), path)


# --------------------------------------------------------------------------- blocks
def block(model: type[BaseModel], path: str, form: Form, skip: tuple[str, ...] = ()) -> None:
    """Every field of a block, grouped by kind: scalars in a grid, then tables, then sub-blocks."""
    by_kind = fields_by_kind(model)
    show_problems([(path, m) for m in form.problems.get(path, [])], path)
    scalars = [n for n in model.model_fields if kind_of(model.model_fields[n].annotation).name in SCALARS]
    scalars = [n for n in scalars if n not in skip]
    if scalars:
        scalar_grid(model, scalars, path, form)
    level_names = [n for n in by_kind.get("levels", []) if n not in skip]
    if level_names:
        level_table(model, level_names, path, form)
    for name in by_kind.get("table", []):
        if name not in skip:
            table(model, name, fields.join(path, name), form)
    for name in by_kind.get("mapping", []):
        if name not in skip:
            mapping(model, name, fields.join(path, name), form)
    for name in by_kind.get("vector", []):
        if name not in skip and field_info(model, name)["choices_from"]:
            picks(model, name, fields.join(path, name), form)
    for name in by_kind.get("model", []):
        if name not in skip:
            sub_block(model, name, fields.join(path, name), form)


def mapping(model: type[BaseModel], name: str, path: str, form: Form) -> None:
    """A mapping (the sampled parameters' ranges): shown, and edited in the scenario file."""
    info = field_info(model, name)
    current = fields.get_in(form.data, path)
    items = current.items() if isinstance(current, dict) else []
    shown = [
        f"`{key}` {_mapping(v).get('low')} to {_mapping(v).get('high')} ({_mapping(v).get('dist', 'uniform')})"
        for key, v in items
    ]
    st.caption(
        f"{info['label']}: {'; '.join(shown) if shown else 'none'} (set in the scenario file)",
        help=info["help"] + f"\n\nScenario file: `{path}`",
    )


def picks(model: type[BaseModel], name: str, path: str, form: Form) -> None:
    """A list of names picked from those given elsewhere in the scenario (`choices_from`,
    e.g. the segments a pilot runs in)."""
    info = field_info(model, name)
    where, _, attribute = info["choices_from"].partition("[].")
    items = fields.get_in(form.data, where, [])
    options = [item.get(attribute) for item in items if isinstance(item, dict) and item.get(attribute)]
    current = fields.get_in(form.data, path, info["default"]) or []
    held = _seed(path, [name for name in current if name in options])
    st.multiselect(
        label_of(info, form.currency),
        options,
        default=[name for name in held if name in options],
        key=path,
        help=help_of(info, path),
        on_change=_store,
        args=(path, path, list),
    )
    show_problems(fields.under(form.problems, path), path)


def sub_block(model: type[BaseModel], name: str, path: str, form: Form) -> None:
    info = field_info(model, name)
    kind = kind_of(info["annotation"])
    st.markdown(f"#### {info['label']}")
    st.caption(info["help"])
    if kind.optional and not switch(model, name, path, form):
        return
    block(kind.inner, path, form, skip=("enabled",))


def switch(model: type[BaseModel], name: str, path: str, form: Form) -> bool:
    """The on/off toggle of an optional block; switching off keeps its settings (`enabled: false`)."""
    info = field_info(model, name)
    inner = kind_of(info["annotation"]).inner
    current = fields.get_in(form.data, path)
    current = current if isinstance(current, dict) else None
    has_enabled = "enabled" in inner.model_fields
    on = current is not None and (not has_enabled or current.get("enabled", True))
    key = fields.join(path, "enabled")
    held = _seed(key, on)
    st.toggle(
        f"Use {info['label'].lower()}",
        value=bool(held),
        key=key,
        help=info["help"] + f"\n\nScenario file: `{path}`",
        on_change=_switch,
        args=(key, path, inner, has_enabled),
    )
    return bool(st.session_state[key])


def _switch(key: str, path: str, inner: type[BaseModel], has_enabled: bool) -> None:
    on = bool(st.session_state[key])
    current = _mapping(fields.get_in(state.workspace().data, path)) or None
    if current is None and on:
        state.set_field(path, inner().model_dump(mode="json"))
        state.clear_widgets(path + ".")
        st.session_state[key] = True
    elif current is not None and has_enabled:
        state.set_field(fields.join(path, "enabled"), on)
    elif current is not None and not on:
        state.set_field(path, None)


# --------------------------------------------------------------------------- the whole scenario
@dataclass(frozen=True)
class Section:
    title: str
    help: str
    path: str
    model: type[BaseModel]
    owner: type[BaseModel]  # the block holding this one (for its label and optional switch)
    optional: bool
    skip: tuple[str, ...] = ()
    parts: tuple[Section, ...] = ()  # a group of blocks (the instruments), one expander each


INSTRUMENTS = "Instruments"


def sections(root: type[BaseModel]) -> list[Section]:
    """One section per top-level block; a block's optional sub-blocks (the instruments, however
    many the registry has) follow it as one group, each in its own expander."""
    out = []
    for name, info in root.model_fields.items():
        kind = kind_of(info.annotation)
        meta = field_info(root, name)
        optional_subs = [
            n
            for n, f in kind.inner.model_fields.items()
            if kind_of(f.annotation).name == "model" and kind_of(f.annotation).optional
        ]
        out.append(Section(meta["label"], meta["help"], name, kind.inner, root, kind.optional, tuple(optional_subs)))
        parts = []
        for sub in optional_subs:
            sub_meta = field_info(kind.inner, sub)
            inner = kind_of(kind.inner.model_fields[sub].annotation).inner
            parts.append(Section(sub_meta["label"], sub_meta["help"], fields.join(name, sub), inner, kind.inner, True))
        if parts:
            help_text = "Switch instruments on and off; each keeps its settings while it is off."
            out.append(Section(INSTRUMENTS, help_text, name, kind.inner, root, False, parts=tuple(parts)))
    return out


def is_on(section: Section, form: Form) -> bool:
    current = fields.get_in(form.data, section.path)
    return isinstance(current, dict) and current.get("enabled", True) is not False


def render_section(section: Section, form: Form) -> None:
    st.caption(section.help)
    if section.parts:  # the instruments, in registry order: the ones in use open
        for part in section.parts:
            on = is_on(part, form)
            with st.expander(f"{part.title} · {'on' if on else 'off'}", expanded=on):
                render_section(part, form)
        return
    if section.optional:
        name = fields.parse(section.path)[-1]
        if not switch(section.owner, name, section.path, form):
            st.info(
                f"{section.title} is switched off. Switch it on to edit its settings; they are kept while it is off."
            )
            return
    block(section.model, section.path, form, skip=section.skip + ("enabled",))
