"""Back tests: the example scenarios give the summaries stored in tests/expected/ (see
tests/regenerate_expected.py). Runs are deterministic, so any change beyond float round-off
is a change of the model or of the metrics: intended ones are regenerated, and explained."""

from __future__ import annotations

import json
import math

import pytest
from regenerate_expected import REGENERATE, backtest_summary, expected_path, scenario_files

RELATIVE = 1e-9  # float round-off (summation order, libm), nothing a model change could hide in
ABSOLUTE = 1e-9  # for figures that are 0 in one version and round-off in another


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_example_scenario_gives_the_expected_summary(path):
    stored = expected_path(path)
    assert stored.exists(), f"no expected results for {path.name}: run `{REGENERATE}`"
    expected = json.loads(stored.read_text())
    got = backtest_summary(path)
    assert got["setup"] == expected["setup"], f"the back test's setup changed: run `{REGENERATE}`"
    changes = []
    for metric in sorted(set(expected["mean"]) | set(got["mean"])):
        old, new = expected["mean"].get(metric, {}), got["mean"].get(metric, {})
        for arm in sorted(set(old) | set(new)):
            a, b = old.get(arm, "absent"), new.get(arm, "absent")
            same = a == b or (
                isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=RELATIVE, abs_tol=ABSOLUTE)
            )
            if not same:
                changes.append(f"  {metric} [{arm}]: expected {a}, got {b}")
    assert not changes, (
        f"{path.name}: {len(changes)} figure(s) differ from {stored.name}:\n"
        + "\n".join(changes[:25])
        + ("\n  ..." if len(changes) > 25 else "")
        + f"\nIf the change is intended, regenerate the expected results with `{REGENERATE}`"
        " and say why in CHANGELOG.md."
    )
