"""The instrument registry: every instrument is one file, and lojal is built from those files.

Built-ins are the modules of this package (each defining an `InstrumentModule` subclass
with a `key`), ordered by their `order`; plug-ins are Python files named by the environment
variable `LOJAL_INSTRUMENTS` (paths separated by `:`), loaded after them in that order.
From the registry come the `Program` schema (`schema.py`), the plain-language summary
(`describe.py`), metric labels and the summary order (`metrics.py`), the program cost lines
(the engine, `analysis.py`), the instruments' charts (`figures.py`, the app, the report),
the export columns, the sampled assumptions (`uncertainty.py`), the scenario reference
(`docs/gen_reference.py`) and the lever rows of docs/model.md (`lever_rows`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .base import HOOKS, PLAN, CalendarEvent, InstrumentModule, Lever, MetricSpec, Month, Step, plan_table

if TYPE_CHECKING:
    from ..engine import Sim

ENV = "LOJAL_INSTRUMENTS"
_NOT_INSTRUMENTS = {"base", "wording"}


class PluginError(ImportError):
    """A plug-in named by LOJAL_INSTRUMENTS cannot be loaded (the message says which and why)."""


def _classes(module) -> list[type[InstrumentModule]]:
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, InstrumentModule) and obj.__module__ == module.__name__ and obj.key
    ]


def _builtins() -> list[type[InstrumentModule]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_INSTRUMENTS:
            found += _classes(importlib.import_module(f"{__name__}.{info.name}"))
    return sorted(found, key=lambda cls: (cls.order, cls.key))


def _load_plugin(path: str) -> list[type[InstrumentModule]]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise PluginError(f"{ENV}: {path}: no such file")
    name = f"lojal_plugin_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (pickling a scenario names its block's class by module)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken plug-in: say which file, not a bare traceback
        del sys.modules[name]
        raise PluginError(f"{ENV}: {path}: {type(exc).__name__}: {exc}") from exc
    found = _classes(module)
    if not found:
        raise PluginError(f"{ENV}: {path}: defines no InstrumentModule subclass with a `key`")
    return found


# what went wrong loading the plug-ins: the bad ones are left out, and the CLI (exit status 2)
# and the app say why (a scenario using one then fails validation naming its block)
PROBLEMS: list[str] = []


def _plugins() -> list[type[InstrumentModule]]:
    found = []
    for path in (p.strip() for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()):
        try:
            found += _load_plugin(path)
        except PluginError as exc:
            PROBLEMS.append(str(exc))
    return found


def _registry() -> dict[str, type[InstrumentModule]]:
    out: dict[str, type[InstrumentModule]] = {}
    for cls in (*_builtins(), *_plugins()):
        missing = [a for a in ("schema", "label") if not getattr(cls, a, None)]
        if cls.key in out or cls.key == "membership":
            PROBLEMS.append(f"{ENV}: {cls.__module__}: the instrument key {cls.key!r} is taken")
        elif missing:
            PROBLEMS.append(f"{ENV}: {cls.__module__}: instrument {cls.key!r} does not declare {', '.join(missing)}")
        else:
            out[cls.key] = cls
    return out


REGISTRY: dict[str, type[InstrumentModule]] = _registry()


def build_instruments(program, sim: Sim) -> list[InstrumentModule]:
    """The enabled instruments of a program, in registry order."""
    return [REGISTRY[key](params, sim) for key, params in program.active_instruments().items()]


def cost_lines() -> dict[str, str]:
    """Every instrument's cost lines with their labels, in registry order."""
    return {line: label for cls in REGISTRY.values() for line, label in cls.cost_lines.items()}


def metric_specs() -> dict[str, MetricSpec]:
    """How every instrument metric reads (cost lines too: money, lower is better)."""
    out: dict[str, MetricSpec] = {}
    for cls in REGISTRY.values():
        out.update({line: MetricSpec(label, "money", -1) for line, label in cls.cost_lines.items()})
        out.update(cls.metrics)
    return out


def lever_table(membership: tuple[Lever, ...] = ()) -> str:
    """The table of docs/model.md section 12.1: the membership levers, then every instrument's
    in registry order (tests/test_responses.py pulls each)."""
    rows = ["| Lever | Change | Moves | Source of the expectation |", "| --- | --- | --- | --- |"]
    blocks = [("membership", membership), *((key, cls.levers) for key, cls in REGISTRY.items())]
    for key, levers in blocks:
        rows += [f"| `program.{key}.{v.field}` | {v.change} | {v.moves} | {v.source} |" for v in levers]
    return "\n".join(rows)


def judgements() -> dict[str, object]:
    """The instruments' sampled assumptions by dotted path (docs/model.md 11.1), in registry order."""
    return {f"program.{cls.key}.{name}": j for cls in REGISTRY.values() for name, j in cls.judgements.items()}


__all__ = [
    "REGISTRY", "PROBLEMS", "HOOKS", "PLAN", "CalendarEvent", "InstrumentModule", "Lever", "MetricSpec", "Month", "Step",
    "PluginError", "build_instruments", "cost_lines", "judgements", "lever_table", "metric_specs", "plan_table",
]  # fmt: skip
