"""Communication cadence: relevant messages lift, too many hurt and drive opt-outs.

Each month the program sends `messages_per_month` messages (newsletters, app pushes) to the
active members who use the app or web account and have not opted out. Relevant content
is welcome: with chance `relevance` a member counts the month's messages as a contact (no
drift for lack of contact, section 5.3), and members buy more, with diminishing returns in
the number of messages (customised e-mail content raises response: Ansari & Mela 2003).
Beyond `tolerance` messages a month, each extra one annoys and drives opt-outs, the more
so the less relevant the messages are (Micheaux 2011; opt-outs rise with frequency: Kumar,
Zhang & Luo 2014). A member who opts out gets no more messages.
"""

from __future__ import annotations

import math

import numpy as np

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, num, pct


class Communication(Instrument):
    messages_per_month: int = F(4, label="Messages per month", unit="messages/member/month", help="Program messages (newsletters, app pushes) a reachable member gets a month.", ge=0, le=60)
    relevance: float = F(0.5, label="Relevance", unit="0 = generic, 1 = personal", help="How relevant the messages are to each member.", ge=0, le=1)
    purchase_lift: float = F(0.03, label="Purchase lift", unit="share of rate", help="Members' higher purchase rate with fully relevant messages at saturation (x relevance x (1 - exp(-messages / saturation))).", ge=0, le=1)
    saturation: float = F(4.0, label="Saturation", unit="messages/month", help="Messages a month at which the lift reaches 63 % of its most (diminishing returns).", gt=0, le=60)
    tolerance: int = F(6, label="Tolerated", unit="messages/month", help="Messages a month members accept before more annoy them.", ge=0, le=60)
    optout_per_extra: float = F(0.01, label="Opt-out per extra message", unit="probability/month", help="Chance a month of opting out for each message beyond the tolerated number, for entirely irrelevant messages (x (1 - relevance)).", ge=0, le=1)
    annoyance_per_extra: float = F(0.01, label="Annoyance per extra message", unit="probability/month", help="Added chance of moving down a level for each message beyond the tolerated number, for entirely irrelevant messages (x (1 - relevance)).", ge=0, le=1)
    cost_per_message: float = F(0.01, label="Cost per message", unit="currency", help="Producing and sending one message to one member.", ge=0)


class CommunicationModule(InstrumentModule):
    key = "communication"
    schema = Communication
    label = "Communication cadence"
    help = "Program messages to members: relevant ones lift, too many hurt and drive opt-outs."
    order = 100
    cost_lines = {"cost_messages": "Cost: messages"}
    metrics = {
        "messages_sent": MetricSpec("Messages sent", "count", 0),
        "opt_outs": MetricSpec("Members opting out of messages", "count", -1),
    }
    summary_order = ("opt_outs",)
    totals = ("messages_sent", "opt_outs")
    levers = (
        Lever("enabled", "=false", "cost_messages down 99-100 %, messages_sent down 99-100 %", "instrument off"),
        Lever("messages_per_month", "=12", "opt_outs up, nps_end down 1-30 %", "beyond the tolerated cadence: opt-outs and annoyance (Micheaux 2011; Kumar et al. 2014)"),
        Lever("relevance", "=1", "purchases up 0.05-3 %", "Ansari & Mela (2003): relevant content lifts"),
        Lever("purchase_lift", "x2", "purchases up 0.05-3 %", "more lift"),
        Lever("saturation", "x2", "purchases down 0.02-2 %", "more messages needed for the same lift"),
        Lever("tolerance", "=2", "opt_outs up, messages_sent down 1-50 %", "members tolerate fewer messages"),
        Lever("optout_per_extra", "x2", "purchases same", "no messages beyond the tolerated number by default"),
        Lever("annoyance_per_extra", "x2", "purchases same", "no messages beyond the tolerated number by default"),
        Lever("cost_per_message", "x2", "cost_messages up 99-101 %, purchases same", "money only"),
    )  # fmt: skip
    judgements = {
        "purchase_lift": Judgement(0.3, 2.0, source="judgement after Ansari & Mela (2003): 0.01-0.06 at the default"),
        "optout_per_extra": Judgement(0.5, 2.0, source="judgement after Kumar et al. (2014)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Communication, currency: str) -> str:  # pragma: no mutate block (presentation)
        text = (
            f"Communication: {num(p.messages_per_month)} messages a month to the members who use the app or web,"
            f" at {pct(p.relevance)} relevance ({money(p.cost_per_message, currency)} a message)"
        )
        if p.messages_per_month > p.tolerance:
            text += f"; more than the {num(p.tolerance)} members tolerate, so some opt out"
        return text + "."

    def init(self) -> None:
        self.sim.people.add_state("opted_out", bool, False, program_only=True)
        self.reached = np.empty(0, np.intp)

    def _reached(self) -> np.ndarray:
        sim = self.sim
        members = sim.member_slots
        return members[sim.people.is_digital[members] & ~sim.view("opted_out")[members]]

    def purchase_rate(self, m: Month) -> None:
        p = self.p
        self.reached = self._reached()
        lift = p.purchase_lift * p.relevance * (1.0 - math.exp(-p.messages_per_month / p.saturation))
        if lift:
            m.rel_rate[self.reached] *= 1.0 + lift

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        slots = self.reached
        if not p.messages_per_month or not slots.size:
            return
        n = p.messages_per_month
        m.charge_at("cost_messages", slots, n * p.cost_per_message)
        m.record("messages_sent", float(slots.size * n))
        welcome = slots[sim.uniform_at("message_welcome", slots) < p.relevance]
        m.contact_at(welcome)
        extra = max(0, n - p.tolerance) * (1.0 - p.relevance)
        if extra:
            m.nudge_at(slots, down=extra * p.annoyance_per_extra)
            out = slots[sim.uniform_at("message_opt_out", slots) < min(1.0, extra * p.optout_per_extra)]
            sim.view("opted_out")[out] = True
            m.record("opt_outs", float(out.size))
