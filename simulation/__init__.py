"""lojal's engine: scenarios in, tidy results out. Pure Python + numpy + SimPy."""

from .results import Results, run, run_replication
from .scenario_io import ScenarioError, dumps, load, loads, override, validate
from .schema import LEVELS, Scenario, json_schema

load_scenario = load

__all__ = [
    "LEVELS",
    "Results",
    "Scenario",
    "ScenarioError",
    "dumps",
    "json_schema",
    "load",
    "load_scenario",
    "loads",
    "override",
    "run",
    "run_replication",
    "validate",
]
