"""Back tests: the example scenarios' summaries, stored as expected results.

Each file in `scenarios/` is run with a reduced but fixed setup (its own seed and horizon,
BACKTEST_OVERRIDES, BACKTEST_REPLICATIONS replications: a few seconds) and the mean of
every summary metric for every arm is kept in `tests/expected/<name>.json`.
`tests/test_backtest.py` runs them again and fails on any change beyond float round-off.

When the model changes on purpose, regenerate them all with one command

    python tests/regenerate_expected.py

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
REGENERATE = "python tests/regenerate_expected.py"


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def expected_path(scenario_file: Path) -> Path:
    return EXPECTED / f"{scenario_file.stem}.json"


def backtest_summary(scenario_file: Path) -> dict:
    """The setup and `{metric: {arm: mean}}` (NaN as None) of one reduced run."""
    sc = simulation.load(scenario_file, BACKTEST_OVERRIDES)
    res = simulation.run(sc, replications=BACKTEST_REPLICATIONS)
    means: dict[str, dict[str, float | None]] = {}
    for row in res.summary.sort_values(["metric", "arm"]).itertuples(index=False):
        means.setdefault(row.metric, {})[row.arm] = None if math.isnan(row.mean) else float(row.mean)
    setup = {
        "scenario": f"scenarios/{scenario_file.name}",
        "overrides": list(BACKTEST_OVERRIDES),
        "replications": BACKTEST_REPLICATIONS,
        "seed": sc.simulation.seed,
        "horizon_months": sc.simulation.horizon_months,
    }
    return {"setup": setup, "mean": means}


def main() -> int:
    EXPECTED.mkdir(exist_ok=True)
    for path in scenario_files():
        out = expected_path(path)
        out.write_text(json.dumps(backtest_summary(path), indent=1, sort_keys=True) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    print("Say in CHANGELOG.md why the expected results changed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
