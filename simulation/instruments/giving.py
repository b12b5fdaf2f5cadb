"""Value-based giving: a share of members' spend donated to a cause they choose.

On every member purchase the program gives `donation_share` of the spend to a cause the
member picks. The donations are the cost. Only some customers care (`caring_share`, a fixed
trait of each customer): to them the donation is worth part of what it would be worth as a
discount (`warm_glow`: the willingness to pay for cause-related products grows with the
donation for customers involved in the cause, Koschate-Fischer, Stefan & Hoyer 2012), which
counts for joining and staying active (section 8), and a caring member who buys in a month
gets a small added chance of moving up a level (identification with the cause). The sizes
are judgement, and modest: cause-related marketing moves attitudes more than purchases.
"""

from __future__ import annotations

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import pct

GOLDEN = 0.6180339887498949  # (caring by permanent id: an even spread, unrelated to other draws)


class Giving(Instrument):
    donation_share: float = F(0.01, label="Donation", unit="share of member spend", help="Share of each member purchase given to the cause the member chose.", ge=0, le=0.2)
    caring_share: float = F(0.3, label="Customers who care", unit="share of customers", help="Share of the customers to whom giving to a cause matters.", ge=0, le=1)
    warm_glow: float = F(0.5, label="Worth of a donation", unit="x a discount", help="What a donation is worth to a customer who cares, as a share of the same amount off their basket.", ge=0, le=2)
    satisfaction_lift: float = F(0.003, label="Identification", unit="probability/month", help="Added chance of moving up a level for a member who cares and bought in the month.", ge=0, le=1)


class GivingModule(InstrumentModule):
    key = "giving"
    schema = Giving
    label = "Value-based giving"
    help = "A share of members' spend donated to a cause they choose."
    order = 170
    cost_lines = {"cost_donations": "Cost: donations"}
    metrics = {"donations": MetricSpec("Donations", "money", 0)}
    levers = (
        Lever("enabled", "=false", "cost_donations down 99-100 %", "instrument off"),
        Lever("donation_share", "x2", "cost_donations up 95-115 %, members_end up 0.1-5 %", "twice the donation: worth more to those who care"),
        Lever("caring_share", "x2", "members_end up 0.2-8 %, purchases up 0.1-3 %", "twice the customers who care"),
        Lever("warm_glow", "=0", "members_end down 0.1-5 %", "a donation worth nothing to anyone"),
        Lever("satisfaction_lift", "x3", "nps_end up 0.2-5 %", "Koschate-Fischer et al. (2012): identification with the cause; modest"),
    )  # fmt: skip
    judgements = {
        "caring_share": Judgement(0.5, 1.5, source="judgement: 0.15-0.45 at the default"),
        "warm_glow": Judgement(0.0, 2.0, source="judgement after Koschate-Fischer et al. (2012): 0-1 at the default"),
        "satisfaction_lift": Judgement(0.0, 2.0, source="judgement: 0-0.006 at the default (modest: about 3.5 % a year for a caring member who buys every month)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Giving, currency: str) -> str:  # pragma: no mutate block (presentation)
        return (
            f"Value-based giving: {pct(p.donation_share)} of every member purchase goes to a cause the member chooses;"
            f" {pct(p.caring_share)} of the customers care about it."
        )

    def _cares(self, slots: np.ndarray | None = None) -> np.ndarray:
        """Whether each customer cares (a fixed trait, by permanent id)."""
        people = self.sim.people
        ids = people.ids[: people.n] if people.removed else np.arange(people.n)
        if slots is not None:
            ids = ids[slots]
        return (ids + 1) * GOLDEN % 1.0 < self.p.caring_share

    def value_share(self, m: Month) -> None:
        worth = self.p.warm_glow * self.p.donation_share
        if worth:
            m.program_value += worth * self._cares()

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        buyers = sim.member_slots[m.k[sim.member_slots] > 0]
        donated = p.donation_share * m.net_spend[buyers]
        m.charge_at("cost_donations", buyers, donated)
        m.record("donations", float(donated.sum()))
        caring = buyers[self._cares(buyers)]
        if p.satisfaction_lift:
            m.nudge_at(caring, up=p.satisfaction_lift)
