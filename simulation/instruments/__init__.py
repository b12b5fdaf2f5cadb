"""Program instruments: one module each, one interface (`base.InstrumentModule`).

Adding an instrument = a schema block in `schema.Program` + a module here + one line in
`REGISTRY`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import CalendarEvent, InstrumentModule
from .points import PointsModule
from .referral import ReferralModule
from .subscription import SubscriptionModule
from .tiers import TiersModule

if TYPE_CHECKING:
    from ..engine import Sim
    from ..schema import Program

REGISTRY: dict[str, type[InstrumentModule]] = {
    module.key: module for module in (PointsModule, TiersModule, SubscriptionModule, ReferralModule)
}


def build_instruments(program: Program, sim: Sim) -> list[InstrumentModule]:
    """The enabled instruments of a program, in schema order."""
    return [REGISTRY[key](params, sim) for key, params in program.active_instruments().items()]


__all__ = ["REGISTRY", "build_instruments", "InstrumentModule", "CalendarEvent"]
