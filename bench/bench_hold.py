"""How long `lojal hold` takes on every example: NPS alone, then NPS and customers; prints the
evaluations (runs of the twins), the wall time and the values found. Asserts nothing.

    python bench/bench_hold.py                      # every example in scenarios/
    python bench/bench_hold.py scenarios/coffee-points-card.yaml
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulation  # noqa: E402
from simulation import steady  # noqa: E402


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "scenarios").glob("*.yaml"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"lojal hold, the scenario's replications for the course reported, {steady.SEARCH_REPLICATIONS} twins a "
          f"search step; {os.cpu_count()} CPUs, load average {load}")  # fmt: skip
    print(f"{'scenario':34} {'held':>10} {'runs':>5} {'wall s':>7}  values found")
    for path in paths:
        scenario = simulation.load(path)
        for customers in (False, True):
            start = time.perf_counter()
            held = steady.hold(scenario, customers)  # (as `lojal hold` runs it: one pool for the search)
            wall = time.perf_counter() - start
            found = ", ".join(f"{field.rsplit('.', 1)[1]} {value:g}" for field, value in held.values().items())
            what = ("NPS+cust." if customers else "NPS") + ("" if held.reached else " (no)")
            print(f"{path.name:34} {what:>10} {held.evaluations:>5} {wall:>7.1f}  {found}")


if __name__ == "__main__":
    main()
