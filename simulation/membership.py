"""Membership: what the program is worth to each customer, who joins, who stops using it.

Shared by every instrument (docs/model.md section 8). Each month, before purchases, the
instruments add what they give back per unit of list spend (`value_share` hooks); the
program's *effect* on a customer is that value with diminishing returns,
`1 - exp(-value / value_scale)`. A customer is *willing* to join with the segment's
propensity x value / (value + effort), and a willing customer signs up at each purchase
with `enrollment_per_purchase` (enrolment ramps up after launch, frequent buyers first).
Members go dormant (less when the program is worth more, more when it is complicated),
come back, or leave the program for good. Dormant members are enrolled but use nothing:
instruments act on `sim.members`, the active ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import portable
from .instruments.base import Lever
from .people import REFERRAL

if TYPE_CHECKING:
    from .engine import Sim


# the membership levers' rows of docs/model.md section 12.1 (the instruments declare their own)
LEVERS = (
    Lever("enrollment_per_purchase", "x2", "members_end up 2-30 %", "section 8: willing customers sign up sooner"),
    Lever("enrollment_effort", "x3", "members_end down 5-40 %", "section 8: value against effort (Kivetz & Simonson 2002)"),
    Lever("value_scale", "x2", "purchases down 0.3-5 %, engagement down 1-15 %", "section 8: the same value has less effect"),
    Lever("dormancy_per_month", "x2", "engagement down 10-50 %, breakage_rate up 10-150 %", "section 8: COLLOQUY (2015) active shares; stranded points are breakage"),
    Lever("dormancy_value_protection", "=0", "engagement down 5-40 %", "section 8: value keeps members active"),
    Lever("complexity_dormancy", "x3", "engagement down 5-40 %", "brief: complicated programs are dropped"),
    Lever("reactivation_per_month", "x2", "engagement up 2-30 %", "section 8"),
    Lever("abandonment_per_month", "x3", "members_end down 5-40 %", "section 8: members leave programs"),
)  # fmt: skip


class Membership:
    def __init__(self, sim: Sim):
        self.sim = sim
        self.p = sim.sc.program.membership
        self.rewire()

    def rewire(self) -> None:
        """(Again when a phase switches instruments off.)"""
        self._memos: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._join_tables: dict[float, np.ndarray] = {}
        n_instruments = sum(module.on for module in self.sim.instruments)
        # a complicated program is dropped sooner: extra dormancy per instrument beyond the first
        self.complexity = 1.0 + self.p.complexity_dormancy * max(0, n_instruments - 1)

    def init(self) -> None:
        people = self.sim.people
        people.add_state("is_dormant", bool, False, program_only=True)
        people.add_state("left_program", bool, False, program_only=True)
        people.add_state("ti_joined", np.int32, -1, program_only=True)

    def effect(self, value_share: np.ndarray, memo: str = "") -> np.ndarray:
        """Diminishing returns: 0 for a worthless program, towards 1 for a generous one.
        With a `memo` name (a per-slot value worked out every month), only the slots whose value
        changed since the last call of that name are worked out again: most customers' program
        is worth the same as last month, and the C library's exp is ~10 ns a value (the same
        numbers: the same value gives the same effect). The engine forgets the memos when
        positions move (`forget_positions`)."""
        last = self._memos.get(memo) if memo else None
        if last is None or last[0].size > value_share.size:
            out = self._effect(value_share)
        else:
            before, effect_before = last
            out = np.empty_like(value_share)
            m = before.size
            out[:m] = effect_before
            redo = np.flatnonzero(value_share[:m] != before)
            out[redo] = self._effect(value_share[redo])
            out[m:] = self._effect(value_share[m:])
        if memo:  # (copies: the caller's array is a reused buffer, and it may change what it gets)
            self._memos[memo] = (value_share.copy(), out.copy())
        return out

    def _effect(self, value_share: np.ndarray) -> np.ndarray:
        out = np.divide(value_share, -self.p.value_scale)
        portable.exp(out, out=out)
        return np.subtract(1.0, out, out=out)

    def forget_positions(self) -> None:
        self._memos.clear()

    def willing(self, slots: np.ndarray) -> np.ndarray:
        """Which of these customers (program row) would join the program as it is worth to them now."""
        sim, p = self.sim, self.p
        value = sim.m.program_value[slots]
        denom = value + p.enrollment_effort
        appeal = np.divide(value, denom, out=np.zeros_like(value), where=denom > 0)
        appeal *= sim.per_slot("enrollment_propensity")[slots]
        return sim.people.u_join[slots] < appeal

    def enrol(self, k: np.ndarray) -> None:
        """Willing customers who bought sign up, with a chance per purchase. (Worked out for
        the candidates only: after the first months most customers have joined or will not.)"""
        sim = self.sim
        if not sim.hooks["value_share"]:  # no instrument gives anything back (a referral program): nobody is willing
            return
        candidates = sim.pview("is_alive") & (k > 0) & ~sim.pview("is_member") & ~sim.view("left_program")
        slots = np.flatnonzero(candidates)
        if not slots.size:
            return
        per_purchase = min(1.0, self.p.enrollment_per_purchase * sim.m.rel_enrolment)  # (staff asking at the till)
        p_join = self._join_table(per_purchase)[np.minimum(k[slots], sim.K_MAX)]
        joins = self.willing(slots) & (sim.uniform_at("enrolment", slots) < p_join)
        if sim.pilot is not None:  # during a pilot, only its group may join
            joins &= sim.pilot.may_join(slots)
        self.join(slots[joins])

    def _join_table(self, per_purchase: float) -> np.ndarray:
        """1 - (1 - p)^k for k = 0 .. K_MAX: one table per chance of joining at a purchase (it
        changes only with a promotion or a phase), not a power per candidate or per month."""
        table = self._join_tables.get(per_purchase)
        if table is None:
            stay_out = portable.power(1.0 - per_purchase, np.arange(self.sim.K_MAX + 1.0))
            table = self._join_tables[per_purchase] = 1.0 - stay_out
        return table

    def join(self, joins: np.ndarray | slice) -> None:
        sim = self.sim
        sim.pview("is_member")[joins] = True
        sim.view("ti_joined")[joins] = sim.month
        sim.membership_changed()

    def on_arrival(self, slots: slice, source: int) -> None:
        """A referred customer signs up through the referral link; others join at purchases."""
        if source == REFERRAL:
            self.join(slots)

    def activity(self) -> None:
        """Active members may go dormant; dormant ones come back or leave the program."""
        sim, p = self.sim, self.p
        enrolled = np.flatnonzero(sim.enrolled)  # (worked out for them only)
        if not enrolled.size:
            return
        dormant = sim.view("is_dormant")
        was_dormant = dormant[enrolled]
        u = sim.uniform_at("membership_activity", enrolled)
        p_dormant = sim.m.value_effect[enrolled] * (-p.dormancy_value_protection)
        p_dormant += 1.0
        p_dormant *= p.dormancy_per_month * self.complexity
        fall_asleep = ~was_dormant & (u < p_dormant)
        wake = was_dormant & (u < p.reactivation_per_month)
        leave = was_dormant & (u >= 1.0 - p.abandonment_per_month)
        dormant[enrolled[fall_asleep]] = True
        dormant[enrolled[wake | leave]] = False
        sim.pview("is_member")[enrolled[leave]] = False
        sim.view("left_program")[enrolled[leave]] = True
        sim.record("members_dormant_new", float(np.count_nonzero(fall_asleep)))
        sim.record("members_left", float(np.count_nonzero(leave)))
        sim.membership_changed()
