"""Session state: the named keys, and the workspace (draft) every page works on."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from simulation.schema import Points, Program, Scenario

from . import drafts, fields, library
from .settings import drafts_dir, scenarios_dir

# session-state keys (widget keys that are scenario fields are their dotted paths, see fields.py)
WORKSPACE = "lojal.workspace"
EDITOR_BASES = "lojal.editor_bases"
FLASH = "lojal.flash"
RUN = "run"  # the Run button
SHOWN = "lojal.shown"  # (replications, when) of the run under way the Results page drew in this page run
QUERY_DRAFT = "draft"  # URL query parameter holding the draft id
SAVE_NAME = "library.save_name"
UPLOADED = "library.uploaded"  # id of the last uploaded file handled (the uploader keeps it across reruns)
PER_SCENARIO = (SAVE_NAME,)  # non-field widgets that show the scenario being edited


def _example() -> tuple[dict[str, Any], str | None]:
    """The scenario the app opens on: the first valid library file, else a points-card default."""
    for entry in library.list_scenarios(scenarios_dir()):
        if entry.ok:
            return entry.scenario.model_dump(mode="json"), entry.path.name
    fallback = Scenario(program=Program(points=Points()))
    return fallback.model_dump(mode="json"), None


def workspace() -> drafts.Workspace:
    """This tab's workspace: from the session, else from the draft named in the URL, else a new one."""
    ws = st.session_state.get(WORKSPACE)
    if ws is None:
        ws = drafts.load(drafts_dir(), st.query_params.get(QUERY_DRAFT, ""))
        if ws is None:
            data, origin = _example()
            ws = drafts.Workspace(drafts.new_id(), data, origin, pristine=json.loads(json.dumps(data)))
            drafts.prune(drafts_dir())
            drafts.save(drafts_dir(), ws)
        st.session_state[WORKSPACE] = ws
    if st.query_params.get(QUERY_DRAFT) != ws.id:
        st.query_params[QUERY_DRAFT] = ws.id
    return ws


def commit() -> None:
    """Write the workspace to disk (after every change)."""
    drafts.save(drafts_dir(), workspace())


def set_field(path: str, value: Any) -> None:
    fields.set_in(workspace().data, path, value)
    commit()


def clear_widgets(prefix: str = "") -> None:
    """Forget widget state (under `prefix`) so the widgets re-read the workspace."""
    for key in list(st.session_state.keys()):
        if fields.is_field_key(key) and key.startswith(prefix):
            del st.session_state[key]
    if not prefix:
        for key in PER_SCENARIO:
            st.session_state.pop(key, None)
    bases = st.session_state.get(EDITOR_BASES, {})
    for key in [k for k in bases if k.startswith(prefix)]:
        del bases[key]


def open_scenario(data: dict[str, Any], origin: str | None, pristine: bool = True) -> None:
    """Edit another scenario; unsaved edits of the current one are kept for Compare first."""
    ws = workspace()
    if ws.modified:
        name = fields.get_in(ws.data, "meta.name", "Untitled")
        ws.keep_variant(f"{name} (unsaved edits)", ws.data)
    ws.replace(data, origin, pristine)
    clear_widgets()
    commit()


def current() -> tuple[Scenario | None, dict[str, list[str]]]:
    """The scenario being edited, validated, and its problems by field path."""
    return fields.check(workspace().data)


def flash(message: str, kind: str = "success") -> None:
    """A message shown once, on the next run of any page."""
    st.session_state[FLASH] = (kind, message)


def show_flash() -> None:
    item = st.session_state.pop(FLASH, None)
    if item:
        kind, message = item
        getattr(st, kind)(message)


def comparable() -> dict[str, Scenario]:
    """Scenarios the Compare page offers: library files, then designs of this session, then the current one."""
    ws = workspace()
    out: dict[str, Scenario] = {}
    for entry in library.list_scenarios(scenarios_dir()):
        if entry.ok:
            label = entry.name if entry.name not in out else f"{entry.name} ({entry.path.name})"
            out[label] = entry.scenario
    seen = {s.model_dump_json() for s in out.values()}
    candidates = [(v["label"], v["data"]) for v in ws.variants]
    candidates.append((f"{fields.get_in(ws.data, 'meta.name', 'Untitled')} (current)", ws.data))
    for label, data in candidates:
        scenario, problems = fields.check(data)
        if scenario is not None and scenario.model_dump_json() not in seen:
            out[label if label not in out else f"{label} (session)"] = scenario
            seen.add(scenario.model_dump_json())
    return out


def last_run() -> Scenario | None:
    """The scenario of the last run, if there was one (and it still reads under the current schema)."""
    text = workspace().last_run
    if not text:
        return None
    try:
        return Scenario.model_validate_json(text)
    except ValueError:
        return None
