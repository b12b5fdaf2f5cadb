"""Fast, exact checks of the points instrument (simulation/instruments/points.py), written for
mutation testing (bench/mutation.sh instruments/points).

Each test takes a small simulation just after launch (`started_sim`: 300 customers, the
willing ones signed up), sets the state a hook reads to chosen values, calls the hook and
compares what it wrote with the rule of docs/model.md worked out in the test. The random
draws a hook uses are read from the same named stream (`sim.uniform`), so the expected
outcome is exact, not statistical. The file runs in well under a second.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_instruments import month, started_sim

from simulation.engine import PROGRAM

SIZE = 300


def points_sim(**params):
    sim = started_sim({"points": params}, size=SIZE, months=24)
    module = sim.instruments[0]
    assert module.key == "points"
    return sim, module


def _members(sim):
    members = np.flatnonzero(sim.members)
    assert members.size >= 20
    return members


# ---------------------------------------------------------------- set-up
def test_init_registers_state_and_tables():
    sim, m = points_sim(expiry_months=3, expiry_policy="fixed", redemption_threshold=400, reward_cost=6,
                        purchase_lift=0.2, novelty_lift=0.5, novelty_months=4)  # fmt: skip
    people, cap = sim.people, sim.people.capacity
    assert people.points.dtype == np.float64 and people.points.shape == (cap,) and not people.points.any()
    assert people.ti_points_activity.dtype == np.int32 and people.ti_points_activity.shape == (cap,)
    assert not people.ti_points_activity.any()
    assert people.ti_redeemed.dtype == np.int32 and (people.ti_redeemed == -10).all()
    assert people.points_lots.dtype == np.float64 and people.points_lots.shape == (3, cap)
    assert not people.points_lots.any()
    assert m.cost_per_point == 6 / 400
    assert m.horizon == 3
    months = np.arange(24 + 2)
    assert np.allclose(m.lift_by_months_in, 0.2 * (1 + 0.5 * np.exp(-months / 4)), rtol=1e-15, atol=0)
    assert m.issued == m.redeemed == m.expired == 0.0
    assert m.fixed_lots
    assert tuple(m.cost_lines) == ("cost_rewards", "cost_replaced_purchases")


@pytest.mark.parametrize(
    ("params", "fixed", "horizon"),
    [
        ({"expiry_months": 3}, False, 12),  # inactivity policy
        ({"expiry_months": 20, "expiry_policy": "fixed"}, True, 12),  # a year at most
        ({"expiry_months": 12, "expiry_policy": "fixed"}, True, 12),
        ({"expiry_months": 11, "expiry_policy": "fixed"}, True, 11),
        ({"expiry_months": 0, "expiry_policy": "fixed"}, False, 12),  # never expires: no lots
    ],
)
def test_fixed_lots_and_horizon(params, fixed, horizon):
    sim, m = points_sim(**params)
    assert m.fixed_lots is fixed
    assert m.horizon == horizon
    assert hasattr(sim.people, "points_lots") is fixed


def test_calendar_is_a_monthly_expiry():
    _, m = points_sim()
    (event,) = m.calendar()
    assert (event.name, event.every_months, event.first_month) == ("points expiry", 1, 0)
    assert event.fn == m.expire


# ---------------------------------------------------------------- worth and timing
def test_progress_is_the_share_of_the_way_to_the_next_reward():
    sim, m = points_sim(redemption_threshold=500)
    points = sim.view("points")
    points[:4] = [0.0, 250.0, 500.0, 1375.0]
    before = points.copy()
    assert m.progress()[:4].tolist() == [0.0, 0.5, 0.0, 0.75]
    assert np.array_equal(points, before)  # reading progress leaves the balances alone


def test_value_share_is_value_back_times_reach():
    sim, m = points_sim(earn_rate=2.0, reward_value=10.0, redemption_threshold=500)
    n = sim.people.n
    sim.m.rel_earn = np.linspace(0.5, 2.0, n)
    sim.m.expected_spend = np.linspace(0.0, 60.0, n)  # some reach the reward in a year, some not
    share = np.full(n, 0.01)
    m.value_share(month(sim, program_value=share))
    earn = sim.m.rel_earn * 2.0
    reach = np.minimum(earn * sim.m.expected_spend * 12 / 500, 1.0)
    assert 0 < (reach < 1).sum() < n  # both sides of the cap
    back = earn * 10.0 / 500 * reach
    assert np.allclose(share, 0.01 + back, rtol=1e-13, atol=0)
    scale = sim.sc.program.membership.value_scale
    assert np.allclose(m.effect, 1 - np.exp(-back / scale), rtol=1e-12, atol=0)


def test_purchase_rate_is_lift_with_novelty_goal_gradient_and_post_reward_dip():
    sim, m = points_sim(redemption_threshold=100, goal_gradient=0.4, purchase_lift=0.3, novelty_lift=1.0,
                        novelty_months=5, post_redemption_dip=0.25)  # fmt: skip
    n = sim.people.n
    members = _members(sim)
    sim.month = 7
    joined = sim.view("ti_joined")
    joined[members] = np.arange(members.size) % 8  # 0 .. 7 months in
    points = sim.view("points")
    points[:] = (np.arange(n) * 7.0) % 250  # progress all over [0, 1)
    redeemed = sim.view("ti_redeemed")
    redeemed[members[::4]] = 6  # last month: the dip
    redeemed[members[1::4]] = 5  # two months ago: no dip
    m.effect = np.linspace(0.1, 0.9, n)
    rel = np.full(n, 2.0)
    m.purchase_rate(month(sim, rel_rate=rel))
    progress = points / 100 - np.floor(points / 100)
    lift = 0.3 * (1 + 1.0 * np.exp(-(7 - joined) / 5))
    boost = 1 + m.effect * (0.4 * (progress - 0.5) + lift)
    boost = np.where(redeemed == 6, boost * 0.75, boost)
    want = np.where(sim.members, 2.0 * boost, 2.0)
    assert np.allclose(rel, want, rtol=1e-13, atol=0)
    assert (rel[~sim.members] == 2.0).all()


# ---------------------------------------------------------------- earning
def test_after_purchases_earns_on_net_spend_and_activity():
    sim, m = points_sim(earn_rate=1.5, activity_bonus_points=40, activity_probability=0.5,
                        redemption_threshold=1e9, expiry_months=3, expiry_policy="fixed")  # fmt: skip
    n = sim.people.n
    sim.month = 4
    sim.m.net_spend = np.linspace(0.0, 30.0, n)
    sim.m.rel_earn = np.where(np.arange(n) % 2, 2.0, 1.0)
    sim.view("points")[:] = 5.0
    activity = sim.view("ti_points_activity")
    activity[:] = 1
    sim.view("contact")[::5] = True  # earlier contacts stay
    sim.view("points_lots")[4 % 3] = 7.0  # this month's lot so far
    contact_before = sim.view("contact").copy()
    m.issued = 100.0
    m.after_purchases(sim.m)
    members = sim.members
    u = sim.uniform("points_activity")
    active = members & sim.people.is_digital[:n] & (u < 0.5)
    assert active.any() and (members & ~active).any()
    earned = sim.m.net_spend * 1.5 * sim.m.rel_earn * members + 40 * active
    assert np.allclose(sim.m.points_earned, earned, rtol=1e-13, atol=0)
    assert np.allclose(sim.view("points"), 5.0 + earned, rtol=1e-13, atol=0)
    assert np.array_equal(activity, np.where(earned > 0, 4, 1))
    assert np.array_equal(sim.view("contact"), contact_before | active)
    lots = sim.view("points_lots")
    assert np.allclose(lots[4 % 3], 7.0 + earned, rtol=1e-13, atol=0) and not lots[[0, 2]].any()
    assert sim.ledger["points_issued"][PROGRAM, 5] == pytest.approx(earned.sum(), rel=1e-12)
    assert sim.ledger["points_issued"][0].sum() == 0
    assert m.issued == pytest.approx(100.0 + earned.sum(), rel=1e-12)


def test_points_earned_at_partners_add_to_the_purchases_points():
    sim, m = points_sim(earn_rate=2.0, redemption_threshold=1e9)
    n = sim.people.n
    sim.month = 4
    sim.m.net_spend = np.linspace(0.0, 30.0, n)
    sim.m.extra_points = np.where(np.arange(n) % 3 == 0, 25.0, 0.0)  # (partner_benefits: bought at a partner)
    m.after_purchases(sim.m)
    earned = sim.m.net_spend * 2.0 * sim.members + sim.m.extra_points
    assert np.allclose(sim.m.points_earned, earned, rtol=1e-13, atol=0)
    assert sim.ledger["points_issued"][PROGRAM, 5] == pytest.approx(earned.sum(), rel=1e-12)


def test_no_activity_bonus_no_contact():
    sim, m = points_sim(activity_bonus_points=0, activity_probability=1.0, redemption_threshold=1e9)
    n = sim.people.n
    sim.m.net_spend = np.zeros(n)
    sim.m.rel_earn = np.ones(n)
    m.after_purchases(sim.m)
    assert not sim.m.points_earned.any() and not sim.view("contact").any()
    assert not sim.view("ti_points_activity").any()


# ---------------------------------------------------------------- redeeming
def _redeem_setup(**params):
    sim, m = points_sim(redemption_threshold=500, reward_value=20.0, reward_cost=12.0,
                        redemption_replaces_purchase=0.25, reward_satisfaction_lift=0.3, **params)  # fmt: skip
    n = sim.people.n
    members = _members(sim)
    sim.month = 6
    points = sim.view("points")
    points[:] = 0.0
    points[members] = np.resize([499.0, 500.0, 1250.0, 2000.0, 120.0], members.size)
    outsider = np.flatnonzero(~sim.members)[0]
    points[outsider] = 5000.0  # not a member: cannot redeem
    return sim, m, n, members, outsider


def test_redeem_takes_whole_rewards_and_charges_them():
    sim, m, n, members, outsider = _redeem_setup(redemption_probability=1.0)
    points = sim.view("points")
    before = points.copy()
    value = sim.pview("value").copy()
    m.redeemed = 7.0
    m._redeem(sim.members)
    rewards = np.where(sim.members, np.floor(before / 500), 0.0)
    assert rewards.sum() > 0 and set(rewards[members]) == {0.0, 1.0, 2.0, 4.0}
    assert np.array_equal(points, before - 500 * rewards)
    assert points[outsider] == 5000.0
    redeem = rewards > 0
    assert np.array_equal(sim.view("ti_redeemed"), np.where(redeem, 6, -10))
    assert np.array_equal(sim.view("ti_points_activity"), np.where(redeem, 6, 0))
    led = sim.ledger
    assert led["cost_rewards"][PROGRAM, 7] == pytest.approx(12.0 * rewards.sum(), rel=1e-12)
    replaced = rewards * 0.25 * 20.0
    assert led["revenue"][PROGRAM, 7] == pytest.approx(-replaced.sum(), rel=1e-12)
    margin = sim.per_slot("margin")
    assert led["cost_replaced_purchases"][PROGRAM, 7] == pytest.approx((replaced * margin).sum(), rel=1e-12)
    assert led["rewards_redeemed"][PROGRAM, 7] == rewards.sum()
    assert led["points_redeemed"][PROGRAM, 7] == 500 * rewards.sum()
    assert m.redeemed == 7.0 + 500 * rewards.sum()
    for line in ("cost_rewards", "cost_replaced_purchases", "revenue", "rewards_redeemed", "points_redeemed"):
        assert led[line][0].sum() == 0, line
    # each customer's value carries the costs, discounted to month 6
    cost = rewards * 12.0 + replaced * margin
    assert np.allclose(sim.pview("value"), value - cost * sim.discount_factor[6], rtol=1e-12, atol=1e-12)
    # delight: the reward's worth against the usual basket, at most a whole one
    basket = sim.people.basket[:n]
    worth = np.minimum(rewards * 20.0 / basket, 1.0)
    assert 0 < worth[redeem].min() < 1 or worth[redeem].max() == 1
    assert np.allclose(sim.people.nudge_up[:n], 0.3 * worth * redeem, rtol=1e-13, atol=0)
    assert np.array_equal(sim.view("contact")[redeem], np.ones(redeem.sum(), bool))


def test_partner_rewards_go_to_askers_who_still_hold_their_points():
    # section 9.12: after its own redemptions, each member asking at a partner who still holds a
    # partner reward's points takes one: the points count as redeemed, the program pays the partner
    sim = started_sim({"points": {"reward_satisfaction_lift": 0.3}, "partner_benefits": {"burn_probability": 0.5}},
                      size=SIZE, months=24)  # fmt: skip
    m = sim.instruments[0]
    assert m.key == "points"
    n, members = sim.people.n, _members(sim)
    sim.month = 6
    points = sim.view("points")
    points[:] = 0.0
    points[members] = np.resize([299.0, 300.0, 1000.0, 50.0], members.size)
    asking = members[1::2]  # every other member asks: 300, 50, 300, 50, ... and 299, 1000, ...
    before, m.redeemed = points.copy(), 11.0
    m._partner_rewards(asking, 300.0, 45.0, 30.0, "cost_partner_rewards")
    took = np.zeros(n, bool)
    took[asking] = before[asking] >= 300.0
    assert took.any() and (~took[asking]).any()  # some asking members hold too few points
    assert np.array_equal(points, before - 300.0 * took)
    assert np.array_equal(sim.view("ti_redeemed"), np.where(took, 6, -10))
    assert np.array_equal(sim.view("ti_points_activity") == 6, took)
    led = sim.ledger
    assert led["cost_partner_rewards"][PROGRAM, 7] == 30.0 * took.sum()
    assert led["partner_rewards"][PROGRAM, 7] == took.sum()
    assert led["points_redeemed"][PROGRAM, 7] == 300.0 * took.sum()
    assert m.redeemed == 11.0 + 300.0 * took.sum()
    for line in ("cost_partner_rewards", "partner_rewards", "points_redeemed"):
        assert led[line][0].sum() == 0, line
    worth = np.minimum(45.0 / sim.people.basket[:n], 1.0)
    assert np.allclose(sim.people.nudge_up[:n], 0.3 * worth * took, rtol=1e-13, atol=0)


def test_redeem_chance_grows_with_the_reward_against_the_basket():
    sim, m, n, members, _ = _redeem_setup(redemption_probability=0.4)
    before = sim.view("points").copy()
    m._redeem(sim.members)
    can = sim.members & (before >= 500)
    basket = sim.people.basket[:n]
    p = 1 - 0.6 ** (20.0 / basket)
    redeem = can & (sim.uniform("points_redeem") < p)
    assert redeem.any() and (can & ~redeem).any()
    assert np.array_equal(sim.view("ti_redeemed") == 6, redeem)
    assert np.array_equal(sim.view("points"), before - 500 * np.floor(before / 500) * redeem)


def test_redeem_uses_the_oldest_lots_first():
    sim, m, n, members, _ = _redeem_setup(redemption_probability=1.0, expiry_months=3, expiry_policy="fixed")
    i = members[2]  # 1250 points: two rewards, 1000 points
    lots = sim.view("points_lots")
    lots[:, i] = 0.0
    lots[(6 + 1) % 3, i], lots[(6 + 2) % 3, i], lots[6 % 3, i] = 600.0, 450.0, 200.0  # oldest .. newest
    m._redeem(sim.members)
    assert sim.view("points")[i] == 250.0
    assert lots[:, i][[(6 + 1) % 3, (6 + 2) % 3, 6 % 3]].tolist() == [0.0, 50.0, 200.0]


def test_consume_oldest_over_many_customers():
    sim, m = points_sim(expiry_months=4, expiry_policy="fixed")
    n = sim.people.n
    lots = sim.view("points_lots")
    sim.month = 9
    order = [(9 + 1 + a) % 4 for a in range(4)]  # oldest .. newest
    for k, row in enumerate(order):
        lots[row, :] = 10.0 * (k + 1)  # 10, 20, 30, 40: 100 in all
    used = np.zeros(n)
    used[:9] = [0, 5, 10, 15, 30, 60, 95, 100, 0.5]
    m._consume_oldest(used)
    want = {
        0: [10, 20, 30, 40], 1: [5, 20, 30, 40], 2: [0, 20, 30, 40], 3: [0, 15, 30, 40],
        4: [0, 0, 30, 40], 5: [0, 0, 0, 40], 6: [0, 0, 0, 5], 7: [0, 0, 0, 0], 8: [9.5, 20, 30, 40],
        9: [10, 20, 30, 40],
    }  # fmt: skip
    for j, left in want.items():
        assert lots[order, j].tolist() == left, j
    # only the lots filled so far are read: in month 1, rows of months 0 and 1
    sim.month = 1
    lots[:] = 0.0
    lots[0, :3] = 7.0
    lots[1, :3] = 9.0
    used = np.zeros(n)
    used[:3] = [3.0, 7.0, 16.0]
    m._consume_oldest(used)
    assert lots[0, :3].tolist() == [4.0, 0.0, 0.0] and lots[1, :3].tolist() == [9.0, 9.0, 0.0]
    m._consume_oldest(np.zeros(n))  # nothing used: nothing taken
    assert lots[1, :3].tolist() == [9.0, 9.0, 0.0]


# ---------------------------------------------------------------- expiry
def test_inactive_balances_expire_and_the_departed_forfeit():
    sim, m = points_sim(expiry_months=3, expiry_satisfaction_hurt=0.2)
    n = sim.people.n
    sim.month = 10
    points = sim.view("points")
    points[:] = np.resize([0.0, 50.0, 80.0, 0.5, 30.0], n)  # (half a point expires too)
    activity = sim.view("ti_points_activity")
    activity[:] = np.resize([7, 8, 7, 8, 9, 10], n)  # idle 3, 2, 3, 2, 1, 0 months
    alive = sim.pview("is_alive")
    alive[::7] = False
    before = points.copy()
    m.expired = 1.0
    m.expire()
    idle = (10 - activity) >= 3
    lost = np.where(alive, np.where(idle, before, 0.0), before)
    assert lost[alive].sum() > 0 and lost[~alive].sum() > 0 and (alive & idle & (before == 0.5)).any()
    assert np.array_equal(points, before - lost)
    assert sim.ledger["points_expired"][PROGRAM, 11] == lost.sum()
    assert m.expired == 1.0 + lost.sum()
    assert np.allclose(sim.people.nudge_down[:n], 0.2 * (alive & (lost > 0)))
    assert not sim.view("contact").any()  # a bad contact is no contact


def test_fixed_lots_expire_their_oldest_month():
    sim, m = points_sim(expiry_months=3, expiry_policy="fixed")
    n = sim.people.n
    sim.month = 5
    lots = sim.view("points_lots")
    oldest = (5 + 1) % 3
    lots[:] = 10.0
    lots[oldest] = np.resize([0.0, 30.0, 100.0], n)
    points = sim.view("points")
    points[:] = 60.0  # less than the oldest lot for some (they redeemed part of it)
    alive = sim.pview("is_alive")
    alive[1::11] = False
    before_lots = lots.copy()
    m.expire()
    lost = np.where(alive, np.minimum(before_lots[oldest], 60.0), 60.0)
    assert np.array_equal(points, 60.0 - lost)
    assert not lots[oldest].any()
    assert np.array_equal(lots[[r for r in range(3) if r != oldest]], before_lots[[r for r in range(3) if r != oldest]])
    assert sim.ledger["points_expired"][PROGRAM, 6] == lost.sum()


def test_points_that_never_expire_are_lost_only_by_leaving():
    sim, m = points_sim(expiry_months=0)
    n = sim.people.n
    sim.month = 30 % 24
    points = sim.view("points")
    points[:] = 25.0
    alive = sim.pview("is_alive")
    alive[::5] = False
    m.expire()
    assert np.array_equal(points, np.where(alive, 25.0, 0.0))
    assert sim.people.nudge_down[:n].max() == 0


# ---------------------------------------------------------------- stock and summary
def test_record_outstanding_points_of_living_customers_at_reward_cost():
    sim, m = points_sim(reward_cost=4.0, redemption_threshold=500)
    n = sim.people.n
    sim.view("points")[:] = np.arange(n, dtype=float)
    alive = sim.pview("is_alive")
    alive[::3] = False
    m.record(9)
    outstanding = np.arange(n)[alive].sum()
    assert sim.ledger["points_outstanding"][PROGRAM, 9] == outstanding
    assert sim.ledger["points_liability"][PROGRAM, 9] == pytest.approx(outstanding * 4.0 / 500, rel=1e-13)
    assert sim.ledger["points_liability"][0].sum() == 0


def test_summary_breakage_counts_stranded_points():
    sim, m = points_sim()
    n = sim.people.n
    sim.ledger["points_liability"][PROGRAM, -1] = 12.5
    points = sim.view("points")
    points[:] = 10.0
    alive = sim.pview("is_alive")
    alive[:5] = False
    dormant, left = sim.view("is_dormant"), sim.view("left_program")
    dormant[:20] = True  # 5 of them departed: not stranded
    left[20:30] = True
    m.issued, m.redeemed, m.expired = 900.0, 300.0, 50.0
    out: dict[str, np.ndarray] = {}
    m.summary(out)
    stranded = 10.0 * (15 + 10)
    assert out["breakage_rate"].tolist() == [0.0, pytest.approx((50 + stranded) / (300 + 50 + stranded), rel=1e-13)]
    assert out["points_issued"].tolist() == [0.0, 900.0]
    assert out["points_liability_end"].tolist() == [0.0, 12.5]
    sim.ledger["points_liability"][PROGRAM, -1] = 1.0
    assert out["points_liability_end"][1] == 12.5  # a copy
    # nothing settled: no breakage (not 0/0)
    points[:] = 0.0
    m.redeemed = m.expired = 0.0
    m.summary(out)
    assert out["breakage_rate"].tolist() == [0.0, 0.0]
    assert n > 30
