"""Where the app keeps its files. Environment variables let tests point it at a temporary folder."""

from __future__ import annotations

import logging
import os
import sys
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


def configure_logging() -> None:
    """The server log (stderr) of the `lojal` loggers at `$LOJAL_LOG_LEVEL` (default WARNING:
    problems only; INFO adds every design edit, with its draft, for tracing a session)."""
    logger = logging.getLogger("lojal")
    if logger.handlers:  # (once per server: every page run calls this)
        return
    name = os.environ.get("LOJAL_LOG_LEVEL", "WARNING").upper()
    level = logging.getLevelName(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(level if isinstance(level, int) else logging.WARNING)
    if not isinstance(level, int):
        logger.warning("LOJAL_LOG_LEVEL=%s is not a level (DEBUG, INFO, WARNING, ERROR): using WARNING", name)
