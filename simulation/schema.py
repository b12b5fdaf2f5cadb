"""The scenario schema: the single source of truth for scenario files.

Validation, defaults, units, help texts, the JSON Schema (`lojal schema`), the scenario
reference in the docs and the app's widgets all come from these models. Every field
carries a label, a unit and a help text in its metadata; `field_info()` reads them back.

The program's instrument blocks are declared in their own files (`instruments/`) and
`Program` is built from the instrument registry; the bits those files share with this
module (the field helper `F`, `Base`, per-level values) are in `schema_base.py`.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from . import instruments
from .schema_base import (  # noqa: F401  (re-exported: the schema's public names)
    LEVEL_LABELS,
    LEVELS,
    NPS_ANSWER_LEVEL,
    Base,
    F,
    Instrument,
    LevelProbabilities,
    LevelShares,
    LevelValues,
    Share,
    levels,
    probs,
    shares,
)

SCHEMA_VERSION = 1

# --------------------------------------------------------------------------- meta
# A short fixed list, not free text: the Scenario library groups and filters by it, and
# "Retail", "retail " and "Retailing" would be three groups. The labels are the library's headings.
INDUSTRIES = {
    "food_service": "Coffee, restaurants and food service",
    "grocery": "Grocery",
    "fashion": "Fashion and apparel",
    "beauty": "Beauty and health",
    "home_diy": "Home and DIY",
    "online_retail": "Online retail",
    "travel": "Travel and hospitality",
    "financial_services": "Financial services",
    "b2b": "Business to business",
    "other": "Other",
}
Industry = Literal[tuple(INDUSTRIES)]  # type: ignore[valid-type]


class Meta(Base):
    name: str = F("Untitled scenario", label="Name", help="Short name of the scenario.", min_length=1)
    description: str = F("", label="Description", help="What this design is and why.")
    author: str = F("", label="Author", help="Who wrote the scenario.")
    client: str = F("", label="Client", help="Client or brand the design is for.")
    industry: Industry | None = F(None, label="Industry", help="The client's line of business, from a short fixed list; the Scenario library groups and filters scenarios by it. Leave it out when none fits; it changes no result.")
    schema_version: Literal[1] = F(SCHEMA_VERSION, label="Schema version", help="Version of the scenario format.")


# --------------------------------------------------------------------------- customers
class Segment(Base):
    name: str = F("All customers", label="Segment", help="Name of the segment.", min_length=1)
    share: float = F(1.0, label="Share", unit="share of customers", help="Share of the customer base (and of new customers) in this segment.", gt=0, le=1)
    purchases_per_month: float = F(1.0, label="Purchases per month", unit="purchases/month", help="Mean purchase rate of a satisfied customer in this segment.", gt=0, le=60)
    purchase_rate_shape: float = F(2.0, label="Rate heterogeneity (shape)", unit="gamma shape", help="Shape of the gamma distribution of individual purchase rates; smaller means more unequal customers (CV = 1/sqrt(shape)).", gt=0, le=1000)
    basket_value: float = F(30.0, label="Basket value", unit="currency/purchase", help="Mean value of one purchase at list price.", gt=0)
    basket_cv: float = F(0.5, label="Basket variation (CV)", unit="coefficient of variation", help="Spread of mean basket values across customers (lognormal).", ge=0, le=5)
    gross_margin: float = F(0.35, label="Gross margin", unit="share of sales", help="Product margin on sales before program costs.", ge=0, le=1)
    initial_ladder: LevelShares | None = F(None, label="Initial ladder", unit="shares", help="Share of the segment on each satisfaction level at the start. Leave out to use NPS answer counts or the default mix.")
    initial_nps_counts: list[Annotated[int, Field(ge=0)]] | None = F(None, label="NPS answer counts", unit="respondents per answer 0..10", help="Eleven counts of survey answers 0..10; sets the initial ladder (0-2, 3-4, 5-6, 7-8, 9, 10).", min_length=11, max_length=11)
    enrollment_propensity: float = F(0.4, label="Enrolment propensity", unit="share", help="Share of the segment willing to join a program worth far more than the effort of joining (fewer join a less valuable one; see program.membership).", ge=0, le=1)
    digital_share: float = F(0.5, label="Digital share", unit="share", help="Share of customers using the app or web account (they earn activity bonuses).", ge=0, le=1)
    price_sensitivity: float = F(1.0, label="Price sensitivity", unit="multiplier", help="Purchase-rate response to discounts: the rate rises by sensitivity x discount.", ge=0, le=10)
    status_sensitivity: float = F(1.0, label="Status sensitivity", unit="multiplier", help="Scales the satisfaction effect of tier upgrades and downgrades.", ge=0, le=10)
    churn_multiplier: float = F(1.0, label="Churn multiplier", unit="x", help="Scales the churn by level for this segment (fitted by `lojal calibrate` on a client's transactions; 1 = the ladder's churn as it is).", ge=0, le=50)

    @model_validator(mode="after")
    def _one_ladder_source(self) -> Segment:
        if self.initial_ladder is not None and self.initial_nps_counts is not None:
            raise ValueError("give initial_ladder or initial_nps_counts, not both")
        if self.initial_nps_counts is not None and sum(self.initial_nps_counts) == 0:
            raise ValueError("initial_nps_counts: at least one answer is needed")
        return self

    def ladder_shares(self) -> tuple[float, ...]:
        """The initial ladder distribution, from whichever source the file gives."""
        if self.initial_ladder is not None:
            return self.initial_ladder.as_tuple()
        if self.initial_nps_counts is not None:
            counts = [0.0] * len(LEVELS)
            for answer, n in enumerate(self.initial_nps_counts):
                counts[NPS_ANSWER_LEVEL[answer]] += n
            total = sum(counts)
            return tuple(c / total for c in counts)
        return DEFAULT_INITIAL_LADDER.as_tuple()


DEFAULT_INITIAL_LADDER = shares(0.01, 0.07, 0.21, 0.27, 0.27, 0.17)  # the default ladder's steady state


class Ladder(Base):
    purchase_rate_multiplier: LevelValues = F(levels(0.1, 0.3, 0.5, 1.0, 1.6, 2.5), label="Purchase rate by level", unit="x satisfied rate", help="Purchase rate relative to a satisfied customer.")
    upsell_share: LevelValues = F(levels(0.0, 0.0, 0.0, 0.05, 0.15, 0.30), label="Upsell by level", unit="share of basket", help="Extra basket value (upsell, cross-sell) on top of the customer's base basket.")
    churn_per_month: LevelProbabilities = F(probs(0.20, 0.08, 0.04, 0.02, 0.01, 0.004), label="Churn by level", unit="probability/month", help="Probability of leaving for good in a month.")
    forgiveness: LevelValues = F(levels(1.0, 1.0, 1.0, 1.0, 0.6, 0.2), label="Failure sensitivity by level", unit="x", help="Scales the chance that a bad experience moves a customer down (loyal customers forgive).")
    climb: LevelValues = F(levels(1.0, 1.0, 1.0, 1.0, 0.25, 0.0), label="Climb by level", unit="x", help="Scales the chance that a good experience lifts a customer from this level (loyalty is earned slowly).")
    positive_experience: float = F(0.06, label="Positive experience per month", unit="probability", help="Chance that a month with purchases delights and moves the customer one level up. `lojal hold` (Results: Hold today's NPS) finds the value at which NPS without the program stays where it is.", ge=0, le=1)
    negative_experience: float = F(0.05, label="Negative experience per month", unit="probability", help="Chance that a month with purchases disappoints and moves the customer one level down (judged a month at a time: frequent buyers do not fall faster).", ge=0, le=1)
    drift_without_contact: float = F(0.05, label="Drift without contact", unit="probability/month", help="Chance of sliding one level down in a month with no purchase and no program contact.", ge=0, le=1)
    new_customer_basket_multiplier: float = F(0.76, label="New-customer basket", unit="x", help="Basket of a customer in the first year relative to an established one (existing customers spend ~31 % more).", gt=0, le=2)
    new_customer_months: int = F(12, label="New-customer period", unit="months", help="How long a customer counts as new.", ge=0, le=120)


class WordOfMouth(Base):
    listeners_per_month: LevelValues = F(levels(0, 0, 0, 0.1, 0.5, 2.0), label="Recommendations by level", unit="listeners/month", help="People a customer recommends the brand to per month.")
    complaint_listeners: LevelValues = F(levels(25, 10, 0, 0, 0, 0), label="Complaints by level", unit="listeners", help="People a customer complains to when falling to this level.")
    conversion_per_listener: float = F(0.05, label="Conversion of a recommendation", unit="probability", help="Chance that a person who hears a recommendation becomes a customer.", ge=0, le=1)
    deterrence_per_listener: float = F(0.02, label="Deterrence of a complaint", unit="probability", help="Chance that a person who hears a complaint is a prospect lost.", ge=0, le=1)


class Acquisition(Base):
    paid_per_month: int = F(0, label="Paid acquisitions", unit="customers/month", help="New customers bought through advertising each month (in both arms). `lojal hold --customers` (Results: Hold NPS and customers) finds the number that keeps the base's size without the program.", ge=0)
    initial_ladder: LevelShares = F(shares(0.0, 0.03, 0.25, 0.45, 0.22, 0.05), label="Ladder of new customers", unit="shares", help="Satisfaction level of a newly acquired customer.")


class Customers(Base):
    size: int = F(20_000, label="Customers", unit="customers", help="Size of the customer base at the start.", ge=1, le=20_000_000)
    segments: list[Segment] = F([Segment()], label="Segments", help="Customer segments; their shares sum to 1.", min_length=1)
    ladder: Ladder = F(Ladder(), label="Satisfaction ladder", help="How customers move between satisfaction levels, buy and churn.")
    word_of_mouth: WordOfMouth = F(WordOfMouth(), label="Word of mouth", help="Recommendations bring customers; complaints keep prospects away.")
    acquisition: Acquisition = F(Acquisition(), label="Acquisition", help="New customers bought through advertising.")

    @model_validator(mode="after")
    def _segments(self) -> Customers:
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segments: shares must sum to 1 (got {total:g})")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segments: names must be unique")
        return self


class Membership(Base):
    enrollment_per_purchase: float = F(0.15, label="Sign-up per purchase", unit="probability", help="Chance that a customer willing to join signs up at one purchase (so frequent buyers join sooner and enrolment ramps up after launch).", ge=0, le=1)
    enrollment_effort: float = F(0.01, label="Effort of joining", unit="share of spend", help="The hassle of joining and using the program, as value back per unit spent: a customer is willing with the segment's propensity x value / (value + effort).", ge=0, le=1)
    value_scale: float = F(0.05, label="Value scale", unit="share of spend", help="Value back per unit spent at which a program gives 63 % of its full effect (diminishing returns: 1 - exp(-value / scale)).", gt=0, le=1)
    dormancy_per_month: float = F(0.10, label="Dormancy", unit="probability/month", help="Chance that an active member stops using a program worth nothing (less for a valuable one).", ge=0, le=1)
    dormancy_value_protection: float = F(0.5, label="Value keeps members active", unit="share", help="How much a program at full value cuts dormancy.", ge=0, le=1)
    complexity_dormancy: float = F(0.15, label="Complexity penalty", unit="x per instrument", help="Extra dormancy for each instrument beyond the first (a complicated program is dropped).", ge=0, le=5)
    reactivation_per_month: float = F(0.04, label="Reactivation", unit="probability/month", help="Chance that a dormant member uses the program again in a month.", ge=0, le=1)
    abandonment_per_month: float = F(0.03, label="Abandonment", unit="probability/month", help="Chance that a dormant member leaves the program for good in a month.", ge=0, le=1)


class ProgramBase(Base):
    """The program: membership, then one optional block per registered instrument (added by
    `_program_model` from `instruments.REGISTRY`)."""

    membership: Membership = F(
        Membership(),
        label="Membership",
        help="How customers join, use, neglect and leave the program (for every instrument).",
    )

    @model_validator(mode="after")
    def _across_instruments(self) -> ProgramBase:
        for key, module in instruments.REGISTRY.items():
            if key in self.active_instruments():
                module.check_program(self)  # (a ValueError names the field)
        return self

    def active_instruments(self) -> dict[str, Instrument]:
        """The instrument blocks that are present and enabled, in registry order."""
        out = {}
        for name in INSTRUMENT_KEYS:
            block = getattr(self, name)
            if block is not None and block.enabled:
                out[name] = block
        return out


def _program_model() -> type[ProgramBase]:
    blocks = {
        key: (module.schema | None, F(None, label=module.label, help=module.help))
        for key, module in instruments.REGISTRY.items()
    }
    return create_model("Program", __base__=ProgramBase, __module__=__name__, **blocks)


Program = _program_model()
INSTRUMENT_KEYS = tuple(instruments.REGISTRY)
INSTRUMENT_MODELS: dict[str, type[Instrument]] = {key: m.schema for key, m in instruments.REGISTRY.items()}
globals().update({m.schema.__name__: m.schema for m in instruments.REGISTRY.values()})  # (schema.Points, ...)


# --------------------------------------------------------------------------- economics, simulation
class Economics(Base):
    currency: str = F("kr", label="Currency", help="Currency symbol used in reports.", min_length=1, max_length=8)
    annual_discount_rate: float = F(0.10, label="Discount rate", unit="per year", help="Rate used to discount future margin in CLV.", ge=0, le=1)
    shipping_cost_per_order: float = F(0.0, label="Shipping cost", unit="currency/order", help="What the company pays to ship an order that ships free.", ge=0)
    cost_per_acquisition: float = F(50.0, label="Cost per acquisition", unit="currency/customer", help="Advertising cost of one paid new customer.", ge=0)
    program_fixed_cost_per_month: float = F(0.0, label="Program running cost", unit="currency/month", help="Platform and staff cost of running the program.", ge=0)
    cost_per_member_per_month: float = F(0.1, label="Cost per member", unit="currency/member/month", help="Communication and administration per member.", ge=0)
    launch_cost: float = F(0.0, label="Launch cost", unit="currency", help="One-off cost at launch.", ge=0)


class Simulation(Base):
    horizon_months: int = F(36, label="Horizon", unit="months", help="Months simulated.", ge=1, le=120)
    replications: int = F(10, label="Replications", unit="runs", help="Independent replications; results show their mean and 5-95 % interval.", ge=1, le=1000)
    seed: int = F(42, label="Seed", help="Random seed; the same file and seed give identical numbers.", ge=0, le=2**63 - 1)


class ParameterRange(Base):
    """The range one judgement parameter is sampled over (`uncertainty.parameters`)."""

    low: float = F(label="Low", help="Lowest value (for a `[]` path: lowest multiplier of every item's own value).")
    high: float = F(label="High", help="Highest value (for a `[]` path: highest multiplier).")
    dist: Literal["uniform", "triangular"] = F("uniform", label="Shape", help="'uniform' over low..high, or 'triangular' with its mode at the scenario's own value (clipped into the range).")

    @model_validator(mode="after")
    def _ordered(self) -> ParameterRange:
        if self.low > self.high:
            raise ValueError(f"low must be <= high (got low {self.low:g}, high {self.high:g})")
        return self


class Uncertainty(Base):
    sample: Literal["none", "judgement"] = F("none", label="Sample assumptions", help="'none': every parameter as written; 'judgement': every judgement parameter of the registry (docs/model.md section 11.1) that the scenario uses and does not list under `parameters` is sampled over its registry range around the scenario's value, one point per replication.")
    method: Literal["lhs", "random"] = F("lhs", label="Sampling method", help="'lhs': Latin hypercube (each parameter's range cut into as many strata as replications, each stratum used once); 'random': independent uniform draws.")
    parameters: dict[str, ParameterRange] = F({}, label="Sampled parameters", help="Ranges by dotted path (e.g. program.points.goal_gradient: {low: 0.1, high: 0.3}); they add to or override the registry. For a path with `[]` (e.g. customers.segments[].price_sensitivity) low and high are multipliers applied to every item.")

    @model_validator(mode="after")
    def _known_paths(self) -> Uncertainty:
        if not self.parameters:
            return self
        from .uncertainty import check_range  # (the registry module imports this one)

        problems = [f"{path}: {msg}" for path, rng in self.parameters.items() if (msg := check_range(path, rng))]
        if problems:
            message = "parameters: " + "; ".join(problems)
            raise ValueError(message)
        return self


class Pilot(Base):
    """A pilot in part of the base with a held-out control group, then a rollout (simulation/pilot.py)."""

    share: float = F(0.3, label="Pilot group", unit="share of customers", help="Share of the customers (of the chosen segments) to whom the program opens at launch.", gt=0, le=1)
    control_share: float = F(0.3, label="Control group", unit="share of customers", help="Share held out as the control group: the program stays closed to them until the rollout, and the pilot is measured against them.", ge=0, le=1)
    segments: list[str] = F([], label="Segments in the test", choices_from="customers.segments[].name", help="Segments the pilot and control groups are drawn from (all when empty); as stores or regions, give them as segments.")
    offset: float = F(0.0, label="Pilot group starts at", unit="share of customers", help="Where the pilot group starts among the customers' group draws (0: the first share). An A/B test of two designs gives the second design the first one's share here, so that the two groups are disjoint parts of the same base (`lojal abtest`).", ge=0, lt=1)
    rollout_month: int = F(0, label="Rollout month", unit="month", help="Month from which the program is open to every customer (0 = never: the pilot runs to the horizon).", ge=0, le=120)
    alpha: float = F(0.05, label="Significance level", unit="probability", help="Two-sided significance level of the pilot's test (its interval is at 1 - alpha).", gt=0, lt=1)
    power: float = F(0.8, label="Power", unit="probability", help="Chance of detecting the true lift that the pilot size needed is worked out for.", gt=0, lt=1)

    @model_validator(mode="after")
    def _groups_fit(self) -> Pilot:
        if self.offset + self.share + self.control_share > 1 + 1e-9:
            raise ValueError(
                f"offset + share + control_share must be at most 1 (got {self.offset:g} + {self.share:g} + {self.control_share:g})"
            )
        return self


class Phase(Base):
    month: int = F(12, label="From month", unit="month", help="Month from which the changes hold (0 is the launch; the first phase can start at month 1).", ge=1, le=120)
    name: str = F("", label="Name", help="What the change is, as the client calls it (\"end of the launch offer\", \"cut in rewards\").")
    set: str = F("", label="Changes", help="The program fields that change, as `instrument.field=value`, separated by commas (e.g. `points.earn_rate=0.5, gifts.enabled=false`).")
    felt_as_loss: bool = F(True, label="Felt as benefits taken away", help="Members whose program is now worth less may fall a level (section 8.2). Off for a change they were told about at the start (the announced end of a launch offer).")


class Phases(Base):
    changes: list[Phase] = F([], label="Phases", help="Changes of the design at a month, in order of month.")
    takeaway_sensitivity: float = F(0.5, label="Reaction to benefits taken away", unit="probability", help="Chance that an enrolled member falls one level when a phase takes away all of the program's value (a share of it: that share of the chance).", ge=0, le=1)


class Scenario(Base):
    meta: Meta = F(Meta(), label="About", help="Name and description of the scenario.")
    customers: Customers = F(Customers(), label="Customers", help="The customer base and how customers behave.")
    program: Program = F(Program(), label="Program", help="The loyalty-program design: which instruments, with what settings.")
    economics: Economics = F(Economics(), label="Economics", help="Money: margins, costs and discounting.")
    simulation: Simulation = F(Simulation(), label="Simulation", help="Horizon, replications and seed.")
    uncertainty: Uncertainty = F(Uncertainty(), label="Uncertainty", help="Which behavioural assumptions to vary across replications, so that the intervals include what we do not know.")
    pilot: Pilot | None = F(None, label="Pilot", help="Start the program as a pilot in part of the base, measured against a held-out control group, and roll it out at a later month.")
    phases: Phases = F(Phases(), label="Phases", help="Change the design at a month: a richer launch offer that ends, a cut in rewards, an instrument closed.")

    @model_validator(mode="after")
    def _pilot_fits(self) -> Scenario:
        pilot = self.pilot
        if pilot is None:
            return self
        names = [s.name for s in self.customers.segments]
        unknown = [name for name in pilot.segments if name not in names]
        if unknown:
            raise ValueError(f"pilot.segments: no segment named {', '.join(map(repr, unknown))} (segments: {', '.join(names)})")
        if pilot.rollout_month > self.simulation.horizon_months:
            raise ValueError(f"pilot.rollout_month: {pilot.rollout_month} is after the horizon ({self.simulation.horizon_months} months)")
        return self


    @model_validator(mode="after")
    def _phases_fit(self) -> Scenario:
        if self.phases.changes:
            from . import phases

            phases.programs(self)
        return self

    @model_validator(mode="after")
    def _sampled_blocks_exist(self) -> Scenario:
        if not self.uncertainty.parameters:
            return self
        from .uncertainty import missing_block

        for path in self.uncertainty.parameters:
            block = missing_block(self, path)
            if block is not None:
                raise ValueError(f"uncertainty: parameters.{path}: this scenario has no `{block}` block (add it, or remove the range)")
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editors and `lojal schema`)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "lojal scenario"
    return schema


def field_info(model: type[BaseModel], name: str) -> dict[str, Any]:
    """Label, unit, help text and numeric bounds of one field, for the app and the docs."""
    info = model.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    bounds: dict[str, Any] = {}
    for meta in info.metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(meta, key, None) is not None:
                bounds[key] = getattr(meta, key)
    return {
        "name": name,
        "label": extra.get("label", name),
        "unit": extra.get("unit", ""),
        "choices_from": extra.get("choices_from", ""),
        "help": info.description or "",
        "default": info.get_default(call_default_factory=True),
        "annotation": info.annotation,
        **bounds,
    }


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: itself, or its items' (`X | None`, `list[X]`, `dict[str, X]`)."""
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(args):  # dict[str, X]: the value type is last
        found = _item_model(arg)
        if found is not None:
            return found
    return None


