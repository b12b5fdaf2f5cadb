"""A plain-language summary of a program design, for a client to read.

Pure Python: `describe(scenario)` returns a short list of sentences; `summary(scenario)`
joins them. Numbers are printed the way a person says them: "1 point per kr 10",
"a kr 50 reward at 500 points", "points expire after 12 months without activity".
"""

from __future__ import annotations

from .schema import (
    LEVEL_LABELS,
    LEVELS,
    Points,
    Referral,
    Scenario,
    Subscription,
    Tier,
    Tiers,
)

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _num(x: float, digits: int = 2) -> str:
    """A number without trailing zeros and with thousands separators: 1,500 / 0.5 / 12."""
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".")


def _count(n: int, word: str, plural: str | None = None) -> str:
    name = word if n == 1 else (plural or word + "s")
    return f"{_NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else _num(n)} {name}"


def _pct(x: float) -> str:
    return f"{_num(100 * x, 1 if abs(x) >= 0.01 else 2)} %"


def money(x: float, currency: str) -> str:
    """`kr 10`, `$10`, `€2.50`: symbols stick to the number, codes and words get a space."""
    digits = 0 if abs(x - round(x)) < 1e-9 else 2
    return with_currency(f"{x:,.{digits}f}", currency)


def with_currency(amount: str, currency: str) -> str:
    sep = "" if len(currency) == 1 and not currency.isalpha() else " "
    return f"{currency}{sep}{amount}"


def _months(n: int) -> str:
    return _count(n, "month")


