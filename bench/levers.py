"""Pull one lever at a time on an example, as a consultant would, and print what moves.

    python bench/levers.py scenarios/coffee-points-card.yaml "program.points.earn_rate=0.5" ...
    python bench/levers.py scenarios/coffee-points-card.yaml --preset points

Each row is the example with one override (the first row as shipped), on the same
customers and seed: incremental net profit, ROI, program cost, members, breakage,
engagement, retention at 12 months and the baseline's size at the end. Figures, not
assertions: the response suite in tests/ holds the model to directions and sizes.
"""

from __future__ import annotations

import argparse
import time

from simulation import load, run

PRESETS = {
    "points": [
        "program.points.earn_rate=0.5",
        "program.points.earn_rate=0.05",
        "program.points.earn_rate=2",
        "program.points.reward_value=90",
        "program.points.reward_value=5",
        "program.points.goal_gradient=0",
        "program.points.enabled=false",
    ],
    "club": [
        "program.subscription.fee=99",
        "program.subscription.fee=499",
        "program.subscription.trial_months=0",
        "program.subscription.trial_months=3",
    ],
    "referral": [
        "program.referral.referrer_reward_cost=0",
        "program.referral.referrer_reward_cost=300",
        "program.referral.two_sided=false",
        "program.referral.referee_reward_cost=300",
    ],
}

COLUMNS = (
    ("net_profit", "incremental", "{:>12,.0f}"),
    ("roi", "incremental", "{:>6.2f}"),
    ("program_cost", "program", "{:>11,.0f}"),
    ("revenue", "incremental", "{:>12,.0f}"),
    ("members_end", "program", "{:>7,.0f}"),
    ("subscribers_end", "program", "{:>6,.0f}"),
    ("referrals", "program", "{:>6,.0f}"),
    ("breakage_rate", "program", "{:>5.2f}"),
    ("engagement", "program", "{:>5.2f}"),
    ("retention_12m", "incremental", "{:>+6.3f}"),
    ("active_customers_end", "baseline", "{:>7,.0f}"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("overrides", nargs="*")
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--size", type=int, default=20000)
    args = ap.parse_args()
    cases = [""] + (PRESETS[args.preset] if args.preset else []) + args.overrides
    print(f"{'lever':42s} " + " ".join(f"{m[:12]:>12s}" for m, _, _ in COLUMNS))
    for case in cases:
        sets = [f"customers.size={args.size}", f"simulation.replications={args.replications}"]
        sc = load(args.scenario, sets + ([case] if case else []))
        t = time.perf_counter()
        res = run(sc)
        cells = []
        for metric, arm, fmt in COLUMNS:
            try:
                cells.append(fmt.format(res.value(metric, arm)).rjust(12))
            except (ValueError, TypeError):
                cells.append("n/a".rjust(12))
        print(f"{(case or 'as shipped')[:42]:42s} " + " ".join(cells) + f"  ({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
