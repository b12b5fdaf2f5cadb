"""Real-browser fixtures: Debian's Chromium (never `playwright install`) and a Streamlit server on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
# the app server's output, one file per pytest-xdist worker that starts a server
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
SERVER_LOG = ARTIFACTS / (f"streamlit-{_WORKER}.log" if _WORKER else "streamlit.log")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path:
        return path
    message = (
        f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH, or `apt-get install chromium`; "
        "`bash .ci/setup.sh --test` does it). The browser test does not download a browser."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": _chromium(),
        "args": [
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Streamlit scrolls an inner container, so a full-page screenshot is the viewport: make it tall
    return {**browser_context_args, "viewport": {"width": 1400, "height": 3000}}


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> Path:
    """The app's scenario library: a copy of the bundled examples, so saves stay out of the repo."""
    folder = tmp_path_factory.mktemp("library")
    for path in (ROOT / "scenarios").glob("*.yaml"):
        shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, library):
    """`streamlit run app/main.py` on the bundled scenarios; drafts go to a temporary folder."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path_factory.mktemp("lojal-home")
    # (every design edit in the server log, whose end a failing test prints: see below)
    env = {**os.environ, "LOJAL_HOME": str(home), "LOJAL_SCENARIOS_DIR": str(library), "LOJAL_LOG_LEVEL": "INFO"}
    env.pop("LOJAL_START_SCENARIO", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = SERVER_LOG.open("w")
    # fmt: off
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"],  # (as `lojal app` starts it)
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    # fmt: on
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}; see {SERVER_LOG}")
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("streamlit did not start within 30 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test prints the end of the server's log (its design edits, errors):
    CI keeps the output, not the artifacts folder."""
    report = yield
    if report.failed and call.when == "call" and SERVER_LOG.exists():
        tail = SERVER_LOG.read_text(errors="replace").splitlines()[-60:]
        report.sections.append(("streamlit server log (last 60 lines)", "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def server_log(app_url) -> Path:
    """The log of the app server the tests talk to (at INFO: every design edit, with its draft)."""
    return SERVER_LOG
