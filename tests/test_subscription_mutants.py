"""Fast, exact checks of the paid club (simulation/instruments/subscription.py), written for
mutation testing (bench/mutation.sh instruments/subscription).

Each test takes a small simulation just after launch (`started_sim`: 300 customers, the
willing ones signed up through a points card), sets the state a hook reads, calls the hook
and compares what it wrote with the rule worked out in the test; random draws are read from
the same named streams (`sim.uniform`), so the expected outcome is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_instruments import month, started_sim

from simulation.engine import PROGRAM

CLUB = {"fee": 6.0, "billing_period_months": 2, "trial_months": 1, "uptake_per_month": 0.6, "fee_sensitivity": 1.5,
        "trial_uptake_multiplier": 1.5, "trial_cancellation": 0.4, "discount": 0.1, "free_shipping": True,
        "exclusive_access_value": 2.0, "exclusive_access_cost": 0.7, "purchase_rate_lift": 0.15,
        "churn_multiplier": 0.6, "cancel_when_value_below_fee": 0.5, "base_cancellation_per_month": 0.1,
        "satisfaction_lift": 0.03}  # fmt: skip


def club_sim(economics=None, **params):
    sim = started_sim({"points": {}, "subscription": {**CLUB, **params}}, size=300, months=24,
                      economics={"shipping_cost_per_order": 4.0, **(economics or {})})  # fmt: skip
    module = next(m for m in sim.instruments if m.key == "subscription")
    members = np.flatnonzero(sim.members)
    assert members.size >= 30
    return sim, module, members


def _subscribe(sim, slots):
    sim.view("is_subscriber")[slots] = True
    sim.view("ti_subscribed")[slots] = 0


def test_init_and_calendar():
    sim, m, _ = club_sim()
    people, cap = sim.people, sim.people.capacity
    for name, dtype, fill in (("is_subscriber", bool, False), ("ti_subscribed", np.int32, -1),
                              ("ti_next_bill", np.int32, -1), ("club_value", np.float64, 0.0),
                              ("is_trial", bool, False)):  # fmt: skip
        arr = getattr(people, name)
        assert arr.dtype == dtype and arr.shape == (cap,) and (arr == fill).all(), name
    assert m.fee_per_month == 3.0
    (event,) = m.calendar()
    assert (event.name, event.every_months, event.first_month) == ("club billing", 1, 0)
    assert event.fn == m.bill
    assert tuple(m.cost_lines) == ("cost_club_access",)


def test_subscribers_are_enrolled_dormant_or_not_and_get_their_factors():
    sim, m, members = club_sim()
    n = sim.people.n
    _subscribe(sim, members[:10])
    outsider = np.flatnonzero(~sim.enrolled)[:2]
    sim.view("is_subscriber")[outsider] = True  # not enrolled: not served
    sim.view("is_dormant")[members[:3]] = True
    sim.membership_changed()
    subs = m.subscribers()
    assert np.flatnonzero(subs).tolist() == sorted(members[:10].tolist())
    rel = np.full(n, 2.0)
    m.purchase_rate(month(sim, rel_rate=rel))
    assert np.allclose(rel, np.where(subs, 2.3, 2.0), rtol=1e-15)
    keep, rel_basket = np.full(n, 0.5), np.ones(n)
    sim.m.free_shipping = np.zeros(n, bool)
    sim.m.free_shipping[outsider[0]] = True
    m.basket(month(sim, keep=keep, rel_basket=rel_basket))
    assert np.allclose(keep, np.where(subs, 0.45, 0.5), rtol=1e-15) and (rel_basket == 1).all()
    assert np.array_equal(sim.m.free_shipping, subs | (np.arange(n) == outsider[0]))
    churn = np.full(n, 3.0)
    m.churn(month(sim, rel_churn=churn))
    assert np.allclose(churn, np.where(subs, 1.8, 3.0), rtol=1e-15)
    # without free shipping the club ships nothing free
    sim2, m2, members2 = club_sim(free_shipping=False)
    _subscribe(sim2, members2[:5])
    sim2.m.free_shipping = np.zeros(sim2.people.n, bool)
    m2.basket(month(sim2, keep=np.ones(sim2.people.n), rel_basket=np.ones(sim2.people.n)))
    assert not sim2.m.free_shipping.any()


def _worth(sim, m):
    n = sim.people.n
    sim.m.expected_orders = np.linspace(0.0, 4.0, n)
    # a third expect to spend nothing, some less than one unit
    sim.m.expected_spend = np.where(np.arange(n) % 3 == 0, 0.0, np.linspace(0.0, 80.0, n))
    sim.m.expected_spend[1:30:3] = 0.5
    share = np.full(n, 0.02)
    m.value_share(month(sim, program_value=share))
    return share


def test_expected_value_and_its_surplus_share():
    sim, m, _ = club_sim()
    share = _worth(sim, m)
    value = sim.m.expected_spend * 0.1 + sim.m.expected_orders * 4.0 + 2.0
    assert np.allclose(m.expected, value, rtol=1e-14) and np.allclose(m.expected_value(sim.m), value, rtol=1e-14)
    surplus = np.maximum(value - 3.0, 0.0)
    assert (value < 3.0).any() and (value > 3.0).any()
    want = 0.02 + np.divide(surplus, sim.m.expected_spend, out=np.zeros_like(surplus), where=sim.m.expected_spend > 0)
    assert np.allclose(share, want, rtol=1e-14)
    none = sim.m.expected_spend == 0
    assert (share[none] == 0.02).all() and (surplus[none] > 0).any()  # nothing spent: no share (not 0/0)
    small = sim.m.expected_spend == 0.5
    assert np.allclose(share[small], 0.02 + surplus[small] / 0.5, rtol=1e-14) and (surplus[small] > 0).any()
    # no shipping cost, or a club without free shipping: the discount and the access only
    for sim2, m2 in (club_sim(economics={"shipping_cost_per_order": 0.0})[:2], club_sim(free_shipping=False)[:2]):
        _worth(sim2, m2)
        assert np.allclose(m2.expected, sim2.m.expected_spend * 0.1 + 2.0, rtol=1e-14)


def test_uptake_falls_with_the_fee_and_rises_with_a_trial():
    sim, m, _ = club_sim()
    _worth(sim, m)
    slots = np.arange(0, sim.people.n, 7)
    first = np.resize([True, False], slots.size)
    ratio = (m.expected[slots] / 3.0) ** 1.5
    want = np.minimum(0.6 * ratio / (1 + ratio) * np.where(first, 1.5, 1.0), 1.0)
    assert np.allclose(m.uptake(slots, first), want, rtol=1e-13)
    # free: the uptake itself; a big trial pull is capped at 1
    sim, m, _ = club_sim(fee=0.0, uptake_per_month=0.8, trial_uptake_multiplier=2.0)
    _worth(sim, m)
    got = m.uptake(slots, first)
    assert np.allclose(got, np.where(first, 1.0, 0.8), rtol=1e-15)
    sim, m, _ = club_sim(fee=0.0, uptake_per_month=0.8, trial_months=0)
    _worth(sim, m)
    assert np.allclose(m.uptake(slots, first), 0.8, rtol=1e-15)
    # a fee below one unit a month still weighs
    sim, m, _ = club_sim(fee=1.0, trial_months=0)  # 0.5 a month
    _worth(sim, m)
    ratio = (m.expected[slots] / 0.5) ** 1.5
    assert np.allclose(m.uptake(slots, first), np.minimum(0.6 * ratio / (1 + ratio), 1.0), rtol=1e-13)


def test_after_purchases_values_the_club_and_starts_it():
    sim, m, members = club_sim()
    n = sim.people.n
    _worth(sim, m)
    sim.month = 5
    subs_slots = members[:12]
    _subscribe(sim, subs_slots)
    again = members[12:20]
    sim.view("ti_subscribed")[again] = np.resize([0, 1], again.size)  # subscribed before: no second trial
    sim.view("club_value")[:] = 1.0
    sim.m.k = np.resize(np.array([0, 1, 2], np.int32), n)
    sim.m.list_spend = np.linspace(0.0, 40.0, n)
    value = sim.pview("value").copy()
    before_ti = sim.view("ti_subscribed").copy()
    m.after_purchases(sim.m)
    subs = np.isin(np.arange(n), subs_slots)
    saved = (sim.m.list_spend * 0.1 + sim.m.k * 4.0 + 2.0) * subs
    start = sim.members & ~subs & (sim.m.k > 0)
    first = before_ti < 0
    u = sim.uniform("club_uptake")
    chance = np.zeros(n)
    chance[start] = m.uptake(np.flatnonzero(start), first[start])
    started = start & (u < chance)
    assert started.any() and (start & ~started).any() and (started & ~first).any() and (started & first).any()
    assert (started & (before_ti == 0)).any()  # subscribed in month 0: not a first-timer
    assert np.array_equal(sim.view("is_subscriber"), subs | started)
    assert np.array_equal(sim.view("is_trial"), started & first)
    assert np.array_equal(sim.view("ti_subscribed"), np.where(started, 5, before_ti))
    assert np.array_equal(sim.view("ti_next_bill"), np.where(started, np.where(first, 6, 5), -1))
    assert np.allclose(sim.view("club_value"), np.where(started, 0.0, 1.0 + saved), rtol=1e-14)
    assert sim.ledger["club_starts"][PROGRAM, 6] == started.sum()
    assert sim.ledger["cost_club_access"][PROGRAM, 6] == pytest.approx(0.7 * 12, rel=1e-13)
    assert np.allclose(sim.pview("value"), value - 0.7 * subs * sim.discount_factor[5], rtol=1e-13, atol=1e-13)
    assert np.allclose(sim.people.nudge_up[:n], 0.03 * subs, rtol=1e-15)
    # a club without free shipping: no shipping saved, whatever shipping costs
    sim2, m2, members2 = club_sim(free_shipping=False)
    _worth(sim2, m2)
    _subscribe(sim2, members2[:12])
    sim2.m.k = np.full(n, 2, np.int32)
    sim2.m.list_spend = np.full(n, 30.0)
    m2.after_purchases(sim2.m)
    assert np.allclose(sim2.view("club_value")[members2[:12]], 30.0 * 0.1 + 2.0, rtol=1e-15)
    # no trial on offer: nobody starts one, everyone is billed at once
    sim, m, members = club_sim(trial_months=0, uptake_per_month=1.0, fee=0.0)
    _worth(sim, m)
    sim.m.k = np.ones(sim.people.n, np.int32)
    sim.m.list_spend = np.full(sim.people.n, 10.0)
    m.after_purchases(sim.m)
    assert sim.view("is_subscriber")[members].all() and not sim.view("is_trial").any()
    assert (sim.view("ti_next_bill")[members] == 0).all()


def _billing(**params):
    sim, m, members = club_sim(**params)
    n = sim.people.n
    sim.month = 8
    subs = members[:40]
    _subscribe(sim, subs)
    k = subs.size
    sim.view("ti_subscribed")[subs] = np.resize([2, 8], k)  # 8: signed up this month
    sim.view("ti_next_bill")[subs] = np.resize([8, 7, 9, 8, 8], k)  # due unless 9
    sim.view("club_value")[subs] = np.resize([0.0, 5.0, 6.0, 10.0], k)  # fee 6
    sim.view("is_trial")[subs[::3]] = True
    value = sim.pview("value").copy()
    return sim, m, n, value


def test_bill_cancels_charges_and_ends_trials():
    sim, m, n, value = _billing()
    subs = m.subscribers()
    next_bill, subscribed = sim.view("ti_next_bill").copy(), sim.view("ti_subscribed").copy()
    club_value, trial = sim.view("club_value").copy(), sim.view("is_trial").copy()
    m.bill()
    base = sim.uniform("club_cancel_base")
    u = sim.uniform("club_cancel_value")
    due = subs & (next_bill <= 8)
    short = due & (subscribed < 8) & (club_value < 6.0)
    ends = due & trial
    cancel = (subs & (base < 0.1)) | (short & (u < 0.5)) | (ends & (u >= 0.6))
    charged = due & ~cancel
    for mask in (subs & (base < 0.1), short & (u < 0.5), ends & (u >= 0.6), charged, due & (subscribed == 8)):
        assert mask.any()
    assert np.array_equal(sim.view("is_subscriber"), subs & ~cancel)
    assert np.array_equal(sim.view("is_trial"), trial & ~ends)
    assert np.array_equal(sim.view("ti_next_bill"), np.where(charged, next_bill + 2, next_bill))
    assert np.array_equal(sim.view("club_value"), np.where(charged, 0.0, club_value))
    assert sim.ledger["fee_income"][PROGRAM, 9] == 6.0 * charged.sum()
    assert sim.ledger["club_cancellations"][PROGRAM, 9] == cancel.sum()
    assert np.allclose(sim.pview("value"), value + 6.0 * charged * sim.discount_factor[8], rtol=1e-13, atol=1e-13)


def test_record_subscribers():
    sim, m, members = club_sim()
    _subscribe(sim, members[:7])
    m.record(4)
    assert sim.ledger["subscribers"][PROGRAM, 4] == 7 and sim.ledger["subscribers"][0].sum() == 0
