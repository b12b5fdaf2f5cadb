"""Referral: customers refer prospects for a reward; referred customers convert and stay better.

Any customer may pass on a referral link (no membership needed). A reward raises how
often they do (Ryu & Feick 2007), a reward for the friend too raises the friend's
conversion; a referred prospect converts far more often than a cold one, and referred
customers churn less (Schmitt, Skiera & Van den Bulte 2011). Some referred customers
would have come by word of mouth anyway: their rewards are paid, their arrival is not
extra. A cap limits rewards per referrer.
"""

from __future__ import annotations

import numpy as np

from .. import portable
from ..people import REFERRAL, lookup
from ..schema_base import F, Instrument, LevelProbabilities, probs
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import count, money


class Referral(Instrument):
    referral_probability: LevelProbabilities = F(probs(0.0, 0.0, 0.002, 0.01, 0.03, 0.08), label="Referrals by level", unit="probability/month", help="Chance that a customer on this level refers someone in a month with no reward (the reward raises it).")
    conversion: float = F(0.08, label="Referral conversion", unit="probability", help="Chance that a referred prospect becomes a customer (about 4x a cold prospect).", ge=0, le=1)
    two_sided: bool = F(True, label="Two-sided", help="Reward the new customer too, not only the referrer.")
    referrer_reward_cost: float = F(10.0, label="Referrer reward", unit="currency", help="Cost of the referrer's reward per converted referral.", ge=0)
    referee_reward_cost: float = F(10.0, label="Referee reward", unit="currency", help="Cost of the new customer's welcome reward (two-sided only).", ge=0)
    referrer_satisfaction_lift: float = F(0.1, label="Referrer delight", unit="probability", help="Added chance of moving up a level when a referral converts.", ge=0, le=1)
    max_referrals_per_referrer: int = F(5, label="Cap per referrer", unit="referrals", help="Most rewarded referrals per member over the horizon (0 = no cap).", ge=0)
    referred_churn_multiplier: float = F(0.82, label="Referred churn", unit="x", help="Churn of referred customers relative to others (they retain better).", ge=0, le=2)
    referred_basket_multiplier: float = F(1.0, label="Referred basket", unit="x", help="Basket of referred customers relative to others.", gt=0, le=3)
    reward_response: float = F(1.0, label="Reward pull on referrers", unit="x", help="How much a referrer reward raises referrals: x (1 + response x (1 - exp(-reward / basket))).", ge=0, le=10)
    referee_reward_response: float = F(0.5, label="Reward pull on friends", unit="x", help="How much a two-sided reward raises a referred friend's conversion, the same way.", ge=0, le=10)
    would_have_come_share: float = F(0.3, label="Would have come anyway", unit="share", help="Share of referred customers who would have come through word of mouth anyway: their reward is paid, their arrival is not extra.", ge=0, le=1)


J = Judgement


