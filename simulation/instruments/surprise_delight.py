"""Surprise and delight: a monthly budget of unannounced gifts to chosen members.

Each month `budget_per_month / gift_cost` active members get a surprise: chosen at random,
the best customers first (highest ladder level) or those at risk first (lowest level). An
unexpected gift delights beyond what an announced reward of the same cost does (Oliver,
Rust & Varki 1997; the brief: surprise-and-delight gifts lift satisfaction beyond their
cost): a large added chance of moving up a level, and the story is told on
(`word_of_mouth`: extra people who hear a recommendation). Not being announced, it adds
nothing to what the program is worth when a customer decides to join.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money


class SurpriseDelight(Instrument):
    budget_per_month: float = F(500.0, label="Budget", unit="currency/month", help="Spent each month on surprise gifts.", ge=0)
    gift_cost: float = F(10.0, label="Gift cost", unit="currency per surprise", help="What one surprise costs (goods, handling, a note).", gt=0)
    target: Literal["random", "best", "at_risk"] = F("random", label="Who is surprised", help="'random': active members at random; 'best': the highest ladder levels first; 'at_risk': the lowest levels first (ties at random).")
    delight: float = F(0.3, label="Delight", unit="probability", help="Added chance of moving up a level for a surprised member.", ge=0, le=1)
    word_of_mouth: float = F(0.5, label="Told on", unit="listeners per surprise", help="People a surprised member tells about it (recommendations that may bring customers, section 7).", ge=0, le=20)


class SurpriseDelightModule(InstrumentModule):
    key = "surprise_delight"
    schema = SurpriseDelight
    label = "Surprise and delight"
    help = "A monthly budget of unannounced gifts to chosen members."
    order = 90
    cost_lines = {"cost_surprises": "Cost: surprise gifts"}
    metrics = {"surprises": MetricSpec("Surprise gifts", "count", 0)}
    summary_order = ("surprises",)
    totals = ("surprises",)
    levers = (
        Lever("enabled", "=false", "cost_surprises down 99-100 %, surprises down 99-100 %", "instrument off"),
        Lever("budget_per_month", "x2", "cost_surprises up 95-101 %, nps_end up 0.3-10 %", "twice the surprises"),
        Lever("gift_cost", "x2", "surprises down 45-55 %, nps_end down 0.2-8 %", "half the surprises for the same budget"),
        Lever("target", "=at_risk", "nps_end up 0.3-15 %, churned down 0.2-6 %", "lifting those at risk moves NPS (detractors) and churn more"),
        Lever("delight", "=0.9", "nps_end up 1-30 %", "Oliver et al. (1997): delight"),
        Lever("word_of_mouth", "x4", "acquisitions up 0.5-8 %", "the story told on brings a few customers"),
    )  # fmt: skip
    judgements = {
        "delight": Judgement(0.5, 1.5, source="judgement after Oliver et al. (1997): 0.15-0.45 at the default"),
        "word_of_mouth": Judgement(0.0, 2.0, source="judgement: 0-1 listeners per surprise at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: SurpriseDelight, currency: str) -> str:  # pragma: no mutate block (presentation)
        n = int(p.budget_per_month // p.gift_cost)
        who = {"random": "active members at random", "best": "the most satisfied members first", "at_risk": "the least satisfied members first"}[p.target]
        return f"Surprise and delight: {money(p.budget_per_month, currency)} a month, about {n} unannounced gifts of {money(p.gift_cost, currency)} to {who}."

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        members = sim.member_slots
        n = min(int(p.budget_per_month // p.gift_cost), members.size)
        if not n:
            return
        u = sim.uniform_at("surprise", members)
        if p.target == "random":
            order = np.argsort(u, kind="stable")
        else:  # by level, ties at random
            level = sim.pview("level")[members].astype(np.float64)
            order = np.lexsort((u, -level if p.target == "best" else level))
        chosen = np.sort(members[order[:n]])
        m.charge_at("cost_surprises", chosen, p.gift_cost)
        m.nudge_at(chosen, up=p.delight)
        m.extra_listeners += n * p.word_of_mouth
        m.record("surprises", float(n))
