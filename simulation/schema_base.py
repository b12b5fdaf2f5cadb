"""Schema bits shared by `schema.py` and the instrument modules (which `schema.py` imports
to build `Program`): the field helper, the strict base model, per-level values and the
instrument block base. Kept apart so that an instrument file can declare its schema block
without importing `schema.py` (a circular import).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

LEVELS = (
    "very_dissatisfied",
    "dissatisfied",
    "indifferent",
    "satisfied",
    "very_satisfied",
    "loyal",
)
LEVEL_LABELS = (
    "Very dissatisfied",
    "Dissatisfied",
    "Indifferent",
    "Satisfied",
    "Very satisfied",
    "Loyal",
)


def F(default: Any = ..., *, label: str, unit: str = "", help: str, choices_from: str = "", **constraints: Any) -> Any:
    """A field with the metadata every consumer (docs, app, JSON Schema) reads; `choices_from`:
    a list whose items are picked from names given elsewhere in the scenario (a path)."""
    extra = {"label": label, "unit": unit, **({"choices_from": choices_from} if choices_from else {})}
    return Field(default, description=help, title=label, json_schema_extra=extra, **constraints)


Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Base(BaseModel):
    """Unknown keys are errors (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class LevelValues(Base):
    """One number per satisfaction level."""

    very_dissatisfied: float = F(0.0, label="Very dissatisfied", help="Value for very dissatisfied customers.", ge=0)
    dissatisfied: float = F(0.0, label="Dissatisfied", help="Value for dissatisfied customers.", ge=0)
    indifferent: float = F(0.0, label="Indifferent", help="Value for indifferent customers.", ge=0)
    satisfied: float = F(0.0, label="Satisfied", help="Value for satisfied customers.", ge=0)
    very_satisfied: float = F(0.0, label="Very satisfied", help="Value for very satisfied customers.", ge=0)
    loyal: float = F(0.0, label="Loyal", help="Value for loyal customers.", ge=0)

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in LEVELS)


def levels(*values: float) -> LevelValues:
    return LevelValues(**dict(zip(LEVELS, values, strict=True)))


class LevelProbabilities(LevelValues):
    """One probability per satisfaction level."""

    @model_validator(mode="after")
    def _at_most_one(self) -> LevelProbabilities:
        for name in LEVELS:
            if getattr(self, name) > 1:
                raise ValueError(f"{name}: a probability must be <= 1 (got {getattr(self, name)})")
        return self


class LevelShares(LevelProbabilities):
    """A distribution over the six levels; the shares sum to 1."""

    @model_validator(mode="after")
    def _sum_to_one(self) -> LevelShares:
        total = sum(self.as_tuple())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (got {total:g})")
        return self


def shares(*values: float) -> LevelShares:
    return LevelShares(**dict(zip(LEVELS, values, strict=True)))


def probs(*values: float) -> LevelProbabilities:
    return LevelProbabilities(**dict(zip(LEVELS, values, strict=True)))


# NPS answers 0..10 map to the ladder: 0-2, 3-4, 5-6, 7-8, 9, 10 (docs/brief.md).
NPS_ANSWER_LEVEL = (0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5)


class Instrument(Base):
    enabled: bool = F(True, label="Enabled", help="Switch the instrument on or off without losing its settings.")
