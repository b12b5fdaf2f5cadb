"""A transaction log drawn from the agent model itself (ladder held still, no program): the
known truth the calibration tests recover, and the big logs of the benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .agent_fit import Ladder
from .transactions import MONTH_DAYS

START = pd.Timestamp("2020-01-01")
SPEND = {"p": 4.0, "q": 3.0, "gamma": 15.0}  # Gamma-Gamma spend: mean amount p gamma / (q - 1) = 30


def agent_log(n: int, purchases_per_month: float, purchase_rate_shape: float, ladder: Ladder,
              starting_ladder, churn_multipliers=(1.0,), shares=(1.0,), first_days: int = 84,
              days: int = 540, seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """`customer`, `date`, `amount` (one row per customer and day) of `n` customers whose
    first purchase falls in the first `first_days` days, through day `days`. Each is in a
    churn segment (`shares`, `churn_multipliers`), on a level drawn from `starting_ladder`,
    with a gamma base rate; each month of age they buy Poisson(rate x the level's multiplier)
    times on uniform days, and leave at its end with the level's churn x the multiplier.
    Amounts follow the Gamma-Gamma model with `SPEND`'s parameters."""
    g = np.random.default_rng(seed)
    segment = g.choice(len(shares), n, p=np.asarray(shares) / np.sum(shares))
    level = g.choice(len(ladder.rate), n, p=np.asarray(starting_ladder) / np.sum(starting_ladder))
    rate = g.gamma(purchase_rate_shape, purchases_per_month / purchase_rate_shape, n) * ladder.rate[level]
    hazard = np.minimum(ladder.churn[level] * np.asarray(churn_multipliers)[segment], 1.0)
    with np.errstate(divide="ignore"):  # (hazard 1: the month of the first purchase only)
        last_month = np.floor(np.log(g.random(n)) / np.log1p(-hazard)).astype(np.int64)
    first = g.integers(0, first_days, n)
    customers, age_days = [np.arange(n)], [np.zeros(n, np.int64)]
    for month in range(int(np.ceil(days / MONTH_DAYS))):
        count = g.poisson(rate * (last_month >= month))
        who = np.repeat(np.arange(n), count)
        customers.append(who)
        age_days.append(np.floor((month + g.random(who.size)) * MONTH_DAYS).astype(np.int64))
    who, age = np.concatenate(customers), np.concatenate(age_days)
    day = first[who] + age
    keep = day <= days
    spend_rate = g.gamma(SPEND["q"], 1 / SPEND["gamma"], n)  # (Gamma-Gamma: amounts gamma(p, this))
    amount = np.round(g.gamma(SPEND["p"], 1 / spend_rate[who[keep]]), 2)
    log = pd.DataFrame({"customer": [f"c{i:06d}" for i in who[keep]], "date": START + pd.to_timedelta(day[keep], "D"),
                        "amount": amount})  # fmt: skip
    return log.groupby(["customer", "date"], as_index=False, sort=True)["amount"].sum()
