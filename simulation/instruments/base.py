"""The one interface every program instrument implements, and the month it works in.

An instrument is one file: a subclass of `InstrumentModule` that declares everything about
it, and that the registry (`instruments/__init__.py`) reads to build the rest of lojal:

- `key`, `schema`, `label`, `help`, `order`: its block `program.<key>` (a pydantic model
  deriving from `schema_base.Instrument`), where it sits among the instruments;
- hooks, called by the engine at the steps of the month's plan (`PLAN` below), each with
  the month's typed context `Month`: the program row's factors on purchases, the month's
  purchases, what the program is worth, word of mouth, and the ways to charge a cost or
  move satisfaction. Instruments never talk through attributes of the engine: one that
  others may read (a tier's earn multiplier, the points earned) is a field of `Month`;
- `calendar`: its events (reviews, billing, expiry), SimPy processes after the market step;
- `cost_lines` (with labels), `metrics` (labels, kinds, which way is better), `charts`,
  `describe` (the plain-language sentence), `levers` (its rows of docs/model.md 12.1),
  `judgements` (its sampled assumptions, docs/model.md 11.1).

Every hook is optional. Instruments act only on the program arm's row of the customer
arrays (`sim.pview`, and their own program-only state), so the baseline row is the same
customers without the program. State arrays grow when customers arrive: read them through
`sim.view(name)` each time, never keep a reference across months.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from ..engine import Sim
    from ..schema_base import Instrument


# --------------------------------------------------------------------------- the month's plan
@dataclass(frozen=True)
class Step:
    """One step of a month: `at` its time within the month (SimPy), `hook` the instrument
    method called there (each enabled instrument in turn, in registry order), or None for an
    engine-only step."""

    name: str
    at: float
    hook: str | None
    does: str


PLAN: tuple[Step, ...] = (
    Step("benefits", 0.0, "basket", "the program row's discounts, basket lifts, earn multipliers and free shipping"),
    Step("worth", 0.0, "value_share", "what the program gives back per unit of list spend, and its effect with diminishing returns"),
    Step("purchase rates", 0.0, "purchase_rate", "the members' purchase-rate lifts; then discounts raise price-sensitive customers' rates"),
    Step("purchases", 0.0, None, "Poisson purchase counts; spend, margin and value of both arms"),
    Step("enrolment and costs", 0.0, None, "willing customers who bought sign up; discount, shipping, member-service and fixed costs"),
    Step("reactions", 0.0, "after_purchases", "instruments react to the purchases: earn, redeem, qualify, club value and sign-ups, referrals, gifts, contacts"),
    Step("membership activity", 0.0, None, "members buying or in contact; dormancy, reactivation, abandonment"),
    Step("ladder", 0.0, None, "ladder moves with the month's nudges and contacts; word-of-mouth and complaint listeners"),
    Step("churn", 0.0, "churn", "churn hazards times the instruments' multipliers"),
    Step("calendar", 0.5, "calendar", "instrument events due this month (points expiry, tier reviews, club billing, ...), instrument j at t + 0.5 + 0.01 j"),
    Step("acquisition", 0.8, "arrivals", "paid, word-of-mouth and instrument-brought arrivals (referrals), net of prospects lost to complaints; `on_arrival` for each batch"),
    Step("bookkeeping", 0.9, "record", "end-of-month stocks: levels, customers, members, retention, NPS and the instruments' stocks"),
    Step("compaction", 0.97, None, "customers gone from both arms leave the arrays"),
)  # fmt: skip

HOOKS = tuple(step.hook for step in PLAN if step.hook)


def plan_table() -> str:
    """The plan as the docs and `lojal plan` print it (a markdown table)."""
    rows = ["| time | step | instrument hook | what happens |", "| --- | --- | --- | --- |"]
    for step in PLAN:
        hook = f"`{step.hook}`" if step.hook else "(engine)"
        rows.append(f"| `t + {step.at:g}` | {step.name} | {hook} | {step.does} |")
    return "\n".join(rows)


# --------------------------------------------------------------------------- the month
@dataclass(eq=False)
class Month:
    """What the hooks of one month share (the program row; per-slot arrays have one value
    per slot in use). Filled step by step: the factors at `benefits`, the worth at `worth`,
    the purchases at `purchases`; costs and satisfaction moves go through its methods."""

    sim: Sim
    index: int  # the month t (0-based); its flows are recorded at index t + 1
    # -- benefits: factors on the program row (1 / False: no effect)
    keep: np.ndarray = None  # 1 - the combined discount
    discounting: bool = False  # whether any slot's keep is below 1 this month
    rel_basket: np.ndarray = None  # x basket (spend lifts)
    rel_rate: np.ndarray = None  # x purchase rate
    rel_earn: np.ndarray = None  # x points earned (a tier's earn multiplier)
    free_shipping: np.ndarray = None  # orders ship free (bool)
    # -- worth: what a customer expects to buy a month at list price, and what the program gives back
    expected_orders: np.ndarray = None
    expected_spend: np.ndarray = None
    program_value: np.ndarray = None  # value back per unit of list spend
    value_effect: np.ndarray = None  # its effect, 1 - exp(-value / value_scale)
    # -- purchases (the program row)
    k: np.ndarray = None  # purchase counts
    list_spend: np.ndarray = None
    net_spend: np.ndarray = None  # after discounts
    points_earned: np.ndarray | None = None  # this month's points per slot (the points instrument)
    # -- points earned away from the month's purchases (at partners): per slot, set before the
    # step "reactions" and added to the balances by the points instrument
    extra_points: np.ndarray | None = None
    # -- rewards members take at partners this month (partner benefits): the members asking,
    # and (points a reward uses, its value to them, its cost to the program, the cost line);
    # the points instrument takes them from the balances after its own redemptions
    partner_rewards: tuple[np.ndarray, float, float, float, str] | None = None
    # -- enrolment: x the chance that a willing customer signs up at a purchase (staff at the till)
    rel_enrolment: float = 1.0
    # -- churn
    rel_churn: np.ndarray = None  # x churn hazard
    # -- acquisition: arrivals brought by instruments, by source, and how many of them would
    # have come by word of mouth anyway
    arrivals: dict[int, int] = field(default_factory=dict)
    displaced_word_of_mouth: int = 0
    # -- word of mouth: extra people who hear a recommendation this month (program arm), and
    # a multiplier on the chance that a prospect who hears one becomes a customer
    extra_listeners: float = 0.0
    rel_conversion: float = 1.0

    def add_purchases(self, slots: np.ndarray, extra: float | np.ndarray) -> None:
        """These customers buy `extra` more times a month (at step "purchase rates"): their rate
        factor grows by extra / their expected orders (none for a customer expected to buy nothing)."""
        orders = self.expected_orders[slots]
        self.rel_rate[slots] *= 1.0 + np.divide(extra, orders, out=np.zeros_like(orders), where=orders > 0)

    def add_worth(self, per_month: float) -> None:
        """An amount a member can expect a month, as value back per unit of spend (step "worth")."""
        spend = self.expected_spend
        self.program_value += np.divide(per_month, spend, out=np.zeros_like(spend), where=spend > 0)

    # costs, income and satisfaction moves of program-arm customers (see `Sim`)
    def charge_at(self, line: str, slots: np.ndarray, amount: np.ndarray | float) -> None:
        """A cost line owed by these customers (program arm): to the books and off their value."""
        self.sim.charge_at(line, slots, amount)

    def credit_at(self, metric: str, slots: np.ndarray, amount: np.ndarray | float) -> None:
        """An income from these customers (club fees)."""
        self.sim.credit_at(metric, slots, amount)

    def nudge_at(self, slots: np.ndarray, up: float | np.ndarray = 0.0, down: float | np.ndarray = 0.0) -> None:
        """Added chances of moving up (a welcome contact) or down a level at the next ladder move."""
        self.sim.nudge_at(slots, up=up, down=down)

    def contact_at(self, slots: np.ndarray) -> None:
        """A contact without a satisfaction effect: it stops the drift for lack of contact."""
        self.sim.view("contact")[slots] = True

    def record(self, metric: str, value: float) -> None:
        """Add to the program arm's monthly figure."""
        self.sim.record(metric, value)


