"""Partner benefits: members earn the program's points at partners, who pay for them.

Each month a share of the active members buy at a partner (a petrol station, a bank card,
an airline) and earn points on that spend. The points go onto the member's balance through
`Month.extra_points` (the points instrument adds them: they count towards rewards, keep the
balance from expiring for inactivity and show in the points issued and the liability), and
the member hears from the program when they arrive (a contact: no drift that month). The
partner buys the points at `price_per_point` when they are issued; the program pays for the
rewards when they are redeemed (`cost_rewards`, section 9.1), so points that expire or are
stranded are the partner's money kept (breakage is the program's margin on them). The
partner points are worth something to a member (section 8: sign-up, dormancy): the same
value back per point as the program's own. Partners need the points instrument:
without it there is nothing to earn, and the scenario is refused with a message saying so.

Members may also burn points at partners (`burn_probability`, off by default): a reward
taken at a partner comes out of the balance after the month's own redemptions (the points
instrument does it, `Month.partner_rewards`), the program pays the partner for it, and the
points count as redeemed, so breakage falls.
"""

from __future__ import annotations

from ..schema_base import F, Instrument
from .base import InstrumentModule, Judgement, Lever, MetricSpec, Month
from .wording import money, num, pct, with_currency


class PartnerBenefits(Instrument):
    use_share: float = F(0.2, label="Members buying at partners", unit="share per month", help="Share of the active members who buy at a partner in a month and collect the program's points there.", ge=0, le=1)
    spend_per_use: float = F(50.0, label="Spend at partners", unit="currency per member buying there", help="What a member who buys at a partner in a month spends there.", ge=0)
    earn_rate: float = F(1.0, label="Partner earn rate", unit="points per currency unit", help="Points a member earns per unit of money spent at a partner.", ge=0, le=1000)
    price_per_point: float = F(0.008, label="Partner price per point", unit="currency per point", help="What the partner pays the program for each point its customers earn (the program pays for the rewards when the points are redeemed).", ge=0)
    burn_probability: float = F(0.0, label="Rewards taken at partners", unit="probability/month", help="Monthly chance that an active member holding a partner reward's worth of points takes one at a partner (a cinema ticket, a fuel voucher). 0: points are only earned there.", ge=0, le=1)
    partner_reward_points: float = F(500.0, label="Points for a partner reward", unit="points", help="Points a reward at a partner uses.", gt=0)
    partner_reward_value: float = F(5.0, label="Partner reward value", unit="currency per reward", help="What a reward at a partner is worth to the member (it delights as the program's own rewards do, section 9.1).", ge=0)
    partner_reward_cost: float = F(4.0, label="Partner reward cost", unit="currency per reward", help="What the program pays the partner for each reward its members take there.", ge=0)


class PartnerBenefitsModule(InstrumentModule):
    key = "partner_benefits"
    schema = PartnerBenefits
    label = "Partner benefits"
    help = "Members earn the program's points at partners, who pay the program for them."
    order = 120
    cost_lines = {
        "cost_partner_points": "Cost: partner points (negative: partners pay)",
        "cost_partner_rewards": "Cost: rewards taken at partners",
    }
    metrics = {
        "partner_points": MetricSpec("Points earned at partners", "count", 0),
        "partner_earners": MetricSpec("Members earning at partners", "count", 1),
        "partner_rewards": MetricSpec("Rewards taken at partners", "count", 0),
    }
    summary_order = ("partner_points", "partner_rewards")
    totals = ("partner_points", "partner_earners", "partner_rewards")
    levers = (
        Lever("enabled", "=false", "partner_points down 99-100 %, cost_partner_points up 99-101 %, members_end down 0.5-8 %", "instrument off: no partner points, no partner payments, less worth to join for"),
        Lever("use_share", "x2", "partner_points up 80-120 %, cost_rewards up 1-15 %", "twice the members earning at partners: more rewards claimed (partner points are a few percent of all points)"),
        Lever("spend_per_use", "x2", "partner_points up 80-120 %, members_end up 0.3-5 %", "more points a month: more worth to join for (section 8)"),
        Lever("earn_rate", "x2", "partner_points up 80-120 %, cost_partner_points down 80-120 %", "twice the points, paid for by the partners"),
        Lever("price_per_point", "x2", "cost_partner_points down 99-101 %, purchases same", "money only"),
        Lever("burn_probability", "=0.3", "partner_rewards up, cost_partner_rewards up, breakage_rate down", "burning at partners: more ways to spend points, less breakage (none by default)"),
        Lever("partner_reward_points", "x2", "partner_rewards same, cost_partner_rewards same", "no burning at partners by default"),
        Lever("partner_reward_value", "x2", "partner_rewards same", "no burning at partners by default"),
        Lever("partner_reward_cost", "x2", "cost_partner_rewards same", "no burning at partners by default"),
    )  # fmt: skip
    judgements = {
        "use_share": Judgement(0.5, 1.5, source="judgement: 0.1-0.3 of active members a month at the default; depends on the partners"),
    }  # fmt: skip

    @classmethod
    def check_program(cls, program) -> None:
        if program.points is None or not program.points.enabled:
            raise ValueError("partner_benefits: members earn points at partners, so it needs the points instrument switched on (program.points)")

    @classmethod
    def describe(cls, p: PartnerBenefits, currency: str) -> str:  # pragma: no mutate block (presentation)
        return (
            f"Partner benefits: {pct(p.use_share)} of the active members a month buy at partners for about"
            f" {money(p.spend_per_use, currency)} and earn {num(p.earn_rate)} point{'s' if p.earn_rate != 1 else ''}"
            f" per unit spent there; the partners pay {with_currency(num(p.price_per_point, 4), currency)} a point."
            + (
                f" Members may take a reward at a partner for {num(p.partner_reward_points)} points"
                f" ({pct(p.burn_probability)} a month of those who hold them), worth {money(p.partner_reward_value, currency)}"
                f" to them; the program pays the partner {money(p.partner_reward_cost, currency)}."
                if p.burn_probability
                else ""
            )
        )

    def derive(self) -> None:
        self.points = self.sim.program.points  # (the reward a point buys: validated on; a phase may change it)

    def _points_per_use(self) -> float:
        return self.p.spend_per_use * self.p.earn_rate

    def value_share(self, m: Month) -> None:
        """The partner points a member can expect a month, at the value of a point."""
        back = self.p.use_share * self._points_per_use() * self.points.reward_value / self.points.redemption_threshold
        if back:
            m.add_worth(back)

    def purchase_rate(self, m: Month) -> None:
        """Who buys at a partner this month: their points, for the points instrument to add;
        and who would take a reward there, for it to pay out after its own redemptions."""
        sim, p = self.sim, self.p
        members = sim.member_slots
        self.earners = members[sim.uniform_at("partner_use", members) < p.use_share]
        m.extra_points = sim.scratch("extra_points", 0.0)
        m.extra_points[self.earners] = self._points_per_use()
        if p.burn_probability:
            asking = members[sim.uniform_at("partner_burn", members) < p.burn_probability]
            reward = (p.partner_reward_points, p.partner_reward_value, p.partner_reward_cost)
            m.partner_rewards = (asking, *reward, "cost_partner_rewards")

    def after_purchases(self, m: Month) -> None:
        m.contact_at(self.earners)  # (the points arrive: the member hears from the program)
        issued = self.earners.size * self._points_per_use()
        m.charge_at("cost_partner_points", self.earners, -self.p.price_per_point * self._points_per_use())
        m.record("partner_points", issued)
        m.record("partner_earners", float(self.earners.size))
