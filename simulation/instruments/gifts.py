"""Gifts: a birthday gift for every active member, and prize draws among members who buy.

Birthday gift: in a member's birthday month (spread evenly over the year by customer) the
gift is offered; `collect_share` of members collect it, which costs `gift_cost`, delights
(a gift lifts satisfaction beyond its cost: the brief; reciprocity and delight, Oliver, Rust
& Varki 1997) and brings some to buy something on the visit (`gift_purchase_share`).

Prize draw: each month `prize_budget_per_month` is drawn as prizes of `prize_value` among the
active members who bought; winners are delighted. Its worth to a member is the expected
prize per unit spent, overweighted (`prize_appeal`: small chances of a large prize weigh
more than their expected value, Kahneman & Tversky 1979); it acts through the program's
worth (sign-up and dormancy, section 8), not through a purchase lift of its own.
"""

from __future__ import annotations

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, pct


class Gifts(Instrument):
    birthday_gift: bool = F(True, label="Birthday gift", help="Offer every active member a gift in their birthday month.")
    gift_cost: float = F(4.0, label="Gift cost", unit="currency per gift collected", help="What a collected birthday gift costs the company (goods and handling).", ge=0)
    collect_share: float = F(0.5, label="Gifts collected", unit="share of members offered", help="Share of the members offered a birthday gift who collect it.", ge=0, le=1)
    gift_purchase_share: float = F(0.2, label="Purchases with the gift", unit="share of gifts collected", help="Share of collected gifts that come with a purchase the member would not have made that month.", ge=0, le=1)
    gift_satisfaction_lift: float = F(0.05, label="Gift delight", unit="probability", help="Added chance of moving up a level for a member who collects the gift.", ge=0, le=1)
    prize_budget_per_month: float = F(0.0, label="Prize budget", unit="currency/month", help="Spent each month on prizes drawn among the active members who bought (0 = no draw).", ge=0)
    prize_value: float = F(100.0, label="Prize value", unit="currency", help="What one prize costs and is worth.", gt=0)
    prize_appeal: float = F(2.0, label="Appeal of a draw", unit="x expected value", help="How much more than its expected value a small chance of a prize weighs with members.", ge=0, le=10)
    prize_satisfaction_lift: float = F(0.2, label="Winner delight", unit="probability", help="Added chance of moving up a level for a prize winner.", ge=0, le=1)


class GiftsModule(InstrumentModule):
    key = "gifts"
    schema = Gifts
    label = "Gifts and prize draws"
    help = "A birthday gift for members, and prize draws among members who buy."
    order = 70
    cost_lines = {"cost_gifts": "Cost: birthday gifts", "cost_prizes": "Cost: prizes"}
    metrics = {
        "gifts_collected": MetricSpec("Birthday gifts collected", "count", 0),
        "prizes_won": MetricSpec("Prizes won", "count", 0),
    }
    summary_order = ("gifts_collected",)
    totals = ("gifts_collected", "prizes_won")
    levers = (
        Lever("enabled", "=false", "cost_gifts down 99-100 %, gifts_collected down 99-100 %", "instrument off"),
        Lever("birthday_gift", "=false", "gifts_collected down 99-100 %, nps_end down 0.3-10 %", "no gifts, no delight"),
        Lever("gift_cost", "x2", "cost_gifts up 95-110 %, purchases within 0.5 %", "mostly money: the cost counts in the worth (section 8)"),
        Lever("collect_share", "x2", "gifts_collected up 80-120 %, cost_gifts up 80-120 %", "twice as many collect"),
        Lever("gift_purchase_share", "=1", "purchases up 0.1-3 %", "every collected gift comes with a purchase"),
        Lever("gift_satisfaction_lift", "x3", "nps_end up 0.5-15 %", "Oliver et al. (1997): gifts delight"),
        Lever("prize_budget_per_month", "=2000", "cost_prizes up, prizes_won up, members_end up 1-30 %", "a draw of 20 prizes a month: worth more than it costs to members (overweighted chances)"),
        Lever("prize_value", "x2", "purchases same, cost_prizes same", "no draw by default: nothing to change (9.7 tests the draw)"),
        Lever("prize_appeal", "x2", "purchases same", "no draw by default: nothing to change"),
        Lever("prize_satisfaction_lift", "x2", "purchases same", "no draw by default: nothing to change"),
    )  # fmt: skip
    judgements = {
        "gift_satisfaction_lift": Judgement(0.4, 2.0, source="judgement after Oliver et al. (1997): 0.02-0.10 at the default"),
        "gift_purchase_share": Judgement(0.5, 1.5, source="judgement: 0.1-0.3 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Gifts, currency: str) -> str:  # pragma: no mutate block (presentation)
        parts = []
        if p.birthday_gift:
            parts.append(
                f"a birthday gift costing {money(p.gift_cost, currency)} for every active member"
                f" ({pct(p.collect_share)} collect it)"
            )
        if p.prize_budget_per_month:
            n = p.prize_budget_per_month / p.prize_value
            parts.append(f"{money(p.prize_budget_per_month, currency)} a month in prizes of {money(p.prize_value, currency)} ({n:g} a month) drawn among members who buy")
        return "Gifts: " + ("; ".join(parts) if parts else "none switched on") + "."

    def value_share(self, m: Month) -> None:
        """A year's gift value spread over the months, and the draw's overweighted expected prize."""
        p = self.p
        back = (p.collect_share * p.gift_cost / 12.0) if p.birthday_gift else 0.0
        members = max(1, self.sim.member_slots.size)
        back += p.prize_appeal * p.prize_budget_per_month / members
        if back:
            m.add_worth(back)

    def _birthday_members(self) -> np.ndarray:
        """The active members whose birthday month this is (by permanent id: 1/12 of them)."""
        sim = self.sim
        members = sim.member_slots
        ids = sim.people.ids[members] if sim.people.removed else members
        return members[ids % 12 == sim.month % 12]

    def purchase_rate(self, m: Month) -> None:
        p = self.p
        if not (p.birthday_gift and p.gift_purchase_share):
            return
        # extra purchases in the birthday month of a member offered the gift
        m.add_purchases(self._birthday_members(), p.collect_share * p.gift_purchase_share)

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        if p.birthday_gift:
            offered = self._birthday_members()
            collect = offered[sim.uniform_at("gift_collected", offered) < p.collect_share]
            m.charge_at("cost_gifts", collect, p.gift_cost)
            m.nudge_at(collect, up=p.gift_satisfaction_lift)
            m.record("gifts_collected", float(collect.size))
        if p.prize_budget_per_month:
            self._draw(m)

    def _draw(self, m: Month) -> None:
        sim, p = self.sim, self.p
        buyers = sim.member_slots[m.k[sim.member_slots] > 0]
        n = min(int(p.prize_budget_per_month // p.prize_value), buyers.size)
        if not n:
            return
        order = np.argsort(sim.uniform_at("prize_draw", buyers), kind="stable")
        winners = np.sort(buyers[order[:n]])
        m.charge_at("cost_prizes", winners, p.prize_value)
        m.nudge_at(winners, up=p.prize_satisfaction_lift)
        m.record("prizes_won", float(n))
