"""The simulation of one replication: a program arm and its no-program twin.

SimPy's Environment is the clock (one time unit = one month). The order within a month is
one explicit plan, `instruments.PLAN` (printed by `lojal plan` and in docs/model.md
section 2): named steps at their time within the month, each with the instrument hook
called there. The market step (t + 0.0) walks the plan's steps up to churn, the calendar
(t + 0.5), acquisition (t + 0.8), bookkeeping (t + 0.9) and compaction (t + 0.97) are SimPy
processes; `tests/test_plan.py` checks that the hooks run in the plan's order. The hooks
share the month's context, `Month` (`self.m`), never attributes of this class.

Satisfaction effects of program events ("nudges") are added to `nudge_up`/`nudge_down`
and applied at the next ladder move. Every equation is in docs/model.md.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import simpy

from . import phases as phases_of
from . import portable
from .helper import Helper
from .instruments import PLAN, InstrumentModule, Month, build_instruments
from .membership import Membership
from .people import ARMS, BASELINE, PAID, PROGRAM, WORD_OF_MOUTH, People, lookup
from .pilot import PilotGroups
from .rng import Streams, blocks, poisson_from_uniform, poisson_scalar
from .schema import LEVELS, Scenario

N_LEVELS = len(LEVELS)
TOP = N_LEVELS - 1
PROMOTERS = (4, 5)
DETRACTORS = (0, 1, 2)
REPURCHASE_MONTHS = 12  # the repurchase window, months from the first purchase

# the rows of per-arm arrays a step works on: both, or one arm's (a (1, n) view)
ALL_ROWS, BASELINE_ROW, PROGRAM_ROW = slice(0, 2), slice(BASELINE, BASELINE + 1), slice(PROGRAM, PROGRAM + 1)

BASE_COST_LINES = ("cost_discounts", "cost_shipping", "cost_member_service", "cost_fixed")


STEPS = {step.name: step for step in PLAN}


class Sim:
    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None, only: int | None = None):
        """`only` (BASELINE or PROGRAM): simulate that arm alone, the other's row left empty.
        A sweep runs every design's program arm alone and their shared no-program twin once
        (simulation/twin.py): an arm's figures are those of a run of both (every draw is keyed
        by customer id and decision, never by what the other arm did), up to the round-off of
        sums over arrays that hold fewer customers."""
        self.sc = scenario
        self.rows = ALL_ROWS if only is None else slice(only, only + 1)
        self.replication = replication
        self.seed = scenario.simulation.seed if seed is None else seed
        self.T = scenario.simulation.horizon_months
        self.streams = Streams(self.seed, replication)
        c = scenario.customers
        self.n0 = c.size
        # paid arrivals, and word of mouth's few percent of the base a month (growing the
        # arrays later copies them all)
        expected_arrivals = self.T * (c.acquisition.paid_per_month + 0.03 * c.size)
        self.people = People(scenario, self.streams, int(c.size + expected_arrivals) + 1024)
        self.helper = self.people.helper = Helper(c.size)
        self.program = scenario.program  # the program in force (a phase replaces it: section 8.2)
        self.phases = phases_of.programs(scenario) if scenario.phases.changes else {}
        self._program_before = self.program
        self.instruments = build_instruments(scenario.program, self)
        self.has_program = bool(self.instruments)
        self.membership = Membership(self)
        # a pilot: the program opens to a pilot group first (section 8.1 of docs/model.md)
        self.pilot = PilotGroups(self, scenario.pilot) if scenario.pilot is not None and self.has_program else None
        self.cost_lines = BASE_COST_LINES + tuple(line for m in self.instruments for line in m.cost_lines)
        self._wire()
        self.m = Month(self, 0)  # this month's context (a fresh one at every month's first step)
        self.ledger: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((2, self.T + 1)))
        self.month = 0
        self._members: np.ndarray | None = None
        self._enrolled: np.ndarray | None = None
        self._member_slots: np.ndarray | None = None
        self._arrays()

    def _wire(self) -> None:
        """Each step's hook, bound for the instruments on that have it (the rest would do
        nothing). Bookkeeping reads every instrument's stocks, on or switched off by a phase."""
        self.hooks = {
            step.hook: [
                getattr(m, step.hook)
                for m in self.instruments
                if _overrides(m, step.hook) and (m.on or step.hook == "record")
            ]
            for step in PLAN
            if step.hook
        }

    def _arrays(self) -> None:
        sc = self.sc
        lad = sc.customers.ladder
        segs = sc.customers.segments
        self.rate_by_level = np.array(lad.purchase_rate_multiplier.as_tuple())
        self.upsell_by_level = np.array(lad.upsell_share.as_tuple())
        self.basket_by_level = 1.0 + self.upsell_by_level
        self.churn_by_level = np.array(lad.churn_per_month.as_tuple())
        self.fail_by_level = lad.negative_experience * np.array(lad.forgiveness.as_tuple())
        self.listeners_by_level = np.array(sc.customers.word_of_mouth.listeners_per_month.as_tuple())
        self.complaints_by_level = np.array(sc.customers.word_of_mouth.complaint_listeners.as_tuple())
        self.margin_by_segment = np.array([s.gross_margin for s in segs])
        self.price_sensitivity = np.array([s.price_sensitivity for s in segs])
        self.status_sensitivity = np.array([s.status_sensitivity for s in segs])
        self._segment_tables = {
            "margin": self.margin_by_segment,
            "price_sensitivity": self.price_sensitivity,
            "status_sensitivity": self.status_sensitivity,
            "enrollment_propensity": np.array([s.enrollment_propensity for s in segs]),
            "churn_multiplier": np.array([s.churn_multiplier for s in segs]),
        }
        # (only segments with a churn multiplier other than 1 cost a pass: the same numbers otherwise)
        self.has_churn_multiplier = any(s.churn_multiplier != 1.0 for s in segs)
        self._slot_values: dict[str, tuple[np.ndarray, int]] = {}  # name -> (values, slots filled)
        self._uniform_buffer = np.empty(0)
        self._scratch: dict[str, np.ndarray] = {}
        # uniforms the helper thread draws ahead (see `_draw_ahead`): decisions in order of
        # use last month, this month's draws by decision, and a buffer per decision
        self._used: list[str] = []
        self._ahead: dict[str, object] = {}
        self._ahead_buffers: dict[str, np.ndarray] = {}
        monthly = (1 + sc.economics.annual_discount_rate) ** (-1 / 12)
        self.discount_factor = portable.power(monthly, np.arange(self.T + 1.0))
        self._tables()

    # ------------------------------------------------------------------ helpers
    def uniform(self, name: str) -> np.ndarray:
        """One uniform per slot in use, shared by both arms: the number of the slot's id
        (positions hold ids in order, with the ids of customers gone moved out)."""
        p = self.people
        if not p.removed:
            if not self.helper.on:
                return self.streams.uniform(name, p.n, self.month)
            return self._every_uniform(name, p.n).copy()  # (a buffer: reused next month)
        return self._every_uniform(name, p.n + p.removed).take(p.ids[: p.n], mode="clip")

    def uniform_at(self, name: str, slots: np.ndarray) -> np.ndarray:
        """`uniform(name)[slots]` for a few slots (ascending), without gathering everyone's."""
        p = self.people
        if not slots.size:
            return np.empty(0)
        ids = p.ids[slots] if p.removed else slots
        return self._every_uniform(name, int(ids[-1]) + 1).take(ids, mode="clip")

    def _every_uniform(self, name: str, n_ids: int) -> np.ndarray:
        """The decision's uniforms of ids 0 .. n_ids - 1 (this month's), in a buffer reused
        every call: drawn ahead by the helper thread if it has them, else drawn here."""
        if name not in self._used:
            self._used.append(name)
        ahead = self._ahead.get(name)  # (kept for the month: both threads may read it)
        if ahead is not None:
            every = ahead.result()
            if every.size >= n_ids:
                return every[:n_ids]
        kept = self.streams.kept(name, self.month, n_ids)  # (a sweep's: read-only)
        if kept is not None:
            return kept
        if self.helper.on:  # (either thread may be here: a buffer of its own)
            every = np.empty(n_ids)
            self.streams.fresh(name, self.month).random(out=every)
            return every
        if self._uniform_buffer.size < n_ids:
            self._uniform_buffer = np.empty(self.people.capacity + self.people.removed)
        every = self._uniform_buffer[:n_ids]
        self.streams.fresh(name, self.month).random(out=every)
        return every

    def _draw_ahead(self) -> None:
        """At the start of a month, the helper thread draws every id's uniforms of the
        decisions made last month, in the order they were used (drawing them is ~10 % of
        a big replication). The same numbers: the stream of (decision, month)."""
        self._ahead = {}
        if not self.helper.on:
            return
        n_ids = self.people.n + self.people.removed  # (arrivals come after the month's draws)
        size = n_ids + n_ids // 4  # (room for a few months of arrivals)
        for name in dict.fromkeys(self._used):  # (either thread may have added a name)
            self._ahead[name] = self.helper.submit(self._draw, name, self.month, n_ids, size)
        self._used = []

    def _draw(self, name: str, month: int, n_ids: int, size: int) -> np.ndarray:
        """(In the helper thread.) Uniforms of ids 0 .. n_ids - 1 into the decision's buffer."""
        buffer = self._ahead_buffers.get(name)
        if buffer is None or buffer.size < n_ids:
            buffer = self._ahead_buffers[name] = np.empty(size)
        every = buffer[:n_ids]
        self.streams.fresh(name, month).random(out=every)
        return every

    def scratch(self, name: str, fill, dtype=np.float64) -> np.ndarray:
        """A per-slot array of this month's (program factors), set to `fill`: a buffer reused
        every month (a fresh array of a million customers costs ~2.5x the pass that fills
        this one, in page faults). Valid until the next call with the same name."""
        n = self.people.n
        buffer = self._scratch.get(name)
        if buffer is None or buffer.size < n:
            buffer = self._scratch[name] = np.empty(n + n // 4, dtype)
        out = buffer[:n]
        out[...] = fill
        return out

    def view(self, name: str) -> np.ndarray:
        """A state array cut to the slots in use: (2, n), or (n,) for program-only state."""
        return getattr(self.people, name)[..., : self.people.n]

    def pview(self, name: str) -> np.ndarray:
        """The program arm's row of a per-arm state array (what instruments act on)."""
        return getattr(self.people, name)[PROGRAM, : self.people.n]

    def per_slot(self, name: str) -> np.ndarray:
        """A per-segment parameter ("margin", "price_sensitivity") for every slot in use,
        looked up once per slot rather than every month."""
        p = self.people
        values, done = self._slot_values.get(name, (np.empty(0), 0))
        if done < p.n:  # look up only the slots drawn since the last time
            drawn = p.n_template - p.removed
            if values.size < drawn:  # (a buffer with room to grow into: few copies)
                values = np.concatenate([values[:done], np.empty(max(drawn, 2 * values.size) - done)])
            values[done:drawn] = self._segment_tables[name][p.segment[done:drawn]]
            self._slot_values[name] = values, drawn
        return values[: p.n]

    def record(self, metric: str, value) -> None:
        """Add to a monthly figure: per arm (shape (2,)) or, for a scalar, the program arm.
        Month t's flows and end-of-month stocks go to index t+1."""
        if isinstance(value, np.ndarray) and value.ndim:
            self.ledger[metric][:, self.month + 1] += value
        else:
            self.ledger[metric][PROGRAM, self.month + 1] += value

    def charge(self, line: str, amount: np.ndarray) -> None:
        """A program cost per program-arm customer: to the ledger and off each one's value."""
        self.record(line, float(amount.sum()))
        self.pview("value")[:] -= amount * self.discount_factor[self.month]

    def credit(self, metric: str, amount: np.ndarray) -> None:
        """An income per program-arm customer (club fees): to the ledger and onto the value."""
        self.record(metric, float(amount.sum()))
        self.pview("value")[:] += amount * self.discount_factor[self.month]

    def charge_at(self, line: str, slots: np.ndarray, amount: np.ndarray | float) -> None:
        """`charge` of an amount owed by a few customers only (the rest owe 0): the same
        values, without passes over everyone."""
        amount = np.broadcast_to(amount, slots.shape)
        self.record(line, float(amount.sum()))
        self.pview("value")[slots] -= amount * self.discount_factor[self.month]

    def credit_at(self, metric: str, slots: np.ndarray, amount: np.ndarray | float) -> None:
        """`credit` of an income from a few customers only."""
        amount = np.broadcast_to(amount, slots.shape)
        self.record(metric, float(amount.sum()))
        self.pview("value")[slots] += amount * self.discount_factor[self.month]

    def nudge_at(self, slots: np.ndarray, up: float | np.ndarray = 0.0, down: float | np.ndarray = 0.0) -> None:
        """`nudge` of a few customers (by slot), `up`/`down` per slot or one for all: the same
        values, without passes over everyone."""
        n = self.people.n
        if np.ndim(up) or up:
            self.people.nudge_up[:n][slots] += up
            self.people.contact[:n][slots] = True
        if np.ndim(down) or down:
            self.people.nudge_down[:n][slots] += down

    def nudge(self, mask: np.ndarray, up: float | np.ndarray = 0.0, down: float | np.ndarray = 0.0) -> None:
        """Queue a satisfaction effect on program-arm customers for their next ladder move."""
        n = self.people.n
        # (a product with the mask, not np.where: the same numbers, one fast pass)
        if np.ndim(up) or up:
            self.people.nudge_up[:n] += np.multiply(mask, up)
        if np.ndim(down) or down:
            self.people.nudge_down[:n] += np.multiply(mask, down)
        if np.ndim(up) or up:  # a welcome contact stops the drift for lack of contact; a bad one does not
            self.people.contact[:n] |= mask

    @property
    def enrolled(self) -> np.ndarray:
        """Program-arm customers who are alive and enrolled, dormant or not (read-only)."""
        if self._enrolled is None:
            self._enrolled = self.pview("is_member") & self.pview("is_alive")
            self._enrolled.flags.writeable = False
        return self._enrolled

    @property
    def member_slots(self) -> np.ndarray:
        """The slots of `members`, in order (read-only; computed once per change)."""
        if self._member_slots is None:
            self._member_slots = np.flatnonzero(self.members)
            self._member_slots.flags.writeable = False
        return self._member_slots

    @property
    def members(self) -> np.ndarray:
        """Active members: enrolled and not dormant, the customers the instruments act on.
        Several instruments ask several times a month, so it is computed once per change
        (see `membership_changed`) and read-only: combine it into a new array
        (`sim.members & x`), never in place."""
        if self._members is None:
            self._members = self.enrolled & ~self.view("is_dormant")
            self._members.flags.writeable = False
        return self._members

    def membership_changed(self) -> None:
        """Call after changing `is_member`, `is_dormant` or `is_alive` (enrolment, churn, arrivals)."""
        self._members = self._enrolled = self._member_slots = None

    # ------------------------------------------------------------------ set-up
    def _start(self) -> None:
        p = self.people
        p.add_initial(self.n0)
        if self.rows != ALL_ROWS:  # the arm not simulated has nobody in it
            p.is_alive[1 - self.rows.start, : self.n0] = False
        # program events queue satisfaction effects here (only the program arm has any)
        p.add_state("nudge_up", np.float64, 0.0, program_only=True)
        p.add_state("nudge_down", np.float64, 0.0, program_only=True)
        p.add_state("contact", bool, False, program_only=True)
        self.membership.init()
        if self.pilot is not None:
            self.pilot.init()
        for module in self.instruments:
            module.init()
        if self.has_program:  # nobody is a member yet: customers sign up at their purchases
            self.record("cost_fixed", self.sc.economics.launch_cost)
        self.membership_changed()
        self._bookkeeping(month_index=0)

    def _tables(self) -> None:
        """Ladder-move probabilities by (level, purchases) looked up, not recomputed per customer."""
        lad = self.sc.customers.ladder
        k = np.arange(self.K_MAX + 1)
        climb = np.array(lad.climb.as_tuple())
        # experiences are judged a month at a time: a frequent buyer neither climbs nor falls
        # faster for buying more often (only a month without purchases differs: drift)
        bought = np.minimum(k, 1)[None, :]
        p_up = lad.positive_experience * climb[:, None] * bought
        p_up[TOP] = 0.0  # nowhere higher than the top
        p_down = self.fail_by_level[:, None] * bought
        p_down[:, 0] += lad.drift_without_contact  # a month without a purchase
        p_down[0] = 0.0  # nowhere lower than the bottom
        np.clip(p_down, 0.0, 1.0, out=p_down)
        # one uniform decides the move, so the two chances must fit in [0, 1]: rescale both
        total = np.maximum(p_up + p_down, 1.0)
        self.p_up_by_k_level = (p_up / total).T.ravel()  # index k * levels + level
        self.p_down_by_k_level = (p_down / total).T.ravel()

    K_MAX = 63

    # ------------------------------------------------------------------ the month
    def _market(self) -> None:
        self._draw_ahead()
        if self.month in self.phases:
            self._enter_phase(self.phases[self.month][0])
        # Tables by level are read with `lookup` on an intp copy of the levels: fancy indexing
        # by the int8 levels converts them on every lookup and is ~2x slower.
        level = self.view("level").astype(np.intp)
        self.complaint_listeners, self.recommend_listeners = np.zeros(2), np.zeros(2)
        if self.rows != ALL_ROWS:
            k = self._one_arm_purchases(level, self.uniform("purchase"))
            self._arms_month(k, level, self.rows, self._recorder(self.rows))
            return
        k = self._purchases(level, self.uniform("purchase"))
        if not (self.helper.on and self.has_program):
            self._arms_month(k, level, ALL_ROWS, self._recorder(ALL_ROWS))
            return
        # The arms never meet within a month: the helper thread takes the baseline row's
        # month while this one takes the program row's (each row's figures are the same
        # as those of both rows together)
        self.per_slot("margin")  # (looked up here: the helper only reads it)
        if self.has_churn_multiplier:
            self.per_slot("churn_multiplier")
        later: list = []
        baseline = self.helper.submit(self._arms_month, k, level, BASELINE_ROW, lambda *item: later.append(item))
        self._arms_month(k, level, PROGRAM_ROW, self._recorder(PROGRAM_ROW))
        baseline.result()
        record = self._recorder(BASELINE_ROW)  # (here: the helper never adds to the ledger)
        for metric, values in later:
            record(metric, values)

    def _recorder(self, rows: slice):
        """`record(metric, values)` for the arms in `rows`: values per row."""

        def record(metric: str, values: np.ndarray) -> None:
            self.ledger[metric][rows, self.month + 1] += values

        return record

    def _arms_month(self, k: np.ndarray, level: np.ndarray, rows: slice, record) -> None:
        """Spend, the program's reactions, ladder moves and churn of the arms in `rows`
        (`k`, `level`: both rows; `record(metric, values)` takes the figures)."""
        k, level = k[rows], level[rows]
        list_spend, net_spend = self._spend(k, level, rows, record)
        if self._program_row(rows) is not None:
            self._program_purchases(k[-1], list_spend[-1], net_spend)
        level = self._ladder(k, rows, record)
        self._churn(level, rows, record)

    def _program_row(self, rows: slice) -> int | None:
        """The program row's index within rows (the last one), if it is there and has a program."""
        return PROGRAM - rows.start if self.has_program and rows.stop > PROGRAM else None

    def _purchases(self, level: np.ndarray, u: np.ndarray) -> np.ndarray:
        """This month's purchase counts per arm. With a program and the helper on, the helper
        thread works out the baseline row's counts while this one works out the instruments'
        factors (a row at a time: the same counts as both rows in one call)."""
        if not (self.has_program and self.helper.on):  # (both rows in one call: fewer calls)
            return poisson_from_uniform(self._purchase_rates(level), u)
        baseline = self.helper.submit(self._baseline_purchases, level[BASELINE_ROW], u)
        lam = self._purchase_rates(level[PROGRAM_ROW], rows=PROGRAM_ROW)
        k = np.empty(level.shape, np.int32)
        k[PROGRAM] = poisson_from_uniform(lam[0], u)
        k[BASELINE] = baseline.result()
        return k

    def _one_arm_purchases(self, level: np.ndarray, u: np.ndarray) -> np.ndarray:
        """This month's purchase counts of the one arm simulated (the other row's are 0): the
        counts `_purchases` works out for that row."""
        k = np.zeros(level.shape, np.int32)
        if self.rows == BASELINE_ROW:
            k[BASELINE] = self._baseline_purchases(level[BASELINE_ROW], u)
        else:
            k[PROGRAM] = poisson_from_uniform(self._purchase_rates(level[PROGRAM_ROW], rows=PROGRAM_ROW)[0], u)
        return k

    def _baseline_purchases(self, level: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The baseline row's purchase counts (`level`: its (1, n) row)."""
        lam = self._list_rates(level)
        lam *= self.view("is_alive")[BASELINE_ROW]
        return poisson_from_uniform(lam[0], u)

    def _list_rates(self, level: np.ndarray) -> np.ndarray:
        """Purchase rates without the program at these levels (per-arm rows; the dead's too)."""
        lam = lookup(self.rate_by_level, level)
        lam *= self.people.base_rate[: self.people.n]
        return lam

    def _purchase_rates(self, level: np.ndarray, lam: np.ndarray | None = None, rows: slice = ALL_ROWS) -> np.ndarray:
        """Purchase rates of the arms in `rows`: `lam` (`_list_rates`) with the program's
        factors, 0 for the dead."""
        if lam is None:
            lam = self._list_rates(level)
        program = self._program_row(rows)
        if program is not None:  # instruments act on the program row only
            # (the program row's rate so far is what the customer buys without the program)
            self._program_factors(level[program], lam[program].copy())
            lam[program] *= self.m.rel_rate
        lam *= self.view("is_alive")[rows]
        return lam

    def _program_factors(self, level: np.ndarray, expected_orders: np.ndarray) -> None:
        """The plan's steps before purchases, on the program row (the baseline row's factors
        would be ones), into this month's fresh context `self.m`: benefits first, then what
        the program is worth to each customer, then the purchase-rate effects that depend on
        that worth."""
        p = self.people
        n = p.n
        m = self.m = Month(self, self.month)
        m.rel_rate, m.keep, m.rel_basket = (self.scratch(name, 1.0) for name in ("rel_rate", "keep", "rel_basket"))
        m.rel_earn = self.scratch("rel_earn", 1.0)
        m.free_shipping = self.scratch("free_shipping", False, bool)
        self._step("benefits")
        # what a customer expects to buy a month at list price, and the orders behind it
        m.expected_orders = expected_orders
        m.expected_spend = lookup(self.basket_by_level, level) * p.basket[:n]
        m.expected_spend *= expected_orders
        m.program_value = self.scratch("program_value", 0.0)  # value back per unit of list spend
        self._step("worth")
        if self.phases:
            self._compare_worth(m)
        m.value_effect = self.membership.effect(m.program_value, "program_value")
        self._step("purchase rates")
        # discounts raise the purchase rate of price-sensitive customers (none this month: the
        # factor is exactly 1, and four passes over the customers are saved)
        m.discounting = bool((m.keep != 1.0).any())
        if m.discounting:
            m.rel_rate *= 1.0 + self.per_slot("price_sensitivity") * (1.0 - m.keep)

    # ------------------------------------------------------------------ phases (section 8.2)
    def _enter_phase(self, program) -> None:
        """From this month on, the phase's program: new settings, instruments switched off."""
        self._program_before, self.program = self.program, program
        for module in self.instruments:
            block = getattr(program, module.key)
            module.on = block is not None and block.enabled
            if module.on:
                module.change(block)
        self._wire()
        self.membership.rewire()

    def _compare_worth(self, m: Month) -> None:
        """In a phase's month, members whose program is now worth less than it would have been
        under the settings before may fall a level: the chance is `takeaway_sensitivity` x the
        share of its worth they lost (the same month's worth both ways, so that a customer's
        own ups and downs are not taken for the phase's)."""
        phase = self.phases.get(self.month)
        if phase is None or not phase[1].felt_as_loss:
            return
        now = m.program_value.copy()
        m.program_value[:] = 0.0
        for module in self.instruments:  # the worth under the settings before, on this month's purchases
            block = getattr(self._program_before, module.key)
            if block is not None and block.enabled:
                module.change(block)
                module.value_share(m)
        was = m.program_value.copy()
        for module in self.instruments:  # back to the phase's settings (and what value_share keeps)
            if module.on:
                module.change(getattr(self.program, module.key))
        m.program_value[:] = 0.0
        self._step("worth")
        lost = np.divide(was - now, was, out=np.zeros_like(was), where=was > 0)
        slots = np.flatnonzero(self.enrolled & (lost > 0))
        self.nudge_at(slots, down=self.sc.phases.takeaway_sensitivity * np.minimum(lost[slots], 1.0))
        self.record("members_losing_value", float(slots.size))

    def _step(self, name: str) -> None:
        """The instruments' hook of one step of the plan, each in registry order."""
        for hook in self.hooks[STEPS[name].hook]:
            hook(self.m)

    def _spend(self, k: np.ndarray, level: np.ndarray, rows: slice, record) -> tuple[np.ndarray, np.ndarray | None]:
        """List spend of this month's purchases per arm in `rows`, and the program row's net
        spend (None without it; the baseline's is its list spend); sales figures and value.
        (In place where it can be: at a million customers every temporary is another 20 MB
        to fault in.)"""
        p = self.people
        basket = lookup(self.basket_by_level, level)  # upsell by level
        basket *= p.basket[: p.n]
        base_spend = k * p.basket[: p.n]
        self._new_customer_baskets(basket, base_spend, rows)
        program = self._program_row(rows)
        if program is not None:
            basket[program] *= self.m.rel_basket
        list_spend = np.multiply(basket, k, out=basket)
        revenue = list_spend.sum(axis=1)
        list_sales = revenue.copy()  # (before the program row's discounts come off)
        net_spend = None
        if program is not None:
            net_spend = list_spend[program] * self.m.keep
            revenue[program] = net_spend.sum()  # (a row's sum is the same as in sum(axis=1))
        if self.pilot is not None:
            self.pilot.add_spend(rows, list_spend if program is None else np.vstack([list_spend[:program], net_spend]))
        margin = list_spend * self.per_slot("margin")
        record("purchases", k.sum(axis=1))
        record("revenue", revenue)
        record("gross_margin", margin.sum(axis=1))
        upsell = np.subtract(list_spend, base_spend, out=base_spend)
        record("upsell", upsell.sum(axis=1))
        record("list_sales", list_sales)
        margin *= self.discount_factor[self.month]
        self.view("value")[rows] += margin
        self.view("n_purchases")[rows] += k
        self._first_purchases(k, rows)
        return list_spend, net_spend

    def _first_purchases(self, k: np.ndarray, rows: slice = ALL_ROWS) -> None:
        """Per customer: the month of their first purchase in the run, and whether they bought
        again within REPURCHASE_MONTHS of it (a second purchase that month or in the
        REPURCHASE_MONTHS - 1 months after): the cohort repurchase rate (results.py)."""
        first = self.view("ti_first_purchase")[rows]
        bought = k > 0
        new = bought & (first < 0)
        np.copyto(first, self.month, where=new)
        # again: a second purchase in the month of the first, or a purchase in a later month
        # of the window (boolean passes and a comparison with a scalar: np.where and
        # `month - first` cost several times more)
        again = k >= 2
        again |= ~new
        again &= bought
        again &= first > self.month - REPURCHASE_MONTHS
        self.view("repurchased")[rows] |= again

    def _new_customer_baskets(self, basket: np.ndarray, base_spend: np.ndarray, rows: slice) -> None:
        """Customers in their first months buy new_customer_basket_multiplier x the basket.
        The starting base (the first n_initial_kept positions) is established: only later
        positions are looked at."""
        lad, n0 = self.sc.customers.ladder, self.people.n_initial_kept
        if not lad.new_customer_months or not self.month or self.people.n <= n0:
            return
        # each arm's arrivals fill positions in order of arrival, so the new customers are
        # the last ones: a slice per arm, not a mask over everyone (the same products)
        p = self.people
        for arm in range(rows.start, rows.stop):
            used = int(p.n_used[arm]) - p.removed
            arrived = p.ti_arrived[arm, n0:used]
            lo = n0 + int(np.searchsorted(arrived, self.month - lad.new_customer_months, side="right"))
            basket[arm - rows.start, lo:used] *= lad.new_customer_basket_multiplier
            base_spend[arm - rows.start, lo:used] *= lad.new_customer_basket_multiplier

    def _program_purchases(self, k: np.ndarray, list_spend: np.ndarray, net_spend: np.ndarray) -> None:
        """Late enrolment, the program's costs of the purchases, the instruments' reactions
        (`k`, `list_spend`, `net_spend`: the program row's)."""
        econ, m = self.sc.economics, self.m
        m.k, m.list_spend, m.net_spend = k, list_spend, net_spend
        # step "enrolment and costs"
        self.membership.enrol(k)
        if m.discounting:
            self.charge("cost_discounts", list_spend - net_spend)
        else:  # every discount is 0: the customers' values stay as they are (the line is kept, in its place)
            self.record("cost_discounts", 0.0)
        if econ.shipping_cost_per_order:
            self.charge("cost_shipping", (k * econ.shipping_cost_per_order) * m.free_shipping)
        self.charge_at("cost_member_service", np.flatnonzero(self.enrolled), econ.cost_per_member_per_month)
        self.record("cost_fixed", econ.program_fixed_cost_per_month)
        self._step("reactions")
        # step "membership activity"
        active = self.members & ((k > 0) | self.people.contact[: self.people.n])
        self.record("active_members", float(np.count_nonzero(active)))
        self.membership.activity()

    def _ladder(self, k: np.ndarray, rows: slice, record) -> np.ndarray:
        """Moves up and down the ladder of the arms in `rows`; returns their new levels as an
        intp table index. A block of slots at a time (`rng.blocks`): the same numbers."""
        n = self.people.n
        level = self.view("level")[rows]
        u = self.uniform("ladder")
        down = np.empty(level.shape, bool)
        moved = np.zeros((2, level.shape[0]), np.int64)
        for part in blocks(n):
            moved += self._moves(k[:, part], level[:, part], u[part], down[:, part], rows, part)
        if self._program_row(rows) is not None:  # the month's nudges and contacts are used up
            self.people.nudge_up[:n] = 0.0
            self.people.nudge_down[:n] = 0.0
            self.people.contact[:n] = False
        record("moved_up", moved[0])
        record("moved_down", moved[1])
        level = level.astype(np.intp)
        complaints = lookup(self.complaints_by_level, level)
        complaints *= down
        self.complaint_listeners[rows] = complaints.sum(axis=1)
        listeners = lookup(self.listeners_by_level, level, out=complaints)
        listeners *= self.view("is_alive")[rows]
        self.recommend_listeners[rows] = listeners.sum(axis=1)
        return level

    def _moves(self, k, level, u, down, rows: slice, part: slice) -> np.ndarray:
        """The ladder moves of the slots in `part` (`k`, `level`, `u`, `down`: theirs; `level`
        changed and `down` filled in place): how many moved up and down per row."""
        alive = self.view("is_alive")[rows, part]
        kk = np.minimum(k, self.K_MAX, dtype=np.intp)
        kk *= N_LEVELS
        kk += level
        p_up = lookup(self.p_up_by_k_level, kk)
        p_down = lookup(self.p_down_by_k_level, kk)
        program = self._program_row(rows)
        if program is not None:  # program events this month and last: nudges; contact stops the drift
            self._nudged(p_up[program], p_down[program], k[program], level[program], part)
        up = u < p_up
        up &= alive
        np.greater_equal(u, np.subtract(1.0, p_down, out=p_down), out=down)
        down &= alive
        level += up
        level -= down
        return np.stack([row_counts(up), row_counts(down)])

    def _nudged(self, prog_up, prog_down, k, level, part: slice) -> None:
        """The program row's chances to move up and down (in place), with its events' nudges."""
        p = self.people
        # (masks enter as products, x * True = x and x * False = 0: the same numbers as
        # masked assignment, without its slow random-pattern branches)
        drifted = p.contact[part] & (k == 0) & (level > 0)
        prog_down -= np.multiply(drifted, self.sc.customers.ladder.drift_without_contact)
        prog_up += p.nudge_up[part]
        prog_down += p.nudge_down[part]
        prog_up *= level != TOP
        prog_down *= level != 0
        # the baseline row comes from the tables, already within [0, 1] (clipped by
        # maximum and minimum: np.clip's checks cost ~4x the two passes)
        for prob in (prog_up, prog_down):
            np.minimum(np.maximum(prob, 0.0, out=prob), 1.0, out=prob)
        total = prog_up + prog_down
        over = total > 1.0
        if over.any():
            prog_up[over] /= total[over]
            prog_down[over] /= total[over]

    def _churn(self, level: np.ndarray, rows: slice, record) -> None:
        """Customers of the arms in `rows` who leave this month (`level`: theirs)."""
        hazard = lookup(self.churn_by_level, level)
        if self.has_churn_multiplier:
            hazard *= self.per_slot("churn_multiplier")
        program = self._program_row(rows)
        if program is not None:
            self.m.rel_churn = self.scratch("rel_churn", 1.0)
            self._step("churn")
            hazard[program] *= self.m.rel_churn
        alive = self.view("is_alive")[rows]
        leave = self.uniform("churn") < hazard
        leave &= alive
        alive &= ~leave
        if rows.stop > PROGRAM:  # (the baseline row's churn leaves the program's members as they are)
            self.membership_changed()
        self.view("ti_churned")[rows][leave] = self.month
        record("churned", row_counts(leave))

    # ------------------------------------------------------------------ arrivals
    def _acquisition(self) -> None:
        c = self.sc.customers
        u_wom, u_deter = self.streams.generator("word_of_mouth_counts").random(2)
        paid = c.acquisition.paid_per_month
        self.record("acquisition_cost", np.full(2, paid * self.sc.economics.cost_per_acquisition))
        if self.m.extra_listeners:  # recommendations the instruments set off (surprises told on)
            self.recommend_listeners[PROGRAM] += self.m.extra_listeners
        self.record("recommendations", self.recommend_listeners)
        self.record("complaints", self.complaint_listeners)
        self._step("acquisition")  # the arrivals instruments bring (referrals), into self.m
        referred = self.m.arrivals
        displaced = self.m.displaced_word_of_mouth  # referred customers who would have come by word of mouth anyway
        for arm in range(self.rows.start, self.rows.stop):
            conversion = c.word_of_mouth.conversion_per_listener
            if arm == PROGRAM and self.m.rel_conversion != 1.0:  # (social proof: reviews)
                conversion *= self.m.rel_conversion
            wom = poisson_scalar(self.recommend_listeners[arm] * conversion, u_wom)
            if arm == PROGRAM:
                wom = max(0, wom - displaced)
            lost = poisson_scalar(self.complaint_listeners[arm] * c.word_of_mouth.deterrence_per_listener, u_deter)
            organic = max(0, paid + wom - lost)
            n_paid = min(paid, organic)
            self._arrive(arm, n_paid, PAID)
            self._arrive(arm, organic - n_paid, WORD_OF_MOUTH)
            self.record("prospects_lost", np.eye(2)[arm] * min(lost, paid + wom))
            if arm == PROGRAM:
                for source, count in referred.items():
                    self._arrive(arm, count, source)

    def _arrive(self, arm: int, count: int, source: int) -> None:
        if count <= 0:
            return
        slots = self.people.arrive(arm, count, source, self.month + 1)
        self.membership_changed()
        self.ledger["acquisitions"][arm, self.month + 1] += count
        if arm == PROGRAM and self.has_program:
            self.membership.on_arrival(slots, source)
            for module in self.instruments:
                module.on_arrival(self.m, slots, source)

    # ------------------------------------------------------------------ records
    def _bookkeeping(self, month_index: int | None = None) -> None:
        idx = self.month + 1 if month_index is None else month_index
        alive = self.view("is_alive")
        level = self.view("level")
        counts = np.zeros((2, N_LEVELS), np.intp)  # (an arm not simulated has nobody in it: 0)
        counts[self.rows] = self._alive_by_level(level[self.rows], alive[self.rows])
        active = counts.sum(axis=1)
        for i, name in enumerate(LEVELS):
            self.ledger[f"level_{name}"][:, idx] = counts[:, i]
        self.ledger["active_customers"][:, idx] = active
        self.ledger["members"][:, idx] = row_counts(self.view("is_member") & alive)
        if self.has_program:
            self.ledger["members_active"][PROGRAM, idx] = np.count_nonzero(self.members)
        self.ledger["retention"][:, idx] = row_counts(alive[:, : self.people.n_initial_kept]) / self.n0
        promoters = counts[:, list(PROMOTERS)].sum(axis=1)
        detractors = counts[:, list(DETRACTORS)].sum(axis=1)
        self.ledger["nps"][:, idx] = 100.0 * (promoters - detractors) / np.maximum(active, 1)
        for record in self.hooks["record"]:  # step "bookkeeping"
            record(idx)

    @staticmethod
    def _alive_by_level(level: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """Customers alive at each level, per row given: (rows, levels). One bincount of the codes
        row * 2L + alive * L + level (a boolean compress per row costs ~4x more)."""
        rows = level.shape[0]
        code = alive * np.int8(N_LEVELS)
        code += level
        for row in range(1, rows):
            code[row] += 2 * N_LEVELS * row
        counts = np.bincount(code.ravel(), minlength=2 * rows * N_LEVELS).reshape(rows, 2, N_LEVELS)
        return counts[:, 1]

    # ------------------------------------------------------------------ SimPy
    def _every(self, env: simpy.Environment, offset: float, fn, every: int = 1, first: int = 0):
        yield env.timeout(first + offset)
        while True:
            self.month = int(env.now)
            fn()
            yield env.timeout(every)

    def run(self, on_month=None) -> Sim:
        """Simulate the horizon; `on_month(months_done)` is called after each month's books."""
        env = simpy.Environment()
        self._start()
        # the plan's times within the month (instruments.PLAN): the market step walks the steps
        # from benefits to churn; the calendar, acquisition, bookkeeping and compaction follow
        env.process(self._every(env, STEPS["benefits"].at, self._market))
        for i, module in enumerate(self.instruments):
            for event in module.calendar():
                offset = STEPS["calendar"].at + 0.01 * i
                fn = event.fn if not self.phases else _while_on(module, event.fn)
                env.process(self._every(env, offset, fn, event.every_months, event.first_month))
        env.process(self._every(env, STEPS["acquisition"].at, self._acquisition))
        env.process(self._every(env, STEPS["bookkeeping"].at, self._bookkeeping))
        if on_month is not None:
            env.process(self._every(env, 0.95, lambda: on_month(self.month + 1)))
        env.process(self._every(env, STEPS["compaction"].at, self._compact))
        try:
            env.run(until=self.T)
            self.helper.close()  # (first: no draw ahead still writes to the buffers let go of here)
            self._ahead, self._ahead_buffers, self._scratch = {}, {}, {}  # (memory for `restore`)
            self._uniform_buffer = np.empty(0)
            self.people.restore()
        finally:
            self.helper.close()
        self._forget_positions()
        return self

    def _compact(self) -> None:
        """Between months: drop the slots of customers gone from both arms from the arrays
        (`People.compact`), so next month's passes skip them. During a pilot's window
        everyone stays: its measurement at the end of the window reads them all."""
        pilot = self.pilot
        if pilot is not None and self.month + 1 == pilot.window:
            pilot.measure()
        if pilot is not None and self.month + 1 < pilot.window:
            return
        if self.people.compact():
            self._forget_positions()

    def _forget_positions(self) -> None:
        """Per-position caches after positions changed."""
        self._slot_values.clear()
        self.membership.forget_positions()
        self.membership_changed()


def row_counts(mask: np.ndarray) -> np.ndarray:
    """`np.count_nonzero(mask, axis=1)` of a (rows, n) mask, a row at a time: with an axis numpy
    sums a converted copy (~30 us for 2 x 20,000), without one it counts bytes (~5 us a row)."""
    return np.array([np.count_nonzero(row) for row in mask], np.intp)


def _while_on(module: InstrumentModule, fn):
    """A calendar event that does nothing once a phase has switched its instrument off."""
    return lambda: fn() if module.on else None


def _overrides(module, hook: str) -> bool:
    """Whether an instrument has its own `hook` (the base class's does nothing)."""
    return getattr(type(module), hook) is not getattr(InstrumentModule, hook)


__all__ = ["Sim", "ARMS", "BASELINE", "PROGRAM"]
