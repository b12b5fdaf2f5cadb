"""Scenario library: browse, open, duplicate, upload, download and save scenario files, and
see what differs between two of them."""

import copy
from datetime import datetime

import pandas as pd
import streamlit as st

from app import drafts, fields, library, state, views
from app.settings import MAX_UPLOAD_MB, backups_dir, drafts_dir, scenarios_dir
from simulation import diff
from simulation.scenario_io import ScenarioError, loads

ws = state.workspace()
scenario, problems = state.current()
folder = scenarios_dir()
entries = library.list_scenarios(folder)
st.title("Scenario library")

# --------------------------------------------------------------------------- browse and open
by = st.segmented_control(
    "Group by", list(library.GROUP_BY), format_func=library.GROUP_BY.get, default="industry", key="library.group_by"
)
by = by or "industry"  # a second click on the chosen option clears it
industry_col, instrument_col = st.columns(2)
industries = industry_col.multiselect(
    "Industry", library.choices(entries, "industry"), key="library.industries", placeholder="All industries"
)
instruments = instrument_col.multiselect(
    "Instrument", library.choices(entries, "instrument"), key="library.instruments", placeholder="All instruments"
)
shown = library.filtered(entries, industries, instruments)
if not shown:
    st.info("No scenario in the library matches these filters." if entries else f"The library `{folder}` is empty.")
other = "instrument" if by == "industry" else "industry"
# the Name column wide enough for the longest name shown (~7 px a letter; cut names read as other
# scenarios), the same in every table so that the tables line up
name_width = min(max([24 + 7 * len(e.name) for e in shown] + [160]), 400)
for heading, group in library.grouped(shown, by).items():
    st.markdown(f"**{heading}** · {len(group)} scenario{'s' if len(group) != 1 else ''}")
    table = pd.DataFrame(
        [
            {
                "Name": e.name,
                library.GROUP_BY[other]: ", ".join(library.groups_of(e, other)),
                "Description": e.description if e.ok else "⚠️ " + "; ".join(e.problems),
                "Author": e.author,
                "Last changed": e.changed,
                "File": e.path.name,
            }
            for e in group
        ],
        columns=["Name", library.GROUP_BY[other], "Description", "Author", "Last changed", "File"],
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Name": st.column_config.TextColumn(width=name_width),
            library.GROUP_BY[other]: st.column_config.TextColumn(width="medium"),
            "Description": st.column_config.TextColumn(width="large"),
            "Last changed": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
        key=f"library.table.{heading}",
    )
# each file once, in the order shown (by instrument a file can be under two headings)
choices = {f"{e.name} ({e.path.name})": e for group in library.grouped(shown, by).values() for e in group if e.ok}
choices.update({f"{v['label']} (this session)": v for v in ws.variants})
pick = st.selectbox("Scenario", list(choices), key="library.pick", index=0 if choices else None)
buttons = views.button_row()
if buttons.button("Open scenario", key="library.open", type="primary", disabled=pick is None):
    item = choices[pick]
    if isinstance(item, library.ScenarioFile):
        state.open_scenario(item.scenario.model_dump(mode="json"), item.path.name, source=item.text)
    else:
        state.open_scenario(item["data"], None, pristine=False, source=item.get("source"))
    state.flash(f"Opened “{pick}”. Edit it on the Design page, or press Run.")
    st.rerun()
if buttons.button("Duplicate", key="library.duplicate", disabled=pick is None):
    item = choices[pick]
    is_file = isinstance(item, library.ScenarioFile)
    data = item.scenario.model_dump(mode="json") if is_file else dict(item["data"])
    data["meta"] = {**data.get("meta", {}), "name": f"Copy of {data.get('meta', {}).get('name', 'scenario')}"}
    state.open_scenario(data, None, pristine=False, source=item.text if is_file else item.get("source"))
    state.flash(f"Opened a copy of “{pick}”. Save it under a new name below.")
    st.rerun()

# --------------------------------------------------------------------------- recent drafts
recent = drafts.recent(drafts_dir(), exclude=ws.id)
if recent:
    with st.expander(f"Recent drafts ({len(recent)}): go back to earlier work", expanded=False):
        st.caption("Every design is kept as a draft while it is edited; the drafts changed last are listed here.")

        def _describe(r: drafts.Recent) -> str:
            when = datetime.fromtimestamp(r.changed).strftime("%Y-%m-%d %H:%M")
            where = f"from {r.origin}" if r.origin else "not in the library"
            return f"{r.name} · changed {when} · {where}" + (" · unsaved edits" if r.modified else "")

        by_id = {r.id: r for r in recent}
        chosen = st.selectbox("Draft", list(by_id), format_func=lambda i: _describe(by_id[i]), key="library.draft")
        if st.button("Go back to this draft", key="library.draft_open"):
            if state.switch_draft(chosen):
                state.flash(f"Back to the draft “{by_id[chosen].name}”. The design you left is a recent draft now.")
            else:
                state.flash("That draft could not be read any more; nothing was changed.", kind="error")
            st.rerun()

