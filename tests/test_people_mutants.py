"""Customers as arrays (simulation/people.py): template draws, growth, arrivals.

Written to kill the mutants that the engine tests let through (docs/mutation.md).
Statistical checks use fixed seeds and tolerances of 4 standard errors of the
statistic, from the sample size; exact checks pin what must not move at all."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario

from simulation.people import BASELINE, INITIAL, PAID, PROGRAM, REFERRAL, People, lookup
from simulation.rng import Streams
from simulation.schema import LEVELS

Z = 4.0  # standard errors allowed in the statistical checks

TWO_SEGMENTS = [
    {
        "name": "light",
        "share": 0.7,
        "purchases_per_month": 0.5,
        "purchase_rate_shape": 0.8,
        "basket_value": 20.0,
        "basket_cv": 0.3,
        "digital_share": 0.0,
        "initial_ladder": {name: float(i == 5) for i, name in enumerate(LEVELS)},
    },
    {
        "name": "heavy",
        "share": 0.3,
        "purchases_per_month": 4.0,
        "purchase_rate_shape": 5.0,
        "basket_value": 80.0,
        "basket_cv": 1.2,
        "digital_share": 1.0,
        "initial_ladder": {name: float(i == 1) for i, name in enumerate(LEVELS)},
    },
]


def people(segments=None, capacity: int = 16, seed: int = 7, replication: int = 0, **customers) -> People:
    cust = {"segments": segments} if segments else {}
    cust.update(customers)
    sc = scenario(size=100, customers=cust)
    return People(sc, Streams(seed, replication), capacity)


# ------------------------------------------------------------------ lookup and states
def test_lookup_is_take_and_writes_into_out():
    table = np.array([0.5, 1.5, 2.5, 3.5])
    index = np.array([3, 0, 2, 2, 1], dtype=np.intp)
    assert lookup(table, index).tolist() == [3.5, 0.5, 2.5, 2.5, 1.5]
    out = np.zeros(5)
    got = lookup(table, index, out=out)
    assert got is out and out.tolist() == [3.5, 0.5, 2.5, 2.5, 1.5]


def test_capacity_has_a_floor_and_states_their_shapes_and_fills():
    p = people(capacity=3)
    assert p.capacity == 16
    p = people(capacity=40.7)
    assert p.capacity == 40
    assert p.is_alive.shape == (2, 40) and p.is_alive.dtype == bool and not p.is_alive.any()
    assert p.ti_churned.dtype == np.int32 and (p.ti_churned == -1).all()
    assert (p.source == INITIAL).all() and p.level.dtype == np.int8
    assert (p.u_join == 1.0).all() and p.u_join.shape == (40,)
    assert p.n == 0 and p.n_used.tolist() == [0, 0] and p.n_template == 0
    arr = p.add_state("tier", np.int8, -1, program_only=True)
    assert arr is p.tier and arr.shape == (40,) and (arr == -1).all()
    arr = p.add_state("window", np.float64, 2.5, leading=(3,), program_only=True)
    assert arr is p.window and arr.shape == (3, 40) and (arr == 2.5).all()
    arr = p.add_state("both", np.float64, 0.0, leading=(2,))
    assert arr.shape == (2, 2, 40) and (arr == 0).all()


ARRAYS = {  # name: (dtype, fill, per arm); the dtypes keep the arrays small (millions of slots)
    "segment": (np.int8, 0, False),
    "base_rate": (np.float64, 0.0, False),
    "basket": (np.float64, 0.0, False),
    "start_level": (np.int8, 0, False),
    "u_join": (np.float64, 1.0, False),
    "is_digital": (np.bool_, False, False),
    "is_alive": (np.bool_, False, True),
    "is_member": (np.bool_, False, True),
    "level": (np.int8, 0, True),
    "source": (np.int8, INITIAL, True),
    "ti_arrived": (np.int32, 0, True),
    "ti_churned": (np.int32, -1, True),
    "value": (np.float64, 0.0, True),
    "n_purchases": (np.int32, 0, True),
    "ti_first_purchase": (np.int32, -1, True),
    "repurchased": (np.bool_, False, True),
}


@pytest.mark.parametrize("grown", [False, True])
def test_every_array_has_its_dtype_shape_and_fill(grown):
    p = people(capacity=30)
    if grown:
        p._grow(31)
    for name, (dtype, fill, per_arm) in ARRAYS.items():
        arr = getattr(p, name)
        assert arr.dtype == dtype, name
        assert arr.shape == ((2, p.capacity) if per_arm else (p.capacity,)), name
        assert (arr == fill).all(), name
    assert p.n_used.dtype == np.int64


def test_grow_keeps_values_and_fills_the_new_slots():
    p = people(capacity=20)
    p.add_state("tier", np.int8, -1, program_only=True)
    p.add_state("window", np.float64, 0.0, leading=(3,), program_only=True)
    p.add_initial(20)
    p.tier[:] = np.arange(20) % 4
    p.window[:] = np.arange(60).reshape(3, 20)
    p.ti_churned[1, :] = 5
    before = {
        name: getattr(p, name).copy()
        for name in (
            "segment",
            "base_rate",
            "basket",
            "start_level",
            "u_join",
            "is_digital",
            "is_alive",
            "level",
            "ti_churned",
            "tier",
            "window",
        )
    }
    p._grow(25)
    assert p.capacity == int(20 * 1.5) + 1024  # the larger of what is needed and 1.5x + 1024
    for name, old in before.items():
        new = getattr(p, name)
        assert new.shape[-1] == p.capacity, name
        assert (new[..., :20] == old).all(), name
        assert new.dtype == old.dtype, name
    assert (p.u_join[20:] == 1.0).all()  # never below a join threshold
    for name in ("segment", "base_rate", "basket", "start_level", "is_digital"):
        assert not getattr(p, name)[20:].any(), name
    assert (p.ti_churned[:, 20:] == -1).all() and (p.tier[20:] == -1).all()
    assert not p.is_alive[:, 20:].any() and (p.window[:, 20:] == 0).all()
    assert p.window.shape == (3, p.capacity) and p.ti_churned.shape == (2, p.capacity)
    p._grow(5000)
    assert p.capacity == 5000  # what is needed, when that is more
    assert (p.tier[:20] == np.arange(20) % 4).all()


def test_capacity_grows_only_when_needed():
    p = people(capacity=100)
    p._ensure_capacity(100)
    assert p.capacity == 100
    p._ensure_capacity(101)
    assert p.capacity == 150 + 1024


# ------------------------------------------------------------------ the starting base
def test_starting_base_is_split_by_largest_remainder():
    shares = [0.45, 0.35, 0.2]
    segs = [{"name": f"s{i}", "share": s} for i, s in enumerate(shares)]
    p = people(segs)
    p.add_initial(9)  # 4.05, 3.15, 1.8: floors 4, 3, 1; the largest remainder (0.8) gets the ninth
    assert p.segment[:9].tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    p = people(segs)
    p.add_initial(13)  # 5.85, 4.55, 2.6: floors 5, 4, 2; remainders 0.85, 0.55, 0.6 -> +1 to s0 and s2
    assert np.bincount(p.segment[:13], minlength=3).tolist() == [6, 4, 3]
    p = people(segs)
    p.add_initial(20)  # exact: 9, 7, 4
    assert np.bincount(p.segment[:20], minlength=3).tolist() == [9, 7, 4]


def test_add_initial_fills_both_arms():
    p = people(TWO_SEGMENTS, capacity=16)
    p.add_initial(50)
    assert p.capacity >= 50
    assert p.n == 50 and p.n_used.tolist() == [50, 50]
    assert p.n_template == p.n_initial == 50
    assert p.is_alive[:, :50].all() and not p.is_alive[:, 50:].any()
    assert (p.level[BASELINE, :50] == p.start_level[:50]).all()
    assert (p.level[PROGRAM, :50] == p.start_level[:50]).all()
    # each segment starts on its own ladder (light: all on the top level, heavy: all on level 1)
    light = p.segment[:50] == 0
    assert light.sum() == 35
    assert (p.start_level[:50][light] == 5).all() and (p.start_level[:50][~light] == 1).all()
    # digital shares of 0 and 1
    assert not p.is_digital[:50][light].any() and p.is_digital[:50][~light].all()


def _rates_and_baskets(n: int, seed: int = 3):
    p = people(TWO_SEGMENTS, capacity=n, seed=seed)
    p.add_initial(n)
    return p, p.segment[:n], p.base_rate[:n], p.basket[:n]


@pytest.mark.parametrize("k", [0, 1])
def test_purchase_rates_are_gamma_with_the_segment_mean_and_cv(k):
    n = 40_000
    p, seg, rate, _ = _rates_and_baskets(n)
    s = TWO_SEGMENTS[k]
    x = rate[seg == k]
    mean, shape = s["purchases_per_month"], s["purchase_rate_shape"]
    sd = mean / np.sqrt(shape)
    assert abs(x.mean() - mean) < Z * sd / np.sqrt(x.size)
    # E[(x - mean)^2] = sd^2, and (x - mean)^2 has variance sd^4 (2 + 6 / shape) for a gamma
    m2 = ((x - mean) ** 2).mean() / sd**2
    assert abs(m2 - 1) < Z * np.sqrt((2 + 6 / shape) / x.size)
    assert (x > 0).all()


@pytest.mark.parametrize("k", [0, 1])
def test_baskets_are_lognormal_with_the_segment_mean_and_cv(k):
    n = 40_000
    p, seg, _, basket = _rates_and_baskets(n)
    s = TWO_SEGMENTS[k]
    y = np.log(basket[seg == k])
    s2 = np.log1p(s["basket_cv"] ** 2)
    # log basket ~ normal(log(mean) - s2 / 2, s2): so the mean basket is the segment's
    assert abs(y.mean() - (np.log(s["basket_value"]) - s2 / 2)) < Z * np.sqrt(s2 / y.size)
    assert abs(y.var() / s2 - 1) < Z * np.sqrt(2 / y.size)


def test_a_basket_cv_of_zero_gives_every_customer_the_mean_basket():
    p = people([{"basket_value": 42.0, "basket_cv": 0.0}])
    p.add_initial(30)
    assert np.allclose(p.basket[:30], 42.0, rtol=1e-14, atol=0)


def test_starting_ladder_of_one_segment_by_inversion():
    ladder = (0.1, 0.2, 0.0, 0.3, 0.15, 0.25)
    n = 20_000
    p = people([{"initial_ladder": dict(zip(LEVELS, ladder, strict=True))}], capacity=n)
    p.add_initial(n)
    freq = np.bincount(p.start_level[:n], minlength=len(LEVELS)) / n
    sd = np.sqrt(np.array(ladder) * (1 - np.array(ladder)) / n)
    assert (np.abs(freq - ladder) <= Z * sd).all(), freq
    assert freq[2] == 0  # an empty level gets nobody


def test_u_join_is_uniform_and_digital_share_is_kept():
    n = 20_000
    p = people([{"digital_share": 0.3}], capacity=n)
    p.add_initial(n)
    u = p.u_join[:n]
    assert (u >= 0).all() and (u < 1).all()
    assert abs(u.mean() - 0.5) < Z * np.sqrt(1 / 12 / n)
    assert abs((u < 0.25).mean() - 0.25) < Z * np.sqrt(0.25 * 0.75 / n)
    d = p.is_digital[:n].mean()
    assert abs(d - 0.3) < Z * np.sqrt(0.3 * 0.7 / n)
    # the draws are separate: u_join does not decide who is digital
    assert abs(np.corrcoef(u, p.is_digital[:n])[0, 1]) < Z / np.sqrt(n)


# Golden template values (seed 7, replication 0, TWO_SEGMENTS): the streams
# "customer_template_initial" and "customer_template" (block by block) must not move.
GOLDEN_INITIAL = {  # slot 0 (light) and slot 8 (heavy) of a starting base of 10
    0: (0, 1.7406021321781375, 20.305898966213828, 5, False, 0.09581818898964367),
    8: (1, 4.419087364316345, 3.8486741355656373, 1, True, 0.4248624154575831),
}
GOLDEN_ARRIVALS = {  # slots 10 (block 0) and 10 + 4096 + 1 (block 1) after that base
    10: (1, 2.470758020429726, 27.86846832367292, 3, True, 0.8031569419340719),
    4107: (1, 7.077709881218806, 11.505604334792567, 3, True, 0.10876370897554022),
}


def _template(p: People, j: int) -> tuple:
    return (
        int(p.segment[j]),
        float(p.base_rate[j]),
        float(p.basket[j]),
        int(p.start_level[j]),
        bool(p.is_digital[j]),
        float(p.u_join[j]),
    )


def test_templates_are_pinned_to_their_streams():
    p = people(TWO_SEGMENTS)
    p.add_initial(10)
    p.arrive(PROGRAM, 4096 + 2, PAID, month=1)
    for j, want in {**GOLDEN_INITIAL, **GOLDEN_ARRIVALS}.items():
        # rel 1e-12: exp and log may round the last bit differently on another CPU
        assert _template(p, j) == pytest.approx(want, rel=1e-12, abs=0), j


# ------------------------------------------------------------------ arrivals
def test_arrivals_fill_one_arm_and_keep_the_widest():
    p = people(TWO_SEGMENTS)
    p.add_initial(10)
    got = p.arrive(PROGRAM, 5, PAID, month=3)
    assert got == slice(10, 15)
    assert p.n_used.tolist() == [10, 15] and p.n == 15
    assert p.is_alive[PROGRAM, 10:15].all() and not p.is_alive[BASELINE, 10:].any()
    assert (p.source[PROGRAM, 10:15] == PAID).all() and (p.source[BASELINE, 10:15] == INITIAL).all()
    assert (p.ti_arrived[PROGRAM, 10:15] == 3).all() and (p.ti_arrived[BASELINE, 10:15] == 0).all()
    assert (p.level[PROGRAM, 10:15] == p.start_level[10:15]).all()
    assert not p.is_alive[PROGRAM, 15:].any() and (p.source[PROGRAM, 15:] == INITIAL).all()
    got = p.arrive(BASELINE, 3, REFERRAL, month=4)  # the baseline catches up on the same slots
    assert got == slice(10, 13)
    assert p.n_used.tolist() == [13, 15] and p.n == 15  # the width stays that of the wider arm
    assert (p.source[BASELINE, 10:13] == REFERRAL).all() and (p.ti_arrived[BASELINE, 10:13] == 4).all()
    assert (p.level[BASELINE, 10:13] == p.start_level[10:13]).all()
    p.arrive(BASELINE, 4, PAID, month=5)
    assert p.n_used.tolist() == [17, 15] and p.n == 17
    assert p.arrive(PROGRAM, 0, PAID, month=6) == slice(15, 15)


def test_arrivals_take_templates_in_fixed_blocks_whatever_the_order():
    """Slot j's attributes do not depend on how many arrived when (blocks of 4096)."""
    a, b = people(TWO_SEGMENTS), people(TWO_SEGMENTS)
    a.add_initial(10)
    b.add_initial(10)
    a.arrive(PROGRAM, 5000, PAID, month=1)
    assert a.n_template == 10 + 2 * People.TEMPLATE_BLOCK
    for count in (1, 4095, 1, 2000, 903):
        b.arrive(BASELINE, count, PAID, month=1)
    assert b.n_template == 10 + 2 * People.TEMPLATE_BLOCK and b.n_used[BASELINE] == 10 + 7000
    for name in ("segment", "base_rate", "basket", "start_level", "u_join", "is_digital"):
        assert (getattr(a, name)[: a.n_template] == getattr(b, name)[: a.n_template]).all(), name
    # the arrivals' slots past the templates drawn are still empty
    assert (a.u_join[a.n_template :] == 1.0).all() and not a.base_rate[a.n_template :].any()


