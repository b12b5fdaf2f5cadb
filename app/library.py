"""The scenario library on disk: list, read and save scenario files (no Streamlit here)."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML

from simulation.scenario_io import ScenarioError, loads, read_text
from simulation.schema import INDUSTRIES, Program, Scenario, field_info


@dataclass
class ScenarioFile:
    path: Path
    name: str
    description: str = ""
    author: str = ""
    changed: datetime | None = None
    scenario: Scenario | None = None
    text: str | None = None  # the file as read: saving an edit rewrites only the edited lines
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def list_scenarios(directory: Path) -> list[ScenarioFile]:
    """Every `*.yaml` / `*.yml` file in `directory`, sorted by file name; broken files keep their problems."""
    if not directory.is_dir():
        return []
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")], key=lambda p: p.name)
    out = []
    for path in files:
        changed = datetime.fromtimestamp(path.stat().st_mtime)
        try:
            text = read_text(path)
            scenario = loads(text, str(path))
        except ScenarioError as exc:
            out.append(ScenarioFile(path, path.stem, changed=changed, problems=exc.problems))
            continue
        meta = scenario.meta
        out.append(ScenarioFile(path, meta.name, meta.description, meta.author, changed, scenario, text=text))
    return out


# --------------------------------------------------------------------------- grouping and filters
NO_INDUSTRY = "Industry not set"
NO_PROGRAM = "No program"
PROBLEMS = "Files with problems"
GROUP_BY = {"industry": "Industry", "instrument": "Instrument"}


def industry_of(entry: ScenarioFile) -> str:
    """The library heading of a file's industry (the schema's label)."""
    if not entry.ok:
        return PROBLEMS
    industry = entry.scenario.meta.industry
    return INDUSTRIES[industry] if industry else NO_INDUSTRY


PILOT = field_info(Scenario, "pilot")["label"]  # a rollout design, listed with the instruments


def instruments_of(entry: ScenarioFile) -> list[str]:
    """The labels of the instruments a file switches on, in schema order, and Pilot if it has one."""
    if not entry.ok:
        return [PROBLEMS]
    active = [field_info(Program, key)["label"] for key in entry.scenario.program.active_instruments()]
    return (active or [NO_PROGRAM]) + ([PILOT] if entry.scenario.pilot is not None else [])


def _headings(by: str) -> list[str]:
    """Every heading in the library's order: the schema's order, the catch-alls last."""
    if by == "industry":
        return [*INDUSTRIES.values(), NO_INDUSTRY, PROBLEMS]
    instruments = [field_info(Program, key)["label"] for key in Program.model_fields if key != "membership"]
    return [*instruments, PILOT, NO_PROGRAM, PROBLEMS]


def groups_of(entry: ScenarioFile, by: str) -> list[str]:
    return [industry_of(entry)] if by == "industry" else instruments_of(entry)


def choices(entries: list[ScenarioFile], by: str) -> list[str]:
    """The headings the files fall under, in the library's order (the filter's options)."""
    present = {g for e in entries for g in groups_of(e, by)}
    return [h for h in _headings(by) if h in present]


def filtered(entries: list[ScenarioFile], industries=(), instruments=()) -> list[ScenarioFile]:
    """The files in one of `industries` and using one of `instruments` (an empty filter keeps all)."""
    return [
        e
        for e in entries
        if (not industries or industry_of(e) in industries)
        and (not instruments or set(instruments_of(e)) & set(instruments))
    ]


def grouped(entries: list[ScenarioFile], by: str = "industry") -> dict[str, list[ScenarioFile]]:
    """`{heading: files}` in the library's order, files by name; by instrument, a file with
    several instruments is under each of them."""
    out: dict[str, list[ScenarioFile]] = {h: [] for h in choices(entries, by)}
    for entry in sorted(entries, key=lambda e: (e.name.lower(), e.path.name)):
        for heading in groups_of(entry, by):
            out[heading].append(entry)
    return out


# Nordic and German letters as their own spelling conventions write them without the letter
# (Bønne -> boenne, Ærø -> aeroe, Straße -> strasse); other accents just lose theirs (café -> cafe)
_SPELLED = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ð": "d", "þ": "th"}
)


def slugify(name: str) -> str:
    """A file name stem from a scenario name: `Coffee card v2!` -> `coffee-card-v2`, `Bønne` -> `boenne`."""
    ascii_name = unicodedata.normalize("NFKD", name.strip().lower().translate(_SPELLED))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    return slug[:60] or "scenario"


def file_name_for(name: str) -> str:
    return slugify(name) + ".yaml"


def save_new(directory: Path, file_name: str, text: str, overwrite: bool = False, backups: Path | None = None) -> Path:
    """Write a scenario file; refuses to replace an existing file unless `overwrite` is explicit,
    and then copies the file it replaces into `backups` first.

    Raises FileExistsError when the file exists and `overwrite` is False, ValueError for a
    file name that is not a plain `*.yaml` name in `directory`.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml", file_name):
        raise ValueError(f"{file_name!r} is not a valid file name (letters, digits, - and _, ending in .yaml)")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name
    if overwrite and path.exists() and backups is not None:
        backup(path, backups)
    if overwrite:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(text.encode("utf-8"))  # bytes: no newline translation, the text is the file
        tmp.replace(path)
    else:
        with path.open("xb") as fh:  # "x": fails if the file exists, even in a race
            fh.write(text.encode("utf-8"))
    return path


def backup(path: Path, backups: Path) -> Path:
    """A dated copy of `path` in `backups` (`name.2026-12-02T201500.yaml`), so a replaced file can come back."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%dT%H%M%S")
    copy, n = backups / f"{path.stem}.{stamp}{path.suffix}", 2
    while copy.exists():
        copy, n = backups / f"{path.stem}.{stamp}-{n}{path.suffix}", n + 1
    copy.write_bytes(path.read_bytes())
    return copy


def target_file(entries: list[ScenarioFile], name: str) -> str:
    """The file a scenario named `name` is saved to: the file already holding that name, else a new one."""
    return {e.name: e.path.name for e in entries}.get(name, file_name_for(name))


def free_name(directory: Path, entries: list[ScenarioFile], name: str) -> str:
    """`name`, or `name 2`, `name 3`, ... whichever is neither a scenario's name nor a file yet."""
    taken = {e.name for e in entries}
    candidate, n = name, 2
    while candidate in taken or (directory / target_file(entries, candidate)).exists():
        candidate, n = f"{name} {n}", n + 1
    return candidate


def raw_yaml(data: dict) -> str:
    """YAML of a scenario dict as it stands, valid or not (so that no work is lost)."""
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.dump(data, buf)
    return buf.getvalue()
