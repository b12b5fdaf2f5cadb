"""Personalised offers: coupons chosen for each member, used more the more relevant they are.

Each month the active members the program can reach get `offers_per_month` offers. An offer
is used with a chance that rises with its relevance, from a mass coupon's response to a
well-matched offer's (targeted offers are used several times as often as mass ones: Zhang
& Wedel 2009; Venkatesan & Farris 2012). A used offer takes `offer_value` off a purchase;
only some used offers bring a purchase that would not have happened (`incremental_share`),
the others are paid on purchases the member would have made anyway. Relevant offers are
welcome contacts (the brief: personalised content makes most customers feel more positive).
"""

from __future__ import annotations

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import count, money, pct


class PersonalisedOffers(Instrument):
    offers_per_month: int = F(1, label="Offers per month", unit="offers/member/month", help="Offers each reachable active member gets a month.", ge=0, le=10)
    reach_share: float = F(0.8, label="Reachable members", unit="share of active members", help="Share of the active members the program can send offers to (app, e-mail, consent), drawn each month.", ge=0, le=1)
    offer_value: float = F(3.0, label="Offer value", unit="currency", help="What a used offer takes off the purchase it is used on.", ge=0)
    relevance: float = F(0.5, label="Relevance", unit="0 = mass offer, 1 = matched", help="How well the offers match each member's own purchases (the quality of the data and the selection behind them).", ge=0, le=1)
    response_mass: float = F(0.02, label="Use of a mass offer", unit="probability per offer", help="Chance that an offer of no particular relevance is used in its month.", ge=0, le=1)
    response_matched: float = F(0.10, label="Use of a matched offer", unit="probability per offer", help="Chance that a fully relevant offer is used in its month; the chance rises linearly with relevance from the mass offer's.", ge=0, le=1)
    incremental_share: float = F(0.3, label="Extra purchases", unit="share of used offers", help="Share of used offers that bring a purchase that would not have happened; the rest are used on purchases the member would have made anyway.", ge=0, le=1)
    cost_per_offer: float = F(0.05, label="Cost per offer", unit="currency", help="Selecting and sending one offer (data, production, channel).", ge=0)
    satisfaction_lift: float = F(0.01, label="Delight of a relevant offer", unit="probability/month", help="Added chance of moving up a level for a member sent fully relevant offers in a month (x relevance).", ge=0, le=1)


class PersonalisedOffersModule(InstrumentModule):
    key = "personalised_offers"
    schema = PersonalisedOffers
    label = "Personalised offers"
    help = "Offers chosen for each member, used more the more relevant they are."
    order = 60
    cost_lines = {"cost_offers_sent": "Cost: offers sent", "cost_offers_used": "Cost: offers used"}
    metrics = {
        "offers_sent": MetricSpec("Offers sent", "count", 0),
        "offers_used": MetricSpec("Offers used", "count", 1),
    }
    summary_order = ("offers_sent", "offers_used")
    totals = ("offers_sent", "offers_used")
    levers = (
        Lever("enabled", "=false", "offers_sent down 99-100 %, cost_offers_used down 99-100 %", "instrument off"),
        Lever("offers_per_month", "x2", "offers_sent up 90-110 %, offers_used up 60-110 %, purchases up 0.05-2 %", "twice the offers: about twice the uses"),
        Lever("reach_share", "=0.4", "offers_sent down 45-55 %, purchases down 0.1-3 %", "half the members reached"),
        Lever("offer_value", "x2", "cost_offers_used up 95-110 %, purchases within 0.5 %", "mostly money: the value counts only in the worth (section 8: sign-up, dormancy)"),
        Lever("relevance", "=1", "offers_used up 30-100 %, purchases up 0.1-3 %, nps_end up 0.3-10 %", "Zhang & Wedel (2009), Venkatesan & Farris (2012): matched offers are used more; welcome contacts"),
        Lever("response_mass", "x2", "offers_used up 5-50 %", "more mass-offer use"),
        Lever("response_matched", "x2", "offers_used up 40-150 %", "more matched-offer use"),
        Lever("incremental_share", "=0", "purchases down 0.05-1 %", "used offers bring no extra purchase: a pure subsidy"),
        Lever("cost_per_offer", "x2", "cost_offers_sent up 99-101 %, purchases same", "money only"),
        Lever("satisfaction_lift", "x3", "nps_end up 0.3-10 %", "relevant contact delights"),
    )  # fmt: skip
    judgements = {
        "response_matched": Judgement(0.5, 2.0, source="judgement after Zhang & Wedel (2009), Venkatesan & Farris (2012): 0.05-0.20 at the default"),
        "incremental_share": Judgement(0.5, 1.5, source="judgement: 0.15-0.45 at the default; most coupon use is by buyers who would have bought (subsidy)"),
        "satisfaction_lift": Judgement(0.5, 2.0, source="judgement (brief: personalised content makes most customers feel more positive)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: PersonalisedOffers, currency: str) -> str:  # pragma: no mutate block (presentation)
        return (
            f"Personalised offers: {count(p.offers_per_month, 'offer')} a month worth {money(p.offer_value, currency)}"
            f" to {pct(p.reach_share)} of the active members, at {pct(p.relevance)} relevance"
            f" (each used with a chance of {pct(cls.use(p))}; {pct(p.incremental_share)} of the uses are extra purchases);"
            f" {money(p.cost_per_offer, currency)} to send an offer."
        )

    @staticmethod
    def use(p: PersonalisedOffers) -> float:
        """Chance that one offer is used: linear in relevance from the mass offer's to the matched one's."""
        return p.response_mass + p.relevance * (p.response_matched - p.response_mass)

    def init(self) -> None:
        self.reached = np.empty(0, np.intp)

    def value_share(self, m: Month) -> None:
        """The offers' value a member can expect a month, per unit of spend."""
        p = self.p
        back = p.reach_share * p.offers_per_month * self.use(p) * p.offer_value
        if back:
            m.add_worth(back)

    def purchase_rate(self, m: Month) -> None:
        """This month's recipients buy `offers x use x incremental_share` more times a month."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        self.reached = members[sim.uniform_at("offers_reached", members) < p.reach_share]
        extra = p.offers_per_month * self.use(p) * p.incremental_share
        if extra and self.reached.size:
            m.add_purchases(self.reached, extra)

    def after_purchases(self, m: Month) -> None:
        """Offers used: each of the recipient's offers with its chance, at most one a purchase."""
        sim, p = self.sim, self.p
        slots = self.reached
        drawn = np.zeros(slots.size)
        for j in range(p.offers_per_month):
            drawn += sim.uniform_at(f"offer_used_{j}", slots) < self.use(p)
        used = np.minimum(drawn, m.k[slots])
        m.charge_at("cost_offers_sent", slots, p.cost_per_offer * p.offers_per_month)
        m.charge_at("cost_offers_used", slots, used * p.offer_value)
        m.record("revenue", -float(used.sum()) * p.offer_value)  # (a price cut: revenue is what members pay)
        m.record("offers_sent", float(slots.size * p.offers_per_month))
        m.record("offers_used", float(used.sum()))
        if p.offers_per_month:
            lift = p.relevance * p.satisfaction_lift
            m.nudge_at(slots, up=lift) if lift else m.contact_at(slots)
