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

from ..people import REFERRAL
from .base import InstrumentModule


class ReferralModule(InstrumentModule):
    key = "referral"
    cost_lines = ("cost_referral_rewards",)

    def init(self) -> None:
        self.sim.people.add_state("n_referrals", np.int32, 0, program_only=True)
        self.propensity = np.array(self.p.referral_probability.as_tuple())
        self.converted = 0
        self.displaced = 0

    def after_purchases(self) -> None:
        sim, p = self.sim, self.p
        can = sim.pview("is_alive")
        n_ref = sim.view("n_referrals")
        if p.max_referrals_per_referrer:
            can = can & (n_ref < p.max_referrals_per_referrer)
        basket = sim.people.basket[: sim.people.n]
        # rewards pull with diminishing returns, measured against what the customer usually spends
        p_refer = self.propensity[sim.pview("level")] * (
            1.0 + p.reward_response * self._pull(p.referrer_reward_cost, basket)
        )
        refer = can & (sim.uniform("referral") < p_refer)
        conversion = p.conversion
        if p.two_sided:
            conversion = conversion * (1.0 + p.referee_reward_response * self._pull(p.referee_reward_cost, basket))
        converted = refer & (sim.uniform("referral_conversion") < conversion)
        n_ref += converted
        referrers = np.flatnonzero(converted)
        sim.charge_at("cost_referral_rewards", referrers, p.referrer_reward_cost)
        sim.nudge_at(referrers, up=p.referrer_satisfaction_lift)
        sim.record("referrals_made", float(refer.sum()))
        self.converted = int(converted.sum())
        self.displaced = round(p.would_have_come_share * self.converted)

    @staticmethod
    def _pull(reward: float, basket: np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-reward / basket)

    def new_arrivals(self) -> dict[int, int]:
        return {REFERRAL: self.converted}

    def displaced_word_of_mouth(self) -> int:
        return self.displaced

    def on_arrival(self, slots: slice, source: int) -> None:
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

    def basket(self, keep: np.ndarray, rel_basket: np.ndarray) -> None:
        if self.p.referred_basket_multiplier != 1.0:
            rel_basket[self._referred()] *= self.p.referred_basket_multiplier

    def churn(self, rel_churn: np.ndarray) -> None:
        rel_churn[self._referred()] *= self.p.referred_churn_multiplier
