"""Staff training: staff who ask at the till and serve better, with a skill that builds and fades.

The customer-facing staff are trained to present the program and to serve well. Their skill
`s` (0 to 1) builds towards full while the training runs, with time constant `skill_months`,
and fades as fast once it stops (`training_months`: 0 = it runs throughout). Skilled staff
ask more of the willing customers to sign up at their purchases (`Month.rel_enrolment`,
section 8) and cause fewer disappointing experiences for every customer who buys (section
5.1): the service-profit chain, better-served customers are more satisfied and more loyal
(Heskett et al. 1994); the sizes are judgement, kept small: at Sears a clear rise in
staff attitude came with about half a percent more revenue growth (Rucci, Kirn & Quinn 1998). The training costs its budget every month
it runs, as a fixed cost (not charged to any one customer's value).
"""

from __future__ import annotations

import math

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, months, pct


class StaffTraining(Instrument):
    cost_per_month: float = F(3000.0, label="Training cost", unit="currency/month", help="What the training costs a month while it runs: trainers, materials and paid hours (staff trained x cost per person).", ge=0)
    training_months: int = F(0, label="Training runs for", unit="months", help="Months the training runs from launch (0 = throughout); after it stops the skill fades.", ge=0, le=240)
    skill_months: float = F(6.0, label="Skill builds in", unit="months", help="Time constant of the staff's skill: it builds towards full over about this many months while the training runs, and fades as fast after it stops.", gt=0, le=60)
    enrolment_lift: float = F(0.3, label="Sign-up lift", unit="share", help="Relative rise in the chance that a willing customer signs up at a purchase, with fully skilled staff (they ask at the till).", ge=0, le=3)
    bad_experience_cut: float = F(0.05, label="Fewer disappointments", unit="share", help="Share of disappointing experiences (section 5.1) that fully skilled staff avoid, for every customer who buys.", ge=0, le=1)


class StaffTrainingModule(InstrumentModule):
    key = "staff_training"
    schema = StaffTraining
    label = "Staff training"
    help = "Training the staff to sign customers up at the till and to serve them better."
    order = 130
    cost_lines = {"cost_staff_training": "Cost: staff training"}
    metrics = {
        "staff_skill": MetricSpec("Staff skill", "share", 1),
        "disappointments_avoided": MetricSpec("Disappointments avoided (expected)", "number", 1),
    }
    summary_order = ("disappointments_avoided",)
    totals = ("disappointments_avoided",)
    levers = (
        Lever("enabled", "=false", "cost_staff_training down 99-100 %, members_end down 1-10 %, nps_end down 1-15 %", "instrument off"),
        Lever("cost_per_month", "x2", "cost_staff_training up 99-101 %, purchases same", "money only: the effects are the training's, its price is the client's quote"),
        Lever("training_months", "=6", "cost_staff_training down 70-80 %, nps_end down 0.5-15 %", "training stops after six months: the skill fades"),
        Lever("skill_months", "x4", "disappointments_avoided down 30-70 %, members_end down 0.5-10 %", "the skill builds four times slower: over 24 months the mean skill falls from about 0.75 to 0.37"),
        Lever("enrolment_lift", "x2", "members_end up 0.5-10 %", "staff asking at the till sign up more (section 8)"),
        Lever("bad_experience_cut", "x2", "disappointments_avoided up 95-105 %, nps_end up 1-15 %", "Heskett et al. (1994): service quality, satisfaction, loyalty"),
    )  # fmt: skip
    judgements = {
        "enrolment_lift": Judgement(0.3, 2.0, source="judgement: 0.1-0.6 at the default (asking at the till is the main sign-up channel of a store program)"),
        "bad_experience_cut": Judgement(0.4, 3.0, source="judgement after Heskett et al. (1994), sized by Rucci et al. (1998): 0.02-0.15 at the default"),
        "skill_months": Judgement(0.5, 2.0, source="judgement: 3-12 months at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: StaffTraining, currency: str) -> str:  # pragma: no mutate block (presentation)
        runs = "throughout" if not p.training_months else f"for the first {months(p.training_months)}, the skill fading after"
        return (
            f"Staff training: {money(p.cost_per_month, currency)} a month {runs}; fully skilled staff sign up"
            f" {pct(p.enrolment_lift)} more of the willing customers at the till and avoid {pct(p.bad_experience_cut)}"
            f" of disappointing experiences (the skill builds over about {months(round(p.skill_months))})."
        )

    def init(self) -> None:
        lad = self.sim.sc.customers.ladder
        self.fail_by_level = lad.negative_experience * np.array(lad.forgiveness.as_tuple())  # (section 5.1)
        self.fail_by_level[0] = 0.0  # nowhere lower than the bottom
        self.skill = 0.0

    @property
    def training(self) -> bool:
        return not self.p.training_months or self.sim.month < self.p.training_months

    def basket(self, m: Month) -> None:
        """This month's skill (it builds or fades by one month), and its sign-ups at the till."""
        keep = math.exp(-1.0 / self.p.skill_months)
        self.skill = 1.0 - (1.0 - self.skill) * keep if self.training else self.skill * keep
        m.rel_enrolment *= 1.0 + self.p.enrolment_lift * self.skill

    def after_purchases(self, m: Month) -> None:
        """Fewer disappointing experiences for everyone who bought: off the next ladder move."""
        sim = self.sim
        if self.training:
            m.record("cost_staff_training", self.p.cost_per_month)
        m.record("staff_skill", self.skill)
        cut = self.p.bad_experience_cut * self.skill
        if not cut:
            return
        buyers = np.flatnonzero(m.k)  # (the dead buy nothing)
        avoided = cut * self.fail_by_level[sim.pview("level")[buyers]]
        m.nudge_at(buyers, down=-avoided)
        m.record("disappointments_avoided", float(avoided.sum()))