def test_arrival_blocks_are_counted_from_the_end_of_the_starting_base():
    """Block b of arrivals is the same people whatever the size of the starting base."""
    a, b = people(TWO_SEGMENTS), people(TWO_SEGMENTS)
    a.add_initial(10)
    b.add_initial(9000)
    a.arrive(PROGRAM, 2 * People.TEMPLATE_BLOCK, PAID, month=1)
    b.arrive(PROGRAM, 2 * People.TEMPLATE_BLOCK, PAID, month=1)
    assert a.n_template == 10 + 2 * People.TEMPLATE_BLOCK  # a whole block: no block more
    for name in ("segment", "base_rate", "basket", "start_level", "u_join", "is_digital"):
        assert (getattr(a, name)[10 : a.n_template] == getattr(b, name)[9000 : b.n_template]).all(), name


def test_new_customers_use_the_segment_shares_and_the_acquisition_ladder():
    ladder = (0.0, 0.1, 0.2, 0.4, 0.2, 0.1)
    n = 30_000
    p = people(
        TWO_SEGMENTS, acquisition={"paid_per_month": 1, "initial_ladder": dict(zip(LEVELS, ladder, strict=True))}
    )
    p.add_initial(10)
    p.arrive(PROGRAM, n, PAID, month=1)
    seg = p.segment[10 : 10 + n]
    share = (seg == 1).mean()  # arrivals are drawn, not split: binomial spread
    assert abs(share - 0.3) < Z * np.sqrt(0.3 * 0.7 / n)
    assert set(np.unique(seg)) == {0, 1}
    freq = np.bincount(p.start_level[10 : 10 + n], minlength=len(LEVELS)) / n
    sd = np.sqrt(np.array(ladder) * (1 - np.array(ladder)) / n)
    assert (np.abs(freq - ladder) <= Z * sd).all(), freq  # whatever the segment's own ladder
    heavy = p.base_rate[10 : 10 + n][seg == 1]
    assert abs(heavy.mean() - 4.0) < Z * (4.0 / np.sqrt(5.0)) / np.sqrt(heavy.size)
    assert (p.is_digital[10 : 10 + n] == (seg == 1)).all()