def _join(parts: list[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- instruments
def describe_points(p: Points, currency: str) -> str:
    if p.earn_rate == 0:
        earn = "members earn no points on purchases"
    elif p.earn_rate < 1:
        earn = f"1 point per {money(1 / p.earn_rate, currency)} spent"
    else:
        per = with_currency("1", currency) if len(currency) == 1 and not currency.isalpha() else currency
        earn = f"{_num(p.earn_rate)} point{'s' if p.earn_rate != 1 else ''} per {per} spent"  # per kr / per $1
    reward = f"a {money(p.reward_value, currency)} reward at {_num(p.redemption_threshold)} points"
    if p.expiry_months == 0:
        expiry = "points never expire"
    elif p.expiry_policy == "inactivity":
        expiry = f"the balance expires after {_months(p.expiry_months)} without activity"
    else:
        expiry = f"points expire {_months(p.expiry_months)} after they are earned"
    parts = [f"Points: {earn}", reward, expiry]
    text = "; ".join(parts) + "."
    if p.activity_bonus_points > 0 and p.activity_probability > 0:
        text += (
            f" App and web users can earn {_num(p.activity_bonus_points)} bonus points a month"
            " for app use, reviews and other activities."
        )
    value_per_spend = p.earn_rate * p.reward_value / p.redemption_threshold
    cost_per_spend = p.earn_rate * p.reward_cost / p.redemption_threshold
    if value_per_spend > 0:
        text += (
            f" That gives back {_pct(value_per_spend)} of spend to the customer"
            f" at a cost of {_pct(cost_per_spend)} of spend to you if every point is redeemed"
            + (
                f", plus the margin given up on the {_pct(p.redemption_replaces_purchase)} of rewards"
                " that replace a purchase the member would have paid for."
                if p.redemption_replaces_purchase > 0
                else "."
            )
        )
    return text


def _tier_benefits(t: Tier, currency: str) -> str:
    benefits = []
    if t.discount > 0:
        benefits.append(f"{_pct(t.discount)} off")
    if t.earn_multiplier != 1:
        benefits.append(f"{_num(t.earn_multiplier)}x points")
    if t.free_shipping:
        benefits.append("free shipping")
    if t.perk_cost_per_member_month > 0:
        benefits.append(f"perks costing {money(t.perk_cost_per_member_month, currency)} a month")
    return _join(benefits)


def describe_tiers(t: Tiers, currency: str) -> str:
    metric = {"spend": "spend", "points": "points earned", "visits": "visits"}[t.qualifying_metric]

    def threshold(x: float) -> str:
        if t.qualifying_metric == "spend":
            return money(x, currency)
        return f"{_num(x)} {'points' if t.qualifying_metric == 'points' else 'visits'}"

    items = []
    for tier in t.tiers:
        benefits = _tier_benefits(tier, currency)
        where = "entry tier" if tier.threshold == 0 else f"from {threshold(tier.threshold)}"
        items.append(f"{tier.name} ({where}{': ' + benefits if benefits else ''})")
    text = (
        f"{_cap(_count(len(t.tiers), 'tier'))} by {metric} over {_months(t.qualification_window_months)}: "
        + "; ".join(items)
        + "."
    )
    if len(t.tiers) > 1:
        if t.downgrade_policy == "never":
            text += " Members are never downgraded."
        else:
            how = "one tier at a time" if t.downgrade_policy == "one_tier" else "to the tier they qualify for"
            grace = f" after {_months(t.downgrade_grace_months)} of grace" if t.downgrade_grace_months else ""
            text += f" Status is reviewed every {_months(t.review_every_months)}; members drop {how}{grace}."
    return text


def describe_subscription(s: Subscription, currency: str) -> str:
    period = "month" if s.billing_period_months == 1 else _months(s.billing_period_months)
    price = "free" if s.fee == 0 else f"{money(s.fee, currency)} per {period}"
    trial = f" after a {s.trial_months}-month free trial" if s.trial_months else ""
    benefits = []
    if s.discount > 0:
        benefits.append(f"{_pct(s.discount)} off every purchase")
    if s.free_shipping:
        benefits.append("free shipping")
    if s.exclusive_access_value > 0:
        benefits.append(f"exclusive access worth {money(s.exclusive_access_value, currency)} a month")
    return f"A paid club at {price}{trial}" + (f": {_join(benefits)}." if benefits else ".")


def describe_referral(r: Referral, currency: str) -> str:
    rewards = f"{money(r.referrer_reward_cost, currency)} for the member who refers"
    if r.two_sided:
        rewards += f" and {money(r.referee_reward_cost, currency)} for the new customer"
    cap = (
        f", at most {_count(r.max_referrals_per_referrer, 'rewarded referral')} per member"
        if r.max_referrals_per_referrer
        else ""
    )
    return f"Refer a friend: {rewards}{cap}."


_DESCRIBERS = {
    "points": describe_points,
    "tiers": describe_tiers,
    "subscription": describe_subscription,
    "referral": describe_referral,
}


# --------------------------------------------------------------------------- whole scenario
def describe_customers(s: Scenario) -> str:
    c = s.customers
    if len(c.segments) == 1:
        segs = ""
    else:
        segs = (
            " in "
            + _count(len(c.segments), "segment")
            + " ("
            + ", ".join(f"{seg.name} {_num(100 * seg.share, 1)} %" for seg in c.segments)
            + ")"
        )
    text = f"{c.size:,} customers{segs}"
    if not s.program.active_instruments():
        return text + "."
    joining = sum(seg.share * seg.enrollment_propensity for seg in c.segments)
    return text + (
        f"; at most about {_pct(joining)} of them would join a program worth far more than the effort,"
        " signing up at their purchases over the first months."
    )


def describe_costs(s: Scenario) -> str:
    e, cur = s.economics, s.economics.currency
    parts = []
    if e.cost_per_member_per_month:
        parts.append(f"{money(e.cost_per_member_per_month, cur)} per member a month")
    if e.program_fixed_cost_per_month:
        parts.append(f"{money(e.program_fixed_cost_per_month, cur)} a month to run")
    if e.launch_cost:
        parts.append(f"{money(e.launch_cost, cur)} to launch")
    return f"Running the program costs {_join(parts)}." if parts else ""


def describe(scenario: Scenario) -> list[str]:
    """Sentences a client understands, one per instrument plus customers and costs."""
    cur = scenario.economics.currency
    program = scenario.program
    lines = [describe_customers(scenario)]
    active = program.active_instruments()
    for key, block in active.items():
        lines.append(_DESCRIBERS[key](block, cur))
    off = [
        str(type(program).model_fields[key].title or key)
        for key in _DESCRIBERS
        if getattr(program, key) is not None and key not in active
    ]
    if off:
        lines.append(f"Switched off: {_join(off)}.")
    if not active:
        lines.append("No program instrument is switched on, so the program arm is the same as the baseline.")
    if scenario.pilot is not None and active:
        from .pilot import caption

        lines.append(caption(scenario))
    lines.append(describe_costs(scenario))
    sim = scenario.simulation
    lines.append(
        f"Simulated over {_months(sim.horizon_months)} with {_count(sim.replications, 'replication')} "
        f"(seed {sim.seed}), against the same customers without the program."
    )
    return [line for line in lines if line]


def summary(scenario: Scenario) -> str:
    return " ".join(describe(scenario))


def level_label(level: str) -> str:
    """`very_satisfied` -> `Very satisfied` (and anything else unchanged)."""
    return dict(zip(LEVELS, LEVEL_LABELS, strict=True)).get(level, level)
