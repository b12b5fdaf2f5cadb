"""The toolbox instruments beyond points, tiers, club and referral (docs/model.md 9.5 on):
each one's mechanics against its equation, and its response in the size the sources give.
Their lever rows (section 12.1, tests/test_responses.py) check the direction and order of
magnitude of every field on the response-suite base; these tests check the equations.

Small runs (1,500 customers, a year, 3 replications, common random numbers): an instrument
that changes nothing customers do leaves the program arm's purchases equal to the
baseline's, replication by replication, so the checks below can be exact where the
mechanism is exact and use the replication spread where it is not."""

from __future__ import annotations

import numpy as np
from helpers import per_replication, scenario

import simulation
from simulation.engine import BASELINE, PROGRAM, Sim

SMALL = {"size": 1500, "months": 12, "replications": 3}
INSENSITIVE = {"segments": [{"price_sensitivity": 0.0}]}  # a discount moves no purchase rate


def run(program, customers=None, **kw):
    sections = {"customers": customers} if customers else {}
    return simulation.run(scenario(program=program, **{**SMALL, **kw}, **sections))


def both(res, metric):
    return per_replication(res, metric, "program"), per_replication(res, metric, "baseline")


def ledger(program, customers=None, **kw) -> dict[str, np.ndarray]:
    """One replication's monthly books: metric -> (arms, months + 1)."""
    sections = {"customers": customers} if customers else {}
    return Sim(scenario(program=program, **{**SMALL, **kw}, **sections), 0).run().ledger


# ---------------------------------------------------------------- member card (9.5)
def test_a_card_discount_costs_the_discount_on_member_spend_and_buys_nothing_from_the_insensitive():
    books = ledger({"member_card": {"discount": 0.05, "card_cost": 2.0}}, customers=INSENSITIVE)
    # no price response, no delight: the same purchases and list sales, month by month
    assert np.array_equal(books["purchases"][PROGRAM], books["purchases"][BASELINE])
    assert np.array_equal(books["list_sales"][PROGRAM], books["list_sales"][BASELINE])
    sales, discounts = books["list_sales"][PROGRAM], books["cost_discounts"][PROGRAM]
    assert np.allclose(books["revenue"][PROGRAM], sales - discounts, rtol=1e-12)
    # 5 % of the active members' spend (a few percent of all spend here): at most 5 % of it all
    assert (discounts[1:] <= 0.05 * sales[1:] + 1e-9).all() and discounts[-1] > 0.05 * 0.04 * sales[-1]
    assert np.allclose(books["cost_member_cards"], 2.0 * books["member_cards_issued"])
    assert books["member_cards_issued"][PROGRAM].sum() >= books["members"][PROGRAM, -1] > 0


def test_a_card_lifts_purchases_by_about_price_sensitivity_times_the_discount():
    res = run({"member_card": {"discount": 0.06}})
    program, baseline = both(res, "purchases")
    lift = (program / baseline - 1).mean()
    discounts, _ = both(res, "cost_discounts")
    revenue, _ = both(res, "revenue")
    member_share = (discounts / (revenue + discounts)).mean() / 0.06  # the members' share of spend
    # sensitivity 1 x 6 % on the members' share of purchases (section 4.1), give or take the
    # satisfaction and word of mouth that the extra purchases bring
    assert 0.5 * 0.06 * member_share < lift < 1.5 * 0.06 * member_share, (lift, member_share)
