"""Run -> charts in a real browser: the workshop app's time from pressing Run to every chart drawn.

Starts `streamlit run app/main.py` on a free port with a temporary draft folder, drives
Debian's Chromium with Playwright (as the browser test does) and times, per trial:

- example: the app opens on the first library scenario; after `--think` seconds (a person
  reading the page) Run is pressed;
- edited: the earn rate is changed on the Design page; after `--think` seconds Run is pressed
  there (the app then switches to Results).

"Done" is when the 8 headline cards and every results chart are on the page, plotly has drawn
each chart and the script run is over. Each case runs with the head start on (the default)
and off (`LOJAL_HEAD_START=0`: the run starts only when Run is pressed), each in a fresh server.

    python bench/bench_app.py [--trials 3] [--think 1.5]

Prints figures, no assertions. Needs the test extras and /usr/bin/chromium
(`bash .ci/setup.sh --test`).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
STATE = """() => {
    const boxes = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
    const drawn = document.querySelectorAll('.js-plotly-plot .main-svg').length > 0
        ? document.querySelectorAll('.js-plotly-plot').length : 0;
    const cards = document.querySelectorAll('[data-testid="stMetricValue"]').length;
    const running = !!document.querySelector('[data-testid="stStatusWidget"]');
    return {boxes, drawn, cards, running};
}"""


def serve(head_start: bool) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "LOJAL_HOME": tempfile.mkdtemp(prefix="lojal-bench-"),
        "LOJAL_HEAD_START": "1" if head_start else "0",
    }
    env.pop("LOJAL_SCENARIOS_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def idle(page: Page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


def press_run_and_wait(page: Page, charts: int) -> float:
    """Seconds from the click on Run to the cards and `charts` charts drawn, the run over."""
    run = page.get_by_role("button", name="Run", exact=True)
    started = time.perf_counter()
    run.click()
    while True:
        s = page.evaluate(STATE)
        if s["cards"] == 8 and s["boxes"] >= charts and s["drawn"] == s["boxes"] and not s["running"]:
            return time.perf_counter() - started
        if time.perf_counter() - started > 120:
            raise TimeoutError(f"results not shown after 120 s: {s}")
        time.sleep(0.02)


def trial(browser, head_start: bool, think: float, earn_rate: float) -> tuple[float, float]:
    proc, url = serve(head_start)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.goto(url)
        page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
        idle(page)
        time.sleep(think)
        example = press_run_and_wait(page, charts=7)
        page.get_by_role("link", name="Design").click()
        page.get_by_role("tab", name="Points").click()
        earn = page.get_by_label("Earn rate (points per kr)", exact=True)
        earn.fill(str(earn_rate))
        earn.press("Enter")
        idle(page)
        time.sleep(think)
        edited = press_run_and_wait(page, charts=7)
        page.close()
        return example, edited
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--think", type=float, default=1.5, help="seconds between the page being ready and Run")
    args = parser.parse_args()
    print(f"lojal app benchmark: Run -> charts in Chromium, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(
        f"scenario: the app's opening example (scenarios/, first file); think time {args.think} s; {args.trials} trials\n"
    )
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        for head_start in (True, False):
            times = [trial(browser, head_start, args.think, 2.0 + i) for i in range(args.trials)]
            results[head_start] = times
        browser.close()
    print(f"{'case':<34}{'median s':>10}{'min s':>8}{'max s':>8}")
    for head_start, label in ((True, "head start (default)"), (False, "cold: LOJAL_HEAD_START=0")):
        for i, case in enumerate(("example", "edited design")):
            values = [t[i] for t in results[head_start]]
            print(f"{label + ', ' + case:<34}{statistics.median(values):>10.2f}{min(values):>8.2f}{max(values):>8.2f}")
    for i, case in enumerate(("example", "edited design")):
        warm = statistics.median(t[i] for t in results[True])
        cold = statistics.median(t[i] for t in results[False])
        print(f"ratio cold / head start, {case}: {cold / warm:.2f}x")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
