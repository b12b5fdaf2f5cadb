"""Paid club: a fee per billing period for discounts, free shipping and exclusive access.

Active members who buy may start the club, the more readily the more it is worth to them
against its fee (a free trial pulls more in). At every billing date a subscriber weighs
the value received in the period (discounts, shipping saved, access) against the fee and
may cancel when it fell short; some cancel anyway, and a share of trial members drops
out when the trial ends.
"""

from __future__ import annotations

import numpy as np

from ..people import PROGRAM
from .base import CalendarEvent, InstrumentModule


class SubscriptionModule(InstrumentModule):
    key = "subscription"
    cost_lines = ("cost_club_access",)

    def init(self) -> None:
        people = self.sim.people
        people.add_state("is_subscriber", bool, False, program_only=True)
        people.add_state("ti_subscribed", np.int32, -1, program_only=True)
        people.add_state("ti_next_bill", np.int32, -1, program_only=True)
        people.add_state("club_value", np.float64, 0.0, program_only=True)  # value received since the last bill
        people.add_state("is_trial", bool, False, program_only=True)  # in a free trial not yet billed
        self.fee_per_month = self.p.fee / self.p.billing_period_months

    def calendar(self) -> list[CalendarEvent]:
        return [CalendarEvent("club billing", 1, self.bill)]

    def subscribers(self) -> np.ndarray:
        # (enrolled, dormant or not: a paying subscriber is billed and served either way)
        return self.sim.view("is_subscriber") & self.sim.enrolled

    def purchase_rate(self, rel_rate: np.ndarray) -> None:
        rel_rate *= np.where(self.subscribers(), 1.0 + self.p.purchase_rate_lift, 1.0)

    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        subs = self.subscribers()
        keep *= np.where(subs, 1.0 - self.p.discount, 1.0)
        if self.p.free_shipping:
            self.sim.free_shipping |= subs

    def churn(self, rel_churn: np.ndarray) -> None:
        rel_churn *= np.where(self.subscribers(), self.p.churn_multiplier, 1.0)

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        subs = self.subscribers()
        shipping = sim.sc.economics.shipping_cost_per_order if p.free_shipping else 0.0
        saved = sim.list_spend * p.discount
        if shipping:  # (adding 0 would change nothing)
            saved += sim.k * shipping
        saved += p.exclusive_access_value
        saved *= subs  # (x * False = 0: as np.where, in one fast pass)
        sim.view("club_value")[:] += saved
        sim.charge("cost_club_access", subs * p.exclusive_access_cost)
        sim.nudge(subs, up=p.satisfaction_lift)
        start = sim.members & ~sim.view("is_subscriber") & (sim.k > 0)
        first_time = sim.view("ti_subscribed") < 0  # the free trial is for first-timers
        slots = np.flatnonzero(start)
        start[slots] = sim.uniform("club_uptake")[slots] < self.uptake(slots, first_time[slots])
        trial = start & first_time if p.trial_months else np.zeros_like(start)
        sim.view("is_subscriber")[start] = True
        sim.view("is_trial")[start] = trial[start]
        sim.view("ti_subscribed")[start] = sim.month
        sim.view("ti_next_bill")[start] = np.where(trial[start], sim.month + p.trial_months, sim.month)
        sim.view("club_value")[start] = 0.0
        sim.record("club_starts", float(np.count_nonzero(start)))

    def expected_value(self) -> np.ndarray:
        """What the club would give a customer a month at their current purchase rate."""
        sim, p = self.sim, self.p
        value = sim.expected_spend * p.discount
        shipping = sim.sc.economics.shipping_cost_per_order if p.free_shipping else 0.0
        if shipping:
            value += sim.expected_orders * shipping
        value += p.exclusive_access_value
        return value

    def value_share(self, share: np.ndarray) -> None:
        """Joining the program is the way into the club: the club's surplus over its fee, per
        unit spent, is worth joining for (a club-only program still draws members)."""
        sim = self.sim
        self.expected = self.expected_value()  # (this month's: uptake reads it after purchases)
        surplus = np.maximum(self.expected - self.fee_per_month, 0.0)
        share += np.divide(surplus, sim.expected_spend, out=np.zeros_like(surplus), where=sim.expected_spend > 0)

    def uptake(self, slots: np.ndarray, first_time: np.ndarray) -> np.ndarray:
        """Chance of starting this month for these customers: uptake x v^e / (v^e + fee^e),
        more with a free trial for a first-timer."""
        p = self.p
        chance = np.full(slots.shape, p.uptake_per_month)
        if self.fee_per_month > 0:
            ratio = self.expected[slots] / self.fee_per_month
            ratio **= p.fee_sensitivity
            chance *= ratio / (1.0 + ratio)
        if p.trial_months:
            chance *= np.where(first_time, p.trial_uptake_multiplier, 1.0)
        return np.minimum(chance, 1.0, out=chance)

    def bill(self) -> None:
        sim, p = self.sim, self.p
        subs = self.subscribers()
        quit_anyway = subs & (sim.uniform("club_cancel_base") < p.base_cancellation_per_month)
        due = subs & (sim.view("ti_next_bill") <= sim.month)
        # the first charge right at sign-up (no trial) comes before any value is received
        weighed = due & (sim.view("ti_subscribed") < sim.month)
        short = weighed & (sim.view("club_value") < p.fee)
        u = sim.uniform("club_cancel_value")
        quit_value = short & (u < p.cancel_when_value_below_fee)
        # some trial members leave when the trial ends whatever it gave them (the upper end
        # of the same uniform, so a value quitter and a trial quitter are drawn apart)
        trial_ends = due & sim.view("is_trial")
        quit_trial = trial_ends & (u >= 1.0 - p.trial_cancellation)
        cancel = quit_anyway | quit_value | quit_trial
        sim.view("is_trial")[trial_ends] = False
        charged = due & ~cancel
        sim.view("is_subscriber")[cancel] = False
        sim.credit("fee_income", charged * p.fee)
        sim.view("ti_next_bill")[charged] += p.billing_period_months
        sim.view("club_value")[charged] = 0.0
        sim.record("club_cancellations", float(np.count_nonzero(cancel)))

    def record(self, index: int) -> None:
        self.sim.ledger["subscribers"][PROGRAM, index] = np.count_nonzero(self.subscribers())
