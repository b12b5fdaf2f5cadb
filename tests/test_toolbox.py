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
import pytest
from helpers import per_replication, scenario

import simulation
from simulation import ScenarioError
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


# ---------------------------------------------------------------- personalised offers (9.6)
def test_relevant_offers_are_used_more_and_cost_what_the_equations_say():
    offers = {"offers_per_month": 2, "offer_value": 4.0, "cost_per_offer": 0.1, "response_mass": 0.02, "response_matched": 0.12}
    mass, matched = (ledger({"personalised_offers": {**offers, "relevance": r}}) for r in (0.0, 1.0))
    for books, use in ((mass, 0.02), (matched, 0.12)):
        sent, used = books["offers_sent"][PROGRAM].sum(), books["offers_used"][PROGRAM].sum()
        assert np.isclose(books["cost_offers_sent"][PROGRAM].sum(), 0.1 * sent)
        assert np.isclose(books["cost_offers_used"][PROGRAM].sum(), 4.0 * used)
        # used at a purchase (at most one each): about the chance, a little less for members who did not buy
        se = np.sqrt(use * (1 - use) / sent)
        assert 0.6 * use - 3 * se < used / sent < use + 3 * se, (used / sent, use)
    assert matched["offers_used"][PROGRAM].sum() > 3 * mass["offers_used"][PROGRAM].sum()
    assert matched["purchases"][PROGRAM].sum() > mass["purchases"][PROGRAM].sum()


# ---------------------------------------------------------------- gifts (9.7)
def test_every_member_is_offered_a_birthday_gift_once_a_year_and_a_draw_gives_its_budget():
    books = ledger({"gifts": {"collect_share": 1.0, "gift_cost": 5.0, "prize_budget_per_month": 300.0, "prize_value": 100.0}})
    collected = books["gifts_collected"][PROGRAM, 1:]
    assert np.allclose(books["cost_gifts"][PROGRAM, 1:], 5.0 * collected)
    # a twelfth of the active members each month (their birthday month, by id)
    active = books["members_active"][PROGRAM, 1:]
    assert 0.75 < collected[3:].sum() / (active[3:].sum() / 12) < 1.25
    assert (books["prizes_won"][PROGRAM, 2:] == 3).all() and np.allclose(books["cost_prizes"], 100.0 * books["prizes_won"])


# ---------------------------------------------------------------- feedback and service recovery (9.8)
def test_survey_waves_come_on_their_months_and_recovery_keeps_detractors():
    card = {"member_card": {}}  # members to ask: a survey alone is worth nothing to join for
    books = ledger({**card, "feedback": {"survey_every_months": 4, "response_rate": 0.5, "recovery_share": 1.0}})
    waves = np.flatnonzero(books["survey_answers"][PROGRAM])
    assert waves.tolist() == [4, 8, 12]  # month indices 3, 7, 11: recorded at t + 1
    assert np.allclose(books["cost_surveys"][PROGRAM], 0.5 * books["survey_answers"][PROGRAM])
    assert np.allclose(books["cost_recovery"][PROGRAM], 15.0 * books["detractors_contacted"][PROGRAM])
    assert (books["detractors_contacted"][PROGRAM, waves] > 0).all()
    assert (-100 <= books["nps_surveyed"][PROGRAM, waves]).all() and (books["nps_surveyed"][PROGRAM, waves] <= 100).all()
    kept = run({**card, "feedback": {"recovery_share": 1.0, "response_rate": 1.0, "survey_every_months": 1}})
    none = run({**card, "feedback": {"recovery_share": 0.0, "response_rate": 1.0, "survey_every_months": 1}})
    assert (per_replication(kept, "churned", "program") < per_replication(none, "churned", "program")).all()
    assert (per_replication(kept, "nps_end", "program") > per_replication(none, "nps_end", "program")).all()


