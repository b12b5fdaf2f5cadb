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
from ..schema_base import F, Instrument
from .base import CalendarEvent, InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import join, money, months, pct


class Subscription(Instrument):
    fee: float = F(5.0, label="Fee", unit="currency per billing period", help="Price of the paid club.", ge=0)
    billing_period_months: int = F(1, label="Billing period", unit="months", help="Months between charges.", ge=1, le=24)
    trial_months: int = F(1, label="Free trial", unit="months", help="Free months before the first charge (first-time subscribers only).", ge=0, le=12)
    uptake_per_month: float = F(0.02, label="Uptake", unit="probability/month", help="Chance that an active member who bought this month starts the club, if the club is worth far more to them than its fee (it falls as the fee nears and passes the value they expect).", ge=0, le=1)
    fee_sensitivity: float = F(2.0, label="Fee sensitivity", unit="exponent", help="How sharply uptake falls as the fee rises past the value a member expects: uptake x v^e / (v^e + fee^e).", ge=0, le=10)
    trial_uptake_multiplier: float = F(2.0, label="Trial pull", unit="x uptake", help="Sign-ups with a free trial relative to without.", ge=1, le=10)
    trial_cancellation: float = F(0.4, label="Trial drop-out", unit="probability", help="Chance that a trial member cancels at the end of the trial whatever the value.", ge=0, le=1)
    discount: float = F(0.10, label="Discount", unit="share of basket", help="Club discount on every purchase.", ge=0, le=0.9)
    free_shipping: bool = F(True, label="Free shipping", help="Club orders ship free.")
    exclusive_access_value: float = F(3.0, label="Access value", unit="currency/month", help="What exclusive access is worth to a subscriber each month.", ge=0)
    exclusive_access_cost: float = F(0.5, label="Access cost", unit="currency/subscriber/month", help="What exclusive access costs per subscriber per month.", ge=0)
    purchase_rate_lift: float = F(0.15, label="Purchase lift", unit="share of rate", help="Higher purchase rate of subscribers (sunk-cost and convenience effect).", ge=0, le=3)
    churn_multiplier: float = F(0.7, label="Churn multiplier", unit="x", help="Subscribers' churn relative to non-subscribers on the same level.", ge=0, le=1)
    cancel_when_value_below_fee: float = F(0.5, label="Cancel when not worth it", unit="probability", help="Chance of cancelling at a billing date when the value received in the period fell below the fee.", ge=0, le=1)
    base_cancellation_per_month: float = F(0.02, label="Base cancellation", unit="probability/month", help="Cancellations for other reasons.", ge=0, le=1)
    satisfaction_lift: float = F(0.01, label="Club delight", unit="probability/month", help="Monthly added chance of moving up a level for a subscriber.", ge=0, le=1)


J = Judgement