def path_labels(path: str | list[Any], names: Any = None) -> tuple[list[str], str]:
    """The labels along a path and the unit of the field it ends at. The path is dotted
    (`customers.segments.1.share`, `customers.segments[].share`) or a list of its parts (a
    key of `uncertainty.parameters` holds dots: one part). A list item is named by its `name`
    in `names` (a scenario, or its dump) when it has one, else `#n`; `[]` reads `each`."""
    labels: list[str] = []
    model: type[BaseModel] | None = Scenario
    unit, obj = "", names
    parts = [str(p) for p in path] if isinstance(path, list) else path.split(".")
    while parts:
        part = parts.pop(0)
        key, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        if model is None or key not in model.model_fields:
            labels.append(".".join([part, *parts]))  # not a field: shown as written
            break
        info = field_info(model, key)
        labels.append(info["label"])
        unit, obj = info["unit"] or unit, _child(obj, key)
        model = _item_model(info["annotation"])
        container = typing.get_origin(_strip_none(info["annotation"]))
        if each:
            labels.append("each")
        elif parts and container is dict:  # a key of uncertainty.parameters: a sampled parameter's path
            labels.append(parts.pop(0))
            obj = _child(obj, labels[-1])
        elif parts and parts[0].isdigit() and container is list:
            index = int(parts.pop(0))
            obj = _child(obj, index)
            labels.append(str(_child(obj, "name") or f"#{index + 1}"))
    return labels, unit


def _strip_none(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if type(None) in typing.get_args(annotation) and len(args) == 1 else annotation


def _child(obj: Any, key: Any) -> Any:
    """obj[key] or obj.key, None when there is none."""
    try:
        return obj[key] if isinstance(obj, (dict, list)) else getattr(obj, key, None)
    except (IndexError, KeyError, TypeError):
        return None


def path_label(path: str, names: Any = None) -> str:
    """`Customers › Segments › Families › Share` for `customers.segments.1.share`."""
    return " › ".join(path_labels(path, names)[0])


def short_label(path: str, names: Any = None) -> str:
    """`path_label` without the section (`Points › Reward delight` for
    `program.points.reward_satisfaction_lift`): where a chart or table names many assumptions."""
    labels = path_labels(path, names)[0]
    return " › ".join(labels[1:] if len(labels) > 1 else labels)