# ---------------------------------------------------------------- surprise and delight (9.9)
def test_surprises_go_to_whom_the_target_says_within_the_budget():
    from test_instruments import started_sim

    for target in ("at_risk", "best"):
        program = {"member_card": {}, "surprise_delight": {"budget_per_month": 200.0, "gift_cost": 10.0, "target": target}}
        sim = started_sim(program, size=600)  # (the card: members to surprise)
        module = sim.instruments[1]
        module.after_purchases(sim.m)
        chosen = np.flatnonzero(sim.people.nudge_up[: sim.people.n] > 0)
        assert chosen.size == 20 and np.isin(chosen, sim.member_slots).all()
        level = sim.pview("level")
        others = np.setdiff1d(sim.member_slots, chosen)
        # no member left out is nearer the target end than one chosen
        if target == "at_risk":
            assert level[chosen].max() <= level[others].min()
        else:
            assert level[chosen].min() >= level[others].max()
        assert np.isclose(sim.ledger["cost_surprises"][PROGRAM].sum(), 200.0)
        assert sim.m.extra_listeners == 20 * 0.5


# ---------------------------------------------------------------- communication cadence (9.10)
def test_relevant_messages_lift_and_too_many_drive_opt_outs():
    card = {"member_card": {}}  # members to write to
    few = ledger({**card, "communication": {"messages_per_month": 4, "cost_per_message": 0.02}})
    assert not few["opt_outs"][PROGRAM].any()  # within the tolerated cadence: nobody leaves
    assert np.allclose(few["cost_messages"][PROGRAM], 0.02 * few["messages_sent"][PROGRAM])
    many = ledger({**card, "communication": {"messages_per_month": 16, "relevance": 0.0}})
    # ten extra irrelevant messages: 10 % of those reached opt out a month, and the rest get fewer
    sent = many["messages_sent"][PROGRAM, 1:] / 16
    rate = many["opt_outs"][PROGRAM, 1:].sum() / sent.sum()
    assert 0.07 < rate < 0.13, rate
    generic, relevant = (run({**card, "communication": {"relevance": r}}) for r in (0.0, 1.0))
    assert (per_replication(relevant, "purchases", "program") > per_replication(generic, "purchases", "program")).all()


# ---------------------------------------------------------------- reviews from promoters (9.11)
def test_reviews_come_from_promoters_and_raise_the_conversion_of_recommendations():
    card = {"member_card": {}}  # members to ask
    books = ledger({**card, "reviews": {"ask_share": 0.5, "review_rate": 0.2, "reward_per_review": 3.0}})
    written = books["reviews_written"][PROGRAM]
    assert written[1:].all() and np.allclose(books["cost_reviews"][PROGRAM], 3.0 * written)
    counting = books["reviews_published"][PROGRAM, 1:]
    assert (np.diff(counting) > 0).all() and counting[-1] < written.sum()  # growing, with the oldest ageing out
    social, none = (run({**card, "reviews": {"conversion_lift": lift}}) for lift in (1.0, 0.0))
    assert (per_replication(social, "acquisitions", "program") > per_replication(none, "acquisitions", "program")).all()


# ---------------------------------------------------------------- partner benefits (9.12)
SIMPLE = {"membership": {"complexity_dormancy": 0.0}}  # (another instrument alone changes nothing)


def test_partner_points_reach_the_balances_and_the_partners_pay_for_them():
    from test_instruments import started_sim

    partners = {"use_share": 0.4, "spend_per_use": 30.0, "earn_rate": 2.0, "price_per_point": 0.01}
    sim = started_sim({"points": {}, "partner_benefits": partners}, size=600)
    points, partner = sim.instruments
    before = sim.view("points").copy()
    partner.purchase_rate(sim.m)
    sim.m.k = np.zeros(sim.people.n, np.int64)  # (no purchases: only partner points are earned)
    sim.m.net_spend = np.zeros(sim.people.n)
    points.after_purchases(sim.m)
    partner.after_purchases(sim.m)
    gained = sim.view("points") - before
    earners = partner.earners
    assert np.isin(earners, sim.member_slots).all() and 0.3 < earners.size / sim.member_slots.size < 0.5
    assert np.allclose(gained[earners], 60.0) and not np.delete(gained, earners).any()
    assert np.isclose(sim.ledger["partner_points"][PROGRAM].sum(), 60.0 * earners.size)
    assert np.isclose(sim.ledger["cost_partner_points"][PROGRAM].sum(), -0.01 * 60.0 * earners.size)
    assert np.isclose(sim.ledger["points_issued"][PROGRAM].sum(), 60.0 * earners.size)


