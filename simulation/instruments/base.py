"""The one interface every program instrument implements.

An instrument is a small module: its parameters are its schema block; `init` registers
its per-customer state on `sim.people`; the hooks below are called by the engine at
fixed points of every month (the order is written down once, in `engine.py`); calendar
events (reviews, billing, expiry) are SimPy processes it declares in `calendar`.
Every hook is optional. Instruments act only on the program arm's row of the customer
arrays (`sim.pview`, and their own program-only state), so the baseline row is the same
customers without the program.

State arrays grow when customers arrive: read them through `sim.view(name)` (or
`sim.people.<name>`) each time, never keep a reference across months.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..engine import Sim


@dataclass(frozen=True)
class CalendarEvent:
    name: str
    every_months: int
    fn: Callable[[], None]
    first_month: int = 0


class InstrumentModule:
    key: ClassVar[str] = ""
    cost_lines: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params, sim: Sim):
        self.p = params
        self.sim = sim

    def init(self) -> None:
        """Register per-customer state (`self.sim.people.add_state`)."""

    def calendar(self) -> list[CalendarEvent]:
        """Events on the program calendar (run after the month's market step)."""
        return []

    # -- monthly hooks, in engine order --------------------------------------
    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        """Multiply `keep` (1 - discount) and `rel_basket` (spend lift) in place."""

    def value_share(self, share: np.ndarray) -> None:
        """Add what the instrument gives back per unit of list spend, as each customer
        (member or not) would see it (`sim.expected_spend`, `sim.expected_orders`)."""

    def purchase_rate(self, rel_rate: np.ndarray) -> None:
        """Multiply members' purchase rates in place (points lift, club lift, ...);
        `sim.value_effect` is what the program is worth, with diminishing returns."""

    def after_purchases(self) -> None:
        """React to this month's purchases (`sim.k`, `sim.net_spend`): earn, redeem, qualify."""

    def churn(self, rel_churn: np.ndarray) -> None:
        """Multiply churn hazards in place (retention effects)."""

    def new_arrivals(self) -> dict[int, int]:
        """Prospects this instrument brings in the program arm this month, by source."""
        return {}

    def displaced_word_of_mouth(self) -> int:
        """Of this month's arrivals it brings, how many would have come by word of mouth anyway."""
        return 0

    def on_arrival(self, slots: slice, source: int) -> None:
        """Initialise state of customers who just arrived in the program arm."""

    def record(self, index: int) -> None:
        """Write end-of-month stock figures: `sim.ledger[metric][:, index] = per_arm`."""

    def summary(self, out: dict[str, np.ndarray]) -> None:
        """Add end-of-run summary figures (one value per arm)."""
