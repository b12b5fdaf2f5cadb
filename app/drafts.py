"""The workspace of one browser tab, kept on disk so that a refresh loses nothing.

A workspace is the scenario being edited (as a plain dict, possibly invalid while the user
types), where it came from, the scenarios kept for comparison in this session and the
last run. It lives in `<home>/drafts/<id>.json`; the id travels in the URL (`?draft=<id>`).
No Streamlit here.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_ID = re.compile(r"[a-f0-9]{12,32}")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def valid_id(draft_id: str | None) -> bool:
    return bool(draft_id) and bool(_ID.fullmatch(str(draft_id)))


@dataclass
class Workspace:
    id: str
    data: dict[str, Any]
    origin: str | None = None  # library file name the scenario was opened from or saved to
    pristine: dict[str, Any] | None = None  # `data` as opened or saved: tells unsaved edits apart
    source: str | None = None  # the YAML text opened or saved: a save writes only the edits onto it
    variants: list[dict[str, Any]] = field(default_factory=list)  # [{"label", "data"}] kept for Compare
    last_run: str | None = None  # scenario JSON of the last run
    run_history: list[str] = field(default_factory=list)  # scenario JSON of the latest runs, oldest first
    revision: int = 0  # bumps whenever `data` is replaced wholesale

    @property
    def modified(self) -> bool:
        return self.pristine != self.data

    def keep_variant(self, label: str, data: dict[str, Any], source: str | None = None) -> str:
        """Keep a copy of a scenario for Compare (once per distinct content); returns its label."""
        for variant in self.variants:
            if variant["data"] == data:
                return variant["label"]
        unique = _unique(label, {v["label"] for v in self.variants})
        self.variants.append({"label": unique, "data": json.loads(json.dumps(data)), "source": source})
        return unique

    def ran(self, scenario_json: str, keep: int = 10) -> None:
        """Note a run from the sidebar: the last run, and the history Compare opens on."""
        self.last_run = scenario_json
        self.run_history = [k for k in self.run_history if k != scenario_json][-(keep - 1) :] + [scenario_json]

    def rename_variant(self, label: str, new_label: str) -> str:
        """Rename a kept design; the new label is made unique. Returns the label it got."""
        unique = _unique(new_label.strip() or label, {v["label"] for v in self.variants if v["label"] != label})
        for variant in self.variants:
            if variant["label"] == label:
                variant["label"] = unique
        return unique

    def replace(
        self, data: dict[str, Any], origin: str | None, pristine: bool = True, source: str | None = None
    ) -> None:
        """Start editing another scenario (`source`: the YAML text it was read from)."""
        self.data = json.loads(json.dumps(data))
        self.origin, self.source = origin, source
        self.pristine = json.loads(json.dumps(data)) if pristine else None
        self.revision += 1


def _unique(label: str, taken: set[str]) -> str:
    """`label`, or `label (2)`, `label (3)`, ... whichever is not taken."""
    unique, n = label, 2
    while unique in taken:
        unique, n = f"{label} ({n})", n + 1
    return unique


def path_for(directory: Path, draft_id: str) -> Path:
    if not valid_id(draft_id):
        raise ValueError(f"not a draft id: {draft_id!r}")
    return directory / f"{draft_id}.json"


def load(directory: Path, draft_id: str) -> Workspace | None:
    """The stored workspace, or None if there is none (or it cannot be read)."""
    if not valid_id(draft_id):
        return None
    try:
        raw = json.loads(path_for(directory, draft_id).read_text(encoding="utf-8"))
        fields = Workspace.__dataclass_fields__
        return Workspace(**{k: v for k, v in raw.items() if k in fields})
    except (OSError, ValueError, TypeError):
        return None


def save(directory: Path, workspace: Workspace) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = path_for(directory, workspace.id)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(workspace), indent=1), encoding="utf-8")
    tmp.replace(path)


@dataclass
class Recent:
    id: str
    name: str
    changed: float  # time of the last change (epoch seconds)
    origin: str | None
    modified: bool


def recent(directory: Path, limit: int = 8, exclude: str | None = None) -> list[Recent]:
    """The drafts changed last (newest first), to go back to; unreadable ones are skipped."""
    if not directory.is_dir():
        return []
    dated = [(p.stat().st_mtime, p) for p in directory.glob("*.json") if valid_id(p.stem) and p.stem != exclude]
    out = []
    for changed, path in sorted(dated, reverse=True):
        ws = load(directory, path.stem)
        if ws is not None:
            name = (ws.data.get("meta") or {}).get("name") or "Untitled scenario"
            out.append(Recent(ws.id, name, changed, ws.origin, ws.modified))
        if len(out) == limit:
            break
    return out


KEEP_DAYS = 30  # drafts untouched this long are deleted when a new one is made


def prune(directory: Path, keep_days: float = KEEP_DAYS) -> int:
    """Delete drafts (and leftover temporary files) not written for `keep_days`; returns how many.
    Every change rewrites a draft, so only abandoned ones are this old."""
    if not directory.is_dir():
        return 0
    cutoff = time.time() - keep_days * 86400
    removed = 0
    for path in directory.iterdir():
        if not (path.suffix in (".json", ".tmp") and _ID.fullmatch(path.name.split(".")[0])):
            continue  # not ours
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # another server process got there first
            continue
    return removed
