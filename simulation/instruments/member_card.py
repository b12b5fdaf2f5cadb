"""Member card: a fixed discount on every purchase for members who show the card.

The simplest program, and the one grocers start with: the discount comes off each
member's basket (`Month.keep`), so it costs the discount on every member purchase, also
those the member would have made anyway (the "discount swamp"), and raises the purchase
rate only through the customers' price sensitivity (section 4.1): a 3 % card lifts a
segment of sensitivity 1 by about 3 %. Its worth to a customer is the discount (section 8),
which drives sign-up and keeps members active. A card is issued once per member.
"""

from __future__ import annotations

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, pct


class MemberCard(Instrument):
    discount: float = F(0.03, label="Card discount", unit="share of basket", help="Discount a member gets on every purchase by showing the card.", ge=0, le=0.5)
    eligible_share: float = F(1.0, label="Eligible spend", unit="share of spend", help="Share of the spend the discount applies to (promotions, tobacco or gift cards may be left out).", gt=0, le=1)
    card_cost: float = F(1.0, label="Card cost", unit="currency per new member", help="Issuing a card to a new member: the card, printing and the welcome letter.", ge=0)
    satisfaction_lift: float = F(0.0, label="Card delight", unit="probability/month", help="Monthly added chance of moving up a level for an active member. A discount buys repeat purchases more than attachment: none by default.", ge=0, le=1)


class MemberCardModule(InstrumentModule):
    key = "member_card"
    schema = MemberCard
    label = "Member card"
    help = "A fixed discount on every purchase for members."
    order = 50
    gives_discounts = True
    cost_lines = {"cost_member_cards": "Cost: member cards"}
    metrics = {"member_cards_issued": MetricSpec("Member cards issued", "count", 0)}
    levers = (
        Lever("enabled", "=false", "cost_member_cards down 99-100 %, cost_discounts down 10-60 %", "instrument off"),
        Lever("discount", "x2", "cost_discounts up 15-80 %, purchases up 0.3-3 %", "the discount on every member purchase (the discount swamp); price sensitivity (section 4.1)"),
        Lever("eligible_share", "=0.5", "cost_discounts down 5-40 %, purchases down 0.15-1.5 %", "half the spend discounted"),
        Lever("card_cost", "x2", "cost_member_cards up 99-101 %, purchases same", "money only"),
        Lever("satisfaction_lift", "=0.02", "nps_end up 3-30 %", "a card that delights (none by default)"),
    )  # fmt: skip
    judgements = {
        "satisfaction_lift": Judgement(0.0, 2.0, source="judgement: 0 by default (discounts buy behaviour, not attitude: Dowling & Uncles 1997)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, block: MemberCard, currency: str) -> str:  # pragma: no mutate block (presentation)
        share = "" if block.eligible_share == 1 else f" on {pct(block.eligible_share)} of the assortment"
        cost = f"; a card costs {money(block.card_cost, currency)} to issue" if block.card_cost else ""
        return f"A member card: {pct(block.discount)} off every purchase{share} for members{cost}."

    @property
    def _rate(self) -> float:
        return self.p.discount * self.p.eligible_share

    def init(self) -> None:
        self.sim.people.add_state("has_card", bool, False, program_only=True)

    def basket(self, m: Month) -> None:
        if self._rate:
            m.keep[self.sim.member_slots] *= 1.0 - self._rate

    def value_share(self, m: Month) -> None:
        m.program_value += self._rate  # the same share of spend back for everyone who joins

    def after_purchases(self, m: Month) -> None:
        sim = self.sim
        new = np.flatnonzero(sim.enrolled & ~sim.view("has_card"))  # members since last month
        sim.view("has_card")[new] = True
        m.charge_at("cost_member_cards", new, self.p.card_cost)
        m.record("member_cards_issued", float(new.size))
        m.nudge_at(sim.member_slots, up=self.p.satisfaction_lift)
