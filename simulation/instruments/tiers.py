"""Tiers: status levels earned on a rolling qualification window.

Members move up as soon as they qualify and are reviewed for downgrades on the review
calendar, after a grace period, by the downgrade policy. A downgrade hurts satisfaction
more than an upgrade helps (Wagner, Hennig-Thurau & Rudolph 2009).
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
from pydantic import model_validator

from ..people import PROGRAM, lookup
from ..schema_base import Base, F, Instrument
from .base import CalendarEvent, InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import cap, count, join, money, months, num, pct


class Tier(Base):
    name: str = F(label="Tier", help="Name of the tier.", min_length=1)
    threshold: float = F(0.0, label="Threshold", unit="qualifying metric", help="Qualifying spend, points or visits in the window needed for the tier.", ge=0)
    discount: float = F(0.0, label="Discount", unit="share of basket", help="Discount on every purchase.", ge=0, le=0.9)
    earn_multiplier: float = F(1.0, label="Earn multiplier", unit="x", help="Multiplier on points earned.", ge=0, le=20)
    spend_lift: float = F(0.0, label="Spend lift", unit="share of basket", help="Extra spend per purchase from tier benefits.", ge=0, le=2)
    free_shipping: bool = F(False, label="Free shipping", help="Orders ship free (costs economics.shipping_cost_per_order).")
    perk_cost_per_member_month: float = F(0.0, label="Perk cost", unit="currency/member/month", help="Cost of perks (lounge, gifts, service line) per member per month.", ge=0)
    status_lift: float = F(0.0, label="Status lift", unit="probability/month", help="Monthly added chance of moving up a level from the status itself (x the segment's status sensitivity).", ge=0, le=1)


class Tiers(Instrument):
    qualifying_metric: Literal["spend", "points", "visits"] = F("spend", label="Qualifying metric", help="What counts towards a tier.")
    qualification_window_months: int = F(12, label="Qualification window", unit="months", help="Rolling window over which the qualifying metric is summed.", ge=1, le=36)
    review_every_months: int = F(3, label="Review cadence", unit="months", help="How often downgrades are reviewed (upgrades happen as soon as a member qualifies).", ge=1, le=36)
    downgrade_policy: Literal["one_tier", "to_qualified", "never"] = F("one_tier", label="Downgrade policy", help="At a review: drop one tier, drop to the tier qualified for, or never drop.")
    downgrade_grace_months: int = F(0, label="Downgrade grace", unit="months", help="Months a member may stay below the threshold before a downgrade.", ge=0, le=36)
    upgrade_satisfaction_lift: float = F(0.25, label="Upgrade delight", unit="probability", help="Added chance of moving up a level on an upgrade.", ge=0, le=1)
    downgrade_satisfaction_hurt: float = F(0.5, label="Downgrade hurt", unit="probability", help="Added chance of moving down a level on a downgrade (a loss weighs about twice a gain).", ge=0, le=1)
    tiers: list[Tier] = F(
        [
            Tier(name="Silver", threshold=0.0),
            Tier(name="Gold", threshold=600.0, discount=0.03, earn_multiplier=1.5, status_lift=0.01),
            Tier(name="Platinum", threshold=1500.0, discount=0.07, earn_multiplier=2.0, free_shipping=True, perk_cost_per_member_month=2.0, status_lift=0.02),
        ],
        label="Tiers",
        help="Tiers from the entry tier (threshold 0) upwards, thresholds ascending.",
        min_length=1,
    )

    @model_validator(mode="after")
    def _ascending(self) -> Tiers:
        thresholds = [t.threshold for t in self.tiers]
        if thresholds[0] != 0:
            raise ValueError("tiers: the first (entry) tier must have threshold 0")
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError("tiers: thresholds must be strictly ascending")
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("tiers: names must be unique")
        return self


class TiersModule(InstrumentModule):
    key = "tiers"
    schema = Tiers
    label = "Tiers"
    help = "Status tiers with benefits."
    order = 20
    gives_discounts = True
    cost_lines = {"cost_perks": "Cost: perks"}
    metrics = {
        "tier_upgrades": MetricSpec("Tier upgrades", "count", 0),
        "tier_downgrades": MetricSpec("Tier downgrades", "count", 0),
    }
    metric_prefixes = {"tier_": MetricSpec("Tier ", "count", 0)}  # members per tier: `tier_<name>`
    clv_group_labels = {"tier": "Tier"}
    levers = (
        Lever("enabled", "=false", "cost_perks down 99-100 %, tier_upgrades down 99-100 %", "instrument off"),
        Lever("qualifying_metric", "=visits", "tier_upgrades down 90-100 %", "the thresholds are spend-sized: few reach them in visits"),
        Lever("qualification_window_months", "x2", "tier_upgrades up 5-50 %", "more months count"),
        Lever("review_every_months", "=12", "tier_downgrades down 30-80 %", "fewer reviews"),
        Lever("downgrade_policy", "=never", "tier_downgrades down 99-100 %", "no downgrades"),
        Lever("downgrade_grace_months", "=6", "tier_downgrades down 50-100 %", "grace"),
        Lever("upgrade_satisfaction_lift", "x3", "nps_end up 2-20 %", "brief: status gain lifts satisfaction"),
        Lever("downgrade_satisfaction_hurt", "=1", "nps_end down 0.5-10 %", "Wagner et al. (2009)"),
        Lever("tiers[].name", "=Renamed", "purchases same, net_profit same", "a label"),
        Lever("tiers[].threshold", "x2", "tier_upgrades down 20-80 %, cost_perks down 30-90 %", "harder to reach"),
        Lever("tiers[].discount", "x2", "cost_discounts up 30-100 %, purchases up 0.3-5 %", "price sensitivity (section 4.1)"),
        Lever("tiers[].earn_multiplier", "x2", "points_issued up 80-120 %", "more points"),
        Lever("tiers[].spend_lift", "x2", "upsell_spend_share up 1-20 %, revenue up 0.2-5 %", "bigger baskets"),
        Lever("tiers[].free_shipping", "=true", "cost_shipping up 30-150 %", "every tier ships free"),
        Lever("tiers[].perk_cost_per_member_month", "x2", "cost_perks up 99-101 %, purchases same", "money only"),
        Lever("tiers[].status_lift", "x3", "nps_end up 1-10 %", "Drèze & Nunes (2009): status"),
    )  # fmt: skip
    judgements = {
        "upgrade_satisfaction_lift": Judgement(0.5, 1.5, source="judgement (±50 %)"),
        "downgrade_satisfaction_hurt": Judgement(0.75, 1.25, source="loss aversion about 1.5x to 2.5x a gain (Kahneman & Tversky 1979; Wagner et al. 2009)"),
        "tiers[].status_lift": Judgement(0.5, 1.5, source="judgement (±50 %)"),
    }  # fmt: skip

    @classmethod
    def check_program(cls, program) -> None:
        tiers, points = program.tiers, program.points
        if tiers.qualifying_metric == "points" and (points is None or not points.enabled):
            raise ValueError("tiers.qualifying_metric: 'points' needs the points instrument switched on")

    @classmethod
    def describe(cls, t: Tiers, currency: str) -> str:  # pragma: no mutate block (presentation)
        metric = {"spend": "spend", "points": "points earned", "visits": "visits"}[t.qualifying_metric]

        def threshold(x: float) -> str:
            if t.qualifying_metric == "spend":
                return money(x, currency)
            return f"{num(x)} {'points' if t.qualifying_metric == 'points' else 'visits'}"

        items = []
        for tier in t.tiers:
            benefits = _tier_benefits(tier, currency)
            where = "entry tier" if tier.threshold == 0 else f"from {threshold(tier.threshold)}"
            items.append(f"{tier.name} ({where}{': ' + benefits if benefits else ''})")
        text = (
            f"{cap(count(len(t.tiers), 'tier'))} by {metric} over {months(t.qualification_window_months)}: "
            + "; ".join(items)
            + "."
        )
        if len(t.tiers) > 1:
            if t.downgrade_policy == "never":
                text += " Members are never downgraded."
            else:
                how = "one tier at a time" if t.downgrade_policy == "one_tier" else "to the tier they qualify for"
                grace = f" after {months(t.downgrade_grace_months)} of grace" if t.downgrade_grace_months else ""
                text += f" Status is reviewed every {months(t.review_every_months)}; members drop {how}{grace}."
        return text

    @classmethod
    def charts(cls, results, block: Tiers) -> list:  # pragma: no mutate block (presentation)
        from .. import figures

        monthly = results.monthly
        if not monthly["metric"].str.startswith("tier_").any():
            return []
        return [("tiers", figures.tiers_over_time(monthly, [t.name for t in block.tiers]))]

    @classmethod
    def clv_groups(cls, sim, arm: int, block: Tiers) -> list:
        """End-of-run tier: 0 = not a member (everyone in the baseline)."""
        n = sim.people.n
        tier = sim.people.tier[:n].astype(np.int64) + 1 if arm == PROGRAM else np.zeros(n, np.int64)
        return [("tier", tier, ["not a member"] + [t.name for t in block.tiers])]

    fixed_in_phases = ("qualification_window_months", "review_every_months")  # (state shape, calendar)

    def init(self) -> None:
        p, people = self.p, self.sim.people
        self.derive()
        people.add_state("tier", np.int8, -1, program_only=True)  # -1: not a member
        people.add_state("qualifying", np.float64, 0.0, program_only=True)  # rolling-window sum
        window = (p.qualification_window_months,)
        people.add_state("qualifying_months", np.float64, 0.0, leading=window, program_only=True, final=False)
        people.add_state("ti_below_tier", np.int32, -1, program_only=True)  # first month found below

    def derive(self) -> None:
        p = self.p
        self.thresholds = np.array([t.threshold for t in p.tiers])
        self.discount = np.array([t.discount for t in p.tiers])
        self.earn_multiplier = np.array([t.earn_multiplier for t in p.tiers])
        self.spend_lift = np.array([t.spend_lift for t in p.tiers])
        self.ships_free = np.array([t.free_shipping for t in p.tiers])
        self.perk_cost = np.array([t.perk_cost_per_member_month for t in p.tiers])
        self.status_lift = np.array([t.status_lift for t in p.tiers])
        self._benefit_tables()

    def calendar(self) -> list[CalendarEvent]:
        every = self.p.review_every_months
        return [CalendarEvent("tier review", every, self.review, first_month=every - 1)]

    def _benefit_tables(self) -> None:
        """Each benefit by benefit code (see `_codes`): code 0 is no benefit, code 1 + t
        the benefit of tier t. One lookup per benefit replaces lookup + np.where."""

        def by_code(values, none):
            return np.array([none, *values])

        self.keep_by_code = by_code(1.0 - self.discount, 1.0)  # 1 - discount
        self.discount_by_code = 1.0 - self.keep_by_code  # (as 1 - keep per customer: the same values)
        self.basket_by_code = by_code(1.0 + self.spend_lift, 1.0)
        self.earn_by_code = by_code(self.earn_multiplier, 1.0)
        self.ships_free_by_code = by_code(self.ships_free, False)
        self.perk_cost_by_code = by_code(self.perk_cost, 0.0)
        self.status_lift_by_code = by_code(self.status_lift, 0.0)

    def _codes(self) -> np.ndarray:
        """Benefit codes: 0 for customers who are not alive members, 1 + tier for members
        (a member not yet placed, tier -1, gets the entry tier's benefits). An intp index:
        several tables are read with it."""
        code = np.maximum(self.sim.view("tier"), 0)
        code += 1
        code *= self.sim.members
        return code.astype(np.intp)

    def _member_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """`_codes` of the members only, with their slots (everyone else's code is 0)."""
        members = self.sim.member_slots
        code = np.maximum(self.sim.view("tier")[members], 0).astype(np.intp)
        code += 1
        return members, code

    def basket(self, m: Month) -> None:
        """Members' benefits (code 0's are ones: worked out for the members alone)."""
        members, code = self._member_codes()
        for factor, by_code in (
            (m.keep, self.keep_by_code),
            (m.rel_basket, self.basket_by_code),
            (m.rel_earn, self.earn_by_code),
        ):
            if (by_code != 1.0).any():  # (a product with ones changes nothing: skipped)
                factor[members] *= lookup(by_code, code)
        if self.ships_free.any():
            m.free_shipping[members] |= lookup(self.ships_free_by_code, code)

    def value_share(self, m: Month) -> None:
        """The discount (and shipping saved) of the tier a customer holds or, before placement,
        of the tier their expected year of purchases would reach."""
        sim = self.sim
        expected = self._expected_year(m)
        tier = np.subtract(expected >= self.thresholds[0], 1, dtype=np.int8)
        for threshold in self.thresholds[1:]:
            tier += expected >= threshold
        members = sim.member_slots
        held = sim.view("tier")[members]
        placed = members[held >= 0]  # (members only: an index, not np.where over everyone)
        tier[placed] = held[held >= 0]
        code = tier.astype(np.intp)
        code += 1
        share = m.program_value
        share += lookup(self.discount_by_code, code)
        shipping = sim.sc.economics.shipping_cost_per_order
        if shipping and self.ships_free.any():
            per_spend = np.divide(m.expected_orders * shipping, m.expected_spend,
                                  out=np.zeros_like(share), where=m.expected_spend > 0)  # fmt: skip
            share += per_spend * lookup(self.ships_free_by_code, code)

    def _expected_year(self, m: Month) -> np.ndarray:
        """The qualifying metric a customer expects to collect in a year at their current rate."""
        sim = self.sim
        metric = self.p.qualifying_metric
        if metric == "visits":
            return 12.0 * m.expected_orders
        year = 12.0 * m.expected_spend
        if metric == "points":
            year *= sim.sc.program.points.earn_rate
        return year

    def _metric(self, m: Month) -> np.ndarray:
        metric = self.p.qualifying_metric
        if metric == "visits":
            return m.k.astype(np.float64)
        if metric == "points":
            return m.points_earned  # (the points instrument comes first: `check_program`)
        return m.net_spend

    def qualified_tier(self) -> np.ndarray:
        """The highest tier whose threshold the qualifying metric reaches (thresholds ascend
        from 0, so: the number reached, minus 1; a count of comparisons is ~10x faster
        than np.searchsorted)."""
        qualifying = self.sim.view("qualifying")
        tier = np.subtract(qualifying >= self.thresholds[0], 1, dtype=np.int8)
        for threshold in self.thresholds[1:]:
            tier += qualifying >= threshold
        return tier

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        members = sim.members
        window = sim.view("qualifying_months")
        slot = sim.month % p.qualification_window_months
        value = self._metric(m) * members  # (x * False = 0: as np.where, in one fast pass)
        qualifying = sim.view("qualifying")
        qualifying += value - window[slot]
        window[slot] = value
        tier = sim.view("tier")
        qualified = self.qualified_tier()
        up = members & (qualified > tier)
        upgraded = np.flatnonzero(up & (tier >= 0))
        lift = p.upgrade_satisfaction_lift * sim.per_slot("status_sensitivity")[upgraded]
        sim.nudge_at(upgraded, up=lift)
        sim.record("tier_upgrades", float(upgraded.size))
        tier[up] = qualified[up]
        below = members & (qualified < tier)
        since = sim.view("ti_below_tier")
        since[below & (since < 0)] = sim.month  # (few)
        since += 1  # since = since where below, else -1 (integer passes: np.where is slower)
        since *= below
        since -= 1
        members, code = self._member_codes()  # (everyone else's perks and lift are 0)
        if self.perk_cost.any():
            sim.charge_at("cost_perks", members, lookup(self.perk_cost_by_code, code))
        else:
            sim.record("cost_perks", 0.0)
        if self.status_lift.any():
            lift = lookup(self.status_lift_by_code, code)
            if lift.any():
                sim.view("nudge_up")[members] += lift * sim.per_slot("status_sensitivity")[members]

    def review(self) -> None:
        sim, p = self.sim, self.p
        if p.downgrade_policy == "never":
            return
        tier = sim.view("tier")
        since = sim.view("ti_below_tier")
        due = sim.members & (since >= 0) & (sim.month - since >= p.downgrade_grace_months)
        qualified = self.qualified_tier()
        target = tier - 1 if p.downgrade_policy == "one_tier" else qualified
        target = np.maximum(target, qualified)
        tier[due] = target[due]
        since[due] = np.where(qualified[due] >= target[due], -1, sim.month)  # still below: grace restarts
        if due.any():  # (else the nudge would add zeros)
            sim.nudge(due, down=p.downgrade_satisfaction_hurt * sim.per_slot("status_sensitivity"))
        sim.record("tier_downgrades", float(np.count_nonzero(due)))

    def record(self, index: int) -> None:
        sim = self.sim
        placed = sim.view("tier") + np.int8(1)  # 0: not (yet) in a tier
        placed *= sim.enrolled
        counts = np.bincount(placed, minlength=len(self.p.tiers) + 1)
        for i, t in enumerate(self.p.tiers):
            sim.ledger[f"tier_{t.name}"][PROGRAM, index] = counts[1 + i]

    def summary(self, out: dict[str, np.ndarray]) -> None:
        sim = self.sim
        out["tier_downgrades"] = sim.ledger["tier_downgrades"].sum(axis=1)
        out["tier_upgrades"] = sim.ledger["tier_upgrades"].sum(axis=1)


def _tier_benefits(t: Tier, currency: str) -> str:  # pragma: no mutate block (presentation)
    benefits = []
    if t.discount > 0:
        benefits.append(f"{pct(t.discount)} off")
    if t.earn_multiplier != 1:
        benefits.append(f"{num(t.earn_multiplier)}x points")
    if t.free_shipping:
        benefits.append("free shipping")
    if t.perk_cost_per_member_month > 0:
        benefits.append(f"perks costing {money(t.perk_cost_per_member_month, currency)} a month")
    return join(benefits)
