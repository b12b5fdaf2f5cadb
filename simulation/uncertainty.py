"""What we don't know: judgement parameters sampled across replications.

- `REGISTRY`: one line per behavioural parameter whose value is a judgement call, with the
  range it plausibly lies in (as multipliers of the scenario's own value), the shape of
  the distribution and where the range comes from. To add a parameter, add one line.
- `sampled(scenario)`: the ranges a scenario samples (`uncertainty.sample: judgement` takes
  the registry, `uncertainty.parameters` adds or overrides ranges).
- `point(scenario, seed, replications, r)`: the values replication r uses. Each parameter
  has its own stream keyed by (seed, stable hash of its path, number of replications), so
  replication r of any two designs run with the same seed and replications gets the same
  quantile of every parameter: comparisons stay paired.
- `apply(scenario, values)`: the scenario with those values, through the `--set` override
  code of `scenario_io` (validated like a file).
- `sensitivity(...)`: how much of the spread of a result each sampled parameter explains.

docs/model.md section 11.1 gives the equations; `tests/test_uncertainty.py` checks that
every registry path exists in the schema and that the docs' table matches the registry.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from . import instruments, portable
from .instruments.base import Judgement
from .rng import generator, stable_hash
from .schema import ParameterRange, Scenario, field_info

if TYPE_CHECKING:
    import pandas as pd


J = Judgement
# the instruments that give discounts (price sensitivity matters only with one of them)
DISCOUNTS = tuple(f"program.{key}" for key, cls in instruments.REGISTRY.items() if cls.gives_discounts)
REGISTRY: dict[str, Judgement] = {
    # the satisfaction ladder (section 5)
    "customers.ladder.positive_experience": J(0.5, 1.5, source="judgement (±50 %): set jointly with the ladder so the default base is near a steady state, not estimated (section 12)"),
    "customers.ladder.negative_experience": J(0.5, 1.5, source="judgement (±50 %), as above"),
    "customers.ladder.drift_without_contact": J(0.5, 1.5, source="judgement (±50 %)"),
    "customers.ladder.churn_per_month.satisfied": J(0.5, 1.5, source="brief: 'may just as well go to a competitor'; the level is judgement (±50 %), the ratios to the other levels are the brief's"),
    "customers.ladder.churn_per_month.loyal": J(0.5, 1.5, source="brief: loyal about 5x less likely to leave than satisfied; ±50 %"),
    "customers.ladder.purchase_rate_multiplier.loyal": J(0.8, 1.2, source="brief's 'buys always' made numeric (2.5x satisfied); ±20 %"),
    "customers.word_of_mouth.listeners_per_month.loyal": J(0.5, 2.0, source="brief: 'tells everyone', scale calibrated with the conversion; x0.5-x2"),
    "customers.word_of_mouth.listeners_per_month.very_satisfied": J(0.5, 2.0, source="brief: 'tells some'; x0.5-x2"),
    # word of mouth (section 7)
    "customers.word_of_mouth.conversion_per_listener": J(0.4, 2.0, source="calibrated to the brief's word of mouth at about 2x paid acquisition; 0.02-0.10 at the default"),
    "customers.word_of_mouth.deterrence_per_listener": J(0.5, 2.0, source="East, Hammond & Lomax (2008): negative word of mouth weighs less than positive; 0.01-0.04 at the default"),
    # segments (one multiplier for every segment)
    "customers.segments[].enrollment_propensity": J(0.75, 1.25, source="judgement (±25 %): sign-up at launch, better known from pilots"),
    "customers.segments[].price_sensitivity": J(0.5, 1.5, source="judgement (±50 %)", needs=DISCOUNTS),
    "customers.segments[].status_sensitivity": J(0.5, 1.5, source="judgement (±50 %)", needs=("program.tiers",)),
    # enrolment (section 8)
    "program.membership.enrollment_per_purchase": J(0.33, 2.67, source="judgement: 0.05-0.4 at the default (docs/model.md section 8)"),
    "program.membership.enrollment_effort": J(0.3, 3.0, source="judgement after Kivetz & Simonson (2002): 0.003-0.03 at the default"),
    "program.membership.value_scale": J(0.4, 2.0, source="judgement: most programs return 1-5 % (Bijmolt et al. 2011); 0.02-0.10 at the default"),
    "program.membership.dormancy_per_month": J(0.5, 1.5, source="calibrated to about 40-50 % of memberships active (COLLOQUY 2015); 0.05-0.15 at the default"),
    "program.membership.dormancy_value_protection": J(0.4, 1.6, source="judgement: 0.2-0.8 at the default"),
    "program.membership.complexity_dormancy": J(0.0, 2.67, source="brief: complicated programs are dropped; 0-0.4 at the default"),
    "program.membership.reactivation_per_month": J(0.5, 2.0, source="judgement: 0.02-0.08 at the default"),
    "program.membership.abandonment_per_month": J(0.33, 2.0, source="judgement: 0.01-0.06 at the default"),
    # each instrument's own (its file's `judgements`, docs/model.md section 9), in registry order
    **instruments.judgements(),
}  # fmt: skip

RESIDUAL = "simulation noise and interactions"
# said under every result whose intervals cover simulation noise only
NOISE_ONLY = (
    "The intervals cover simulation noise only: the judgement calls behind the behaviour (how much a"
    " reward delights, how fast members go dormant, ...) are held at their values. Set"
    " uncertainty.sample: judgement to sample them over their documented ranges (docs/model.md 11.1)."
)
KEY_METRICS = ("net_profit", "roi", "retention_12m", "clv_mean", "nps_end")  # incremental arm


# --------------------------------------------------------------------------- paths
def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    ann = _strip_optional(annotation)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def field_at(path: str) -> tuple[type[BaseModel], str] | str:
    """The model and field name a dotted path (`[]` for every item of a list) ends at, or
    what is wrong with the path."""
    parts = path.split(".")
    if parts[0] in ("meta", "simulation", "uncertainty"):
        return f"`{parts[0]}` settings cannot be sampled"
    if path.count("[]") > 1:
        return "at most one list (`[]`) in a sampled path"
    model: type[BaseModel] = Scenario
    for i, part in enumerate(parts):
        name, is_list = (part[:-2], True) if part.endswith("[]") else (part, False)
        if name not in model.model_fields:
            return "not a field of the scenario (`lojal schema` lists the fields; lists are written `segments[]`)"
        annotation = _strip_optional(model.model_fields[name].annotation)
        last = i == len(parts) - 1
        if is_list:
            item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
            if _model(item) is None or last:
                return f"`{name}` is not a list of blocks with a field to sample"
            model = _model(item)
        elif last:
            if annotation is not float:
                return "not a decimal number (only decimal fields can be sampled)"
            return model, name
        else:
            if _model(annotation) is None:
                return f"`{name}` has no fields below it"
            model = _model(annotation)
    return "not a field of the scenario"


def check_range(path: str, rng: ParameterRange) -> str | None:
    """What is wrong with an explicit range in a scenario file, or None."""
    found = field_at(path)
    if isinstance(found, str):
        return found
    if "[]" in path:  # multipliers of every item's own value
        return "multipliers must be >= 0" if rng.low < 0 else None
    info = field_info(*found)
    for key, ok, word in (("ge", rng.low >= info.get("ge", -math.inf), ">="), ("gt", rng.low > info.get("gt", -math.inf), ">"),
                          ("le", rng.high <= info.get("le", math.inf), "<="), ("lt", rng.high < info.get("lt", math.inf), "<")):  # fmt: skip
        if key in info and not ok:
            end = "low" if key in ("ge", "gt") else "high"
            return f"{end} must be {word} {info[key]} (the field's bounds; got {getattr(rng, end):g})"
    return None


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part) if obj is not None else None
    return obj


def missing_block(scenario: Scenario, path: str) -> str | None:
    """The first block on `path` that the scenario leaves out (e.g. `program.points`), or None."""
    parts = path.split(".")
    obj: Any = scenario
    for i, part in enumerate(parts[:-1]):
        if part.endswith("[]"):
            return None
        obj = getattr(obj, part)
        if obj is None:
            return ".".join(parts[: i + 1])
    return None


def _in_use(scenario: Scenario, path: str) -> bool:
    """The path's blocks are present and not switched off (`enabled: false`)."""
    if missing_block(scenario, path) is not None:
        return False
    obj: Any = scenario
    for part in path.split(".")[:-1]:
        if part.endswith("[]"):
            break
        obj = getattr(obj, part)
        if getattr(obj, "enabled", True) is False:
            return False
    return True


