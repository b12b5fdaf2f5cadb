"""Fast, exact checks of the referral instrument (simulation/instruments/referral.py), written
for mutation testing (bench/mutation.sh instruments/referral).

Each test takes a small simulation just after launch (300 customers), sets the
state a hook reads, calls the hook and compares what it wrote with the rule worked out in the
test; random draws are read from the same named streams (`sim.uniform`), so the expected
outcome is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario
from test_instruments import month

from simulation.engine import PROGRAM, Sim
from simulation.people import PAID, REFERRAL
from simulation.schema import LEVELS

BY_LEVEL = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
EAGER = {"referral_probability": dict(zip(LEVELS, BY_LEVEL, strict=True)), "conversion": 0.5,
         "referrer_reward_cost": 8.0, "referee_reward_cost": 6.0, "reward_response": 0.8,
         "referee_reward_response": 0.6, "referrer_satisfaction_lift": 0.2, "max_referrals_per_referrer": 2,
         "would_have_come_share": 0.3}  # fmt: skip


def referral_sim(**params):
    """Just after launch (no membership needed: anyone may refer)."""
    sim = Sim(scenario(size=300, months=24, program={"referral": {**EAGER, **params}}), 0)
    sim._start()
    return sim, sim.instruments[0]


def test_init():
    sim, m = referral_sim()
    arr = sim.people.n_referrals
    assert arr.dtype == np.int32 and arr.shape == (sim.people.capacity,) and not arr.any()
    assert m.propensity.tolist() == list(BY_LEVEL)
    assert m.converted == 0 and m.displaced == 0
    m.arrivals(sim.m)
    assert sim.m.arrivals == {REFERRAL: 0} and sim.m.displaced_word_of_mouth == 0
    assert tuple(m.cost_lines) == ("cost_referral_rewards",)


def test_pull_has_diminishing_returns_on_the_basket():
    basket = np.array([5.0, 10.0, 40.0])
    assert np.allclose(type(referral_sim()[1])._pull(10.0, basket), 1 - np.exp(-10.0 / basket), rtol=1e-15)


@pytest.mark.parametrize("two_sided", [True, False])
def test_after_purchases_refers_converts_and_pays(two_sided):
    sim, m = referral_sim(two_sided=two_sided)
    n = sim.people.n
    sim.month = 3
    n_ref = sim.view("n_referrals")
    n_ref[:] = np.resize(np.array([0, 1, 2, 3], np.int32), n)  # 2 and 3: at the cap
    alive = sim.pview("is_alive")
    alive[::9] = False
    level = sim.pview("level")
    level[:] = np.resize(np.arange(6, dtype=level.dtype), n)
    before = n_ref.copy()
    value = sim.pview("value").copy()
    m.after_purchases(sim.m)
    basket = sim.people.basket[:n]
    pull = 1 - np.exp(-8.0 / basket)
    p_refer = np.array(BY_LEVEL)[level] * (1 + 0.8 * pull)
    can = alive & (before < 2)
    refer = can & (sim.uniform("referral") < p_refer)
    conversion = 0.5 * (1 + 0.6 * (1 - np.exp(-6.0 / basket))) if two_sided else 0.5
    converted = refer & (sim.uniform("referral_conversion") < conversion)
    assert converted.sum() >= 5 and (refer & ~converted).any()
    assert np.array_equal(n_ref, before + converted)
    assert sim.ledger["referrals_made"][PROGRAM, 4] == refer.sum()
    assert sim.ledger["cost_referral_rewards"][PROGRAM, 4] == 8.0 * converted.sum()
    assert np.allclose(sim.pview("value"), value - 8.0 * converted * sim.discount_factor[3], rtol=1e-13, atol=1e-13)
    assert np.allclose(sim.people.nudge_up[:n], 0.2 * converted, rtol=1e-15)
    assert m.converted == converted.sum() and isinstance(m.converted, int)
    assert m.displaced == round(0.3 * converted.sum())
    m.arrivals(sim.m)
    assert sim.m.arrivals == {REFERRAL: m.converted}
    assert sim.m.displaced_word_of_mouth == m.displaced


def test_no_cap_lets_everyone_refer():
    sim, m = referral_sim(max_referrals_per_referrer=0, conversion=1.0, two_sided=False)
    n = sim.people.n
    n_ref = sim.view("n_referrals")
    n_ref[:] = 50
    level = sim.pview("level")
    level[:] = 5
    m.after_purchases(sim.m)
    basket = sim.people.basket[:n]
    refer = sim.pview("is_alive") & (sim.uniform("referral") < 0.4 * (1 + 0.8 * (1 - np.exp(-8.0 / basket))))
    assert refer.any() and np.array_equal(n_ref, 50 + refer)


def test_on_arrival_pays_the_friend_and_counts_referrals():
    sim, m = referral_sim()
    n = sim.people.n
    sim.month = 2
    value = sim.pview("value").copy()
    m.on_arrival(sim.m, slice(10, 14), REFERRAL)
    assert sim.ledger["referrals"][PROGRAM, 3] == 4.0
    assert sim.ledger["cost_referral_rewards"][PROGRAM, 3] == 24.0
    paid = np.zeros(n)
    paid[10:14] = 6.0
    assert np.allclose(sim.pview("value"), value - paid * sim.discount_factor[2], rtol=1e-13, atol=1e-13)
    m.on_arrival(sim.m, slice(20, 25), PAID)  # other arrivals: nothing
    assert sim.ledger["referrals"][PROGRAM, 3] == 4.0 and sim.ledger["cost_referral_rewards"][PROGRAM, 3] == 24.0
    for params in ({"two_sided": False}, {"referee_reward_cost": 0.0}):
        sim, m = referral_sim(**params)
        m.on_arrival(sim.m, slice(0, 3), REFERRAL)
        assert sim.ledger["referrals"][PROGRAM, 1] == 3.0
        assert sim.ledger["cost_referral_rewards"][PROGRAM].sum() == 0.0


def test_referred_customers_basket_and_churn():
    for multiplier in (1.5, 2.0):
        sim, m = referral_sim(referred_basket_multiplier=multiplier, referred_churn_multiplier=0.8)
        n = sim.people.n
        source = sim.pview("source")
        source[::4] = REFERRAL
        referred = source == REFERRAL
        keep, basket, churn = np.ones(n), np.full(n, 2.0), np.full(n, 0.5)
        m.basket(month(sim, keep=keep, rel_basket=basket))
        m.churn(month(sim, rel_churn=churn))
        assert np.allclose(basket, np.where(referred, 2.0 * multiplier, 2.0), rtol=1e-15) and (keep == 1).all()
        assert np.allclose(churn, np.where(referred, 0.4, 0.5), rtol=1e-15)
    sim, m = referral_sim()  # the default basket multiplier, 1: unchanged
    basket = np.full(sim.people.n, 2.0)
    m.basket(month(sim, keep=np.ones(sim.people.n), rel_basket=basket))
    assert (basket == 2.0).all()
