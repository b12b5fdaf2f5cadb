"""Run -> figures in a real browser: the workshop app's time from pressing Run to the first
(provisional) figures and to the final ones, on each example in scenarios/.

Starts `streamlit run app/main.py` on a free port with a temporary draft folder and a library
holding one example (so the app opens on it), drives Debian's Chromium with Playwright (as the
browser test does) and times, per trial and example, each in a fresh server:

- opened: the app opens on the example; after `--think` seconds (a person reading the page)
  Run is pressed. The head start has been running meanwhile (unless `--no-head-start`).
- edited: the seed is changed on the Design page and Run is pressed as soon as the page has
  taken the edit (Run straight after an edit: the head start has only just begun), or
  `--edit-think` seconds later.

"First" is when the 8 headline cards are on the page with the badge of a run (provisional or
final); "final" when the badge says final, plotly has drawn every chart and the script run is
over; both are taken inside the page (a check every 25 ms), from the press on Run. `k` is how
many replications the first figures came from. "cpu" is the CPU time the server, its workers
and the browser used from the click to the final figures, in all and by kind: less noisy than
wall time on a shared host. `--app-root` runs the app of another checkout (one from before
results streamed in shows no badge: its first figures are its final ones), for an A/B.

    python bench/bench_app.py [--trials 3] [--think 1.5] [--edit-think 0] [--no-head-start] [--examples coffee]
                              [--app-root /path/to/another/checkout]

Prints figures, no assertions. Needs the test extras and /usr/bin/chromium
(`bash .ci/setup.sh --test`).
"""

from __future__ import annotations

import argparse
import os
import shutil
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
# Watches the page from inside (a check every 25 ms, no round trip to Python): the moment of the
# press on Run, of the first cards with a run's badge and of the final figures. Polling from
# Python (an evaluate every 10 ms) cost the browser more CPU than the app did.
WATCH = """(minCharts) => {
    const w = window.__lojal = {pressed: null, first: null, k: null, final: null};
    document.addEventListener('pointerdown', () => { if (w.pressed === null) w.pressed = performance.now(); }, true);
    const timer = setInterval(() => {
        if (w.pressed === null) return;
        const cards = document.querySelectorAll('.lojal-card, [data-testid="stMetricValue"]').length;
        const badge = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] span')]
            .map(s => s.textContent).find(t => /(Provisional|Final|Stopped) ·/.test(t)) || '';
        if (cards !== 8) return;
        const now = performance.now() - w.pressed;
        if (w.first === null && badge) { w.first = now; w.k = +badge.match(/· (\\d+)/)[1]; }
        if (!(badge.includes('Final ·') || !badge)) return;  // no badge: an app that does not stream
        const boxes = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
        const drawn = document.querySelectorAll('.js-plotly-plot .main-svg').length > 0
            ? document.querySelectorAll('.js-plotly-plot').length : 0;
        const running = !!document.querySelector('[data-testid="stStatusWidget"]');
        if (boxes >= minCharts && drawn === boxes && !running) {
            w.final = now; if (w.first === null) w.first = now;
            clearInterval(timer);
        }
    }, 25);
}"""
CPU_KINDS = ("server", "workers", "browser")
MIN_CHARTS = 6  # every example has at least these (customers, retention, ladder, flows, money, CLV)


