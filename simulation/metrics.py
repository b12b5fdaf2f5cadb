"""How result metrics read: label, kind of number and which direction is better. No Streamlit here.

The engine names its metrics (`retention_12m`, `cost_rewards`, ...); this module only
decides how a person sees them. Unknown metrics fall back to a tidy version of their name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import instruments
from .describe import level_label, money, with_currency


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    kind: str  # share (0..1, shown as %), money, count, score, months, number
    better: int = 1  # +1 higher is better, -1 lower is better, 0 neither


_SPECIAL = {
    "active_customers_end": ("Active customers at end", "count", 1),
    "members_end": ("Members at end", "count", 1),
    "revenue": ("Revenue", "money", 1),
    "gross_margin": ("Gross margin", "money", 1),
    "program_cost": ("Program cost", "money", -1),
    "acquisition_cost": ("Acquisition cost", "money", -1),
    "net_profit": ("Net profit", "money", 1),
    "clv_mean": ("Customer lifetime value", "money", 1),
    "nps_end": ("NPS at end", "score", 1),
    "repurchase_rate": ("Repurchase within 12 months (starting base)", "share", 1),
    "repurchase_rate_acquired": ("Repurchase within 12 months (new customers)", "share", 1),
    "upsell_spend_share": ("Upsell share of spend", "share", 1),
    "loyalty_index": ("Customer loyalty index", "number", 1),
    "engagement": ("Engagement", "share", 1),
    "acquisitions": ("New customers", "count", 1),
    "roi": ("Return on investment", "share", 1),
    "payback_month": ("Payback month", "months", -1),
    "payback_share": ("Replications that pay back", "share", 1),
    "cost_per_retained_customer": ("Cost per retained customer", "money", -1),
    # monthly series
    "active_customers": ("Active customers", "count", 1),
    "members": ("Members", "count", 1),
    "retention": ("Retention", "share", 1),
    "retention_end": ("Retention at the end", "share", 1),
    "purchases": ("Purchases", "count", 1),
    "net_profit_cumulative": ("Cumulative net profit", "money", 1),
    "churned": ("Churned customers", "count", -1),
    "nps": ("NPS", "score", 1),
    "clv_acquired_mean": ("Lifetime value of new customers", "money", 1),
    "list_sales": ("Sales at list price", "money", 1),
    "upsell": ("Upsell spend", "money", 1),
    "active_members": ("Members buying or in contact", "count", 1),
    "members_active": ("Members not dormant", "count", 1),
    "members_dormant_new": ("Members gone dormant", "count", -1),
    "members_left": ("Members who left the program", "count", -1),
    "members_losing_value": ("Members taking a phase as a loss", "count", -1),
    "moved_up": ("Customers moving up a level", "count", 1),
    "moved_down": ("Customers moving down a level", "count", -1),
    "recommendations": ("Recommendations", "count", 1),
    "complaints": ("Complaints", "count", -1),
    "prospects_lost": ("Prospects lost to complaints", "count", -1),
}

_SPECIAL.update({name: (m.label, m.kind, m.better) for name, m in instruments.metric_specs().items()})
# prefixes of per-item series an instrument declares (members per tier: `tier_Gold`)
_PREFIXES = {p: m for cls in instruments.REGISTRY.values() for p, m in cls.metric_prefixes.items()}

# how the customer groups of the CLV table read (`source`: where a customer came from)
GROUP_LABELS = {
    "initial": "Starting base",
    "paid": "Paid acquisition",
    "word_of_mouth": "Word of mouth",
    "referral": "Referral",
}


# how the CLV table's ways of grouping customers read (an instrument may add its own: tiers)
GROUP_BY_LABELS = {
    "segment": "Segment",
    **{g: label for cls in instruments.REGISTRY.values() for g, label in cls.clv_group_labels.items()},
    "source": "How they came",
}


def group_label(group: str) -> str:
    return GROUP_LABELS.get(group, group)


# the order of the summary table: headline first, then money, then the rest (the
# instruments' cost lines and summary figures in registry order)
ORDER = (
    "retention_12m",
    "retention_24m",
    "retention_36m",
    "net_profit",
    "roi",
    "payback_month",
    "payback_share",
    "clv_mean",
    "nps_end",
    "program_cost",
    "cost_per_retained_customer",
    "active_customers_end",
    "members_end",
    "revenue",
    "gross_margin",
    "cost_discounts",
    *instruments.cost_lines(),
    "cost_shipping",
    "cost_member_service",
    "cost_fixed",
    "acquisition_cost",
    "repurchase_rate",
    "repurchase_rate_acquired",
    "upsell_spend_share",
    "loyalty_index",
    "engagement",
    *(name for cls in instruments.REGISTRY.values() for name in cls.summary_order),
    "acquisitions",
)


def metric(name: str) -> Metric:
    if name in _SPECIAL:
        return Metric(name, *_SPECIAL[name])
    if name.startswith("retention_") and name.endswith("m"):
        return Metric(name, f"Retention after {name[10:-1]} months", "share", 1)
    if name.startswith("cost_"):
        return Metric(name, "Cost: " + name[5:].replace("_", " "), "money", -1)
    if name.startswith("level_"):
        return Metric(name, level_label(name[6:]), "count", 0)
    for prefix, spec in _PREFIXES.items():
        if name.startswith(prefix):
            return Metric(name, spec.label + name[len(prefix) :], spec.kind, spec.better)
    return Metric(name, name.replace("_", " ").capitalize(), "number", 0)


def sort_key(name: str) -> tuple[int, str]:
    return (ORDER.index(name), name) if name in ORDER else (len(ORDER), name)


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: float | None, kind: str, currency: str = "kr", signed: bool = False) -> str:
    """A value as a person reads it: money to three significant figures with its unit (`kr 5.87 M`),
    `signed` for changes (`+2.1 pp`, `-kr 300`)."""
    if is_missing(value):
        return "–"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    body = _unsigned(abs(value), kind, currency, signed)
    return (sign if any(c in body for c in "123456789") else "") + body  # (no "-0.0 pp")


# figures of the program against its twin (results.RATIO_METRICS and the share that pays back):
# their incremental value is the figure itself, not a change, so it is shown unsigned
CONTRASTS = ("roi", "payback_month", "payback_share", "cost_per_retained_customer")


def shown(name: str, value: float | None, arm: str = "program", currency: str = "kr") -> str:
    """`fmt` of a result metric of an arm: incremental values signed unless a figure in itself."""
    kind = metric(name).kind
    return fmt(value, kind, currency, signed=arm == "incremental" and name not in CONTRASTS and kind != "months")


def shown_interval(
    name: str, low: float | None, high: float | None, arm: str = "incremental", currency: str = "kr"
) -> str:
    if is_missing(low) or is_missing(high):
        return "–"
    return f"{shown(name, low, arm, currency)} to {shown(name, high, arm, currency)}"


def _unsigned(a: float, kind: str, currency: str, signed: bool) -> str:
    if kind == "share":
        return f"{100 * a:.1f} {'pp' if signed else '%'}"
    if kind == "money":
        compact = _compact(a)
        return with_currency(compact, currency) if compact else money(round(a) if a >= 100 else round(a, 2), currency)
    if kind == "count":
        return f"{a:,.0f}"
    if kind == "score":
        return f"{a:.1f}"
    if kind == "months":
        return f"{a:.1f} months" if signed else f"month {a:.0f}"
    return f"{a:,.3g}" if a < 1000 else f"{a:,.0f}"


def _compact(a: float) -> str:
    """A non-negative amount from 10,000 up to three significant figures: 5,865,080 -> `5.87 M`,
    45,310 -> `45.3 k`; "" below (written in whole units, or with cents below 100)."""
    rounded = float(f"{a:.3g}")  # 999,999 -> 1.00 M, not 1e+03 k
    for threshold, size, unit in ((1e9, 1e9, "bn"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if rounded >= threshold:
            return f"{rounded / size:.3g} {unit}"
    return ""


def fmt_interval(low: float | None, high: float | None, kind: str, currency: str = "kr", signed: bool = True) -> str:
    if is_missing(low) or is_missing(high):
        return "–"
    return f"{fmt(low, kind, currency, signed)} to {fmt(high, kind, currency, signed)}"