def test_partners_with_no_one_earning_change_nothing_and_need_the_points():
    alone = ledger({"points": {}, **SIMPLE})
    idle = ledger({"points": {}, "partner_benefits": {"use_share": 0.0}, **SIMPLE})
    for metric, series in alone.items():
        assert np.array_equal(idle[metric], series), metric
    assert not idle["partner_points"].any() and not idle["cost_partner_points"].any()
    with pytest.raises(ScenarioError, match="partner_benefits: .* needs the points instrument"):
        simulation.validate({"program": {"partner_benefits": {}, "member_card": {}}})
    # partner points are worth something: more of the willing join, and rewards are claimed sooner
    rich = run({"points": {}, "partner_benefits": {"use_share": 0.5, "spend_per_use": 100.0}, **SIMPLE})
    none = run({"points": {}, "partner_benefits": {"use_share": 0.0}, **SIMPLE})
    for metric in ("members_end", "cost_rewards"):
        assert (per_replication(rich, metric, "program") > per_replication(none, metric, "program")).all(), metric


def test_rewards_taken_at_partners_use_points_the_program_pays_for():
    """Burning at partners: each member asking who still holds a partner reward's points after
    the month's own redemptions takes one; the program pays the partner for it, the points
    count as redeemed (less breakage), and nobody's balance goes below zero."""
    from test_instruments import started_sim

    burn = {"burn_probability": 0.5, "partner_reward_points": 300.0, "partner_reward_cost": 7.0}
    sim = started_sim({"points": {"redemption_probability": 0.0}, "partner_benefits": burn}, size=600)
    points, partner = sim.instruments
    sim.view("points")[sim.member_slots] = 650.0  # two partner rewards' worth each
    before = sim.view("points").copy()
    partner.purchase_rate(sim.m)
    asking = sim.m.partner_rewards[0]
    sim.m.k = np.zeros(sim.people.n, np.int64)
    sim.m.net_spend = np.zeros(sim.people.n)
    sim.m.extra_points = None  # (no partner points earned in this check)
    points.after_purchases(sim.m)
    taken = before - sim.view("points")
    assert 0.4 < asking.size / sim.member_slots.size < 0.6
    assert np.allclose(taken[asking], 300.0) and not np.delete(taken, asking).any()  # one reward each
    assert sim.ledger["partner_rewards"][PROGRAM].sum() == asking.size
    assert np.isclose(sim.ledger["cost_partner_rewards"][PROGRAM].sum(), 7.0 * asking.size)
    assert np.isclose(points.redeemed, 300.0 * asking.size)
    over = run({"points": {}, "partner_benefits": {"burn_probability": 0.3}, **SIMPLE})
    none = run({"points": {}, "partner_benefits": {}, **SIMPLE})
    assert (per_replication(over, "breakage_rate", "program") < per_replication(none, "breakage_rate", "program")).all()
    assert (per_replication(over, "partner_rewards", "program") > 0).all()
    assert not per_replication(none, "partner_rewards", "program").any()


# ---------------------------------------------------------------- staff training (9.13)
def test_staff_skill_builds_while_training_runs_and_fades_after():
    books = ledger({"member_card": {}, "staff_training": {"cost_per_month": 100.0, "training_months": 6, "skill_months": 3.0}})
    t = np.arange(1, 13)  # months 0-11, recorded at t + 1
    built = 1.0 - np.exp(-np.minimum(t, 6) / 3.0)
    skill = built * np.exp(-np.maximum(t - 6, 0) / 3.0)
    assert np.allclose(books["staff_skill"][PROGRAM, 1:], skill)
    assert np.array_equal(books["cost_staff_training"][PROGRAM, 1:], np.where(t <= 6, 100.0, 0.0))
    assert (books["disappointments_avoided"][PROGRAM, 1:] > 0).all()


