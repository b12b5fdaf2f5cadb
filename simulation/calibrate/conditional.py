"""The agent model started from the client's actual customers.

Each customer's starting state is drawn from the fitted model's posterior given their own
history up to the end of the calibration period (their purchases per month, hence their
count and recency): their segment, their base purchase rate, their ladder level and whether
they are still a customer. The engine then runs forward from there without a program, so a
forecast is conditional on each customer's history (as the classical models' conditional
expectations are).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..engine import Sim
from ..schema import Scenario
from .agent_fit import AgentFit, Histories, Ladder, level_terms


@dataclass
class Posterior:
    """Per customer (summary order): the probability of each (segment, state), state 0..5 a
    ladder level (still a customer) and 6 gone, and the gamma posterior of the base rate of
    each (shape, rate; exact: the rate integrates out in closed form, agent_fit.py)."""

    probability: np.ndarray  # (customers, segments * 7), rows sum to 1
    shape: np.ndarray  # (customers, segments * 7)
    rate: np.ndarray  # (customers, segments * 7)

    def draw(self, g: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One starting base: segment, base rate, level and alive flag of every customer."""
        cum = np.cumsum(self.probability, axis=1)
        u = g.random(len(cum))[:, None] * cum[:, -1:]
        pick = np.minimum((cum < u).sum(axis=1), cum.shape[1] - 1)
        rows = np.arange(len(pick))
        base_rate = g.gamma(self.shape[rows, pick]) / self.rate[rows, pick]
        state = pick % 7
        return pick // 7, base_rate, np.minimum(state, 5), state < 6

    @property
    def p_alive(self) -> np.ndarray:
        return self.probability.reshape(len(self.probability), -1, 7)[:, :, :6].sum(axis=(1, 2))


def posterior(fit: AgentFit, h: Histories, ladder: Ladder) -> Posterior:
    probs, shapes, rates = [], [], []
    for seg in fit.segments:
        leave, stay, posterior_b = level_terms(seg, h, ladder)
        with np.errstate(divide="ignore"):
            states = np.concatenate([stay, logsumexp(leave, axis=(1, 2))[:, None]], axis=1) + np.log(seg.share)
        probs.append(states)
        shapes.append(np.repeat((seg.purchase_rate_shape + h.x)[:, None], 7, axis=1))
        rates.append(np.concatenate([posterior_b, np.ones((len(h.x), 1))], axis=1))
    log_p = np.concatenate(probs, axis=1)
    p = np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True))
    return Posterior(p[h.pattern], np.concatenate(shapes, axis=1)[h.pattern], np.concatenate(rates, axis=1)[h.pattern])


class ConditionalSim(Sim):
    """The engine with its starting base replaced by the given customers' states (both arms)."""

    def __init__(self, scenario: Scenario, start: tuple, replication: int = 0, seed: int | None = None):
        super().__init__(scenario, replication, seed)
        segment, rate, level, alive = start
        people = self.people
        draw_initial = people.add_initial

        def add_initial(n: int) -> None:
            draw_initial(n)
            people.segment[:n] = segment
            people.base_rate[:n] = rate
            people.start_level[:n] = level
            people.level[:, :n] = level
            people.is_alive[:, :n] = alive

        people.add_initial = add_initial


def closed(scenario: Scenario, n_customers: int, months: int) -> Scenario:
    """The scenario as a closed base of these customers over `months`: no arrivals, no program."""
    data = scenario.model_dump()
    data["customers"]["size"] = n_customers
    data["customers"]["acquisition"]["paid_per_month"] = 0
    data["customers"]["word_of_mouth"]["conversion_per_listener"] = 0.0
    data["program"] = {}
    data["simulation"]["horizon_months"] = months
    return Scenario.model_validate(data)


def forecast(
    scenario: Scenario, post: Posterior, months: int, replications: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Purchases per month (months,) and per customer over the months (customers,), the mean
    over replications of the engine run from drawn starting bases."""
    base = closed(scenario, len(post.probability), months)
    monthly = np.zeros(months)
    per_customer = np.zeros(len(post.probability))
    for rep in range(replications):
        start = post.draw(np.random.default_rng([seed, rep, 1]))
        sim = ConditionalSim(base, start, replication=rep, seed=seed).run()
        monthly += sim.ledger["purchases"][0, 1:]
        per_customer += sim.people.n_purchases[0, : len(per_customer)]
    return monthly / replications, per_customer / replications
