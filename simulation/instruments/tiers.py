"""Tiers: status levels earned on a rolling qualification window.

Members move up as soon as they qualify and are reviewed for downgrades on the review
calendar, after a grace period, by the downgrade policy. A downgrade hurts satisfaction
more than an upgrade helps (Wagner, Hennig-Thurau & Rudolph 2009).
"""

from __future__ import annotations

import numpy as np

from ..people import PROGRAM
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
        people.add_state("tier", np.int8, -1, program_only=True)  # -1: not a member
        people.add_state("qualifying", np.float64, 0.0, program_only=True)  # rolling-window sum
        window = (p.qualification_window_months,)
        people.add_state("qualifying_months", np.float64, 0.0, leading=window, program_only=True)
        people.add_state("ti_below_tier", np.int32, -1, program_only=True)  # first month found below

    def calendar(self) -> list[CalendarEvent]:
        every = self.p.review_every_months
        return [CalendarEvent("tier review", every, self.review, first_month=every - 1)]

    def _tier(self) -> tuple[np.ndarray, np.ndarray]:
        tier = self.sim.view("tier")
        return tier, np.maximum(tier, 0)

    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        sim = self.sim
        members = sim.members
        _, t = self._tier()
        keep *= np.where(members, 1.0 - self.discount[t], 1.0)
        rel_basket *= np.where(members, 1.0 + self.spend_lift[t], 1.0)
        sim.rel_earn *= np.where(members, self.earn_multiplier[t], 1.0)
        sim.free_shipping |= members & self.ships_free[t]

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
        return np.searchsorted(self.thresholds, self.sim.view("qualifying"), side="right") - 1

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        members = sim.members
        window = sim.view("qualifying_months")
        slot = sim.month % p.qualification_window_months
        value = np.where(members, self._metric(), 0.0)
        qualifying = sim.view("qualifying")
        qualifying += value - window[slot]
        window[slot] = value
        tier, t = self._tier()
        qualified = self.qualified_tier()
        up = members & (qualified > tier)
        status_sens = sim.status_sensitivity[sim.people.segment[: sim.people.n]]
        sim.nudge(up & (tier >= 0), up=p.upgrade_satisfaction_lift * status_sens)
        sim.record("tier_upgrades", float((up & (tier >= 0)).sum()))
        tier[up] = qualified[up]
        t = np.maximum(tier, 0)
        below = members & (qualified < tier)
        since = sim.view("ti_below_tier")
        since[below & (since < 0)] = sim.month
        since[~below] = -1
        sim.charge("cost_perks", np.where(members, self.perk_cost[t], 0.0))
        lift = np.where(members, self.status_lift[t], 0.0)
        if lift.any():
            sim.view("nudge_up")[:] += lift

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
        status_sens = sim.status_sensitivity[sim.people.segment[: sim.people.n]]
        sim.nudge(due, down=p.downgrade_satisfaction_hurt * status_sens)
        sim.record("tier_downgrades", float(due.sum()))

    def record(self, index: int) -> None:
        sim = self.sim
        members = sim.members
        tier = sim.view("tier")
        for i, t in enumerate(self.p.tiers):
            sim.ledger[f"tier_{t.name}"][PROGRAM, index] = (members & (tier == i)).sum()

    def summary(self, out: dict[str, np.ndarray]) -> None:
        sim = self.sim
        out["tier_downgrades"] = sim.ledger["tier_downgrades"].sum(axis=1)
        out["tier_upgrades"] = sim.ledger["tier_upgrades"].sum(axis=1)
