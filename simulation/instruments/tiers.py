"""Tiers: status levels earned on a rolling qualification window.

Members move up as soon as they qualify and are reviewed for downgrades on the review
calendar, after a grace period, by the downgrade policy. A downgrade hurts satisfaction
more than an upgrade helps (Wagner, Hennig-Thurau & Rudolph 2009).
"""

from __future__ import annotations

import numpy as np

from ..people import PROGRAM, lookup
from .base import CalendarEvent, InstrumentModule


class TiersModule(InstrumentModule):
    key = "tiers"
    cost_lines = ("cost_perks",)

    def init(self) -> None:
        p, people = self.p, self.sim.people
        self.thresholds = np.array([t.threshold for t in p.tiers])
        self.discount = np.array([t.discount for t in p.tiers])
        self.earn_multiplier = np.array([t.earn_multiplier for t in p.tiers])
        self.spend_lift = np.array([t.spend_lift for t in p.tiers])
        self.ships_free = np.array([t.free_shipping for t in p.tiers])
        self.perk_cost = np.array([t.perk_cost_per_member_month for t in p.tiers])
        self.status_lift = np.array([t.status_lift for t in p.tiers])
        self._benefit_tables()
        people.add_state("tier", np.int8, -1, program_only=True)  # -1: not a member
        people.add_state("qualifying", np.float64, 0.0, program_only=True)  # rolling-window sum
        window = (p.qualification_window_months,)
        people.add_state("qualifying_months", np.float64, 0.0, leading=window, program_only=True, final=False)
        people.add_state("ti_below_tier", np.int32, -1, program_only=True)  # first month found below

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

    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        """Members' benefits (code 0's are ones: worked out for the members alone)."""
        sim = self.sim
        members, code = self._member_codes()
        for factor, by_code in (
            (keep, self.keep_by_code),
            (rel_basket, self.basket_by_code),
            (sim.rel_earn, self.earn_by_code),
        ):
            if (by_code != 1.0).any():  # (a product with ones changes nothing: skipped)
                factor[members] *= lookup(by_code, code)
        if self.ships_free.any():
            sim.free_shipping[members] |= lookup(self.ships_free_by_code, code)

    def value_share(self, share: np.ndarray) -> None:
        """The discount (and shipping saved) of the tier a customer holds or, before placement,
        of the tier their expected year of purchases would reach."""
        sim = self.sim
        expected = self._expected_year()
        tier = np.subtract(expected >= self.thresholds[0], 1, dtype=np.int8)
        for threshold in self.thresholds[1:]:
            tier += expected >= threshold
        members = sim.member_slots
        held = sim.view("tier")[members]
        placed = members[held >= 0]  # (members only: an index, not np.where over everyone)
        tier[placed] = held[held >= 0]
        code = tier.astype(np.intp)
        code += 1
        share += lookup(self.discount_by_code, code)
        shipping = sim.sc.economics.shipping_cost_per_order
        if shipping and self.ships_free.any():
            per_spend = np.divide(sim.expected_orders * shipping, sim.expected_spend,
                                  out=np.zeros_like(share), where=sim.expected_spend > 0)  # fmt: skip
            share += per_spend * lookup(self.ships_free_by_code, code)

    def _expected_year(self) -> np.ndarray:
        """The qualifying metric a customer expects to collect in a year at their current rate."""
        sim = self.sim
        metric = self.p.qualifying_metric
        if metric == "visits":
            return 12.0 * sim.expected_orders
        year = 12.0 * sim.expected_spend
        if metric == "points":
            year *= sim.sc.program.points.earn_rate
        return year

    def _metric(self) -> np.ndarray:
        sim = self.sim
        metric = self.p.qualifying_metric
        if metric == "visits":
            return sim.k.astype(np.float64)
        if metric == "points":
            points = next(m for m in sim.instruments if m.key == "points")
            return points.earned
        return sim.net_spend

    def qualified_tier(self) -> np.ndarray:
        """The highest tier whose threshold the qualifying metric reaches (thresholds ascend
        from 0, so: the number reached, minus 1; a count of comparisons is ~10x faster
        than np.searchsorted)."""
        qualifying = self.sim.view("qualifying")
        tier = np.subtract(qualifying >= self.thresholds[0], 1, dtype=np.int8)
        for threshold in self.thresholds[1:]:
            tier += qualifying >= threshold
        return tier

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        members = sim.members
        window = sim.view("qualifying_months")
        slot = sim.month % p.qualification_window_months
        value = self._metric() * members  # (x * False = 0: as np.where, in one fast pass)
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
