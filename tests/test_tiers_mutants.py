"""Fast, exact checks of the tiers instrument (simulation/instruments/tiers.py), written for
mutation testing (bench/mutation.sh instruments/tiers).

Each test takes a small simulation just after launch (`started_sim`: 300 customers, the
willing ones signed up), sets the state a hook reads, calls the hook and compares what it
wrote with the rule worked out in the test. Three tiers whose every benefit differs, so a
benefit read from the wrong tier or the wrong table shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_instruments import month, started_sim

from simulation.engine import PROGRAM

THREE = [
    {"name": "Base", "threshold": 0, "discount": 0.01, "earn_multiplier": 1.2, "spend_lift": 0.05,
     "perk_cost_per_member_month": 0.5},
    {"name": "Gold", "threshold": 300, "discount": 0.05, "earn_multiplier": 1.5, "spend_lift": 0.1,
     "free_shipping": True, "perk_cost_per_member_month": 2.0, "status_lift": 0.02},
    {"name": "Plat", "threshold": 900, "discount": 0.1, "earn_multiplier": 2.0, "spend_lift": 0.2,
     "perk_cost_per_member_month": 5.0, "status_lift": 0.05},
]  # fmt: skip


# two segments that feel status differently: upgrades and downgrades scale with it
SEGMENTS = [
    {"name": "A", "share": 0.5, "status_sensitivity": 0.5},
    {"name": "B", "share": 0.5, "status_sensitivity": 2.0},
]


def tiers_sim(tiers=THREE, program=None, economics=None, **params):
    program = {"tiers": {"tiers": tiers, **params}, **(program or {})}
    sim = started_sim(program, size=300, months=24, economics=economics or {}, customers={"segments": SEGMENTS})
    assert set(sim.per_slot("status_sensitivity")) == {0.5, 2.0}
    module = next(m for m in sim.instruments if m.key == "tiers")
    members = np.flatnonzero(sim.members)
    assert members.size >= 30
    return sim, module, members


def test_init_tables_state_and_calendar():
    sim, m, _ = tiers_sim(review_every_months=4, qualification_window_months=5)
    assert m.thresholds.tolist() == [0, 300, 900]
    assert m.keep_by_code.tolist() == pytest.approx([1.0, 0.99, 0.95, 0.9], rel=1e-15)
    assert m.basket_by_code.tolist() == pytest.approx([1.0, 1.05, 1.1, 1.2], rel=1e-15)
    assert m.earn_by_code.tolist() == [1.0, 1.2, 1.5, 2.0]
    assert m.ships_free_by_code.tolist() == [False, False, True, False]
    assert m.perk_cost_by_code.tolist() == [0.0, 0.5, 2.0, 5.0]
    assert m.status_lift_by_code.tolist() == [0.0, 0.0, 0.02, 0.05]
    people, cap = sim.people, sim.people.capacity
    assert people.tier.dtype == np.int8 and people.tier.shape == (cap,) and (people.tier == -1).all()
    assert people.qualifying.dtype == np.float64 and people.qualifying.shape == (cap,) and not people.qualifying.any()
    assert people.qualifying_months.dtype == np.float64 and people.qualifying_months.shape == (5, cap)
    assert not people.qualifying_months.any()
    assert people.ti_below_tier.dtype == np.int32 and (people.ti_below_tier == -1).all()
    (event,) = m.calendar()
    assert (event.name, event.every_months, event.first_month) == ("tier review", 4, 3)
    assert event.fn == m.review
    assert tuple(m.cost_lines) == ("cost_perks",)


def _place(sim, members):
    tier = sim.view("tier")
    tier[members] = np.resize([-1, 0, 1, 2], members.size)
    outsider = np.flatnonzero(~sim.members)[:3]
    tier[outsider] = 2  # a tier left over on someone who is not an active member: no benefits
    return tier


def test_codes_and_basket_factors():
    sim, m, members = tiers_sim()
    tier = _place(sim, members)
    code = m._codes()
    assert code.dtype == np.intp
    want = np.where(sim.members, np.maximum(tier, 0) + 1, 0)
    assert np.array_equal(code, want)
    assert set(code[members]) == {1, 2, 3}
    n = sim.people.n
    keep, rel_basket = np.full(n, 2.0), np.full(n, 3.0)
    sim.m.rel_earn = np.full(n, 0.5)
    sim.m.free_shipping = np.zeros(n, bool)
    sim.m.free_shipping[0] = True
    m.basket(month(sim, keep=keep, rel_basket=rel_basket))
    assert np.array_equal(keep, 2.0 * m.keep_by_code[want])
    assert np.array_equal(rel_basket, 3.0 * m.basket_by_code[want])
    assert np.array_equal(sim.m.rel_earn, 0.5 * m.earn_by_code[want])
    ships = want == 2
    ships[0] = True
    assert np.array_equal(sim.m.free_shipping, ships)


def test_value_share_of_the_tier_held_or_expected():
    sim, m, members = tiers_sim(economics={"shipping_cost_per_order": 4.0})
    n = sim.people.n
    tier = sim.view("tier")
    tier[members[::2]] = np.resize([0, 1, 2], members[::2].size)  # placed members: the tier held
    sim.m.expected_orders = np.linspace(0.0, 3.0, n)
    # a year of spend on each side of each threshold, and exactly on one
    sim.m.expected_spend = np.resize([0.0, 0.5, 24.0, 25.0, 26.0, 74.0, 75.0, 76.0], n)
    share = np.full(n, 0.01)
    m.value_share(month(sim, program_value=share))
    year = 12 * sim.m.expected_spend
    expected = (year >= 300).astype(int) + (year >= 900)
    held = sim.members & (tier >= 0)
    code = np.where(held, tier, expected) + 1
    discount = np.array([0.0, 0.01, 0.05, 0.1])[code]
    shipping = np.divide(
        sim.m.expected_orders * 4.0, sim.m.expected_spend, out=np.zeros(n), where=sim.m.expected_spend > 0
    )
    want = 0.01 + discount + shipping * (code == 2)
    assert np.allclose(share, want, rtol=1e-13, atol=1e-15)
    assert ((code == 2) & (sim.m.expected_spend > 0)).any() and (code == 3).any() and (code == 1).any()
    assert ((code == 2) & (sim.m.expected_spend == 0.5)).any()  # below one unit of spend: still a share
    # without a shipping cost the free shipping is worth nothing
    sim2, m2, _ = tiers_sim()
    sim2.m.expected_orders, sim2.m.expected_spend = sim.m.expected_orders, sim.m.expected_spend
    share2 = np.zeros(n)
    m2.value_share(month(sim2, program_value=share2))
    assert np.allclose(share2, np.array([0.0, 0.01, 0.05, 0.1])[expected + 1], rtol=1e-13)


@pytest.mark.parametrize("metric", ["spend", "points", "visits"])
def test_expected_year_and_metric_by_qualifying_metric(metric):
    sim, m, _ = tiers_sim(program={"points": {"earn_rate": 3.0}}, qualifying_metric=metric)
    n = sim.people.n
    sim.m.expected_orders = np.linspace(0.0, 2.0, n)
    sim.m.expected_spend = np.linspace(0.0, 50.0, n)
    want = {
        "spend": 12 * sim.m.expected_spend,
        "points": 36 * sim.m.expected_spend,
        "visits": 12 * sim.m.expected_orders,
    }
    assert np.allclose(m._expected_year(sim.m), want[metric], rtol=1e-15, atol=0)
    sim.m.k = np.arange(n, dtype=np.int32) % 4
    sim.m.net_spend = np.linspace(1.0, 9.0, n)
    sim.m.points_earned = np.linspace(5.0, 7.0, n)
    got = m._metric(sim.m)
    wanted = {"spend": sim.m.net_spend, "points": sim.m.points_earned, "visits": sim.m.k}[metric]
    assert got.dtype == np.float64 and np.array_equal(got, wanted)


def test_qualified_tier_counts_thresholds_reached():
    sim, m, _ = tiers_sim()
    q = sim.view("qualifying")
    q[:6] = [0.0, 299.99, 300.0, 899.0, 900.0, 5000.0]
    got = m.qualified_tier()
    assert got.dtype == np.int8
    assert got[:6].tolist() == [0, 0, 1, 1, 2, 2]


def test_after_purchases_rolls_the_window_upgrades_and_charges_perks():
    sim, m, members = tiers_sim(qualification_window_months=3, upgrade_satisfaction_lift=0.4)
    n = sim.people.n
    sim.month = 7
    slot = 7 % 3
    window = sim.view("qualifying_months")
    window[:] = 100.0
    window[slot] = np.resize([0.0, 50.0, 200.0], n)  # the month leaving the window
    qualifying = sim.view("qualifying")
    qualifying[:] = window.sum(axis=0)
    tier = sim.view("tier")
    tier[members] = np.resize([-1, 0, 1, 2, 2, 1], members.size)
    since = sim.view("ti_below_tier")
    since[members[::5]] = 3  # found below earlier
    since[members[1::5]] = 0  # found below in the first month
    before_since = since.copy()
    before_tier = tier.copy()
    sim.m.net_spend = np.resize([0.0, 150.0, 400.0, 750.0], n)
    m.after_purchases(sim.m)
    members_mask = sim.members
    value = sim.m.net_spend * members_mask
    assert np.array_equal(window[slot], value)
    assert np.allclose(qualifying, 200.0 + value, rtol=1e-15)  # the two other months' 100 each
    qualified = (qualifying >= 300).astype(int) + (qualifying >= 900)
    up = members_mask & (qualified > before_tier)
    upgraded = up & (before_tier >= 0)
    assert upgraded.any() and (up & ~upgraded).any()
    assert np.array_equal(tier, np.where(up, qualified, before_tier))
    assert sim.ledger["tier_upgrades"][PROGRAM, 8] == upgraded.sum()
    status = sim.per_slot("status_sensitivity")
    # status lift by the tier now held, and the upgrade delight
    code = np.where(members_mask, np.maximum(tier, 0) + 1, 0)
    lift = np.array([0.0, 0.0, 0.02, 0.05])[code] * status
    assert np.allclose(sim.people.nudge_up[:n], 0.4 * status * upgraded + lift, rtol=1e-13, atol=0)
    assert np.array_equal(sim.view("contact"), upgraded)
    below = members_mask & (qualified < tier)
    assert below.any() and (below & (before_since == 0)).any() and (below & (before_since < 0)).any()
    assert np.array_equal(since, np.where(below, np.where(before_since >= 0, before_since, 7), -1))
    perks = np.array([0.0, 0.5, 2.0, 5.0])[code]
    assert sim.ledger["cost_perks"][PROGRAM, 8] == pytest.approx(perks.sum(), rel=1e-13)


def test_no_perks_no_status_lift_records_a_zero_cost():
    plain = [{"name": "A", "threshold": 0}, {"name": "B", "threshold": 100, "discount": 0.02}]
    sim, m, members = tiers_sim(tiers=plain)
    n = sim.people.n
    sim.m.net_spend = np.full(n, 50.0)
    value = sim.pview("value").copy()
    before = set(sim.ledger)
    m.after_purchases(sim.m)
    assert set(sim.ledger) - before == {"cost_perks", "tier_upgrades"}  # a zero cost line, so every run has it
    assert sim.ledger["cost_perks"][PROGRAM].sum() == 0.0
    assert np.array_equal(sim.pview("value"), value)
    assert not sim.people.nudge_up[:n].any()
    assert sim.ledger["tier_upgrades"][PROGRAM, 1] == 0  # joining places a member, it is no upgrade
    assert (sim.view("tier")[members] == 0).all()


def _review_setup(policy, grace=0, hurt=0.3):
    sim, m, members = tiers_sim(downgrade_policy=policy, downgrade_grace_months=grace, downgrade_satisfaction_hurt=hurt)
    sim.month = 9
    tier = sim.view("tier")
    since = sim.view("ti_below_tier")
    q = sim.view("qualifying")
    k = members.size
    tier[members] = 2
    q[members] = np.resize([0.0, 400.0, 1000.0, 0.0, 400.0], k)  # qualifies for 0, 1, 2, 0, 1
    since[members] = np.resize([5, 5, -1, 8, 9, 0], k)  # below for 4, 4, -, 1, 0, 9 months
    return sim, m, members, tier.copy(), since.copy()


@pytest.mark.parametrize("policy", ["one_tier", "to_qualified"])
def test_review_downgrades_by_policy_after_the_grace(policy):
    sim, m, members, tier0, since0 = _review_setup(policy, grace=1)
    n = sim.people.n
    m.review()
    qualified = (sim.view("qualifying") >= 300).astype(int) + (sim.view("qualifying") >= 900)
    due = sim.members & (since0 >= 0) & (9 - since0 >= 1)
    assert due.any() and (sim.members & (since0 >= 0) & ~due).any() and (due & (since0 == 0)).any()
    target = np.maximum(tier0 - 1 if policy == "one_tier" else qualified, qualified)
    assert np.array_equal(sim.view("tier"), np.where(due, target, tier0))
    still_below = qualified < target
    assert np.array_equal(sim.view("ti_below_tier"), np.where(due, np.where(still_below, 9, -1), since0))
    if policy == "one_tier":
        assert (due & still_below).any()
    status = sim.per_slot("status_sensitivity")
    assert np.allclose(sim.people.nudge_down[:n], 0.3 * status * due, rtol=1e-13, atol=0)
    assert sim.ledger["tier_downgrades"][PROGRAM, 10] == due.sum()
    assert not sim.view("contact").any()


def test_review_never_and_nobody_due():
    sim, m, members, tier0, since0 = _review_setup("never")
    m.review()
    assert np.array_equal(sim.view("tier"), tier0) and np.array_equal(sim.view("ti_below_tier"), since0)
    assert "tier_downgrades" not in sim.ledger
    sim, m, members, tier0, since0 = _review_setup("to_qualified", grace=10)
    m.review()  # below for 4 months at most: nobody is due
    assert np.array_equal(sim.view("tier"), tier0)
    assert sim.ledger["tier_downgrades"][PROGRAM, 10] == 0
    assert not sim.people.nudge_down[: sim.people.n].any()


def test_record_counts_enrolled_members_by_tier_and_summary_totals():
    sim, m, members = tiers_sim()
    tier = sim.view("tier")
    tier[members] = np.resize([-1, 0, 1, 2, 2], members.size)
    outsider = np.flatnonzero(~sim.enrolled)[:4]
    tier[outsider] = 1  # not enrolled: not counted
    dormant = sim.view("is_dormant")
    dormant[members[:5]] = True  # dormant members are still enrolled: counted
    sim.membership_changed()
    m.record(6)
    for i, name in enumerate(("Base", "Gold", "Plat")):
        assert sim.ledger[f"tier_{name}"][PROGRAM, 6] == np.count_nonzero(sim.enrolled & (tier == i)), name
    assert sim.ledger["tier_Gold"][0].sum() == 0
    sim.ledger["tier_downgrades"][PROGRAM, 2:5] = [1, 2, 3]
    sim.ledger["tier_upgrades"][PROGRAM, 1:3] = [4, 5]
    out: dict[str, np.ndarray] = {}
    m.summary(out)
    assert out["tier_downgrades"].tolist() == [0.0, 6.0] and out["tier_upgrades"].tolist() == [0.0, 9.0]


def test_points_as_the_tier_metric_needs_the_points_instrument():
    import simulation
    from simulation.scenario_io import ScenarioError

    data = {"program": {"points": {"enabled": False}, "tiers": {"tiers": THREE, "qualifying_metric": "points"}}}
    with pytest.raises(ScenarioError) as err:
        simulation.validate(data)
    assert err.value.problems == [
        "<scenario> program: tiers.qualifying_metric: 'points' needs the points instrument switched on"
    ]
    data["program"]["points"]["enabled"] = True
    assert simulation.validate(data).program.tiers.qualifying_metric == "points"
