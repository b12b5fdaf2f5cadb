"""Session state: the named keys, and the workspace (draft) every page works on."""

from __future__ import annotations

import json
import logging
from typing import Any

import streamlit as st

from simulation.scenario_io import to_yaml
from simulation.schema import Points, Program, Scenario

from . import drafts, fields, library, runs
from .settings import drafts_dir, scenarios_dir, start_scenario

log = logging.getLogger("lojal.app")

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


def _example() -> tuple[dict[str, Any], str | None, str | None]:
    """The scenario the app opens on (data, file name, text): the library file named by the
    setting (`LOJAL_START_SCENARIO`, default the coffee example), else the first valid library
    file, else a points-card default."""
    entries = [e for e in library.list_scenarios(scenarios_dir()) if e.ok]
    chosen = [e for e in entries if e.path.name == start_scenario()]
    for entry in chosen or entries:
        return entry.scenario.model_dump(mode="json"), entry.path.name, entry.text
    fallback = Scenario(program=Program(points=Points()))
    return fallback.model_dump(mode="json"), None, None


def workspace() -> drafts.Workspace:
    """This tab's workspace: from the session, else from the draft named in the URL, else a new one."""
    ws = st.session_state.get(WORKSPACE)
    if ws is None:
        ws = drafts.load(drafts_dir(), st.query_params.get(QUERY_DRAFT, ""))
        if ws is None:
            data, origin, source = _example()
            ws = drafts.Workspace(drafts.new_id(), data, origin, pristine=json.loads(json.dumps(data)), source=source)
            drafts.prune(drafts_dir())
            drafts.save(drafts_dir(), ws)
        st.session_state[WORKSPACE] = ws
    if st.query_params.get(QUERY_DRAFT) != ws.id:
        st.query_params[QUERY_DRAFT] = ws.id
    return ws


def switch_draft(draft_id: str) -> bool:
    """Go back to another draft in this tab (this one stays on disk, reachable the same way)."""
    ws = drafts.load(drafts_dir(), draft_id)
    if ws is None:
        return False
    st.session_state[WORKSPACE] = ws
    st.query_params[QUERY_DRAFT] = ws.id
    clear_widgets()
    return True


def commit() -> None:
    """Write the workspace to disk (after every change)."""
    drafts.save(drafts_dir(), workspace())


def set_field(path: str, value: Any) -> None:
    set_fields({path: value})


def set_fields(values: dict[str, Any]) -> None:
    """Set these fields of the draft and write it once."""
    ws = workspace()
    for path, value in values.items():
        log.info("draft %s: %s = %r", ws.id, path, value)
        fields.set_in(ws.data, path, value)
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


def follow_scenario(key: str, value: Any) -> None:
    """Set a non-field widget (like the save name) to `value` whenever another scenario is opened
    or `value` itself changes (the scenario renamed on the Design page)."""
    ws = workspace()
    follow(key, value, f"{ws.id}:{ws.revision}:{ws.origin}:{value}")


def follow(key: str, value: Any, mark: str) -> None:
    """Set a widget to `value` whenever `mark` changes, and leave it to the user in between.

    Streamlit keeps what a widget last held across reruns, also after its key is deleted, so
    deleting is not enough: the value is written into the session state, once per mark."""
    stamp = f"{key}.for"
    if st.session_state.get(stamp) != mark:
        st.session_state[key] = value
        st.session_state[stamp] = mark


def open_scenario(data: dict[str, Any], origin: str | None, pristine: bool = True, source: str | None = None) -> None:
    """Edit another scenario (`source`: the YAML text it was read from, which a save keeps);
    unsaved edits of the current one are kept for Compare first."""
    ws = workspace()
    if ws.modified:
        name = fields.get_in(ws.data, "meta.name", "Untitled")
        keep_variant(f"{name} (unsaved edits)")
    ws.replace(data, origin, pristine, source)
    clear_widgets()
    commit()


def keep_variant(label: str) -> str:
    """Keep the scenario being edited for Compare (with its source text, for a later save)."""
    ws = workspace()
    return ws.keep_variant(label, ws.data, ws.source)


def scenario_text(scenario: Scenario) -> str:
    """The YAML file of a scenario: the text it was opened from with only the edits written in."""
    return to_yaml(scenario, workspace().source)


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


def compare_defaults(options: dict[str, Scenario], count: int = 2) -> list[str]:
    """What Compare opens on: the design run last against the one run before it (the reference,
    first); with a single run, the edit against the scenario as it was opened; else the first options."""
    ws = workspace()
    label_of = {runs.key(s): label for label, s in reversed(options.items())}
    picked = [label_of[k] for k in reversed(ws.run_history) if k in label_of][:count]
    opened, _ = fields.check(ws.pristine) if ws.pristine else (None, {})
    if len(picked) < count and opened is not None and label_of.get(runs.key(opened)) not in (None, *picked):
        picked.append(label_of[runs.key(opened)])
    picked = list(reversed(picked))  # the older design is the reference
    picked += [label for label in options if label not in picked][: max(0, count - len(picked))]
    return picked


def name_of_run(run: Scenario) -> str:
    """The name a run's files go out under: the scenario's name now, when the design on screen is
    the one that ran (it may have been saved under a new name since), else the name it ran under."""
    scenario, _ = current()
    if scenario is not None and scenario.model_copy(update={"meta": run.meta}) == run:
        return scenario.meta.name
    return run.meta.name


def last_run() -> Scenario | None:
    """The scenario of the last run, if there was one (and it still reads under the current schema)."""
    text = workspace().last_run
    if not text:
        return None
    try:
        return Scenario.model_validate_json(text)
    except ValueError:
        return None