def test_untrained_effects_change_nothing_and_trained_staff_sign_up_and_serve_better():
    card = {"member_card": {}, **SIMPLE}
    alone = ledger(card)
    idle = ledger({**card, "staff_training": {"enrolment_lift": 0.0, "bad_experience_cut": 0.0}})
    for metric, series in alone.items():
        if metric != "cost_staff_training":
            assert np.array_equal(idle[metric], series), metric
    assert np.array_equal(idle["cost_staff_training"][PROGRAM, 1:], np.full(12, 3000.0))
    # at the till: more sign-ups, and every month's extra member joined sooner
    asking = ledger({**card, "staff_training": {"enrolment_lift": 2.0, "bad_experience_cut": 0.0, "skill_months": 1.0}})
    assert (asking["members"][PROGRAM, 1:] >= alone["members"][PROGRAM, 1:]).all()
    assert asking["members"][PROGRAM, 3] > 1.05 * alone["members"][PROGRAM, 3]
    # fewer disappointments: the avoided ones are the chance of a fall, so fewer customers fall
    serving = run({**card, "staff_training": {"enrolment_lift": 0.0, "bad_experience_cut": 0.5}})
    plain = run(card)
    assert (per_replication(serving, "nps_end", "program") > per_replication(plain, "nps_end", "program")).all()
    assert (per_replication(serving, "churned", "program") < per_replication(plain, "churned", "program")).all()


# ---------------------------------------------------------------- progressive discount scale (9.14)
def test_the_discount_follows_the_step_of_the_rolling_spend():
    from test_instruments import started_sim

    scale = {"steps": [{"spend": 100.0, "discount": 0.02}, {"spend": 300.0, "discount": 0.05}], "window_months": 3}
    sim = started_sim({"progressive_discount": {**scale, "goal_lift": 0.5}}, size=600)
    (module,) = sim.instruments
    members = sim.member_slots
    spend = np.resize([0.0, 99.0, 100.0, 250.0, 300.0, 900.0], members.size)
    sim.view("scale_spend")[members] = spend
    sim._purchase_rates(sim.view("level").astype(np.intp))  # (the program's factors, a fresh month)
    keep = np.select([spend >= 300, spend >= 100], [0.95, 0.98], 1.0)
    assert np.allclose(sim.m.keep[members], keep)
    # the pull of the next step: 1 + goal_lift x progress (none on the top step); then the discount's
    progress = np.select([spend >= 300, spend >= 100], [0.0, (spend - 100) / 200], spend / 100)
    price = 1.0 + sim.per_slot("price_sensitivity")[members] * (1.0 - keep)
    assert np.allclose(sim.m.rel_rate[members], (1.0 + 0.5 * progress) * price)


def test_the_rolling_window_forgets_old_spend_and_an_empty_scale_costs_nothing():
    books = ledger({"member_card": {"discount": 0.0}, "progressive_discount": {"window_months": 2}, **SIMPLE})
    assert books["scale_members_discounted"][PROGRAM, -1] > 0
    free = {"steps": [{"spend": 1.0, "discount": 0.0}], "goal_lift": 0.0}
    alone = ledger({"member_card": {"discount": 0.0}, **SIMPLE})
    idle = ledger({"member_card": {"discount": 0.0}, "progressive_discount": free, **SIMPLE})
    for metric in ("purchases", "revenue", "cost_discounts", "members", "nps", "churned"):
        assert np.array_equal(idle[metric], alone[metric]), metric
    sim = Sim(scenario(program={"member_card": {}, "progressive_discount": {"window_months": 2}}, **SMALL), 0).run()
    alive = sim.pview("is_alive")  # (the window is working state: not kept for those gone)
    window = sim.view("scale_months")[:, alive]  # the sum is the last two months' member spend
    assert np.allclose(sim.view("scale_spend")[alive], window.sum(axis=0)) and window.any()


# ---------------------------------------------------------------- cumulative bonus (9.15)
def test_the_bonus_is_paid_at_the_end_of_each_year_to_those_above_the_minimum():
    bonus = {"bonus_share": 0.03, "minimum_spend": 200.0, "payout_delight": 0.0}
    books = ledger({"cumulative_bonus": bonus}, months=24)
    paid = np.flatnonzero(books["cost_bonuses"][PROGRAM])
    assert paid.tolist() == [12, 24]  # months 11 and 23, recorded at t + 1
    # what is paid is what was owed at the end of the month before, plus the last month's accrual
    owed = books["bonus_liability"][PROGRAM]
    assert owed[11] <= books["cost_bonuses"][PROGRAM, 12] and owed[12] == 0.0
    assert 0 < books["bonuses_paid"][PROGRAM, 12] <= books["members"][PROGRAM, 12]
    none = ledger({"cumulative_bonus": {**bonus, "minimum_spend": 1e9}}, months=24)
    assert not none["cost_bonuses"].any() and not none["bonus_liability"].any()


