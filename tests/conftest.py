"""Test-session settings shared by all tests."""

from __future__ import annotations

import os

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


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return _FIRST.index(path) if path in _FIRST else len(_FIRST)

    items.sort(key=rank)  # stable: the order within a file is kept
