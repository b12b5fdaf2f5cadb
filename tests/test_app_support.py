"""Support for the app tests (no tests here): a small scenario library in a temporary folder.

The app reads its library from `$LOJAL_SCENARIOS_DIR` and keeps drafts under `$LOJAL_HOME`;
the fixtures point both at a temporary folder holding small copies of the bundled
scenarios (fewer customers, replications and months), so that AppTest runs are quick and
the repository's own files are never touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulation  # noqa: E402
from simulation.scenario_io import dumps, load, override  # noqa: E402

MAIN = str(ROOT / "app" / "main.py")
SMALL = {"customers.size": 800, "simulation.replications": 3, "simulation.horizon_months": 12}
START = "coffee-points-card.yaml"  # the app's start scenario (app.settings.start_scenario)
# the bundled library, the start scenario first (BUNDLED[0] is the coffee example the unit tests run)
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"), key=lambda p: (p.name != START, p.name))


def small(path: Path, **extra) -> simulation.Scenario:
    return override(load(path), {**SMALL, **extra})


@pytest.fixture
def library_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary library with small copies of the bundled scenarios; drafts go to tmp too."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for path in BUNDLED:
        (folder / path.name).write_text(dumps(small(path)), encoding="utf-8")
    monkeypatch.setenv("LOJAL_SCENARIOS_DIR", str(folder))
    monkeypatch.setenv("LOJAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOJAL_WORKERS", "1")  # small runs stay in-process (the pool has its own test)
    return folder


def app(default_timeout: float = 90):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(MAIN, default_timeout=default_timeout)


def charts(at) -> list[dict]:
    """The plotly figures on the page, as dicts; each with the title the page writes above it
    (app.views.chart) back in `layout.title.text`."""
    import json

    figures = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    for fig in figures:
        fig["layout"]["title"] = {"text": fig["layout"].get("meta", {}).get("title", "")}
    return figures


def trace_types(at) -> set[str]:
    return {trace["type"] for fig in charts(at) for trace in fig["data"]}


class Card(tuple):
    """(title, value, change, note) of one headline card, read back from its HTML."""

    title = property(lambda self: self[0])
    value = property(lambda self: self[1])
    change = property(lambda self: self[2])
    note = property(lambda self: self[3])


def cards(at) -> list[Card]:
    """The cards drawn on the page (app.views.cards_html), in order."""
    import html
    import re

    out = []
    for block in (m.value for m in at.markdown if 'class="lojal-cards"' in m.value):
        for card in block.split('<div class="lojal-card" ')[1:]:
            card = re.sub(r'<span class="lojal-nb">([^<]*)</span>', r"\1", card)  # (figures kept on one line)
            part = {k: html.unescape(v) for k, v in re.findall(r'class="lojal-card-(\w+)[^"]*">([^<]*)<', card)}
            change = part.get("change", "").split(" ", 1)[-1].removesuffix(" vs no program") or None
            out.append(Card((part["title"], part["value"], change, part.get("note", ""))))
    return out


def texts(at) -> str:
    """All markdown, captions, infos, warnings and errors of a page as one string."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def editor(at, prefix: str):
    """The data editor whose key starts with `prefix` (keys carry a revision suffix)."""
    found = [e for e in at.data_editor if e.key and e.key.startswith(prefix + "@")]
    assert found, f"no data editor {prefix}; have {[e.key for e in at.data_editor]}"
    return found[0]


def values(array) -> list:
    """A plotly array from a figure's JSON (plotly 6 writes numbers as base64 `bdata`)."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def assert_ok(at) -> None:
    """No traceback, and no error caught by the app's last line of defence either."""
    from app.shell import UNHANDLED

    assert not at.exception, [e.value for e in at.exception]
    caught = [e.value for e in at.error if UNHANDLED in e.value]
    assert not caught, caught