def test_the_settlement_pulls_spend_forward_and_a_zero_bonus_changes_nothing():
    alone = ledger({"member_card": {"discount": 0.0}, **SIMPLE})
    zero = {"bonus_share": 0.0, "concentration_lift": 0.0, "payout_delight": 0.0}
    idle = ledger({"member_card": {"discount": 0.0}, "cumulative_bonus": zero, **SIMPLE})
    for metric in ("purchases", "revenue", "members", "nps", "churned"):
        assert np.array_equal(idle[metric], alone[metric]), metric
    assert not idle["cost_bonuses"].any()
    pulled = run({"member_card": {"discount": 0.0}, "cumulative_bonus": {"concentration_lift": 0.3}, **SIMPLE})
    flat = run({"member_card": {"discount": 0.0}, "cumulative_bonus": {"concentration_lift": 0.0}, **SIMPLE})
    assert (per_replication(pulled, "purchases", "program") > per_replication(flat, "purchases", "program")).all()


# ---------------------------------------------------------------- members-only events (9.16)
def test_events_come_on_their_months_and_cost_per_event_and_attendee():
    events = {"events_per_year": 3, "attendance_share": 0.2, "cost_per_attendee": 10.0, "cost_per_event": 500.0}
    books = ledger({"member_card": {}, "member_events": events})
    held = np.flatnonzero(books["events_held"][PROGRAM])
    assert held.tolist() == [4, 8, 12]  # one every four months (months 3, 7, 11)
    attendees = books["event_attendees"][PROGRAM]
    assert np.allclose(books["cost_events"][PROGRAM], 500.0 * books["events_held"][PROGRAM] + 10.0 * attendees)
    share = attendees[held] / books["members_active"][PROGRAM, held - 1]
    assert (0.12 < share).all() and (share < 0.3).all(), share
    dull = run({"member_card": {}, "member_events": {**events, "attendee_delight": 0.0}})
    lively = run({"member_card": {}, "member_events": {**events, "attendee_delight": 0.6}})
    assert (per_replication(lively, "nps_end", "program") > per_replication(dull, "nps_end", "program")).all()


# ---------------------------------------------------------------- value-based giving (9.17)
def test_donations_are_the_share_of_member_spend_and_only_the_caring_are_moved():
    from test_instruments import started_sim

    sim = started_sim({"giving": {"donation_share": 0.02, "caring_share": 0.25, "satisfaction_lift": 0.01}}, size=600)
    (module,) = sim.instruments
    n = sim.people.n
    sim.m.k = np.arange(n) % 3  # a third buy nothing
    sim.m.net_spend = 10.0 * sim.m.k
    module.after_purchases(sim.m)
    buyers = sim.member_slots[sim.m.k[sim.member_slots] > 0]
    assert np.isclose(sim.ledger["cost_donations"][PROGRAM].sum(), 0.02 * sim.m.net_spend[buyers].sum())
    cares = module._cares()
    assert 0.2 < cares.mean() < 0.3  # a fixed trait of a quarter of the customers
    nudged = np.flatnonzero(sim.people.nudge_up[:n])
    assert np.array_equal(nudged, buyers[cares[buyers]])
    plain = {"member_card": {"discount": 0.0}, **SIMPLE}
    nobody = ledger({**plain, "giving": {"caring_share": 0.0, "donation_share": 0.01}})
    alone = ledger(plain)
    for metric in ("purchases", "revenue", "members", "nps", "churned"):
        assert np.array_equal(nobody[metric], alone[metric]), metric
    assert (nobody["cost_donations"][PROGRAM] <= 0.01 * nobody["revenue"][PROGRAM] + 1e-9).all()