def test_compaction_changes_no_customer(monkeypatch):
    """Closing up the positions of customers gone from both arms (and growing after it) is
    bookkeeping: every customer ends with the same record, in id order, as in a run that never
    compacts; the monthly figures are the same sums in another order (to round-off)."""
    from simulation import engine
    from simulation.engine import Sim

    sc = scenario(program={"points": {}, "tiers": {}, "subscription": {}, "referral": {}}, size=3000, months=24,
                  customers={"acquisition": {"paid_per_month": 250}})  # fmt: skip
    compactions = []
    original = People.compact

    def counted(self):
        done = original(self)
        compactions.append(done)
        return done

    monkeypatch.setattr(People, "compact", counted)

    class Tight(People):  # little spare room: the arrays grow between compactions too
        def __init__(self, scenario, streams, capacity):
            super().__init__(scenario, streams, 3000 + 64)

    monkeypatch.setattr(engine, "People", Tight)
    grown = []
    monkeypatch.setattr(Tight, "_grow", lambda self, needed: grown.append(self.removed) or People._grow(self, needed))
    often = Sim(sc, 1).run()
    assert sum(compactions) >= 2 and max(grown) > 0  # (it compacted, and grew after)
    monkeypatch.setattr(People, "COMPACT_SHARE", 10**9)
    never = Sim(sc, 1).run()
    assert never.people.removed == 0 and often.people.n == never.people.n
    n = never.people.n_template
    alive = never.people.is_alive[PROGRAM, :n]
    assert np.array_equal(often.people.is_alive[:, :n], never.people.is_alive[:, :n])
    # a leaver's tier window runs on where nobody compacts (their qualifying sum falls, a review
    # may still mark them below their tier): no figure reads them; for the living, all the same
    runs_on = {"qualifying", "ti_below_tier"} | {k for k in never.people._specs if not never.people._spec(k)[1]}
    for name in [*never.people._template_names, *never.people._specs]:
        a, b = getattr(often.people, name)[..., :n], getattr(never.people, name)[..., :n]
        if name in runs_on:
            assert np.array_equal(a[..., alive], b[..., alive]), name
        else:
            assert np.array_equal(a, b), name
    # and a customer's attributes are theirs: the templates drawn afresh for the same ids
    fresh = Sim(sc, 1)
    fresh._start()
    fresh.people._ensure_templates(n, initial=False)
    for name in never.people._template_names:
        assert np.array_equal(getattr(often.people, name)[:n], getattr(fresh.people, name)[:n]), name
    assert list(often.ledger) == list(never.ledger)
    for metric, values in never.ledger.items():
        np.testing.assert_allclose(often.ledger[metric], values, rtol=1e-11, atol=1e-9, err_msg=metric)
