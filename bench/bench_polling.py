"""What following a run costs: the CPU a polling Streamlit fragment takes from the machine.

While a run streams in, the sidebar of the app follows it with a fragment that reruns on its
own every `POLL_SECONDS` (app/shell.py) and draws a progress bar and a Cancel button. Each
rerun is a script run on the server and a redraw in the browser, and both share the cores
with the replications. This starts a page of the same size with such a fragment (and once
without), opens it in Debian's Chromium and measures the CPU time of the server and of the
browser over `--seconds` seconds, per polling interval.

    python bench/bench_polling.py [--intervals 0,0.5,1,2] [--seconds 10] [--trials 2]

Prints figures, no assertions. Needs the test extras and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import CHROMIUM_ARGS, cpu_seconds  # noqa: E402

PAGE = """
import os, time
import streamlit as st
st.title("A page of text")
for i in range(30):
    st.markdown(f"line {i} " * 20)
interval = float(os.environ["POLL"])
if interval:
    @st.fragment(run_every=interval)
    def follow():
        st.progress((time.time() % 10) / 10, text=f"Simulating: {time.time():.1f}")
        st.button("Cancel", key="cancel")
    with st.sidebar:
        follow()
"""


def measure(script: Path, interval: float, seconds: float, browser) -> dict[str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        env={**os.environ, "POLL": str(interval)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text("line 29").first.wait_for(timeout=60_000)
        time.sleep(2)
        before = cpu_seconds()
        time.sleep(seconds)
        after = cpu_seconds()
        page.close()
        return {kind: (after[kind] - before[kind]) / seconds for kind in ("server", "browser")}
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--intervals", default="0,0.5,1,2", help="polling intervals in seconds (0: no fragment)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--trials", type=int, default=2)
    args = parser.parse_args()
    intervals = [float(x) for x in args.intervals.split(",")]
    script = Path(tempfile.mkdtemp(prefix="lojal-poll-")) / "page.py"
    script.write_text(PAGE)
    print(f"CPU seconds per second of a page following a run, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}\n")
    print(f"{'poll every':>12}{'server':>10}{'browser':>10}{'both':>10}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        rows = {x: [] for x in intervals}
        for _ in range(args.trials):  # interleaved, so a busy spell of the host hits every interval
            for x in intervals:
                rows[x].append(measure(script, x, args.seconds, browser))
        browser.close()
    for x, runs in rows.items():
        server = sum(r["server"] for r in runs) / len(runs)
        shown = sum(r["browser"] for r in runs) / len(runs)
        label = f"{x:g} s" if x else "no polling"
        print(f"{label:>12}{server:>10.2f}{shown:>10.2f}{server + shown:>10.2f}")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
