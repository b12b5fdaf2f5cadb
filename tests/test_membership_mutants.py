"""Fast, exact checks of membership (simulation/membership.py), written for mutation testing
(bench/mutation.sh membership).

A small simulation just after launch (300 customers, nobody a member yet); each test sets what
a step reads (what the program is worth, purchases, who is dormant), runs the step and
compares the outcome with the rule of docs/model.md section 8 worked out in the test; random
draws are read from the same named streams (`sim.uniform`), so the expected outcome is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

from simulation.engine import PROGRAM, Sim
from simulation.people import PAID, REFERRAL

MEMBERSHIP = {"enrollment_per_purchase": 0.4, "enrollment_effort": 0.02, "value_scale": 0.05,
              "dormancy_per_month": 0.3, "dormancy_value_protection": 0.5, "complexity_dormancy": 0.25,
              "reactivation_per_month": 0.2, "abandonment_per_month": 0.3}  # fmt: skip


def member_sim(program=None, **params):
    program = program or {"points": {}}
    sim = Sim(scenario(size=300, months=24, program={**program, "membership": {**MEMBERSHIP, **params}}), 0)
    sim._start()
    return sim, sim.membership


@pytest.mark.parametrize(
    ("program", "complexity"),
    [({"points": {}}, 1.0), ({"points": {}, "tiers": {}}, 1.25), ({"points": {}, "tiers": {}, "referral": {}}, 1.5)],
)
def test_complexity_grows_with_each_instrument_beyond_the_first(program, complexity):
    assert member_sim(program)[1].complexity == pytest.approx(complexity, rel=1e-15)


def test_no_instrument_no_complexity():
    sim = Sim(scenario(size=50, months=3), 0)
    assert sim.membership.complexity == 1.0


def test_init_state():
    sim, _ = member_sim()
    people, cap = sim.people, sim.people.capacity
    for name, dtype, fill in (("is_dormant", bool, False), ("left_program", bool, False), ("ti_joined", np.int32, -1)):
        arr = getattr(people, name)
        assert arr.dtype == dtype and arr.shape == (cap,) and (arr == fill).all(), name


def test_effect_has_diminishing_returns():
    _, ms = member_sim(value_scale=0.04)
    value = np.array([0.0, 0.02, 0.04, 0.4])
    assert np.allclose(ms.effect(value), 1 - np.exp(-value / 0.04), rtol=1e-15, atol=0)
    assert np.array_equal(value, [0.0, 0.02, 0.04, 0.4])  # the argument is left alone


def test_the_effect_remembered_by_slot_is_the_effect_worked_out_afresh():
    """With a memo, only the slots whose value changed are worked out again: after a change,
    new slots (arrivals) and forgotten positions (a compaction) it must equal a fresh call."""
    _, ms = member_sim(value_scale=0.04)
    rng = np.random.default_rng(5)
    value = rng.random(50) * 0.2
    for step in range(6):
        if step == 2:
            value = np.concatenate([value, rng.random(7) * 0.2])  # arrivals at the end
        if step == 4:
            ms.forget_positions()
            value = value[::-1].copy()  # positions moved
        fresh = ms.effect(value)
        assert np.array_equal(ms.effect(value, "v"), fresh), step
        assert np.array_equal(ms.effect(value, "v"), fresh), step  # (from the memo alone)
        value[rng.integers(0, value.size, 9)] = rng.random(9) * 0.2  # some customers' worth moves
    got = ms.effect(value, "v")
    got[:] = -1.0  # the caller changes what it got: the memo keeps its own
    assert np.array_equal(ms.effect(value, "v"), ms.effect(value))


def _worth(sim):
    n = sim.people.n
    sim.m.program_value = np.resize([0.0, 0.01, 0.02, 0.1, 0.5], n).astype(float)
    return n


def test_willing_with_propensity_times_value_over_value_and_effort():
    sim, ms = member_sim()
    n = _worth(sim)
    slots = np.arange(0, n, 2)
    value = sim.m.program_value[slots]
    appeal = value / (value + 0.02) * sim.per_slot("enrollment_propensity")[slots]
    want = sim.people.u_join[slots] < appeal
    assert want.any() and (~want).any()
    assert np.array_equal(ms.willing(slots), want)
    # no effort and a worthless program: nobody (not 0/0)
    sim, ms = member_sim(enrollment_effort=0.0)
    sim.m.program_value = np.zeros(sim.people.n)
    assert not ms.willing(np.arange(sim.people.n)).any()
    sim.m.program_value = np.full(sim.people.n, 1e-9)  # any value at all, no effort: the propensity alone
    assert np.array_equal(ms.willing(np.arange(n)), sim.people.u_join[:n] < sim.per_slot("enrollment_propensity"))


def test_enrol_willing_buyers_with_a_chance_per_purchase():
    sim, ms = member_sim()
    n = _worth(sim)
    sim.month = 4
    k = np.resize(np.array([0, 1, 2, 5, 70]), n)
    alive = sim.pview("is_alive")
    alive[::11] = False
    left = sim.view("left_program")
    left[1::13] = True
    already = np.zeros(n, bool)
    already[2::17] = True
    sim.pview("is_member")[already] = True
    sim.view("ti_joined")[already] = 1
    sim.membership_changed()
    ms.enrol(k)
    cand = alive & (k > 0) & ~already & ~left
    p_join = 1 - 0.6 ** np.minimum(k, sim.K_MAX)
    willing = np.zeros(n, bool)
    willing[cand] = ms.willing(np.flatnonzero(cand))
    joins = cand & willing & (sim.uniform("enrolment") < p_join)
    assert joins.any() and (cand & willing & ~joins).any()
    assert np.array_equal(sim.pview("is_member"), already | joins)
    assert np.array_equal(sim.view("ti_joined"), np.where(joins, 4, np.where(already, 1, -1)))
    assert np.array_equal(sim.members, (already | joins) & alive)  # the cache was refreshed
    # nobody bought: nothing happens
    sim, ms = member_sim()
    _worth(sim)
    ms.enrol(np.zeros(sim.people.n, np.int64))
    assert not sim.pview("is_member").any()


@pytest.mark.parametrize(("rel_enrolment", "per_purchase"), [(2.0, 0.8), (5.0, 1.0)])
def test_staff_asking_at_the_till_scales_the_chance_per_purchase_up_to_certainty(rel_enrolment, per_purchase):
    sim, ms = member_sim()
    n = _worth(sim)
    sim.month = 4
    sim.m.rel_enrolment = rel_enrolment  # (staff training: 0.4 a purchase asked twice or five times as often)
    k = np.resize(np.array([0, 1, 2, 5]), n)
    ms.enrol(k)
    cand = sim.pview("is_alive") & (k > 0)
    willing = np.zeros(n, bool)
    willing[cand] = ms.willing(np.flatnonzero(cand))
    joins = cand & willing & (sim.uniform("enrolment") < 1 - (1 - per_purchase) ** k)
    assert joins.any() and np.array_equal(sim.pview("is_member"), joins)
    if per_purchase == 1.0:  # at most certain: every willing buyer joins
        assert np.array_equal(joins, cand & willing)


def test_during_a_pilot_only_its_group_may_join():
    sim = Sim(scenario(size=300, months=24, program={"points": {}, "membership": MEMBERSHIP},
                       pilot={"share": 0.4, "control_share": 0.3, "rollout_month": 10}), 0)  # fmt: skip
    sim._start()
    ms = sim.membership
    n = _worth(sim)
    k = np.full(n, 3)
    for month, open_to in ((4, "pilot"), (10, "everyone")):
        sim.month = month
        sim.pview("is_member")[:] = False
        sim.membership_changed()
        ms.enrol(k)
        willing = ms.willing(np.arange(n)) & (sim.uniform("enrolment") < 1 - 0.6**3)
        group = sim.pilot.group(np.arange(n))
        allowed = group == 1 if open_to == "pilot" else np.ones(n, bool)
        assert (willing & ~allowed).any() or open_to == "everyone"
        assert np.array_equal(sim.pview("is_member"), willing & allowed), open_to


def test_a_referred_arrival_joins_through_the_link():
    sim, ms = member_sim()
    sim.month = 2
    ms.on_arrival(slice(5, 8), REFERRAL)
    ms.on_arrival(slice(10, 12), PAID)
    assert np.flatnonzero(sim.pview("is_member")).tolist() == [5, 6, 7]
    assert sim.view("ti_joined")[5:8].tolist() == [2, 2, 2] and sim.view("ti_joined")[10] == -1
    assert np.flatnonzero(sim.members).tolist() == [5, 6, 7]


def test_activity_dormancy_reactivation_and_abandonment():
    sim, ms = member_sim({"points": {}, "tiers": {}})  # complexity 1.25
    n = sim.people.n
    sim.month = 6
    members = np.arange(0, n, 2)
    ms.join(members)
    dormant = sim.view("is_dormant")
    dormant[members[::3]] = True
    sim.membership_changed()
    sim.m.value_effect = np.linspace(0.0, 1.0, n)
    enrolled = sim.enrolled.copy()
    was_dormant = dormant.copy()
    ms.activity()
    u = sim.uniform("membership_activity")
    p_dormant = 0.3 * 1.25 * (1 - 0.5 * sim.m.value_effect)
    asleep = enrolled & ~was_dormant & (u < p_dormant)
    wake = enrolled & was_dormant & (u < 0.2)
    leave = enrolled & was_dormant & (u >= 0.7)
    for mask in (asleep, wake, leave, enrolled & was_dormant & ~wake & ~leave):
        assert mask.any()
    assert np.array_equal(dormant, (was_dormant | asleep) & ~(wake | leave))
    assert np.array_equal(sim.pview("is_member"), enrolled & ~leave)
    assert np.array_equal(sim.view("left_program"), leave)
    assert sim.ledger["members_dormant_new"][PROGRAM, 7] == asleep.sum()
    assert sim.ledger["members_left"][PROGRAM, 7] == leave.sum()
    assert np.array_equal(sim.members, enrolled & ~leave & ~dormant)  # the cache was refreshed


def test_no_members_no_activity():
    sim, ms = member_sim()
    sim.m.value_effect = np.zeros(sim.people.n)
    ms.activity()
    assert "members_left" not in sim.ledger and "members_dormant_new" not in sim.ledger