def serve(example: Path, head_start: bool, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(tempfile.mkdtemp(prefix="lojal-bench-"))
    (home / "library").mkdir()
    shutil.copy(example, home / "library" / example.name)
    env = {
        **os.environ,
        "LOJAL_HOME": str(home),
        "LOJAL_SCENARIOS_DIR": str(home / "library"),
        "LOJAL_HEAD_START": "1" if head_start else "0",
        "PYTHONPATH": str(root),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) of every process below this one, by kind: the Streamlit server,
    its replication workers and the browser."""
    parents, used, kinds = {}, {}, {}
    for entry in (e for e in Path("/proc").iterdir() if e.name.isdigit()):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        parents[pid], used[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
        kinds[pid] = "workers" if b"multiprocessing" in command else "server" if b"streamlit" in command else "browser"
    mine, more = set(), {os.getpid()}
    while more:  # descendants, a generation at a time
        mine |= more
        more = {pid for pid, parent in parents.items() if parent in more}
    out = dict.fromkeys(CPU_KINDS, 0.0)
    for pid in mine - {os.getpid()}:
        out[kinds[pid]] += used[pid] / os.sysconf("SC_CLK_TCK")
    return out


def press_run_and_wait(page: Page) -> tuple[float, float, int, dict[str, float]]:
    """Seconds from the press on Run to the first figures and to the final ones; the number of
    replications the first figures came from; CPU seconds used meanwhile."""
    page.evaluate(WATCH, MIN_CHARTS)
    cpu = cpu_seconds()
    page.get_by_role("button", name="Run", exact=True).click()
    try:
        page.wait_for_function("() => window.__lojal.final !== null", polling=250, timeout=120_000)
    except Exception:
        shot = Path(tempfile.gettempdir()) / "bench_app_timeout.png"
        page.screenshot(path=str(shot))
        raise TimeoutError(f"results not final after 120 s; see {shot}") from None
    w = page.evaluate("() => window.__lojal")
    used = cpu_seconds()
    return w["first"] / 1000, w["final"] / 1000, w["k"] or 0, {kind: used[kind] - cpu[kind] for kind in CPU_KINDS}


def trial(browser, example: Path, head_start: bool, think: tuple[float, float], seed: int, root: Path) -> dict:
    proc, url = serve(example, head_start, root)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.goto(url)
        page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
        idle(page)
        time.sleep(think[0])
        opened = press_run_and_wait(page)
        page.get_by_role("link", name="Design").click()
        page.get_by_role("tab", name="Simulation").click()
        field = page.get_by_label("Seed", exact=True)
        field.fill(str(seed))
        field.press("Enter")
        page.get_by_text("Press Run to simulate").wait_for(timeout=60_000)
        time.sleep(think[1])
        edited = press_run_and_wait(page)
        page.close()
        return {"opened": opened, "edited": edited}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--think", type=float, default=1.5, help="seconds between the page being ready and Run")
    parser.add_argument("--edit-think", type=float, default=0.0, help="seconds between an edit and Run")
    parser.add_argument("--no-head-start", action="store_true", help="LOJAL_HEAD_START=0: nothing runs before Run")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout whose app is timed")
    parser.add_argument("--examples", default="", help="comma-separated parts of file names (default: all)")
    args = parser.parse_args()
    wanted = [w for w in args.examples.split(",") if w]
    examples = [
        p for p in sorted((ROOT / "scenarios").glob("*.yaml")) if not wanted or any(w in p.name for w in wanted)
    ]
    head_start = not args.no_head_start
    print(f"lojal app benchmark: Run -> figures in Chromium, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(
        f"head start {'on' if head_start else 'off'}; think time {args.think} s, after the edit {args.edit_think} s; "
        f"{args.trials} trials\n"
    )
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        for i in range(args.trials):  # examples interleaved, so a slow spell of the host hits them all
            for example in examples:
                timed = trial(browser, example, head_start, (args.think, args.edit_think), 1000 + i, args.app_root)
                rows += [(example.stem, case, *figures) for case, figures in timed.items()]
        browser.close()
    print(
        f"{'example, case':<30}{'first s (median, range)':>26}{'k':>8}{'final s (median, range)':>26}{'cpu s':>20}"
        f"{'server/workers/browser':>24}"
    )
    for example in examples:
        for case in ("opened", "edited"):
            mine = [r for r in rows if r[0] == example.stem and r[1] == case]
            first, final, ks, cpus = ([r[j] for r in mine] for j in (2, 3, 4, 5))
            parts = "/".join(f"{statistics.median(c[kind] for c in cpus):.1f}" for kind in CPU_KINDS)
            print(
                f"{example.stem + ', ' + case:<30}{_spread(first):>26}{','.join(map(str, ks)):>8}{_spread(final):>26}"
                f"{_spread([sum(c.values()) for c in cpus]):>20}{parts:>24}"
            )
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