class SubscriptionModule(InstrumentModule):
    key = "subscription"
    schema = Subscription
    label = "Paid club"
    help = "A paid subscription with benefits."
    order = 30
    gives_discounts = True
    cost_lines = {"cost_club_access": "Cost: club access"}
    metrics = {
        "subscribers_end": MetricSpec("Club subscribers at end", "count", 1),
        "fee_income": MetricSpec("Club fee income", "money", 1),
        "subscribers": MetricSpec("Club subscribers", "count", 1),
        "club_starts": MetricSpec("Club sign-ups", "count", 1),
        "club_cancellations": MetricSpec("Club cancellations", "count", -1),
    }
    summary_order = ("subscribers_end", "fee_income")
    always_reported = ("fee_income", "subscribers")
    levers = (
        Lever("enabled", "=false", "fee_income down 99-100 %, cost_club_access down 99-100 %", "instrument off"),
        Lever("fee", "x2", "subscribers_end down 20-70 %", "section 9.3: fee against value"),
        Lever("billing_period_months", "=12", "subscribers_end up 20-150 %", "the same fee buys a year: far cheaper a month"),
        Lever("trial_months", "=0", "subscribers_end down 5-40 %", "no trial pull"),
        Lever("uptake_per_month", "x2", "subscribers_end up 30-100 %", "more sign-ups"),
        Lever("fee_sensitivity", "x3", "subscribers_end up 2-30 %", "in the base most would-be subscribers (the regulars) expect more than the fee: a sharper response lets more of them join"),
        Lever("trial_uptake_multiplier", "x2", "subscribers_end up 15-80 %", "more trial members"),
        Lever("trial_cancellation", "=0.9", "subscribers_end down 20-70 %", "trials convert less"),
        Lever("discount", "x2", "cost_discounts up 30-120 %, subscribers_end up 5-50 %", "more value"),
        Lever("free_shipping", "=false", "cost_shipping down 10-60 %, subscribers_end down 10-60 %", "less value"),
        Lever("exclusive_access_value", "x3", "subscribers_end up 5-50 %", "more value"),
        Lever("exclusive_access_cost", "x2", "cost_club_access up 99-101 %, purchases same, subscribers_end same", "money only"),
        Lever("purchase_rate_lift", "x2", "purchases up 0.3-5 %", "section 9.3"),
        Lever("churn_multiplier", "=1", "churned up 0.1-3 %", "subscribers no longer stay longer"),
        Lever("cancel_when_value_below_fee", "=1", "subscribers_end down 3-30 %", "brief: cancellation when value falls below the fee"),
        Lever("base_cancellation_per_month", "x3", "subscribers_end down 10-50 %", "more cancellations"),
        Lever("satisfaction_lift", "x3", "nps_end up 0.2-5 %", "club delight"),
    )  # fmt: skip
    judgements = {
        "uptake_per_month": J(0.5, 2.5, source="judgement: 0.01-0.05 at the default"),
        "fee_sensitivity": J(0.5, 2.0, source="judgement: 1-4 at the default"),
        "trial_uptake_multiplier": J(0.65, 2.0, source="judgement: 1.3-4 at the default"),
        "trial_cancellation": J(0.5, 1.75, source="judgement: 0.2-0.7 at the default"),
        "purchase_rate_lift": J(0.5, 1.5, source="judgement (±50 %)"),
        "churn_multiplier": J(0.8, 1.2, source="judgement: 30 % less churn, give or take half (0.56 to 0.84 at the default)"),
        "cancel_when_value_below_fee": J(0.5, 1.5, source="judgement (±50 %)"),
        "base_cancellation_per_month": J(0.5, 1.5, source="judgement (±50 %)"),
        "satisfaction_lift": J(0.5, 1.5, source="judgement (±50 %)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, s: Subscription, currency: str) -> str:  # pragma: no mutate block (presentation)
        period = "month" if s.billing_period_months == 1 else months(s.billing_period_months)
        price = "free" if s.fee == 0 else f"{money(s.fee, currency)} per {period}"
        trial = f" after a {s.trial_months}-month free trial" if s.trial_months else ""
        benefits = []
        if s.discount > 0:
            benefits.append(f"{pct(s.discount)} off every purchase")
        if s.free_shipping:
            benefits.append("free shipping")
        if s.exclusive_access_value > 0:
            benefits.append(f"exclusive access worth {money(s.exclusive_access_value, currency)} a month")
        return f"A paid club at {price}{trial}" + (f": {join(benefits)}." if benefits else ".")

    @classmethod
    def charts(cls, results, block: Subscription) -> list:  # pragma: no mutate block (presentation)
        from .. import figures

        monthly = results.monthly
        if not (monthly["metric"] == "subscribers").any():
            return []
        return [
            (
                "subscribers",
                figures.over_time(monthly, "subscribers", ("program",), results.scenario.economics.currency),
            )
        ]

    @classmethod
    def summary_defaults(cls, ledger, out) -> None:
        out["subscribers_end"] = ledger["subscribers"][:, -1]

    def init(self) -> None:
        people = self.sim.people
        people.add_state("is_subscriber", bool, False, program_only=True)
        people.add_state("ti_subscribed", np.int32, -1, program_only=True)
        people.add_state("ti_next_bill", np.int32, -1, program_only=True)
        people.add_state("club_value", np.float64, 0.0, program_only=True)  # value received since the last bill
        people.add_state("is_trial", bool, False, program_only=True)  # in a free trial not yet billed
        self.derive()

    fixed_in_phases = ("billing_period_months",)  # (bills already scheduled)

    def derive(self) -> None:
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

    def purchase_rate(self, m: Month) -> None:
        m.rel_rate[self._subscriber_slots()] *= 1.0 + self.p.purchase_rate_lift

    def basket(self, m: Month) -> None:
        subs = self._subscriber_slots()
        m.keep[subs] *= 1.0 - self.p.discount
        if self.p.free_shipping:
            m.free_shipping[subs] = True

    def churn(self, m: Month) -> None:
        m.rel_churn[self._subscriber_slots()] *= self.p.churn_multiplier

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        subs = self._subscriber_slots()
        shipping = sim.sc.economics.shipping_cost_per_order if p.free_shipping else 0.0
        saved = m.list_spend[subs] * p.discount
        if shipping:  # (adding 0 would change nothing)
            saved += m.k[subs] * shipping
        saved += p.exclusive_access_value
        sim.view("club_value")[subs] += saved
        sim.charge_at("cost_club_access", subs, p.exclusive_access_cost)
        sim.nudge_at(subs, up=p.satisfaction_lift)
        self._starts(m)

    def _starts(self, m: Month) -> None:
        """Active members who bought and are not in the club may start it."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        slots = members[~sim.view("is_subscriber")[members] & (m.k[members] > 0)]
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

    def expected_value(self, m: Month) -> np.ndarray:
        """What the club would give a customer a month at their current purchase rate."""
        sim, p = self.sim, self.p
        value = m.expected_spend * p.discount
        shipping = sim.sc.economics.shipping_cost_per_order if p.free_shipping else 0.0
        if shipping:
            value += m.expected_orders * shipping
        value += p.exclusive_access_value
        return value

    def value_share(self, m: Month) -> None:
        """Joining the program is the way into the club: the club's surplus over its fee, per
        unit spent, is worth joining for (a club-only program still draws members)."""
        self.expected = self.expected_value(m)  # (this month's: uptake reads it after purchases)
        surplus = np.maximum(self.expected - self.fee_per_month, 0.0)
        m.program_value += np.divide(surplus, m.expected_spend, out=np.zeros_like(surplus), where=m.expected_spend > 0)

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
