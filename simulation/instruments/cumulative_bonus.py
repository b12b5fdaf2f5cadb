"""Cumulative bonus: a share of a member's year of spend paid back once a year, above a minimum.

Members' spend accrues over the bonus year (from launch, twelve months at a time); at the
settlement, the end of each bonus year, every enrolled member whose year's spend reached
`minimum_spend` is paid `bonus_share` of it (a voucher or a credit: a cost of the program),
and the year starts again. Until then the bonus owed is a liability (`bonus_liability`).
A bonus that grows with the spend placed here is an incentive to concentrate spend with one
retailer (share of wallet: Meyer-Waarden 2007), the more so as the settlement nears (a
deadline pulls purchases forward: the goal gradient, Kivetz, Urminsky & Zheng 2006); only
members who can still reach the minimum are pulled. Being paid delights (a nudge at payout).
Its worth to a customer is the bonus share, if their expected year of spend reaches the
minimum (section 8).
"""

from __future__ import annotations

import numpy as np

from ..people import PROGRAM
from ..schema_base import F, Instrument
from .base import CalendarEvent, InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, pct

YEAR = 12


class CumulativeBonus(Instrument):
    bonus_share: float = F(0.02, label="Bonus", unit="share of the year's spend", help="Share of a member's spend over the bonus year paid back at its end.", ge=0, le=0.3)
    minimum_spend: float = F(500.0, label="Minimum spend", unit="currency a year", help="Spend over the bonus year below which no bonus is paid.", ge=0)
    concentration_lift: float = F(0.05, label="Pull of the settlement", unit="share of rate", help="Extra purchase rate of a member who can reach the minimum in the month before the settlement; it grows through the year from a twelfth of that (spend concentrated here before the settlement date).", ge=0, le=1)
    payout_delight: float = F(0.05, label="Payout delight", unit="probability", help="Added chance of moving up a level for a member paid a bonus.", ge=0, le=1)


class CumulativeBonusModule(InstrumentModule):
    key = "cumulative_bonus"
    schema = CumulativeBonus
    label = "Cumulative bonus"
    help = "A share of each member's year of spend paid back once a year, above a minimum."
    order = 150
    cost_lines = {"cost_bonuses": "Cost: cumulative bonuses"}
    metrics = {
        "bonuses_paid": MetricSpec("Cumulative bonuses paid", "count", 0),
        "bonus_liability": MetricSpec("Cumulative bonus owed", "money", -1),
    }
    summary_order = ("bonuses_paid",)
    totals = ("bonuses_paid",)
    levers = (
        Lever("enabled", "=false", "cost_bonuses down 99-100 %, bonuses_paid down 99-100 %", "instrument off"),
        Lever("bonus_share", "x2", "cost_bonuses up 90-130 %, members_end up 0.1-5 %", "twice the bonus: more worth joining for"),
        Lever("minimum_spend", "x3", "bonuses_paid down 20-70 %, cost_bonuses down 10-60 %", "fewer members reach the minimum"),
        Lever("concentration_lift", "x3", "purchases up 0.5-8 %", "Meyer-Waarden (2007): spend concentrated before the settlement"),
        Lever("payout_delight", "x3", "nps_end up 0.5-15 %", "being paid delights"),
    )  # fmt: skip
    judgements = {
        "concentration_lift": Judgement(0.3, 2.0, source="judgement after Meyer-Waarden (2007), Kivetz et al. (2006): 0.015-0.1 at the default"),
        "payout_delight": Judgement(0.5, 2.0, source="judgement (as a reward's delight, 9.1; an expected payment delights less than a surprise, Oliver et al. 1997): 0.025-0.1 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: CumulativeBonus, currency: str) -> str:  # pragma: no mutate block (presentation)
        minimum = f" for members who spend at least {money(p.minimum_spend, currency)} a year" if p.minimum_spend else ""
        return f"A cumulative bonus: {pct(p.bonus_share)} of a member's year of spend paid back at the end of each year{minimum}."

    def init(self) -> None:
        self.sim.people.add_state("bonus_spend", np.float64, 0.0, program_only=True)

    def calendar(self) -> list[CalendarEvent]:
        return [CalendarEvent("bonus settlement", YEAR, self.settle, first_month=YEAR - 1)]

    def value_share(self, m: Month) -> None:
        m.program_value += self.p.bonus_share * (YEAR * m.expected_spend >= self.p.minimum_spend)

    def purchase_rate(self, m: Month) -> None:
        """Members who can still reach the minimum buy more as the settlement nears."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        into = sim.month % YEAR + 1  # months of the bonus year so far, this one included
        reach = sim.view("bonus_spend")[members] + m.expected_spend[members] * (YEAR - into + 1)
        pulled = members[reach >= p.minimum_spend]
        m.rel_rate[pulled] *= 1.0 + p.concentration_lift * into / YEAR

    def after_purchases(self, m: Month) -> None:
        self.sim.view("bonus_spend")[:] += m.net_spend * self.sim.members  # (x * False = 0)

    def _owed(self) -> tuple[np.ndarray, np.ndarray]:
        """The enrolled members whose year's spend reached the minimum, and their bonus."""
        sim = self.sim
        enrolled = np.flatnonzero(sim.enrolled)
        spend = sim.view("bonus_spend")[enrolled]
        paid = enrolled[spend >= self.p.minimum_spend]
        return paid, self.p.bonus_share * sim.view("bonus_spend")[paid]

    def settle(self) -> None:
        """The end of the bonus year: pay, delight, start again (the unreached spend is lost)."""
        sim = self.sim
        paid, bonus = self._owed()
        sim.charge_at("cost_bonuses", paid, bonus)
        sim.nudge_at(paid, up=self.p.payout_delight)
        sim.record("bonuses_paid", float(paid.size))
        sim.view("bonus_spend")[:] = 0.0

    def record(self, index: int) -> None:
        self.sim.ledger["bonus_liability"][PROGRAM, index] = self._owed()[1].sum()
