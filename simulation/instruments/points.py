"""Points: earn on spend and activity, redeem for rewards, expire (breakage), carry liability.

What the points are worth to a customer is the value back per unit spent (earn rate x
reward value / threshold) times how much of it they can reach within a year at their own
purchase rate. The purchase lift grows with that worth, with diminishing returns, and
starts higher while the membership is new. The goal gradient (Kivetz, Urminsky & Zheng
2006) shapes timing: faster near a reward, slower after one, the same on average.
A reward that replaces a purchase the member would have paid for costs that margin too.
"""

from __future__ import annotations

import numpy as np

from ..people import PROGRAM, lookup
from .base import CalendarEvent, InstrumentModule


class PointsModule(InstrumentModule):
    key = "points"
    cost_lines = ("cost_rewards", "cost_replaced_purchases")

    def init(self) -> None:
        people = self.sim.people
        people.add_state("points", np.float64, 0.0, program_only=True)
        people.add_state("ti_points_activity", np.int32, 0, program_only=True)
        people.add_state("ti_redeemed", np.int32, -10, program_only=True)
        if self.fixed_lots:
            lots = (self.p.expiry_months,)  # (working state: not kept for customers who left)
            people.add_state("points_lots", np.float64, 0.0, leading=lots, program_only=True, final=False)
        self.cost_per_point = self.p.reward_cost / self.p.redemption_threshold
        # customers weigh what they can collect within a year, or before fixed-lot expiry
        self.horizon = min(12, self.p.expiry_months) if self.fixed_lots else 12
        # the lift by months since joining, novelty included: read from a table, not exp per slot
        months = np.arange(self.sim.T + 2)
        self.lift_by_months_in = self.p.purchase_lift * (1.0 + self.p.novelty_lift * np.exp(-months / self.p.novelty_months))
        self.issued = self.redeemed = self.expired = 0.0

    @property
    def fixed_lots(self) -> bool:
        return self.p.expiry_policy == "fixed" and self.p.expiry_months > 0

    def calendar(self) -> list[CalendarEvent]:
        return [CalendarEvent("points expiry", 1, self.expire)]

    def progress(self) -> np.ndarray:
        """Share of the way to the next reward not yet collected (a member holding a whole
        reward's worth is past that goal: their progress is towards the one after)."""
        progress = self.sim.view("points") / self.p.redemption_threshold
        return np.subtract(progress, np.floor(progress), out=progress)  # (mod 1: np.mod is ~4x slower)

    def value_share(self, share: np.ndarray) -> None:
        sim, p = self.sim, self.p
        earn = sim.rel_earn * p.earn_rate  # points per unit spent, with the tier's multiplier
        reach = earn * sim.expected_spend
        reach *= self.horizon / p.redemption_threshold
        np.minimum(reach, 1.0, out=reach)
        back = np.multiply(earn, p.reward_value / p.redemption_threshold)
        back *= reach
        share += back
        self.effect = sim.membership.effect(back)  # the points' own worth drives their lift

    def purchase_rate(self, rel_rate: np.ndarray) -> None:
        """Members only (for the others the factor is 1: worked out for the members alone)."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        # long-run lift x novelty that fades from the month of joining
        months_in = np.subtract(sim.month, sim.view("ti_joined")[members], dtype=np.intp)
        progress = sim.view("points")[members] / p.redemption_threshold
        boost = np.subtract(progress, np.floor(progress), out=progress)  # (as `progress()`)
        boost -= 0.5  # timing: above average near the reward, below after one
        boost *= p.goal_gradient
        boost += lookup(self.lift_by_months_in, months_in)
        boost *= self.effect[members]
        boost += 1.0
        just_redeemed = sim.view("ti_redeemed")[members] == sim.month - 1  # (few: a masked update is cheap)
        boost[just_redeemed] *= 1.0 - p.post_redemption_dip
        rel_rate[members] *= boost  # the program row

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        members = sim.members
        earned = sim.net_spend * p.earn_rate
        earned *= sim.rel_earn
        earned *= members  # (x * False = 0: as np.where, in one fast pass)
        if p.activity_bonus_points:  # (members who use the app: worked out for them only)
            digital = sim.member_slots[sim.people.is_digital[sim.member_slots]]
            active = digital[sim.uniform_at("points_activity", digital) < p.activity_probability]
            earned[active] += p.activity_bonus_points
            sim.view("contact")[active] = True
        self.earned = earned
        points = sim.view("points")
        points += earned
        sim.view("ti_points_activity")[np.flatnonzero(earned)] = sim.month  # (earned >= 0)
        if self.fixed_lots:
            sim.view("points_lots")[sim.month % p.expiry_months] += earned
        issued = float(earned.sum())
        sim.record("points_issued", issued)
        self.issued += issued
        self._redeem(members)

    def _redeem(self, members: np.ndarray) -> None:
        """Members holding a reward's worth may claim them (all they hold). Worked out for
        those who can only: a few percent of the members in a month."""
        sim, p = self.sim, self.p
        points = sim.view("points")
        can = np.flatnonzero(members & (points >= p.redemption_threshold))
        basket = sim.people.basket[can]
        # a reward worth more than a usual basket is claimed sooner, a small one later or never
        p_redeem = 1.0 - (1.0 - p.redemption_probability) ** (p.reward_value / basket)
        chosen = sim.uniform_at("points_redeem", can) < p_redeem
        slot, basket = can[chosen], basket[chosen]
        rewards = points[slot] / p.redemption_threshold
        np.floor(rewards, out=rewards)
        used = rewards * p.redemption_threshold
        points[slot] -= used
        if self.fixed_lots:
            self._take_from_lots(slot, used)
        sim.view("ti_redeemed")[slot] = sim.month
        sim.view("ti_points_activity")[slot] = sim.month
        sim.charge_at("cost_rewards", slot, rewards * p.reward_cost)
        # rewards that replace a purchase the member would have paid for: sales and margin given up
        replaced = rewards * (p.redemption_replaces_purchase * p.reward_value)
        sim.record("revenue", -float(replaced.sum()))
        sim.charge_at("cost_replaced_purchases", slot, replaced * sim.per_slot("margin")[slot])
        sim.record("rewards_redeemed", float(rewards.sum()))
        redeemed = float(used.sum())
        sim.record("points_redeemed", redeemed)
        self.redeemed += redeemed
        # a reward worth a whole basket or more delights fully, a smaller one proportionally
        worth = np.minimum(rewards * p.reward_value / basket, 1.0)
        sim.nudge_at(slot, up=p.reward_satisfaction_lift * worth)

    def _consume_oldest(self, used: np.ndarray) -> None:
        """Redemptions (points used, per slot) use the oldest lots first (first in, first out)."""
        slot = np.flatnonzero(used > 0)
        self._take_from_lots(slot, used[slot])

    def _take_from_lots(self, slot: np.ndarray, used: np.ndarray) -> None:
        """`_consume_oldest` for the slots that used points (`used` > 0 each, or 0: nothing taken)."""
        lots = self.sim.view("points_lots")
        e = self.p.expiry_months
        if not slot.size:
            return
        # Lots are >= 0, so taking from an empty lot changes nothing: the lots of months
        # before month 0 (rows `filled` and up, never filled) are skipped, and so are the
        # redeemers with nothing left to take (at a million customers the gathers from the
        # lots are most of the cost).
        filled = min(e, self.sim.month + 1)
        left = used.copy()
        for age in range(e - filled, e):  # the lot after this month's is the oldest
            row = lots[(self.sim.month + 1 + age) % e]
            lot = row[slot]
            take = np.minimum(lot, left)
            lot -= take
            left -= take
            row[slot] = lot
            owed = np.count_nonzero(left)
            if not owed:
                break
            if 2 * owed <= slot.size:  # (compacting costs a gather: once half are done)
                still = np.flatnonzero(left)
                slot, left = slot[still], left[still]

    def expire(self) -> None:
        """Monthly: expire points by the policy; balances of customers who left are forfeit."""
        sim, p = self.sim, self.p
        points = sim.view("points")
        alive = sim.pview("is_alive")
        if not p.expiry_months:
            lost = np.zeros_like(points)
        elif self.fixed_lots:
            lots = sim.view("points_lots")
            oldest = (sim.month + 1) % p.expiry_months  # earned expiry_months - 1 months ago
            lost = np.minimum(lots[oldest], points)
            lots[oldest] = 0.0
        else:
            idle = sim.view("ti_points_activity") <= sim.month - p.expiry_months
            lost = points * idle  # (x * False = 0: as np.where, in one fast pass)
        gone = np.flatnonzero(~alive)  # (their whole balance: few, an index is cheaper than np.where)
        lost[gone] = points[gone]
        points -= lost
        expired = float(lost.sum())
        sim.record("points_expired", expired)
        self.expired += expired
        sim.nudge_at(np.flatnonzero(alive & (lost > 0)), down=p.expiry_satisfaction_hurt)

    def record(self, index: int) -> None:
        sim = self.sim
        outstanding = (sim.view("points") * sim.pview("is_alive")).sum()  # (as np.where, faster)
        sim.ledger["points_outstanding"][PROGRAM, index] = outstanding
        sim.ledger["points_liability"][PROGRAM, index] = outstanding * self.cost_per_point

    def summary(self, out: dict[str, np.ndarray]) -> None:
        out["points_liability_end"] = self.sim.ledger["points_liability"][:, -1].copy()
        # points of members who stopped using the program are breakage too, expired yet or not
        sim = self.sim
        stranded_by = sim.pview("is_alive") & (sim.view("is_dormant") | sim.view("left_program"))
        stranded = float((sim.view("points") * stranded_by).sum())
        lost = self.expired + stranded
        settled = self.redeemed + lost
        out["breakage_rate"] = np.array([0.0, lost / settled if settled else 0.0])
        out["points_issued"] = np.array([0.0, self.issued])
