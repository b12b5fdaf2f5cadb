"""Feedback waves with service recovery: an NPS survey each period, and a call to detractors.

Every `survey_every_months` months the program asks its enrolled members the NPS question;
`response_rate` of them answer, each with the answer of their ladder level (section 3.4).
A share of the detractors who answered (`recovery_share`) are contacted to put things right,
at `cost_per_contact` each: a recovery lifts their chance of moving up a level and, for
`recovery_months`, lowers their churn. Service recovery wins back many complainers and can
leave them more satisfied than before the failure, though it does not make them loyal on
average (Tax, Brown & Chandrashekaran 1998; de Matos, Henrique & Rossi 2007). Being asked
counts as a contact. The wave's own NPS (the answers, program arm) is a metric: what the
client would read from its survey.
"""

from __future__ import annotations

import numpy as np

from ..schema_base import F, Instrument
from .base import CalendarEvent, InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, months, pct

DETRACTOR_LEVELS = 3  # levels 0-2 answer 0-6 (section 3.4)
PROMOTER_LEVELS = 4  # levels 4-5 answer 9-10


class Feedback(Instrument):
    survey_every_months: int = F(3, label="Survey every", unit="months", help="Months between survey waves (the first at the end of that many months).", ge=1, le=24)
    response_rate: float = F(0.2, label="Response rate", unit="share of members asked", help="Share of the enrolled members asked who answer the survey.", ge=0, le=1)
    cost_per_response: float = F(0.5, label="Cost per answer", unit="currency", help="Running the survey, per answer collected.", ge=0)
    recovery_share: float = F(0.5, label="Detractors contacted", unit="share of answering detractors", help="Share of the detractors who answered that someone contacts to put things right.", ge=0, le=1)
    cost_per_contact: float = F(15.0, label="Cost per contact", unit="currency", help="Staff time and any goodwill gesture of one recovery contact.", ge=0)
    recovery_lift: float = F(0.3, label="Recovery lift", unit="probability", help="Added chance of moving up a level for a contacted detractor.", ge=0, le=1)
    recovery_churn_multiplier: float = F(0.7, label="Churn after recovery", unit="x", help="Churn of a contacted detractor relative to others on the same level, for the months below.", ge=0, le=2)
    recovery_months: int = F(3, label="Recovery lasts", unit="months", help="Months the lower churn of a contacted detractor lasts.", ge=0, le=36)


class FeedbackModule(InstrumentModule):
    key = "feedback"
    schema = Feedback
    label = "Feedback and service recovery"
    help = "NPS survey waves, and contacting detractors to put things right."
    order = 80
    cost_lines = {"cost_surveys": "Cost: surveys", "cost_recovery": "Cost: service recovery"}
    metrics = {
        "survey_answers": MetricSpec("Survey answers", "count", 0),
        "detractors_contacted": MetricSpec("Detractors contacted", "count", 0),
        "nps_surveyed": MetricSpec("NPS in the survey", "score", 1),
    }
    summary_order = ("detractors_contacted",)
    totals = ("survey_answers", "detractors_contacted")
    levers = (
        Lever("enabled", "=false", "detractors_contacted down 99-100 %, cost_recovery down 99-100 %", "instrument off"),
        Lever("survey_every_months", "=6", "survey_answers down 35-65 %, cost_surveys down 35-65 %", "half the waves"),
        Lever("response_rate", "x2", "survey_answers up 80-120 %, detractors_contacted up 60-130 %", "twice the answers"),
        Lever("cost_per_response", "x2", "cost_surveys up 99-101 %, purchases same", "money only"),
        Lever("recovery_share", "=1", "detractors_contacted up 80-120 %, churned down 0.02-2 %", "every answering detractor contacted"),
        Lever("cost_per_contact", "x2", "cost_recovery up 99-101 %, purchases same", "money only"),
        Lever("recovery_lift", "=0.9", "nps_end up 0.2-10 %", "Tax et al. (1998), de Matos et al. (2007): recovery lifts satisfaction"),
        Lever("recovery_churn_multiplier", "=1.5", "churned up 0.02-2 %", "recovery reversed: contacted detractors leave sooner"),
        Lever("recovery_months", "=12", "churned down 0.01-1 %", "the lower churn lasts a year"),
    )  # fmt: skip
    judgements = {
        "recovery_lift": Judgement(0.5, 1.5, source="judgement after de Matos et al. (2007): 0.15-0.45 at the default"),
        "recovery_churn_multiplier": Judgement(0.8, 1.3, source="judgement after Tax et al. (1998): 0.56-0.91 at the default"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Feedback, currency: str) -> str:  # pragma: no mutate block (presentation)
        every = "month" if p.survey_every_months == 1 else months(p.survey_every_months)
        return (
            f"Feedback: an NPS survey of the members every {every} ({pct(p.response_rate)} answer);"
            f" {pct(p.recovery_share)} of the detractors who answer are contacted to put things right"
            f" at {money(p.cost_per_contact, currency)} a contact."
        )

    def init(self) -> None:
        self.sim.people.add_state("ti_recovered", np.int32, -1000, program_only=True)

    def calendar(self) -> list[CalendarEvent]:
        every = self.p.survey_every_months
        return [CalendarEvent("survey wave", every, self.wave, first_month=every - 1)]

    def wave(self) -> None:
        """A survey wave at the end of the month (its nudges count at next month's ladder move)."""
        sim, p = self.sim, self.p
        asked = np.flatnonzero(sim.enrolled)
        answered = asked[sim.uniform_at("survey_answer", asked) < p.response_rate]
        level = sim.pview("level")[answered]
        detractors = answered[level < DETRACTOR_LEVELS]
        contacted = detractors[sim.uniform_at("recovery_contact", detractors) < p.recovery_share]
        sim.view("contact")[answered] = True
        sim.charge_at("cost_surveys", answered, p.cost_per_response)
        sim.charge_at("cost_recovery", contacted, p.cost_per_contact)
        sim.nudge_at(contacted, up=p.recovery_lift)
        sim.view("ti_recovered")[contacted] = sim.month
        sim.record("survey_answers", float(answered.size))
        sim.record("detractors_contacted", float(contacted.size))
        if answered.size:
            nps = 100.0 * (np.count_nonzero(level >= PROMOTER_LEVELS) - detractors.size) / answered.size
            sim.record("nps_surveyed", nps)

    def churn(self, m: Month) -> None:
        p = self.p
        if p.recovery_months and p.recovery_churn_multiplier != 1.0:
            since = self.sim.month - self.sim.view("ti_recovered")
            recent = np.flatnonzero((since >= 1) & (since <= p.recovery_months))  # from the month after the call
            m.rel_churn[recent] *= p.recovery_churn_multiplier
