"""A plain-language summary of a program design, for a client to read.

Pure Python: `describe(scenario)` returns a short list of sentences; `summary(scenario)`
joins them. Numbers are printed the way a person says them: "1 point per kr 10",
"a kr 50 reward at 500 points", "points expire after 12 months without activity".
"""

from __future__ import annotations

from .instruments import REGISTRY
from .instruments.wording import count, join, money, months, num, pct, with_currency  # noqa: F401  (money: re-exported)
from .schema import LEVEL_LABELS, LEVELS, Scenario


# --------------------------------------------------------------------------- whole scenario
def describe_customers(s: Scenario) -> str:
    c = s.customers
    if len(c.segments) == 1:
        segs = ""
    else:
        segs = (
            " in "
            + count(len(c.segments), "segment")
            + " ("
            + ", ".join(f"{seg.name} {num(100 * seg.share, 1)} %" for seg in c.segments)
            + ")"
        )
    text = f"{c.size:,} customers{segs}"
    if not s.program.active_instruments():
        return text + "."
    joining = sum(seg.share * seg.enrollment_propensity for seg in c.segments)
    return text + (
        f"; at most about {pct(joining)} of them would join a program worth far more than the effort,"
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
    return f"Running the program costs {join(parts)}." if parts else ""


def describe(scenario: Scenario) -> list[str]:
    """Sentences a client understands, one per instrument plus customers and costs."""
    cur = scenario.economics.currency
    program = scenario.program
    lines = [describe_customers(scenario)]
    active = program.active_instruments()
    for key, block in active.items():
        lines.append(REGISTRY[key].describe(block, cur))
    off = [module.label for key, module in REGISTRY.items() if getattr(program, key) is not None and key not in active]
    if off:
        lines.append(f"Switched off: {join(off)}.")
    if not active:
        lines.append("No program instrument is switched on, so the program arm is the same as the baseline.")
    if scenario.pilot is not None and active:
        from .pilot import caption

        lines.append(caption(scenario))
    if scenario.phases.changes and active:
        from .phases import describe as phases

        lines.append(phases(scenario))
    lines.append(describe_costs(scenario))
    sim = scenario.simulation
    lines.append(
        f"Simulated over {months(sim.horizon_months)} with {count(sim.replications, 'replication')} "
        f"(seed {sim.seed}), against the same customers without the program."
    )
    return [line for line in lines if line]


def summary(scenario: Scenario) -> str:
    return " ".join(describe(scenario))


def level_label(level: str) -> str:
    """`very_satisfied` -> `Very satisfied` (and anything else unchanged)."""
    return dict(zip(LEVELS, LEVEL_LABELS, strict=True)).get(level, level)