def _bounds(path: str) -> tuple[float, float]:
    model, name = field_at(path)  # type: ignore[misc]  (a checked path)
    info = field_info(model, name)
    return info.get("ge", info.get("gt", -math.inf)), info.get("le", info.get("lt", math.inf))


# --------------------------------------------------------------------------- ranges and draws
@dataclass(frozen=True)
class Draw:
    """The distribution one parameter is sampled from in one scenario. For a `[]` path the
    values are multipliers of every item's own value."""

    path: str
    low: float
    high: float
    mode: float
    dist: str
    source: str

    @property
    def multiplier(self) -> bool:
        return "[]" in self.path

    def quantile(self, u: float) -> float:
        """Inverse CDF at u in [0, 1)."""
        lo, hi = self.low, self.high
        if self.dist == "uniform" or hi <= lo:
            return lo + u * (hi - lo)
        c = min(max(self.mode, lo), hi)
        at_mode = (c - lo) / (hi - lo)
        if u < at_mode:
            return lo + math.sqrt(u * (hi - lo) * (c - lo))
        return hi - math.sqrt((1 - u) * (hi - lo) * (hi - c))


def sampled(scenario: Scenario) -> dict[str, Draw]:
    """The parameters this scenario samples, in a stable order: the file's own ranges, then
    (with `sample: judgement`) every registry parameter in use and not listed there."""
    unc = scenario.uncertainty
    out: dict[str, Draw] = {}
    for path, rng in unc.parameters.items():
        centre = 1.0 if "[]" in path else float(_get(scenario, path))
        out[path] = Draw(path, rng.low, rng.high, min(max(centre, rng.low), rng.high), rng.dist, "scenario file")
    if unc.sample == "judgement":
        for path, j in REGISTRY.items():
            if path in out or not _in_use(scenario, path):
                continue
            if j.needs and not any(_in_use(scenario, block + ".x") for block in j.needs):
                continue
            if "[]" in path:
                out[path] = Draw(path, j.low, j.high, 1.0, j.dist, j.source)
                continue
            centre = float(_get(scenario, path))
            lo_bound, hi_bound = _bounds(path)
            low = min(max(centre * j.low, lo_bound), hi_bound)
            high = min(max(centre * j.high, lo_bound), hi_bound)
            if high > low:
                out[path] = Draw(path, low, high, centre, j.dist, j.source)
    return out


