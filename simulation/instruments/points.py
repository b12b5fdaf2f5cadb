"""Points: earn on spend and activity, redeem for rewards, expire (breakage), carry liability.

What the points are worth to a customer is the value back per unit spent (earn rate x
reward value / threshold) times how much of it they can reach within a year at their own
purchase rate. The purchase lift grows with that worth, with diminishing returns, and
starts higher while the membership is new. The goal gradient (Kivetz, Urminsky & Zheng
2006) shapes timing: faster near a reward, slower after one, the same on average.
A reward that replaces a purchase the member would have paid for costs that margin too.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .. import portable
from ..people import PROGRAM, lookup
from ..schema_base import F, Instrument
from .base import CalendarEvent, InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, months, num, pct, with_currency


class Points(Instrument):
    earn_rate: float = F(1.0, label="Earn rate", unit="points per currency unit", help="Points earned per unit of money spent.", ge=0, le=1000)
    activity_bonus_points: float = F(0.0, label="Activity bonus", unit="points/month", help="Bonus points for app use, reviews and other activities in a month.", ge=0)
    activity_probability: float = F(0.3, label="Activity chance", unit="probability/month", help="Chance that a digital member earns the activity bonus in a month.", ge=0, le=1)
    redemption_threshold: float = F(500.0, label="Redemption threshold", unit="points", help="Points needed for one reward.", gt=0)
    reward_value: float = F(5.0, label="Reward value", unit="currency", help="What one reward is worth to the customer.", ge=0)
    reward_cost: float = F(3.0, label="Reward cost", unit="currency", help="What one reward costs the company to supply (cost of goods or what a partner charges).", ge=0)
    redemption_replaces_purchase: float = F(0.6, label="Rewards replacing purchases", unit="share", help="Share of rewards that replace a purchase the member would have paid for; each costs the margin given up on it too.", ge=0, le=1)
    redemption_probability: float = F(0.5, label="Redemption chance", unit="probability/month", help="Chance that an active member who can afford a reward worth one usual basket redeems in a month (a bigger reward is claimed more often, a smaller one less).", ge=0, le=1)
    expiry_months: int = F(12, label="Expiry", unit="months", help="Months after which points expire (0 = never).", ge=0, le=120)
    expiry_policy: Literal["inactivity", "fixed"] = F("inactivity", label="Expiry policy", help="'inactivity': the whole balance expires after that many months without earning or redeeming; 'fixed': each month's points expire that many months after they were earned.")
    purchase_lift: float = F(0.10, label="Purchase lift", unit="share of rate", help="Long-run rise in an active member's purchase rate when the points are worth the most (it grows with the value back per unit spent and how reachable the reward is, with diminishing returns; a worthless card lifts nothing).", ge=0, le=2)
    novelty_lift: float = F(0.5, label="Novelty", unit="share of the lift", help="Extra lift of a new member, fading to the long-run lift.", ge=0, le=5)
    novelty_months: float = F(6.0, label="Novelty fades in", unit="months", help="Time constant of the novelty's fade (e-folding time).", gt=0, le=120)
    goal_gradient: float = F(0.2, label="Goal gradient", unit="x rate at the threshold", help="Purchase timing near a reward: rate x (1 + goal_gradient x value x (progress - 1/2)); faster near the reward, slower just after one, the same on average.", ge=0, le=3)
    post_redemption_dip: float = F(0.05, label="Post-reward dip", unit="share of rate", help="Lower purchase rate in the month after a redemption.", ge=0, le=1)
    reward_satisfaction_lift: float = F(0.05, label="Reward delight", unit="probability", help="Added chance of moving up a level when redeeming a reward worth at least the customer's usual basket (smaller rewards delight proportionally less).", ge=0, le=1)
    expiry_satisfaction_hurt: float = F(0.10, label="Expiry annoyance", unit="probability", help="Added chance of moving down a level when points expire.", ge=0, le=1)


J = Judgement


class PointsModule(InstrumentModule):
    key = "points"
    schema = Points
    label = "Points"
    help = "Spend-based points and rewards."
    order = 10
    cost_lines = {"cost_rewards": "Cost: rewards", "cost_replaced_purchases": "Cost: replaced purchases"}
    metrics = {
        "points_liability_end": MetricSpec("Points liability at end", "money", -1),
        "breakage_rate": MetricSpec("Breakage rate", "share", 0),
        "points_issued": MetricSpec("Points issued", "count", 0),
        "points_redeemed": MetricSpec("Points redeemed", "count", 0),
        "points_expired": MetricSpec("Points expired", "count", 0),
        "points_liability": MetricSpec("Points liability", "money", -1),
        "points_outstanding": MetricSpec("Points outstanding", "count", 0),
        "rewards_redeemed": MetricSpec("Rewards redeemed", "count", 0),
    }
    summary_order = ("points_liability_end", "breakage_rate")
    always_reported = ("points_liability",)
    levers = (
        Lever("enabled", "=false", "points_issued down 99-100 %, cost_rewards down 99-100 %", "instrument off"),
        Lever("earn_rate", "x2", "points_issued up 80-130 %, cost_rewards up 60-150 %, purchases up 0.3-5 %", "value back doubles: more lift (Taylor & Neslin 2005) at more cost"),
        Lever("activity_bonus_points", "=0", "points_issued down 0.5-10 %", "fewer points"),
        Lever("activity_probability", "x2", "points_issued up 0.5-10 %", "more bonuses"),
        Lever("redemption_threshold", "x2", "cost_rewards down 30-70 %, breakage_rate up 5-50 %, purchases down 0.3-5 %", "half the value back, rewards harder to reach"),
        Lever("reward_value", "x2", "cost_replaced_purchases up 100-200 %, purchases up 0.3-5 %, breakage_rate down 10-60 %", "more value; bigger rewards are claimed"),
        Lever("reward_cost", "x2", "cost_rewards up 99-101 %, purchases same, members_end same", "money only"),
        Lever("redemption_replaces_purchase", "=0", "cost_replaced_purchases down 99-100 %, revenue up 0.1-3 %, purchases same", "money only: the replaced sales"),
        Lever("redemption_probability", "x1.5", "cost_rewards up 5-50 %, breakage_rate down 10-60 %", "rewards claimed sooner"),
        Lever("expiry_months", "=3", "breakage_rate up 3-50 %", "points expire sooner"),
        Lever("expiry_policy", "=fixed", "breakage_rate up 3-50 %", "every lot expires, active or not"),
        Lever("purchase_lift", "x2", "purchases up 1-10 %", "Taylor & Neslin (2005), Leenheer et al. (2007)"),
        Lever("novelty_lift", "=0", "purchases down 0.1-3 %", "Liu (2007): the early extra fades"),
        Lever("novelty_months", "x2", "purchases up 0.05-2 %", "the early extra lasts longer"),
        Lever("goal_gradient", "=0", "purchases within 1 %", "Kivetz et al. (2006): timing, not volume"),
        Lever("post_redemption_dip", "=0", "purchases up 0.05-2 %", "no dip after a reward"),
        Lever("reward_satisfaction_lift", "x3", "nps_end up 0.5-10 %", "brief: rewards delight"),
        Lever("expiry_satisfaction_hurt", "=1", "nps_end down 3-30 %", "losing points annoys"),
    )  # fmt: skip
    judgements = {
        "activity_probability": J(0.5, 1.5, source="judgement (±50 %)"),
        "redemption_probability": J(0.6, 1.6, source="judgement: 0.3-0.8 at the default"),
        "redemption_replaces_purchase": J(0.5, 1.5, source="judgement (brief: costs in full): 0.3-0.9 at the default"),
        "purchase_lift": J(0.3, 2.0, source="Taylor & Neslin (2005), Leenheer et al. (2007), Dorotic et al. (2012): 0.03-0.20 at the default"),
        "novelty_lift": J(0.0, 2.0, source="judgement after Liu (2007): 0-1 at the default"),
        "novelty_months": J(0.5, 2.0, source="judgement: 3-12 months at the default"),
        "goal_gradient": J(0.5, 1.5, source="Kivetz et al. (2006) measured about 20 % in one field study; ±50 % for another setting (timing only)"),
        "post_redemption_dip": J(0.0, 2.0, source="judgement: the size of the extra dip is not measured (Kivetz et al. 2006), 0 to 2x"),
        "reward_satisfaction_lift": J(0.4, 2.0, source="judgement, checked against the coffee example's sales lift: 0.02-0.10 at the default"),
        "expiry_satisfaction_hurt": J(0.5, 1.5, source="judgement (±50 %)"),
    }  # fmt: skip

    @classmethod
    def describe(cls, p: Points, currency: str) -> str:  # pragma: no mutate block (presentation)
        if p.earn_rate == 0:
            earn = "members earn no points on purchases"
        elif p.earn_rate < 1:
            earn = f"1 point per {money(1 / p.earn_rate, currency)} spent"
        else:
            per = with_currency("1", currency) if len(currency) == 1 and not currency.isalpha() else currency
            earn = f"{num(p.earn_rate)} point{'s' if p.earn_rate != 1 else ''} per {per} spent"  # per kr / per $1
        reward = f"a {money(p.reward_value, currency)} reward at {num(p.redemption_threshold)} points"
        if p.expiry_months == 0:
            expiry = "points never expire"
        elif p.expiry_policy == "inactivity":
            expiry = f"the balance expires after {months(p.expiry_months)} without activity"
        else:
            expiry = f"points expire {months(p.expiry_months)} after they are earned"
        text = "; ".join([f"Points: {earn}", reward, expiry]) + "."
        if p.activity_bonus_points > 0 and p.activity_probability > 0:
            text += (
                f" App and web users can earn {num(p.activity_bonus_points)} bonus points a month"
                " for app use, reviews and other activities."
            )
        value_per_spend = p.earn_rate * p.reward_value / p.redemption_threshold
        cost_per_spend = p.earn_rate * p.reward_cost / p.redemption_threshold
        if value_per_spend > 0:
            text += (
                f" That gives back {pct(value_per_spend)} of spend to the customer"
                f" at a cost of {pct(cost_per_spend)} of spend to you if every point is redeemed"
                + (
                    f", plus the margin given up on the {pct(p.redemption_replaces_purchase)} of rewards"
                    " that replace a purchase the member would have paid for."
                    if p.redemption_replaces_purchase > 0
                    else "."
                )
            )
        return text

    @classmethod
    def charts(cls, results, block: Points) -> list:  # pragma: no mutate block (presentation)
        from .. import figures

        monthly = results.monthly
        if not (monthly["metric"] == "points_issued").any():
            return []
        return [("points", figures.points_over_time(monthly, currency=results.scenario.economics.currency))]

    @classmethod
    def summary_defaults(cls, ledger, out) -> None:
        out["points_liability_end"] = np.zeros(2)
        out["breakage_rate"] = np.zeros(2)

    def init(self) -> None:
        people = self.sim.people
        people.add_state("points", np.float64, 0.0, program_only=True)
        people.add_state("ti_points_activity", np.int32, 0, program_only=True)
        people.add_state("ti_redeemed", np.int32, -10, program_only=True)
        if self.fixed_lots:
            lots = (self.p.expiry_months,)  # (working state: not kept for customers who left)
            people.add_state("points_lots", np.float64, 0.0, leading=lots, program_only=True, final=False)
        self.issued = self.redeemed = self.expired = 0.0
        self.derive()

    fixed_in_phases = ("expiry_policy", "expiry_months")  # (the lots' shape)

    def derive(self) -> None:
        self.cost_per_point = self.p.reward_cost / self.p.redemption_threshold
        # customers weigh what they can collect within a year, or before fixed-lot expiry
        self.horizon = min(12, self.p.expiry_months) if self.fixed_lots else 12
        # the lift by months since joining, novelty included: read from a table, not exp per slot
        months = np.arange(self.sim.T + 2)
        self.lift_by_months_in = self.p.purchase_lift * (
            1.0 + self.p.novelty_lift * portable.exp(-months / self.p.novelty_months)
        )

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

    def value_share(self, m: Month) -> None:
        sim, p = self.sim, self.p
        earn = m.rel_earn * p.earn_rate  # points per unit spent, with the tier's multiplier
        reach = earn * m.expected_spend
        reach *= self.horizon / p.redemption_threshold
        np.minimum(reach, 1.0, out=reach)
        back = np.multiply(earn, p.reward_value / p.redemption_threshold)
        back *= reach
        m.program_value += back
        self.effect = sim.membership.effect(back, "points")  # the points' own worth drives their lift

    def purchase_rate(self, m: Month) -> None:
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
        boost[np.flatnonzero(just_redeemed)] *= 1.0 - p.post_redemption_dip  # (by index: ~2x a boolean mask)
        m.rel_rate[members] *= boost  # the program row

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        members = sim.members
        earned = m.net_spend * p.earn_rate
        earned *= m.rel_earn
        earned *= members  # (x * False = 0: as np.where, in one fast pass)
        if m.extra_points is not None:  # points earned away from the purchases (partners)
            earned += m.extra_points
        if p.activity_bonus_points:  # (members who use the app: worked out for them only)
            digital = sim.member_slots[sim.people.is_digital[sim.member_slots]]
            active = digital[sim.uniform_at("points_activity", digital) < p.activity_probability]
            earned[active] += p.activity_bonus_points
            sim.view("contact")[active] = True
        m.points_earned = earned
        points = sim.view("points")
        points += earned
        # the month of the last activity: this month for those who earned (earned >= 0; the months
        # held are 0 .. this month, so a maximum sets it, ~15x faster than a scatter by index)
        activity = sim.view("ti_points_activity")
        np.maximum(activity, np.multiply(earned > 0, sim.month, dtype=activity.dtype), out=activity)
        if self.fixed_lots:
            sim.view("points_lots")[sim.month % p.expiry_months] += earned
        issued = float(earned.sum())
        sim.record("points_issued", issued)
        self.issued += issued
        self._redeem(members)
        if m.partner_rewards is not None:
            self._partner_rewards(*m.partner_rewards)

    def _redeem(self, members: np.ndarray) -> None:
        """Members holding a reward's worth may claim them (all they hold). Worked out for
        those who can only: a few percent of the members in a month."""
        sim, p = self.sim, self.p
        points = sim.view("points")
        can = np.flatnonzero(members & (points >= p.redemption_threshold))
        basket = sim.people.basket[can]
        # a reward worth more than a usual basket is claimed sooner, a small one later or never
        p_redeem = 1.0 - portable.power(1.0 - p.redemption_probability, p.reward_value / basket)
        chosen = sim.uniform_at("points_redeem", can) < p_redeem
        slot, basket = can[chosen], basket[chosen]
        rewards = points[slot] / p.redemption_threshold
        np.floor(rewards, out=rewards)
        self._use(slot, rewards * p.redemption_threshold, rewards * p.reward_value / basket)
        sim.charge_at("cost_rewards", slot, rewards * p.reward_cost)
        # rewards that replace a purchase the member would have paid for: sales and margin given up
        replaced = rewards * (p.redemption_replaces_purchase * p.reward_value)
        sim.record("revenue", -float(replaced.sum()))
        sim.charge_at("cost_replaced_purchases", slot, replaced * sim.per_slot("margin")[slot])
        sim.record("rewards_redeemed", float(rewards.sum()))

    def _use(self, slot: np.ndarray, used: np.ndarray, worth: np.ndarray) -> None:
        """Points these members redeem (`used` each, oldest lots first) and the delight of what
        they get: a reward worth a whole basket or more (`worth` >= 1) delights fully, a
        smaller one proportionally."""
        sim = self.sim
        sim.view("points")[slot] -= used
        if self.fixed_lots:
            self._take_from_lots(slot, used)
        sim.view("ti_redeemed")[slot] = sim.month
        sim.view("ti_points_activity")[slot] = sim.month
        redeemed = float(used.sum())
        sim.record("points_redeemed", redeemed)
        self.redeemed += redeemed
        sim.nudge_at(slot, up=self.p.reward_satisfaction_lift * np.minimum(worth, 1.0))

    def _partner_rewards(self, asking: np.ndarray, cost_points: float, value: float, cost: float, line: str) -> None:
        """Rewards taken at partners (section 9.12): one each for the members asking who
        still hold its points after this month's own redemptions; the program pays the
        partner, and the points count as redeemed (less breakage)."""
        sim = self.sim
        slot = asking[sim.view("points")[asking] >= cost_points]
        self._use(slot, np.full(slot.size, cost_points), value / sim.people.basket[slot])
        sim.charge_at(line, slot, cost)
        sim.record("partner_rewards", float(slot.size))

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
