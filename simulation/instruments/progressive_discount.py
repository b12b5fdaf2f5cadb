"""Progressive discount scale: the discount grows with what the member spent over a rolling window.

A member's spend over the last `window_months` months (net of discounts, as a tier's) sets
the step of the scale they are on, and its discount comes off every purchase (`Month.keep`):
the more they spend, the more they save. There are no reviews: the discount follows the
window up and down, month by month. Members below a step buy faster the nearer they are to
it (the goal gradient: Kivetz, Urminsky & Zheng 2006; reaching a step and keeping it is a
recurring goal, Drèze & Nunes 2011). What the scale is worth to a customer is the discount
of the step their expected spend over a window reaches (section 8). Its cost is the discount
on every member purchase, in `cost_discounts`, and it raises the purchase rate of
price-sensitive customers as any discount does (section 4.1).
"""

from __future__ import annotations

import itertools

import numpy as np
from pydantic import model_validator

from ..people import PROGRAM
from ..schema_base import Base, F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import join, money, months, pct


class DiscountStep(Base):
    spend: float = F(500.0, label="Spend", unit="currency over the window", help="Spend over the window from which this step's discount applies.", gt=0)
    discount: float = F(0.02, label="Discount", unit="share of basket", help="Discount on every purchase of a member on this step.", ge=0, le=0.5)


class ProgressiveDiscount(Instrument):
    steps: list[DiscountStep] = F(
        [DiscountStep(spend=300.0, discount=0.02), DiscountStep(spend=800.0, discount=0.04), DiscountStep(spend=1500.0, discount=0.06)],
        label="Steps",
        help="The steps of the scale, spend ascending: below the first step there is no discount.",
        min_length=1,
    )
    window_months: int = F(12, label="Spend window", unit="months", help="The rolling window over which a member's spend is summed.", ge=1, le=36)
    goal_lift: float = F(0.1, label="Pull of the next step", unit="x rate just below it", help="Extra purchase rate of a member just below the next step: rate x (1 + goal_lift x progress from the last step to the next).", ge=0, le=2)

    @model_validator(mode="after")
    def _ascending(self) -> ProgressiveDiscount:
        if any(b.spend <= a.spend for a, b in itertools.pairwise(self.steps)):
            raise ValueError("steps: spend must be strictly ascending")
        return self


class ProgressiveDiscountModule(InstrumentModule):
    key = "progressive_discount"
    schema = ProgressiveDiscount
    label = "Progressive discount scale"
    help = "A discount that grows with the member's spend over a rolling window."
    order = 140
    gives_discounts = True
    metrics = {
        "scale_step_ups": MetricSpec("Steps up the discount scale", "count", 0),
        "scale_members_discounted": MetricSpec("Members on a discount step", "count", 0),
        "scale_members_discounted_end": MetricSpec("Members on a discount step at end", "count", 0),
    }
    summary_order = ("scale_members_discounted_end", "scale_step_ups")
    totals = ("scale_step_ups",)
    levers = (
        Lever("enabled", "=false", "scale_members_discounted_end down 99-100 %, cost_discounts down 30-70 %", "instrument off"),
        Lever("steps[].spend", "x2", "scale_members_discounted_end down 15-60 %, cost_discounts down 3-25 %", "steps twice as hard to reach (the scale is about a third of the base's discounts)"),
        Lever("steps[].discount", "x2", "cost_discounts up 20-70 %, purchases up 0.3-5 %", "twice the discount: the cost on every member purchase, and price sensitivity (section 4.1)"),
        Lever("window_months", "=6", "scale_members_discounted_end down 15-60 %", "half the window: half the spend counts"),
        Lever("goal_lift", "=0.3", "purchases up 0.2-5 %", "Kivetz et al. (2006): members stretch towards the next step"),
    )  # fmt: skip
    judgements = {
        "goal_lift": Judgement(0.5, 2.0, source="judgement after Kivetz et al. (2006): 0.05-0.2 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: ProgressiveDiscount, currency: str) -> str:  # pragma: no mutate block (presentation)
        steps = join([f"{pct(s.discount)} from {money(s.spend, currency)}" for s in p.steps])
        return f"A progressive discount scale on members' spend over the last {months(p.window_months)}: {steps}."

    fixed_in_phases = ("window_months",)  # (the rolling window's shape)

    def init(self) -> None:
        p, people = self.p, self.sim.people
        self.derive()
        people.add_state("scale_spend", np.float64, 0.0, program_only=True)  # the rolling sum
        window = (p.window_months,)
        people.add_state("scale_months", np.float64, 0.0, leading=window, program_only=True, final=False)

    def derive(self) -> None:
        p = self.p
        self.spend = np.array([s.spend for s in p.steps])
        self.keep_by_step = 1.0 - np.array([0.0] + [s.discount for s in p.steps])  # step 0: below the scale
        self.floor_by_step = np.array([0.0, *self.spend])  # spend where each step starts

    def _step(self, spend: np.ndarray) -> np.ndarray:
        """The step a spend reaches: 0 below the scale, 1 + i from step i (an intp index)."""
        step = np.zeros(spend.shape, np.intp)
        for threshold in self.spend:
            step += spend >= threshold
        return step

    def basket(self, m: Month) -> None:
        members = self.sim.member_slots
        m.keep[members] *= self.keep_by_step[self._step(self.sim.view("scale_spend")[members])]

    def value_share(self, m: Month) -> None:
        """The discount of the step a customer's expected spend over a window reaches."""
        m.program_value += 1.0 - self.keep_by_step[self._step(m.expected_spend * self.p.window_months)]

    def purchase_rate(self, m: Month) -> None:
        """Members below the top step buy faster the nearer they are to the next one."""
        members = self.sim.member_slots
        spend = self.sim.view("scale_spend")[members]
        step = self._step(spend)
        below = step < self.spend.size
        lo = self.floor_by_step[step[below]]
        progress = (spend[below] - lo) / (self.spend[step[below]] - lo)
        m.rel_rate[members[below]] *= 1.0 + self.p.goal_lift * progress

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        window, spend = sim.view("scale_months"), sim.view("scale_spend")
        before = self._step(spend)
        row = sim.month % p.window_months
        value = m.net_spend * sim.members  # (x * False = 0)
        spend += value - window[row]
        window[row] = value
        m.record("scale_step_ups", float(np.count_nonzero(sim.members & (self._step(spend) > before))))

    def record(self, index: int) -> None:
        sim = self.sim
        on_a_step = sim.enrolled & (sim.view("scale_spend") >= self.spend[0])
        sim.ledger["scale_members_discounted"][PROGRAM, index] = np.count_nonzero(on_a_step)

    def summary(self, out: dict[str, np.ndarray]) -> None:
        out["scale_members_discounted_end"] = self.sim.ledger["scale_members_discounted"][:, -1].copy()
