"""Where a set of results comes from: enough to check the input and to reproduce the numbers.

Every output (CLI table and JSON, CSV folder, Excel, HTML report) carries the same record:
the sha256 of the scenario file's bytes, the seed and replications the run actually used
(after --seed / --replications), any --set overrides, the lojal version and the date.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any


def version() -> str:
    try:
        return metadata.version("lojal")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Provenance:
    scenario_file: str  # the file name as given
    scenario_sha256: str  # of the file's bytes (before any --set)
    seed: int
    replications: int
    overrides: tuple[str, ...] = ()
    lojal_version: str = field(default_factory=version)
    created: str = field(default_factory=_now)

    def rerun(self) -> str:
        """The command that reproduces the numbers from the same file."""
        sets = [f"--set {shlex.quote(item)}" for item in self.overrides]
        args = [shlex.quote(self.scenario_file), *sets, f"--seed {self.seed}", f"--replications {self.replications}"]
        return "lojal run " + " ".join(args)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "overrides": list(self.overrides), "rerun": self.rerun()}

    def rows(self) -> list[tuple[str, str | int]]:
        """(label, value) pairs for tables, sheets and the report."""
        return [
            ("Scenario file", self.scenario_file),
            ("Scenario file sha256", self.scenario_sha256),
            ("Overrides (--set)", "; ".join(self.overrides) or "none"),
            ("Seed", self.seed),
            ("Replications", self.replications),
            ("lojal version", self.lojal_version),
            ("Created", self.created),
            ("To reproduce", self.rerun()),
        ]

    def text(self) -> str:
        width = max(len(label) for label, _ in self.rows())
        return "\n".join(f"{label + ':':<{width + 2}}{value}" for label, value in self.rows())


def of_run(results: Any, file_name: str, file_bytes: bytes, overrides: tuple[str, ...] = ()) -> Provenance:
    """The record of a run of the scenario file `file_name` with contents `file_bytes`
    (`results.scenario` holds the seed and replications the run used)."""
    sim = results.scenario.simulation
    return Provenance(file_name, sha256(file_bytes), sim.seed, sim.replications, tuple(overrides))
