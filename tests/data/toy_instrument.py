"""A toy instrument loaded as a plug-in (LOJAL_INSTRUMENTS=tests/data/toy_instrument.py):
thank-you notes to members who bought. It proves that one file is all an instrument needs;
`tests/test_plugin.py` checks that it shows up in the schema, the plain-language summary,
the results, the exports, the scenario reference and the app with no other change.

Each month a share of the active members who bought get a note: it costs `cost_per_note`
and adds `delight` to their chance of moving up a level at the month's ladder move.
"""

from __future__ import annotations

import numpy as np

from simulation.instruments import InstrumentModule, Lever, MetricSpec, Month
from simulation.instruments.wording import money, pct
from simulation.schema_base import F, Instrument


class ThankYouNotes(Instrument):
    share_sent: float = F(
        0.5,
        label="Share sent a note",
        unit="share",
        help="Share of the members who bought this month who get a thank-you note.",
        ge=0,
        le=1,
    )
    cost_per_note: float = F(
        0.8, label="Cost per note", unit="currency", help="Printing and postage of one note.", ge=0
    )
    delight: float = F(
        0.02,
        label="Note delight",
        unit="probability",
        help="Added chance of moving up a level for a member who gets a note.",
        ge=0,
        le=1,
    )


class ThankYouNotesModule(InstrumentModule):
    key = "thank_you_notes"
    schema = ThankYouNotes
    label = "Thank-you notes"
    help = "A handwritten note to members who bought."
    cost_lines = {"cost_thank_you_notes": "Cost: thank-you notes"}
    metrics = {"thank_you_notes_sent": MetricSpec("Thank-you notes sent", "count", 0)}
    summary_order = ("thank_you_notes_sent",)
    levers = (Lever("cost_per_note", "x2", "cost_thank_you_notes up 99-101 %", "money only"),)

    @classmethod
    def describe(cls, block: ThankYouNotes, currency: str) -> str:
        return f"Thank-you notes: {pct(block.share_sent)} of the members who buy get one, at {money(block.cost_per_note, currency)} a note."

    @classmethod
    def charts(cls, results, block: ThankYouNotes) -> list:
        from simulation import figures

        return [("notes", figures.over_time(results.monthly, "thank_you_notes_sent", ("program",)))]

    def init(self) -> None:
        self.sent = 0.0

    def after_purchases(self, m: Month) -> None:
        buyers = self.sim.member_slots[m.k[self.sim.member_slots] > 0]
        chosen = buyers[self.sim.uniform_at("thank_you_notes", buyers) < self.p.share_sent]
        m.charge_at("cost_thank_you_notes", chosen, self.p.cost_per_note)
        m.nudge_at(chosen, up=self.p.delight)
        m.record("thank_you_notes_sent", float(chosen.size))
        self.sent += chosen.size

    def summary(self, out: dict[str, np.ndarray]) -> None:
        out["thank_you_notes_sent"] = np.array([0.0, self.sent])
