"""Back tests: the example scenarios' summaries, stored as expected results.

Each file in `scenarios/` is run with a reduced but fixed setup (its own seed; the first
examples with BACKTEST_OVERRIDES and BACKTEST_REPLICATIONS replications, the scenario
library added later with the smaller LIBRARY_OVERRIDES and LIBRARY_REPLICATIONS: a second
or two each) and the mean of every summary metric for every arm is kept in
`tests/expected/<name>.json`, with the setup it was made with.
`tests/test_backtest.py` runs them again and fails on any change beyond float round-off.

When the model changes on purpose, regenerate them all with one command

    python tests/regenerate_expected.py

(or only those of a new scenario: `python tests/regenerate_expected.py NAME`, its file stem)

and say in CHANGELOG.md why the numbers moved.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from any checkout
    sys.path.insert(0, str(ROOT))

import simulation  # noqa: E402

SCENARIOS = ROOT / "scenarios"
EXPECTED = Path(__file__).resolve().parent / "expected"
BACKTEST_OVERRIDES = ("customers.size=5000",)
BACKTEST_REPLICATIONS = 3
FIRST_EXAMPLES = ("coffee-points-card", "fashion-tiers-club", "webshop-referral")
# the later library scenarios run smaller (the suite's time), with their own horizon cut to two years
LIBRARY_OVERRIDES = ("customers.size=2000", "simulation.horizon_months=24")
LIBRARY_REPLICATIONS = 2
REGENERATE = "python tests/regenerate_expected.py"


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def expected_path(scenario_file: Path) -> Path:
    return EXPECTED / f"{scenario_file.stem}.json"


def backtest_setup(scenario_file: Path) -> tuple[tuple[str, ...], int]:
    """The overrides and replications a scenario is back-tested with."""
    if scenario_file.stem in FIRST_EXAMPLES:
        return BACKTEST_OVERRIDES, BACKTEST_REPLICATIONS
    return LIBRARY_OVERRIDES, LIBRARY_REPLICATIONS


def backtest_summary(scenario_file: Path) -> dict:
    """The setup and `{metric: {arm: mean}}` (NaN as None) of one reduced run."""
    overrides, replications = backtest_setup(scenario_file)
    sc = simulation.load(scenario_file, overrides)
    res = simulation.run(sc, replications=replications)
    means: dict[str, dict[str, float | None]] = {}
    for row in res.summary.sort_values(["metric", "arm"]).itertuples(index=False):
        means.setdefault(row.metric, {})[row.arm] = None if math.isnan(row.mean) else float(row.mean)
    setup = {
        "scenario": f"scenarios/{scenario_file.name}",
        "overrides": list(overrides),
        "replications": replications,
        "seed": sc.simulation.seed,
        "horizon_months": sc.simulation.horizon_months,
    }
    return {"setup": setup, "mean": means}


def main(names: list[str] | None = None) -> int:
    """Regenerate every expected file, or those of the scenarios named (file stems)."""
    names = sys.argv[1:] if names is None else names
    unknown = set(names) - {p.stem for p in scenario_files()}
    if unknown:
        print(f"no such scenario in scenarios/: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    EXPECTED.mkdir(exist_ok=True)
    for path in scenario_files():
        if names and path.stem not in names:
            continue
        out = expected_path(path)
        out.write_text(json.dumps(backtest_summary(path), indent=1, sort_keys=True) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    print("Say in CHANGELOG.md why the expected results changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
