"""An instrument is one file: the toy plug-in (tests/data/toy_instrument.py), named by
LOJAL_INSTRUMENTS, shows up in the schema, the summary, results, exports, the scenario
reference and the app with no other change (tests/data/plugin_checks.py, run in a fresh
process because the registry is built when lojal is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "data" / "toy_instrument.py"


def _lojal(*args: str, plugins: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOJAL_INSTRUMENTS": plugins}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_plugin_file_is_all_an_instrument_needs():
    done = _lojal("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/data/plugin_checks.py", plugins=str(TOY))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout


def test_a_bad_plugin_path_is_a_clear_error():
    done = _lojal("-m", "simulation.cli", "plan", plugins="no/such/instrument.py")
    assert done.returncode != 0
    assert done.returncode == 2 and "error: LOJAL_INSTRUMENTS: no/such/instrument.py: no such file" in done.stderr
    assert "Traceback" not in done.stderr
