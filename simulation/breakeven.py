"""Break-even: what must be true for a design to pay.

From a run's summary (docs/model.md section 13.5):

    purchase lift needed   = -incremental net profit / program-arm gross margin
    customers to keep      = -incremental net profit / (margin per customer-month x T / 2)

The first is the share more purchases every customer would have to make (at the same basket
and margin) for the program's incremental net profit to reach 0; the second the number of
extra starting customers who would have to stay to the horizon (a customer saved from churn
is taken to stay half the horizon on average). Negative values are headroom: a design that
pays could lose that much and still break even. With the payback month of the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .metrics import fmt


@dataclass(frozen=True)
class BreakEven:
    incremental_profit: float
    purchase_lift: float  # share more purchases needed (negative: headroom)
    customers_to_keep: float  # extra starting customers kept to the horizon (negative: headroom)
    retention_points: float  # the same in percentage points of the starting base
    payback_month: float
    payback_p05: float
    payback_p95: float

    def text(self, currency: str = "kr") -> str:
        """In words, in the house number style (`3.7 %`, `pp`; metrics.fmt)."""
        month = (
            "does not pay back within the horizon"
            if math.isnan(self.payback_month)
            else (f"pays back in month {self.payback_month:.0f}" + _interval(self.payback_p05, self.payback_p95))
        )
        if math.isnan(self.purchase_lift):
            return f"Break-even: {month}."
        lift, kept = fmt(abs(self.purchase_lift), "share"), f"{abs(self.customers_to_keep):,.0f}"
        points = fmt(self.retention_points / 100, "share", signed=True)  # (+ where needed, - where headroom)
        if self.incremental_profit < 0:
            need = (f"to break even it needs {lift} more purchases from every customer (same basket and margin), or"
                    f" {kept} more starting customers kept to the horizon ({points} of retention)")  # fmt: skip
        else:
            need = (f"it would still break even with {lift} fewer purchases from every customer, or with {kept}"
                    f" fewer starting customers kept to the horizon ({points} of retention)")  # fmt: skip
        return f"Break-even: {month}; {need}."


def _interval(low: float, high: float) -> str:
    return "" if math.isnan(low) else f" (5-95 %: month {low:.0f} to month {high:.0f})"


def break_even(results) -> BreakEven:
    """The break-even figures of a run (`simulation.Results`)."""
    inc = results.value("net_profit", "incremental")
    margin = results.value("gross_margin", "program")
    T = results.scenario.simulation.horizon_months
    active = results.monthly
    active = active[(active.metric == "active_customers") & (active.arm == "program") & (active.month > 0)]
    customer_months = float(active["mean"].sum())
    per_customer = margin / customer_months * T / 2 if customer_months > 0 else math.nan
    lift = -inc / margin if margin > 0 else math.nan
    keep = -inc / per_customer if per_customer and per_customer > 0 else math.nan
    n0 = results.scenario.customers.size
    return BreakEven(
        inc, lift, keep, 100.0 * keep / n0, results.value("payback_month", "incremental"),
        results.value("payback_month", "incremental", "p05"), results.value("payback_month", "incremental", "p95"),
    )  # fmt: skip
