"""What one compiled loop over the month would give: the model core (purchases, spend, the
ladder move, churn; no program, arrivals or word of mouth) as a numba loop over customers,
timed against the engine's baseline arm on the same customers and the same random numbers.

A measurement for the decision to write the engine as compiled loops (bench_speed_notes.md),
not part of lojal: numba is not one of its dependencies (`pip install numba` to run this).
Prints figures and how closely the loop's monthly figures follow the engine's; asserts nothing.

    python bench/compiled_core.py [--customers 20000] [--months 36] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

try:
    from numba import njit
except ImportError:
    sys.exit("compiled_core.py needs numba (not a dependency of lojal): pip install numba")

from bench_engine import core_overrides  # noqa: E402

from simulation import scenario_io  # noqa: E402
from simulation.engine import Sim  # noqa: E402
from simulation.people import BASELINE  # noqa: E402
from simulation.schema import Scenario  # noqa: E402

N_LEVELS = 6


@njit(cache=True)
def _month(alive, level, base_rate, basket, rate_by_level, basket_by_level, churn_by_level, p_up, p_down, k_max,
           u_buy, u_move, u_churn, counts):  # fmt: skip
    """One month of the core for every customer; returns (purchases, revenue, churned)."""
    purchases, revenue, churned = 0, 0.0, 0
    for i in range(level.size):
        if not alive[i]:
            continue
        lv = level[i]
        rate = base_rate[i] * rate_by_level[lv]
        p = np.exp(-rate)
        cdf, k = p, 0
        while u_buy[i] > cdf and k < 1000:  # Poisson by inversion, as rng.poisson_from_uniform
            k += 1
            p = p * rate * (1.0 / k)
            cdf += p
        purchases += k
        revenue += k * (basket[i] * basket_by_level[lv])
        row = min(k, k_max) * N_LEVELS + lv
        u = u_move[i]
        if u < p_up[row]:
            lv += 1
        elif u >= 1.0 - p_down[row]:
            lv -= 1
        level[i] = lv
        if u_churn[i] < churn_by_level[lv]:
            alive[i] = False
            churned += 1
        else:
            counts[lv] += 1
    return purchases, revenue, churned


def compiled(sim: Sim, months: int) -> tuple[float, np.ndarray]:
    """CPU seconds of the loop over `months` and the active customers at each month's end."""
    p = sim.people
    n = p.n
    alive, level = p.is_alive[BASELINE, :n].copy(), p.level[BASELINE, :n].copy()
    base_rate, basket = p.base_rate[:n].copy(), p.basket[:n].copy()
    active = np.zeros(months)
    counts = np.zeros(N_LEVELS, np.int64)
    start = time.process_time()
    for month in range(months):
        draws = [sim.streams.uniform(name, n, month) for name in ("purchase", "ladder", "churn")]
        counts[:] = 0
        _month(alive, level, base_rate, basket, sim.rate_by_level, sim.basket_by_level, sim.churn_by_level,
               sim.p_up_by_k_level, sim.p_down_by_k_level, sim.K_MAX, *draws, counts)  # fmt: skip
        active[month] = counts.sum()
    return time.process_time() - start, active


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    overrides = {**core_overrides(), "customers.size": args.customers, "simulation.horizon_months": args.months}
    scenario = scenario_io.override(Scenario(), overrides)
    months = args.months

    def fresh_sim() -> Sim:
        sim = Sim(scenario, 0, only=BASELINE)
        sim._start()
        return sim

    compiled(fresh_sim(), 1)  # (compiled here, or loaded from numba's cache)
    best_loop, best_engine = float("inf"), float("inf")
    for _ in range(args.repeat):
        seconds, active = compiled(fresh_sim(), months)
        best_loop = min(best_loop, seconds)
        sim = Sim(scenario, 0, only=BASELINE)
        start = time.process_time()
        sim.run()
        best_engine = min(best_engine, time.process_time() - start)
    ledger = sim.ledger["active_customers"][BASELINE, 1 : months + 1]
    cm = args.customers * months
    print(f"model core, {args.customers:,} customers x {months} months, baseline arm, CPU s (best of {args.repeat})")
    print(f"  engine (numpy passes)        {best_engine:7.3f} s  {best_engine / cm * 1e9:6.0f} ns a customer-month "
          "(set-up and the replication's bookkeeping included)")  # fmt: skip
    print(f"  one compiled loop            {best_loop:7.3f} s  {best_loop / cm * 1e9:6.0f} ns a customer-month "
          "(the uniforms drawn as the engine does included)")  # fmt: skip
    print(f"  ratio                        {best_engine / best_loop:7.1f}x")
    gap = np.abs(active - ledger).max()
    print(f"  active customers, loop against engine: largest gap {gap:.0f} of {ledger[-1]:,.0f} at the end "
          "(the loop's exp is libm's, not numpy's: a rare count may differ)")  # fmt: skip


if __name__ == "__main__":
    main()
