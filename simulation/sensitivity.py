"""Which assumption must we check before we trust a result?

The inputs are the behavioural judgement parameters whose ranges the scenario declares
(`uncertainty.parameters`) or the registry documents (docs/model.md section 11.1, the same
ranges `uncertainty.sample: judgement` samples), or any of them named with `--params`.

- Tornado: each input moved to the low and then the high end of its range, the others held
  at the scenario's values; the change in the metric (incremental mean), largest swing first.
- Morris (elementary effects; SALib): mu* (mean absolute effect of a step across the range)
  and sigma (its spread: interactions, non-linearity), from r trajectories of k+1 designs.
- Sobol (SALib, Saltelli sampling): the first-order index S1 (share of the metric's variance
  an input explains alone) and the total index ST (with its interactions), from N(2k+2)
  designs; rough below a few hundred N.

Every design runs with the same seeds (common random numbers): the differences are the inputs'
effects, not noise; the twin is simulated once for all the designs that share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import frontier, uncertainty
from .runner import Runner
from .scenario_io import ScenarioError
from .schema import Scenario
from .sweep import Sweep, sweep_designs

if TYPE_CHECKING:
    import pandas as pd


def inputs(scenario: Scenario, params: list[str] | None = None) -> list[uncertainty.Draw]:
    """The ranges of the inputs: the scenario's sampled parameters (its own ranges, then the
    registry's for every judgement parameter it uses), or those named in `params`."""
    every = uncertainty.sampled(scenario.model_copy(update={"uncertainty": scenario.uncertainty.model_copy(
        update={"sample": "judgement"})}))  # fmt: skip
    if not params:
        return list(every.values())
    unknown = [p for p in params if p not in every]
    if unknown:
        raise ScenarioError([f"--params {p}: no range for it in this scenario (its own uncertainty.parameters or "
                             f"the registry of docs/model.md 11.1 for a block it uses)" for p in unknown])  # fmt: skip
    return [every[p] for p in params]


def _fixed(scenario: Scenario) -> Scenario:
    """The scenario with nothing sampled: every input as written unless a design moves it."""
    return scenario.model_copy(update={"uncertainty": type(scenario.uncertainty)()})


def _run(scenario: Scenario, points: list[dict[str, float]], replications, seed, runner, progress) -> Sweep:
    base = _fixed(scenario)
    sim = scenario.simulation
    n_reps = sim.replications if replications is None else int(replications)
    seed = sim.seed if seed is None else int(seed)
    scenarios = [uncertainty.apply(base, point) for point in points]
    return sweep_designs(base, [], points, scenarios, n_reps, seed, progress, runner=runner or Runner())


@dataclass
class Tornado:
    metric: tuple[str, str]
    base: float  # the metric at the scenario's own values
    table: pd.DataFrame  # parameter, low, high, at_low, at_high, swing (largest first)


def tornado(
    scenario: Scenario,
    metric: str = "net_profit",
    params=None,
    replications=None,
    seed=None,
    runner=None,
    progress=None,
) -> Tornado:
    import pandas as pd

    draws = inputs(scenario, params)
    points = [{}] + [{d.path: v} for d in draws for v in (d.low, d.high)]
    result = _run(scenario, points, replications, seed, runner, progress)
    key = frontier.check_objective(result, metric)
    y = result.stat(*key)
    rows = [(d.path, d.low, d.high, y[1 + 2 * i], y[2 + 2 * i], d.source) for i, d in enumerate(draws)]
    table = pd.DataFrame(rows, columns=["parameter", "low", "high", "at_low", "at_high", "source"])
    table.insert(5, "swing", (table.at_high - table.at_low).abs())
    return Tornado(key, float(y[0]), table.sort_values("swing", ascending=False, ignore_index=True))


def global_indices(
    scenario: Scenario, metric: str = "net_profit", params=None, method: str = "morris", samples: int = 8,
    replications=None, seed=None, runner=None, progress=None,
) -> pd.DataFrame:  # fmt: skip
    """Morris (mu*, sigma) or Sobol (S1, ST with confidence) indices, largest first."""
    import pandas as pd

    draws = inputs(scenario, params)
    problem = {"num_vars": len(draws), "names": [d.path for d in draws], "bounds": [[d.low, d.high] for d in draws]}
    seed_value = (scenario.simulation.seed if seed is None else int(seed)) % 2**32
    if method == "morris":
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample

        X = sample.sample(problem, samples, num_levels=4, seed=seed_value)
    else:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample

        X = sample.sample(problem, samples, calc_second_order=False, seed=seed_value)
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in X]
    result = _run(scenario, points, replications, seed, runner, progress)
    y = result.stat(*frontier.check_objective(result, metric))
    if method == "morris":
        out = analyze.analyze(problem, X, y, num_levels=4, seed=seed_value)
        frame = pd.DataFrame({"parameter": problem["names"], "mu_star": out["mu_star"], "sigma": out["sigma"]})
        return frame.sort_values("mu_star", ascending=False, ignore_index=True)
    out = analyze.analyze(problem, y, calc_second_order=False, seed=seed_value)
    frame = pd.DataFrame({"parameter": problem["names"], "S1": out["S1"], "S1_conf": out["S1_conf"],
                          "ST": out["ST"], "ST_conf": out["ST_conf"]})  # fmt: skip
    return frame.sort_values("ST", ascending=False, ignore_index=True)


def designs_needed(k: int, method: str, samples: int) -> int:
    """How many designs a method runs for k inputs."""
    return {"tornado": 2 * k + 1, "morris": samples * (k + 1), "sobol": samples * (k + 2)}[method]


__all__ = ["Tornado", "designs_needed", "global_indices", "inputs", "tornado"]