# --------------------------------------------------------------------------- upload
st.subheader("Upload a scenario file")
# a scenario file is a few kB: a larger upload is refused (by the browser, and here again)
upload = st.file_uploader("Scenario file (YAML)", type=["yaml", "yml"], key="upload", max_upload_size=MAX_UPLOAD_MB)
if upload is not None and st.session_state.get(state.UPLOADED) != upload.file_id:
    st.session_state[state.UPLOADED] = upload.file_id
    try:
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise ScenarioError(
                [
                    f"it is {upload.size / 1024 / 1024:.1f} MB, and a scenario file is a few kB (at most {MAX_UPLOAD_MB} MB)"
                ]
            )
        uploaded_text = upload.getvalue().decode("utf-8")
        uploaded = loads(uploaded_text, upload.name)
    except UnicodeDecodeError:
        st.error(f"“{upload.name}” is not a text file. A scenario is a YAML text file; nothing was changed.")
    except ScenarioError as exc:
        st.error(
            f"“{upload.name}” is not a valid scenario, so nothing was changed:\n\n"
            + "\n".join(f"- {p}" for p in exc.problems)
        )
    else:
        state.open_scenario(uploaded.model_dump(mode="json"), None, pristine=False, source=uploaded_text)
        state.flash(f"Opened “{uploaded.meta.name}” from {upload.name}. Save it below to add it to the library.")
        st.rerun()

# --------------------------------------------------------------------------- download and save
st.subheader("The scenario being edited")
name = ws.data.get("meta", {}).get("name", "scenario")
text = state.scenario_text(scenario) if scenario is not None else library.raw_yaml(ws.data)
st.download_button(
    "Download as YAML",
    text.encode("utf-8"),
    file_name=library.file_name_for(name),
    mime="application/x-yaml",
    key="library.download",
    help="The file as it was opened, with only your edits written into it."
    if scenario is not None
    else "Invalid as it stands: written as is, so no work is lost.",
)
state.follow_scenario(state.SAVE_NAME, name)  # the name offered is the open scenario's, whatever was typed before
state.follow_scenario("library.overwrite", False)  # and replacing a file is asked for again for each scenario
# no st.form here: a form's browser side keeps what was typed in it until it is submitted, also
# after another scenario is opened, and the save then went under the previous scenario's name
with st.container(border=True):
    new_name = st.text_input("Save under the name", key=state.SAVE_NAME)
    overwrite = st.checkbox("Replace the file if one with this name exists", key="library.overwrite")
    saved = st.button("Save to library", key="library.save", disabled=scenario is None)
if saved and scenario is not None:
    new_name = new_name.strip() or name
    file_name = library.target_file(entries, new_name)
    data = {**ws.data, "meta": {**ws.data.get("meta", {}), "name": new_name}}
    to_save, _ = fields.check(data)
    saved_text = state.scenario_text(to_save)
    replaced = next((e for e in entries if e.path.name == file_name), None)
    try:
        library.save_new(folder, file_name, saved_text, overwrite=overwrite, backups=backups_dir())
    except FileExistsError:
        st.error(
            f"The library already has `{file_name}`, so nothing was saved. Choose another name "
            f"(“{library.free_name(folder, entries, new_name)}” is free), or tick “Replace the file”."
        )
    except (OSError, ValueError) as exc:
        st.error(f"Could not save `{file_name}`: {exc}")
    else:
        ws.data["meta"] = data["meta"]
        ws.origin, ws.pristine, ws.source = file_name, copy.deepcopy(ws.data), saved_text
        state.clear_widgets("meta.")
        state.commit()
        if replaced is None:
            state.flash(f"Saved “{new_name}” as `{file_name}`.")
        else:
            held = f"“{replaced.name}”" if replaced.ok else "a scenario that did not load"
            state.flash(
                f"Replaced `{file_name}`: it held {held} and now holds “{new_name}”. "
                f"The file as it was is kept in `{backups_dir().name}/` of the app's working folder.",
                kind="warning" if replaced.name != new_name else "success",
            )
        st.rerun()
if scenario is None:
    st.caption("Fix the problems on the Design page to save.")

# --------------------------------------------------------------------------- differences
st.subheader("What differs between two scenarios")
files = {f"{e.name} ({e.path.name})": e for e in entries if e.ok}
if len(files) < 2:
    st.caption("The library needs two valid scenario files to compare.")
else:
    left, right = st.columns(2)
    first = left.selectbox("Scenario A", list(files), index=0, key="library.diff_a")
    second = right.selectbox("Scenario B", list(files), index=1, key="library.diff_b")
    found = diff.diff(files[first].scenario, files[second].scenario)
    if not found:
        st.success("The two files describe the same scenario (every field, defaults included).")
    else:
        st.caption(
            f"{len(found)} field{'s' if len(found) != 1 else ''} differ, defaults filled in; "
            f"`lojal diff {files[first].path.name} {files[second].path.name}` prints the same."
        )
        table = pd.DataFrame(diff.rows(found)).rename(columns={"A": "A: " + first, "B": "B: " + second})
        st.dataframe(table, hide_index=True, width="stretch", key="library.diff")
