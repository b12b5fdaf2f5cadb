"""Test-session settings shared by all tests."""

from __future__ import annotations

import os
import signal

import pytest

# Under mutation testing (mutmut sets MUTANT_UNDER_TEST), run the fast unit tests of the
# random streams, the customer arrays, results.py and the instruments first: pytest runs with -x, so a mutant they
# kill costs a fraction of a second instead of a run of the engine tests.
_FIRST = (
    "tests/test_rng_exact.py",
    "tests/test_people_mutants.py",
    "tests/test_results_mutants.py",
    "tests/test_points_mutants.py",
    "tests/test_tiers_mutants.py",
    "tests/test_subscription_mutants.py",
    "tests/test_referral_mutants.py",
    "tests/test_membership_mutants.py",
    "tests/test_rng.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Under pytest-xdist (`-n 3 --dist loadgroup`, the README's command) the real-browser
    # tests share one worker, one Streamlit server and one Chromium; they mostly wait on
    # the browser, so the other workers keep both cores busy with the rest of the suite.
    # (tryfirst: pytest-xdist reads the group marks in its own hook of this name, which ran
    # first and found none; the browser tests were spread over the workers, each with a
    # server and a Chromium of its own. pytest < 9.2 too: see pyproject.toml.)
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return _FIRST.index(path) if path in _FIRST else len(_FIRST)

    items.sort(key=rank)  # stable: the order within a file is kept


# Under mutation, a test that runs past this many seconds fails: a mutant that makes a loop
# endless (the Poisson inversion's) is killed in a minute, not at mutmut's CPU limit (~12 min for
# rng.py's functions, whose tests include the engine's). The slowest test here takes ~15 s.
MUTANT_TEST_SECONDS = 60


@pytest.fixture(autouse=True)
def _mutant_deadline():
    if not os.environ.get("MUTANT_UNDER_TEST"):
        yield
        return

    def stop(_signum, _frame):
        raise TimeoutError(f"over {MUTANT_TEST_SECONDS} s under mutation: the mutant does not end")

    before = signal.signal(signal.SIGALRM, stop)
    signal.alarm(MUTANT_TEST_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
