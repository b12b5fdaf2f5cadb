"""The workshop in a real browser: open, run the example, look at it, compare two designs, refresh."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"  # git-ignored: timing.json, compare.png, the server's log
# the README's screenshot is refreshed on request (LOJAL_UPDATE_SCREENSHOT=1), so a test run
# does not dirty a tracked file
SCREENSHOT = (
    ROOT / "docs" / "screenshot-results.png" if os.environ.get("LOJAL_UPDATE_SCREENSHOT") else ARTIFACTS / "results.png"
)
BASE_CHARTS = 6  # active customers, retention, ladder, flows, waterfall, CLV (+ one per instrument chart)


def charts_drawn(page: Page, at_least: int = BASE_CHARTS) -> int:
    """Wait until the run is over and plotly has drawn every chart on the page; the number of charts."""
    page.wait_for_function(
        """(least) => {
            const boxes = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
            const drawn = document.querySelectorAll('.js-plotly-plot .main-svg').length > 0
                ? document.querySelectorAll('.js-plotly-plot').length : 0;
            return boxes >= least && drawn === boxes && !document.querySelector('[data-testid="stStatusWidget"]');
        }""",
        arg=at_least,
        timeout=120_000,
        polling=50,
    )
    return page.locator(".js-plotly-plot").count()


def final(page: Page) -> int:
    """Wait until a run's results are final (a run streams in, provisional first) and drawn."""
    expect(page.get_by_text(re.compile(r"Final · \d+ replications"))).to_be_visible(timeout=120_000)
    # between two script runs the charts of both can be on the page for a moment: wait until the
    # page is idle with the same number of charts for a second
    page.wait_for_function(
        """() => {
            const n = document.querySelectorAll('[data-testid="stPlotlyChart"]').length;
            const busy = !!document.querySelector('[data-testid="stStatusWidget"]');
            if (busy || window.lojalCharts !== n) {
                window.lojalCharts = n;
                window.lojalSince = Date.now();
                return false;
            }
            return Date.now() - window.lojalSince > 1000;
        }""",
        timeout=120_000,
        polling=100,
    )
    return charts_drawn(page)


def edited_fields(page: Page, server_log: Path) -> list[str]:
    """The design fields the server wrote for this tab's draft (its log at INFO, conftest.py):
    a field that changed without the user touching it shows up here."""
    draft = re.search(r"[?&]draft=([0-9a-f]{16})", page.url).group(1)
    text = server_log.read_text(errors="replace")
    return re.findall(rf"draft {draft}: (\S+) = ", text)