# --------------------------------------------------------------------------- what an instrument declares
@dataclass(frozen=True)
class MetricSpec:
    """How a metric reads: label, kind (share, money, count, score, months, number), better (+1, -1, 0)."""

    label: str
    kind: str
    better: int = 0


@dataclass(frozen=True)
class Lever:
    """A row of docs/model.md section 12.1: pull `field` (of the block) by `change`, expect `moves`."""

    field: str
    change: str
    moves: str
    source: str


@dataclass(frozen=True)
class Judgement:
    """A sampled assumption's range (docs/model.md 11.1): `low` and `high` multiply the
    scenario's value (for a `[]` path, the sampled multiplier applies to every item's value);
    `triangular` has its mode at 1. `needs`: blocks without which the parameter has no effect
    (sampled only if one is in use)."""

    low: float
    high: float
    dist: str = "triangular"
    source: str = "judgement"
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarEvent:
    name: str
    every_months: int
    fn: Callable[[], None]
    first_month: int = 0


class InstrumentModule:
    # -- identity and schema
    key: ClassVar[str] = ""  # the block's name under `program`
    schema: ClassVar[type[Instrument]]  # its pydantic block
    label: ClassVar[str] = ""  # the block's label (Design page, reference, describer)
    help: ClassVar[str] = ""
    order: ClassVar[int] = 1000  # place among the instruments (built-ins 10, 20, ...; plug-ins after)
    # -- books and results
    cost_lines: ClassVar[dict[str, str]] = {}  # cost line -> label
    metrics: ClassVar[dict[str, MetricSpec]] = {}  # its metrics (monthly or summary) -> how they read
    metric_prefixes: ClassVar[dict[str, MetricSpec]] = {}  # per-item series: prefix -> label start, kind
    summary_order: ClassVar[tuple[str, ...]] = ()  # its summary metrics, in the order the tables show them
    totals: ClassVar[tuple[str, ...]] = ()  # monthly metrics summed over the horizon into the summary (when on)
    always_reported: ClassVar[tuple[str, ...]] = ()  # monthly series every run reports (0 when off)
    gives_discounts: ClassVar[bool] = False  # (price sensitivity matters: uncertainty `needs`)
    levers: ClassVar[tuple[Lever, ...]] = ()
    judgements: ClassVar[dict[str, Judgement]] = {}  # field (of the block) -> its sampled range
    # fields a phase may not change mid-run (they shape per-customer state or the calendar)
    fixed_in_phases: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Instrument, sim: Sim):
        self.p = params
        self.sim = sim
        self.on = True  # off from a phase that switches it off (docs/model.md section 8.2)

    # -- plain words, checks, charts (class-level: no simulation needed)
    @classmethod
    def describe(cls, block: Instrument, currency: str) -> str:  # pragma: no mutate block (presentation)
        """One or a few sentences a client understands."""
        return f"{cls.label}."

    @classmethod
    def check_program(cls, program: Any) -> None:
        """Checks across blocks (raise ValueError with `field: message`); `program` holds this block on."""

    @classmethod
    def charts(cls, results: Any, block: Instrument) -> list[tuple[str, Any]]:  # pragma: no mutate block (presentation)
        """Its charts for a run: (name, plotly figure)."""
        return []

    @classmethod
    def summary_defaults(cls, ledger: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> None:
        """Summary figures every run reports, whether the instrument is on or not."""

    @classmethod
    def clv_groups(cls, sim: Sim, arm: int, block: Instrument) -> list[tuple[str, np.ndarray, list[str]]]:
        """Customer groups for the CLV table: (group_by, code per slot, label per code)."""
        return []

    clv_group_labels: ClassVar[dict[str, str]] = {}  # group_by -> how the app names it

    # -- life cycle
    def init(self) -> None:
        """Register per-customer state (`self.sim.people.add_state`), then `derive()`."""
        self.derive()

    def derive(self) -> None:
        """Work out what the hooks read from the block's settings (tables, rates): at the
        start, and again when a phase changes the settings."""

    def change(self, block: Instrument) -> None:
        """A phase's new settings from this month on (never a field of `fixed_in_phases`)."""
        self.p = block
        self.derive()

    def calendar(self) -> list[CalendarEvent]:
        """Events on the program calendar (run after the month's market step)."""
        return []

    # -- the month's hooks, in PLAN order
    def basket(self, m: Month) -> None:
        """Multiply `m.keep` (1 - discount), `m.rel_basket`, `m.rel_earn` in place; set `m.free_shipping`."""

    def value_share(self, m: Month) -> None:
        """Add to `m.program_value` what the instrument gives back per unit of list spend, as each
        customer (member or not) would see it (`m.expected_spend`, `m.expected_orders`)."""

    def purchase_rate(self, m: Month) -> None:
        """Multiply members' purchase rates `m.rel_rate` in place."""

    def after_purchases(self, m: Month) -> None:
        """React to this month's purchases (`m.k`, `m.net_spend`): earn, redeem, qualify, contact."""

    def churn(self, m: Month) -> None:
        """Multiply churn hazards `m.rel_churn` in place (retention effects)."""

    def arrivals(self, m: Month) -> None:
        """Add prospects this instrument brings this month to `m.arrivals` (by source), and those of
        them who would have come by word of mouth anyway to `m.displaced_word_of_mouth`."""

    def on_arrival(self, m: Month, slots: slice, source: int) -> None:
        """Initialise state of customers who just arrived in the program arm."""

    def record(self, index: int) -> None:
        """Write end-of-month stock figures: `sim.ledger[metric][:, index] = per_arm`."""

    def summary(self, out: dict[str, np.ndarray]) -> None:
        """Add end-of-run summary figures (one value per arm)."""
