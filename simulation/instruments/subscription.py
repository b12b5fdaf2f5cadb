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

    def _subscriber_slots(self) -> np.ndarray:
        """The subscribers' slots: a few percent of the customers at most, so the club's
        factors and bookkeeping are worked out for them alone (a factor of 1, an amount of 0
        for everyone else: the same numbers)."""
        return np.flatnonzero(self.subscribers())

    def purchase_rate(self, rel_rate: np.ndarray) -> None:
        rel_rate[self._subscriber_slots()] *= 1.0 + self.p.purchase_rate_lift

    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        subs = self._subscriber_slots()
        keep[subs] *= 1.0 - self.p.discount
        if self.p.free_shipping:
            self.sim.free_shipping[subs] = True

    def churn(self, rel_churn: np.ndarray) -> None:
        rel_churn[self._subscriber_slots()] *= self.p.churn_multiplier

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        subs = self._subscriber_slots()
        shipping = sim.sc.economics.shipping_cost_per_order if p.free_shipping else 0.0
        saved = sim.list_spend[subs] * p.discount
        if shipping:  # (adding 0 would change nothing)
            saved += sim.k[subs] * shipping
        saved += p.exclusive_access_value
        sim.view("club_value")[subs] += saved
        sim.charge_at("cost_club_access", subs, p.exclusive_access_cost)
        sim.nudge_at(subs, up=p.satisfaction_lift)
        self._starts()

    def _starts(self) -> None:
        """Active members who bought and are not in the club may start it."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        slots = members[~sim.view("is_subscriber")[members] & (sim.k[members] > 0)]
        first_time = sim.view("ti_subscribed")[slots] < 0  # the free trial is for first-timers
        go = sim.uniform_at("club_uptake", slots) < self.uptake(slots, first_time)
        start = slots[go]
        trial = first_time[go] if p.trial_months else np.zeros(start.size, bool)
        sim.view("is_subscriber")[start] = True
        sim.view("is_trial")[start] = trial
        sim.view("ti_subscribed")[start] = sim.month
        sim.view("ti_next_bill")[start] = np.where(trial, sim.month + p.trial_months, sim.month)
        sim.view("club_value")[start] = 0.0
        sim.record("club_starts", float(start.size))

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
        """Subscribers only (their slots: the masks below are over them)."""
        sim, p = self.sim, self.p
        subs = self._subscriber_slots()
        quit_anyway = sim.uniform_at("club_cancel_base", subs) < p.base_cancellation_per_month
        due = sim.view("ti_next_bill")[subs] <= sim.month
        # the first charge right at sign-up (no trial) comes before any value is received
        weighed = due & (sim.view("ti_subscribed")[subs] < sim.month)
        short = weighed & (sim.view("club_value")[subs] < p.fee)
        u = sim.uniform_at("club_cancel_value", subs)
        quit_value = short & (u < p.cancel_when_value_below_fee)
        # some trial members leave when the trial ends whatever it gave them (the upper end
        # of the same uniform, so a value quitter and a trial quitter are drawn apart)
        trial_ends = due & sim.view("is_trial")[subs]
        quit_trial = trial_ends & (u >= 1.0 - p.trial_cancellation)
        cancel = quit_anyway | quit_value | quit_trial
        sim.view("is_trial")[subs[trial_ends]] = False
        charged = subs[due & ~cancel]
        sim.view("is_subscriber")[subs[cancel]] = False
        sim.credit_at("fee_income", charged, p.fee)
        sim.view("ti_next_bill")[charged] += p.billing_period_months
        sim.view("club_value")[charged] = 0.0
        sim.record("club_cancellations", float(np.count_nonzero(cancel)))

    def record(self, index: int) -> None:
        self.sim.ledger["subscribers"][PROGRAM, index] = np.count_nonzero(self.subscribers())