def idle(page: Page) -> None:
    """Wait until the script run is over (Streamlit shows a 'running' widget meanwhile)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


@pytest.mark.e2e
def test_workshop_in_the_browser(page: Page, app_url: str, server_log: Path):
    page.goto(app_url)
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_enabled(timeout=60_000)
    # the app opens on a ready-to-run example: its summary and where its customers stand today
    expect(page.get_by_text("Press Run in the sidebar")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=60_000)
    idle(page)
    assert re.search(r"[?&]draft=[0-9a-f]{16}", page.url)

    started = time.perf_counter()
    run.click()
    charts = final(page)
    expect(page.locator(".lojal-card")).to_have_count(8)
    first = time.perf_counter() - started
    assert charts == BASE_CHARTS + 1  # the example is a points card: plus the points chart
    expect(page.get_by_text("Retention after")).to_be_visible()
    idle(page)
    page.wait_for_timeout(800)  # let plotly finish drawing before the picture
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # a design change is kept across a refresh, and does not re-run anything by itself
    page.get_by_role("link", name="Design").click()
    page.get_by_role("tab", name="Instruments").click()
    earn = page.get_by_label("Earn rate (points per kr)", exact=True)
    expect(earn).to_be_visible(timeout=30_000)
    earn.fill("2")
    earn.press("Enter")
    expect(page.get_by_text("2 points per kr spent")).to_be_visible(timeout=30_000)
    idle(page)
    page.reload()
    page.get_by_role("tab", name="Instruments").click(timeout=60_000)
    expect(page.get_by_label("Earn rate (points per kr)", exact=True)).to_have_value("2.0", timeout=60_000)
    assert edited_fields(page, server_log) == ["program.points.earn_rate"]  # the edit survived the refresh, and only it

    # Run from the Design page shows the new results, and the Results page stays put on a click
    started = time.perf_counter()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=120_000)
    final(page)
    expect(page.locator(".lojal-card")).to_have_count(8)
    again = time.perf_counter() - started
    timing = {"run_to_charts_seconds": {"first_run": round(first, 2), "edited_design": round(again, 2)}}
    (ARTIFACTS / "timing.json").write_text(json.dumps(timing))
    print(f"\nRun -> charts in the browser: {first:.2f} s (first run), {again:.2f} s (an edited design)")
    idle(page)
    page.get_by_role("radio", name="No program").click()
    expect(page.get_by_text("Satisfaction ladder over time (no program)")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Results")).to_be_visible()

    # compare two library designs: a table of every metric and who beats whom
    page.get_by_role("link", name="Compare").click()
    compare = page.get_by_role("button", name="Compare", exact=True)
    expect(compare).to_be_enabled(timeout=30_000)
    compare.click()
    expect(page.get_by_text("Every metric side by side")).to_be_visible(timeout=120_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(4, timeout=120_000)
    expect(page.get_by_text("P(row beats column)")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    idle(page)
    page.screenshot(path=str(ARTIFACTS / "compare.png"))


@pytest.mark.e2e
def test_results_stream_in_provisional_then_final(page: Page, app_url: str, server_log: Path):
    """A long run shows the replications done so far, marked provisional, with a time estimate;
    Cancel keeps them; Run finishes the run, and the figures are then marked final."""
    page.goto(app_url)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled(timeout=60_000)
    page.get_by_role("link", name="Design").click()
    page.get_by_role("tab", name="Simulation").click()
    replications = page.get_by_label("Replications (runs)", exact=True)
    expect(replications).to_be_visible(timeout=30_000)
    replications.fill("40")  # about 10 s of work on two cores: long enough to watch
    replications.press("Enter")
    expect(page.get_by_text("Press Run to simulate (40 replications).")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Run", exact=True).click()

    provisional = page.get_by_text(re.compile(r"Provisional · \d+ of 40 replications"))
    expect(provisional).to_be_visible(timeout=60_000)
    expect(page.locator(".lojal-card")).to_have_count(8, timeout=30_000)
    progress = page.get_by_text(re.compile(r"Simulating: \d+ of 40 replications · about \d+ s left"))
    expect(progress).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Cancel", exact=True).click()
    stopped = page.get_by_text(re.compile(r"Stopped · \d+ of 40 replications"))
    expect(stopped).to_be_visible(timeout=30_000)
    kept = int(re.search(r"(\d+) of 40", stopped.inner_text()).group(1))
    assert 1 <= kept < 40
    expect(page.locator(".lojal-card")).to_have_count(8)  # the figures so far stay
    expect(page.get_by_text(f"Stopped after {kept} of 40 replications")).to_be_visible()

    page.get_by_role("button", name="Run", exact=True).click()  # the rest only
    expect(page.get_by_text(re.compile(r"Final · 40 replications"))).to_be_visible(timeout=120_000)
    charts_drawn(page)
    expect(provisional).to_have_count(0)
    expect(page.get_by_text("Results are up to date.")).to_be_visible()
    assert edited_fields(page, server_log) == ["simulation.replications"]  # the one edit, nothing else


@pytest.mark.e2e
def test_calibrate_the_bundled_sample_and_open_it_in_design(page: Page, app_url: str):
    """The Calibrate page on the bundled CDNOW sample: the fit says what it is doing while it
    runs, its tables and charts come, and the calibrated scenario opens in Design."""
    page.goto(app_url)
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled(timeout=60_000)
    page.get_by_role("link", name="Calibrate").click()
    page.get_by_role("button", name="Use the bundled CDNOW sample").click()
    expect(page.get_by_text("2,357 customers bought by the calibration end (39 weeks)")).to_be_visible(timeout=30_000)
    idle(page)
    started = time.perf_counter()
    page.get_by_role("button", name="Fit", exact=True).click()
    expect(page.get_by_text(re.compile(r"Fitting (BG/NBD|Pareto/NBD|Gamma|the agent model)")).first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("Calibrated on cdnow_sample.csv")).to_be_visible(timeout=120_000)
    charts_drawn(page, 2)
    print(f"\nCalibrate: Fit -> charts in the browser {time.perf_counter() - started:.1f} s (CDNOW sample)")
    idle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "calibrate.png"))
    page.get_by_role("button", name="Open in Design").click()
    expect(page.get_by_role("heading", name="Design")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Opened “Calibrated on cdnow_sample.csv”")).to_be_visible()
    expect(page.get_by_role("heading", name="Calibrated on cdnow_sample.csv")).to_be_visible()
