"""Phases: a design that changes at a month (a richer launch offer, a cut in rewards).

A phase names a month and the program fields that change from then on, in the syntax of
`lojal run --set` without the `program.` prefix (`points.earn_rate=0.5, gifts.enabled=false`).
The engine switches to the phase's program at the start of that month; members whose program
is worth less than the month before may take it as benefits taken away (docs/model.md
section 8.2). This module turns the changes into whole validated programs and checks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from .schema import Program, Scenario


def items(text: str) -> list[str]:
    """`a.b=1, c.d=false` -> ["a.b=1", "c.d=false"] (a value holds no comma: numbers, names, booleans)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def program_after(program: Program, text: str, where: str) -> Program:
    """The program with one phase's changes applied (a ValueError naming `where` and the field)."""
    from . import instruments
    from .scenario_io import ScenarioError, apply_overrides, format_validation_error
    from .schema import Program

    changes = items(text)
    if not changes:
        raise ValueError(f"{where}: no change given (e.g. `points.earn_rate=0.5`)")
    data = program.model_dump(mode="json")
    for item in changes:
        path = item.partition("=")[0].strip()
        key, _, field = path.partition(".")
        if key not in instruments.REGISTRY:
            raise ValueError(f"{where}: {item}: `{key}` is not an instrument (instruments: {', '.join(instruments.REGISTRY)})")
        if field.split(".")[0] in instruments.REGISTRY[key].fixed_in_phases:
            raise ValueError(f"{where}: {item}: {key}.{field} cannot change during a run (it shapes what each member holds)")
    changes = applied(program, changes)
    try:
        apply_overrides(data, changes)
        return Program.model_validate(data)
    except ScenarioError as exc:
        raise ValueError(f"{where}: {exc.problems[0].removeprefix('--set ')}") from None
    except ValidationError as exc:
        problems = [p.split(" ", 1)[1] for p in format_validation_error(exc, "")]
        raise ValueError(f"{where}: {'; '.join(problems)}") from None


def applied(program: Program, changes: list[str]) -> list[str]:
    """The changes to instruments on at the start: one switched off there (in the Design page,
    or in the no-program twin) keeps its phases in the file but they do nothing, and a phase
    cannot switch an instrument on (its members' state would start mid-run)."""
    active = program.active_instruments()
    return [item for item in changes if item.partition(".")[0].strip() in active]


def programs(scenario: Scenario) -> dict[int, tuple[Program, object]]:
    """month -> (the program from that month on, the phase), checking that the months come in
    order and every phase's program is valid (a phase at or after the horizon is checked too,
    and simply not reached: shortening the horizon must not break the file)."""
    out, program, last = {}, scenario.program, 0
    for i, phase in enumerate(scenario.phases.changes):
        where = f"phases.changes[{i}]"
        if phase.month <= last:
            raise ValueError(f"{where}.month: phases must come in order of month, each after the one before (got {phase.month} after {last})")
        last = phase.month
        program = program_after(program, phase.set, f"{where}.set")
        out[phase.month] = (program, phase)
    return out


def _value(data, path: str):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data.get(part)
    return data


def _label(path: str) -> str:
    """`points.earn_rate` -> "Points: earn rate" (the schema's labels; the path if nested deeper)."""
    from . import instruments

    key, _, field = path.partition(".")
    module = instruments.REGISTRY[key]
    info = module.schema.model_fields.get(field)
    name = "switched on" if field == "enabled" else (info.title.lower() if info is not None and info.title else field)
    return f"{module.label}: {name}"


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(scenario: Scenario) -> str:
    """The phases in plain words: "From month 12 (cut in rewards): Points: earn rate 1 → 0.5."."""
    from . import instruments

    out, previous = [], scenario.program
    before = previous.model_dump(mode="json")
    for month, (program, phase) in programs(scenario).items():
        after = program.model_dump(mode="json")
        changes, given = [], items(phase.set)
        kept = applied(previous, given)  # (as program_after: the instruments still on before this phase)
        off = sorted({item.partition(".")[0].strip() for item in given if item not in kept})
        for item in kept:
            path = item.partition("=")[0].strip()
            if path.endswith(".enabled") and _value(after, path) is False:
                changes.append(f"{_label(path).split(':')[0]} closed")
            else:
                changes.append(f"{_label(path)} {_shown(_value(before, path))} → {_shown(_value(after, path))}")
        name = f" ({phase.name})" if phase.name else ""
        loss = "" if phase.felt_as_loss else " (announced at the start: not taken as a loss)"
        late = " (after the horizon: not simulated)" if month >= scenario.simulation.horizon_months else ""
        if off:
            labels = ", ".join(instruments.REGISTRY[key].label for key in off)
            changes.append(f"not applied to {labels} (off by then: a phase cannot switch an instrument on)")
        out.append(f"From month {month}{name}{late}: {'; '.join(changes)}{loss}.")
        before, previous = after, program
    return " ".join(out)
