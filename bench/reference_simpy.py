"""Naive reference implementation of the model core: one SimPy process per customer.

This is the comparison point for the vectorised engine in `simulation/`, for
correctness (tests/test_reference_match.py) and speed (bench/bench_engine.py). It is
written to be obviously right, not fast: every customer is a SimPy process and every
purchase is a SimPy timeout.

Scope: the customer core only -- no loyalty program, no acquisition, no word of mouth,
no new-customer basket effect. Time unit = one month.

Per customer i, drawn once at the start:
    segment s           by the segments' shares
    base rate r_i       ~ Gamma(shape=purchase_rate_shape, scale=purchases_per_month/shape)
    mean basket b_i     ~ LogNormal with mean basket_value and CV basket_cv
                          (sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2/2; cv = 0 -> the mean)
    level L_i           from the segment's ladder_shares()

Each month t = 0..T-1, for each customer still alive:
    1. purchases: Poisson process with rate lam = r_i * purchase_rate_multiplier[L] on
       [t, t+1): exponential gaps, each purchase a SimPy timeout; k purchases;
       spend += k * b_i * (1 + upsell_share[L]).
    2. ladder move at the month end (experiences are judged a month at a time: a month
       with purchases, however many, is one experience):
           p_pos  = positive_experience * climb[L]        if k >= 1 else 0
           p_neg  = negative_experience * forgiveness[L]  if k >= 1 else 0
           drift  = drift_without_contact if k == 0 else 0
           p_up   = p_pos                    (0 if L is the top level)
           p_down = min(1, p_neg + drift)    (0 if L is the bottom level)
           if p_up + p_down > 1: scale both by 1/(p_up + p_down)
       one uniform u: up if u < p_up, down if u >= 1 - p_down, else stay.
    3. churn: with the new level L', leave for good if another uniform < churn_per_month[L'].

Recorded per month (after churn): active customers, customers per level, purchases,
revenue (spend of the month, including customers who churned at its end).

Run as a script to time 10,000 customers x 12 months:
    python bench/reference_simpy.py [--customers N] [--months T] [--seed S] [--scenario FILE]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
import time
from pathlib import Path

import pandas as pd
import simpy

try:
    from simulation.schema import LEVELS, Scenario
except ImportError:  # run as `python bench/reference_simpy.py` from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from simulation.schema import LEVELS, Scenario

N_LEVELS = len(LEVELS)
TOP = N_LEVELS - 1
LEVEL_COLUMNS = tuple(f"level_{name}" for name in LEVELS)
COLUMNS = ("month", "active_customers", "purchases", "revenue", *LEVEL_COLUMNS)


class _Tally:
    """Monthly totals; every customer process adds its own month into them."""

    def __init__(self, months: int):
        self.purchases = [0] * months
        self.revenue = [0.0] * months
        self.levels = [[0] * N_LEVELS for _ in range(months)]
        self.events = 0  # SimPy timeouts processed (purchases + month ends)


def _draw_customer(rng: random.Random, segments, seg_cum, ladder_cums):
    """Segment, base purchase rate, mean basket and starting level of one customer."""
    s = min(bisect.bisect_right(seg_cum, rng.random()), len(segments) - 1)
    seg = segments[s]
    shape = seg.purchase_rate_shape
    rate = rng.gammavariate(shape, seg.purchases_per_month / shape)
    cv = seg.basket_cv
    if cv > 0:
        sigma2 = math.log1p(cv * cv)
        basket = rng.lognormvariate(math.log(seg.basket_value) - sigma2 / 2, math.sqrt(sigma2))
    else:
        basket = seg.basket_value
    level = min(bisect.bisect_right(ladder_cums[s], rng.random()), TOP)
    return rate, basket, level


def _customer(
    env: simpy.Environment,
    rng: random.Random,
    params,
    tally: _Tally,
    months: int,
    rate: float,
    basket: float,
    level: int,
):
    """The life of one customer, month by month, until churn or the horizon."""
    rate_mult, upsell, churn, chance_neg, chance_pos, drift = params
    for t in range(months):
        month_end = t + 1.0
        # 1. purchases: a Poisson process on [t, t+1); exponential gaps, one timeout each
        lam = rate * rate_mult[level]
        k = 0
        if lam > 0:
            while True:
                gap = rng.expovariate(lam)
                if env.now + gap >= month_end:
                    break
                yield env.timeout(gap)
                k += 1
        # wait out the rest of the month (memoryless: the next month starts a fresh gap)
        yield env.timeout(max(0.0, month_end - env.now))
        tally.events += k + 1
        if k:
            tally.purchases[t] += k
            tally.revenue[t] += k * basket * (1.0 + upsell[level])

        # 2. ladder move at the month end
        if k:  # a month with purchases: one good or bad experience, whatever k
            p_up, p_down = chance_pos[level], chance_neg[level]
        else:  # a month without purchases: no experience, only the drift
            p_up, p_down = 0.0, drift
        if level == TOP:
            p_up = 0.0
        if level == 0:
            p_down = 0.0
        p_down = min(1.0, p_down)
        total = p_up + p_down
        if total > 1.0:
            p_up /= total
            p_down /= total
        u = rng.random()
        if u < p_up:
            level += 1
        elif u >= 1.0 - p_down:
            level -= 1

        # 3. churn with the new level
        if rng.random() < churn[level]:
            return
        tally.levels[t][level] += 1


def simulate(
    scenario: Scenario | None = None,
    n_customers: int | None = None,
    months: int | None = None,
    seed: int = 0,
    return_events: bool = False,
):
    """Simulate the model core; one row per month 1..T.

    Columns: month, active_customers, purchases, revenue, level_very_dissatisfied ... level_loyal.
    `n_customers` and `months` default to the scenario's customers.size and horizon_months.
    With `return_events=True` returns (frame, number of SimPy timeouts processed).
    """
    scenario = Scenario() if scenario is None else scenario
    c = scenario.customers
    n = c.size if n_customers is None else int(n_customers)
    T = scenario.simulation.horizon_months if months is None else int(months)
    lad = c.ladder
    params = (
        lad.purchase_rate_multiplier.as_tuple(),
        lad.upsell_share.as_tuple(),
        lad.churn_per_month.as_tuple(),
        tuple(lad.negative_experience * f for f in lad.forgiveness.as_tuple()),
        tuple(lad.positive_experience * c for c in lad.climb.as_tuple()),
        lad.drift_without_contact,
    )
    segments = c.segments
    seg_cum = list(itertools.accumulate(s.share for s in segments))
    ladder_cums = [list(itertools.accumulate(s.ladder_shares())) for s in segments]

    rng = random.Random(seed)
    env = simpy.Environment()
    tally = _Tally(T)
    for _ in range(n):
        rate, basket, level = _draw_customer(rng, segments, seg_cum, ladder_cums)
        env.process(_customer(env, rng, params, tally, T, rate, basket, level))
    env.run(until=T + 1)

    rows = []
    for t in range(T):
        counts = tally.levels[t]
        rows.append((t + 1, sum(counts), tally.purchases[t], tally.revenue[t], *counts))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return (frame, tally.events) if return_events else frame


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenario", help="scenario YAML (default: Scenario() defaults)")
    args = ap.parse_args(argv)
    if args.scenario:
        from simulation.scenario_io import load

        scenario = load(args.scenario)
    else:
        scenario = Scenario()
    t0 = time.perf_counter()
    frame, events = simulate(scenario, args.customers, args.months, args.seed, return_events=True)
    wall = time.perf_counter() - t0
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(frame.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
    cm = args.customers * args.months
    print(f"\nreference (one SimPy process per customer): {args.customers:,} customers x {args.months} months")
    print(f"wall time            {wall:8.2f} s")
    print(f"SimPy events         {events:>10,}  ({events / wall:,.0f} events/s)")
    print(f"customer-months/s    {cm / wall:>10,.0f}")


if __name__ == "__main__":
    main()