def unit_sample(seed: int, path: str, replications: int, method: str = "lhs") -> np.ndarray:
    """One uniform in [0, 1) per replication for one parameter.

    lhs: u_r = (pi(r) + v_r) / R with pi a random permutation of 0..R-1 and v_r uniform, so
    each of the R equal strata of [0, 1) is used exactly once. random: independent uniforms
    (not keyed by R: more replications keep the earlier points)."""
    key = [int(seed), stable_hash("uncertainty"), stable_hash(path)]
    if method == "lhs":
        gen = generator(*key, int(replications))
        perm = gen.permutation(replications)
        return (perm + gen.random(replications)) / replications
    return generator(*key).random(replications)


def point(scenario: Scenario, seed: int, replications: int, replication: int) -> dict[str, float]:
    """The values of the sampled parameters in replication `replication` of `replications`."""
    method = scenario.uncertainty.method
    return {
        path: draw.quantile(float(unit_sample(seed, path, replications, method)[replication]))
        for path, draw in sampled(scenario).items()
    }


def apply(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with sampled values set (a `[]` value multiplies every item's own
    value, clipped to the field's bounds), validated like a `--set` override."""
    if not values:
        return scenario
    from .scenario_io import override

    overrides: dict[str, float] = {}
    for path, value in values.items():
        if "[]" not in path:
            overrides[path] = float(value)
            continue
        head, tail = path.split("[].", 1)
        lo, hi = _bounds(path)
        for i, item in enumerate(_get(scenario, head)):
            overrides[f"{head}.{i}.{tail}"] = min(max(float(_get(item, tail)) * value, lo), hi)
    return override(scenario, overrides)


def registry_table() -> str:
    """The registry as the markdown table of docs/model.md section 11.1 (checked by a test):
    `python -c "from simulation.uncertainty import registry_table; print(registry_table())"`."""
    lines = [
        "| # | Parameter | Range (x the scenario's value) | At the default | Shape | Source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, (path, j) in enumerate(REGISTRY.items(), 1):
        if "[]" in path:
            at_default = "multiplier of every item's value"
        else:
            default = field_info(*field_at(path))["default"]  # type: ignore[misc]
            at_default = f"{default * j.low:.3g} - {default * j.high:.3g} (default {default:g})"
        needs = f"; sampled only with {' or '.join(f'`{b}`' for b in j.needs)}" if j.needs else ""
        lines.append(f"| {i} | `{path}` | {j.low:g} - {j.high:g} | {at_default} | {j.dist} | {j.source}{needs} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- attribution
def sensitivity(parameters: pd.DataFrame, replications: pd.DataFrame) -> pd.DataFrame:
    """Shares of the spread of each key incremental metric explained by each sampled parameter.

    `parameters`: replication, parameter, value; `replications`: replication, metric, arm,
    value (Results.replications). Ranks of the values and of the metric are standardised;
    with at least k + 3 replications (k parameters) a least-squares fit of the metric's
    ranks on the parameters' ranks gives standardised rank-regression coefficients b_j and
    an adjusted R^2; parameter j's share is R^2_adj * b_j^2 / sum_k b_k^2. With fewer
    replications each parameter's squared rank correlation, less what chance alone gives
    (1 / (n - 1)), is its share (scaled down if they sum above 1). The rest is `RESIDUAL`.
    """
    import pandas as pd

    columns = ["metric", "arm", "parameter", "share", "coefficient", "method"]
    if parameters.empty:
        return pd.DataFrame(columns=columns)
    X = parameters.pivot(index="replication", columns="parameter", values="value")
    X = X[list(dict.fromkeys(parameters["parameter"]))]  # the order they were sampled in
    inc = replications[replications["arm"] == "incremental"]
    rows = []
    for metric in KEY_METRICS:
        y = inc[inc["metric"] == metric].set_index("replication")["value"].reindex(X.index)
        result = _shares(X.to_numpy(dtype=float), y.to_numpy(dtype=float))
        if result is None:
            continue
        shares, coefficients, method = result
        order = np.argsort(-shares, kind="stable")
        for j in order:
            rows.append((metric, "incremental", X.columns[j], shares[j], coefficients[j], method))
        rows.append((metric, "incremental", RESIDUAL, max(0.0, 1.0 - float(shares.sum())), math.nan, method))
    return pd.DataFrame(rows, columns=columns)


def _ranks(a: np.ndarray) -> np.ndarray:
    """Standardised ranks of each column (average ranks for ties); a constant column is 0."""
    import pandas as pd

    r = pd.DataFrame(a).rank(axis=0).to_numpy(dtype=float, copy=True)
    r -= r.mean(axis=0)
    sd = r.std(axis=0)
    return np.divide(r, sd, out=np.zeros_like(r), where=sd > 0)


def _shares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, str] | None:
    ok = ~np.isnan(y)
    X, y = X[ok], y[ok]
    n, k = X.shape
    if n < 4 or np.ptp(y) == 0:
        return None
    rx, ry = _ranks(X), _ranks(y[:, None])[:, 0]
    if n >= k + 3:
        beta = portable.lstsq(rx, ry)  # (the same on every CPU, as the sums below)
        resid = ry - portable.dot(rx, beta)
        r2 = 1.0 - float(np.sum(resid * resid)) / float(np.sum(ry * ry))
        r2_adj = min(1.0, max(0.0, 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1)))
        weight = beta**2
        total = float(weight.sum())
        shares = r2_adj * weight / total if total > 0 else np.zeros(k)
        return shares, beta, "rank regression"
    rho = portable.dot(rx.T, ry) / n
    chance = 1.0 / (n - 1)
    shares = np.maximum(0.0, rho**2 - chance) / (1.0 - chance)
    if shares.sum() > 1:
        shares = shares / shares.sum()
    return shares, rho, "rank correlation"
