"""Where the app keeps its files. Environment variables let tests point it at a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scenarios_dir() -> Path:
    """The scenario library: `scenarios/` in the repository, or `$LOJAL_SCENARIOS_DIR`."""
    return Path(os.environ.get("LOJAL_SCENARIOS_DIR", ROOT / "scenarios"))


def start_scenario() -> str:
    """The library file a new browser tab opens on: `$LOJAL_START_SCENARIO`, default the coffee example."""
    return os.environ.get("LOJAL_START_SCENARIO", "coffee-points-card.yaml")


def home() -> Path:
    """Working files (drafts): `.lojal/` in the repository, or `$LOJAL_HOME`."""
    return Path(os.environ.get("LOJAL_HOME", ROOT / ".lojal"))


def drafts_dir() -> Path:
    return home() / "drafts"


def backups_dir() -> Path:
    """Copies of library files replaced from the app (`Replace the file`)."""
    return home() / "backups"


MAX_COMPARE = 5
MAX_UPLOAD_MB = 1  # scenario files are a few kB
# a transaction log: the CDNOW master file is 2.5 MB, a 100,000-customer log about 20 MB
MAX_LOG_MB = 50
SAMPLE_LOG = ROOT / "data" / "cdnow" / "cdnow_sample.csv"  # the Calibrate page's "use the bundled sample"