class ReferralModule(InstrumentModule):
    key = "referral"
    schema = Referral
    label = "Referral"
    help = "Rewards for bringing in new customers."
    order = 40
    cost_lines = {"cost_referral_rewards": "Cost: referral rewards"}
    metrics = {"referrals": MetricSpec("Referrals", "count", 1)}
    summary_order = ("referrals",)
    always_reported = ("referrals",)
    levers = (
        Lever("enabled", "=false", "referrals down 99-100 %, cost_referral_rewards down 99-100 %", "instrument off"),
        Lever("referral_probability", "x2", "referrals up 70-130 %", "more referrals"),
        Lever("conversion", "x2", "referrals up 70-130 %", "more convert"),
        Lever("two_sided", "=false", "referrals down 5-40 %, cost_referral_rewards down 30-80 %", "Ahrens et al. (2013): the friend's reward pulls"),
        Lever("referrer_reward_cost", "x3", "referrals up 10-60 %, cost_referral_rewards up 100-250 %", "Ryu & Feick (2007)"),
        Lever("referee_reward_cost", "x3", "referrals up 5-40 %", "Ahrens et al. (2013)"),
        Lever("referrer_satisfaction_lift", "=1", "nps_end up 1-10 %", "thanked referrers move up"),
        Lever("max_referrals_per_referrer", "=1", "referrals down 2-30 %", "cap"),
        Lever("referred_churn_multiplier", "=1.5", "churned up 0.3-5 %", "Schmitt et al. (2011), reversed"),
        Lever("referred_basket_multiplier", "x1.5", "revenue up 0.3-5 %", "bigger baskets"),
        Lever("reward_response", "=0", "referrals down 10-50 %", "rewards no longer pull"),
        Lever("referee_reward_response", "=0", "referrals down 5-40 %", "the friend's reward no longer pulls"),
        Lever("would_have_come_share", "=0", "acquisitions up 1-10 %", "every referred friend is extra"),
    )  # fmt: skip
    judgements = {
        "conversion": J(0.5, 1.9, source="brief: about 4x a cold prospect; 0.04-0.15 at the default"),
        "reward_response": J(0.3, 2.0, source="judgement after Ryu & Feick (2007): 0.3-2 at the default"),
        "referee_reward_response": J(0.4, 2.0, source="judgement after Ahrens et al. (2013): 0.2-1 at the default"),
        "would_have_come_share": J(0.33, 1.67, source="judgement: 0.1-0.5 at the default"),
        "referrer_satisfaction_lift": J(0.5, 1.5, source="judgement (±50 %)"),
        "referred_churn_multiplier": J(0.85, 1.15, source="Schmitt et al. (2011): about 18 % better retention; 0.70 to 0.94 at the default"),
    }  # fmt: skip

    @classmethod
    def summary_defaults(cls, ledger, out) -> None:
        out["referrals"] = ledger["referrals"].sum(axis=1)

    @classmethod
    def describe(cls, r: Referral, currency: str) -> str:  # pragma: no mutate block (presentation)
        rewards = f"{money(r.referrer_reward_cost, currency)} for the member who refers"
        if r.two_sided:
            rewards += f" and {money(r.referee_reward_cost, currency)} for the new customer"
        cap = (
            f", at most {count(r.max_referrals_per_referrer, 'rewarded referral')} per member"
            if r.max_referrals_per_referrer
            else ""
        )
        return f"Refer a friend: {rewards}{cap}."

    def init(self) -> None:
        self.sim.people.add_state("n_referrals", np.int32, 0, program_only=True)
        self.converted = 0
        self.displaced = 0
        self.derive()

    def derive(self) -> None:
        self.propensity = np.array(self.p.referral_probability.as_tuple())

    def after_purchases(self, m: Month) -> None:
        sim, p = self.sim, self.p
        can = sim.pview("is_alive")
        n_ref = sim.view("n_referrals")
        if p.max_referrals_per_referrer:
            can = can & (n_ref < p.max_referrals_per_referrer)
        basket = sim.people.basket[: sim.people.n]
        # rewards pull with diminishing returns, measured against what the customer usually spends;
        # worked out only where it can decide (a pull is below 1: nobody above the bound refers)
        # (by the levels as an intp index: int8 fancy indexing converts them on every lookup)
        propensity = lookup(self.propensity, sim.pview("level").astype(np.intp))
        u = sim.uniform("referral")
        maybe = np.flatnonzero(can & (u < propensity * (1.0 + p.reward_response)))
        pull = self._pull(p.referrer_reward_cost, basket[maybe])
        asked = maybe[u[maybe] < propensity[maybe] * (1.0 + p.reward_response * pull)]  # (a few: by index)
        conversion = np.full(asked.size, p.conversion)
        if p.two_sided:
            conversion *= 1.0 + p.referee_reward_response * self._pull(p.referee_reward_cost, basket[asked])
        referrers = asked[sim.uniform_at("referral_conversion", asked) < conversion]
        n_ref[referrers] += 1
        sim.charge_at("cost_referral_rewards", referrers, p.referrer_reward_cost)
        sim.nudge_at(referrers, up=p.referrer_satisfaction_lift)
        sim.record("referrals_made", float(asked.size))
        self.converted = int(referrers.size)
        self.displaced = round(p.would_have_come_share * self.converted)

    @staticmethod
    def _pull(reward: float, basket: np.ndarray) -> np.ndarray:
        return 1.0 - portable.exp(-reward / basket)

    def arrivals(self, m: Month) -> None:
        m.arrivals[REFERRAL] = m.arrivals.get(REFERRAL, 0) + self.converted
        m.displaced_word_of_mouth += self.displaced

    def on_arrival(self, m: Month, slots: slice, source: int) -> None:
        if source != REFERRAL:
            return
        sim, p = self.sim, self.p
        if p.two_sided and p.referee_reward_cost:
            amount = np.zeros(sim.people.n)
            amount[slots] = p.referee_reward_cost
            sim.charge("cost_referral_rewards", amount)
        sim.record("referrals", float(slots.stop - slots.start))

    def _referred(self) -> np.ndarray:
        """The referred customers' slots (their factors are multiplied; everyone else's are 1)."""
        return np.flatnonzero(self.sim.pview("source") == REFERRAL)

    def basket(self, m: Month) -> None:
        if self.p.referred_basket_multiplier != 1.0:
            m.rel_basket[self._referred()] *= self.p.referred_basket_multiplier

    def churn(self, m: Month) -> None:
        m.rel_churn[self._referred()] *= self.p.referred_churn_multiplier
