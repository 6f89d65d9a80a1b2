"""What the zone detector emits, and what the trigger layer reads (through the server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ZoneEventKind = Literal["enter", "exit", "dwell", "facing", "visit_end"]
# "obstacle": a place shoppers cannot stand (shelf units, walls, shops' back rooms). It shapes the
# walkable floor for positioning and routes; the detector never emits events for it.
ZoneKind = Literal["area", "shelf", "screen", "entrance", "checkout", "obstacle"]
OBSTACLE: ZoneKind = "obstacle"


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """One debounced event of one shopper.

    ``zone_id`` is None only for ``visit_end`` (the shopper left the store).
    ``dwell_s`` is the time inside the zone when the event fired (0 for ``enter``).
    """

    kind: ZoneEventKind
    shopper_id: str
    zone_id: str | None
    t_ms: int
    dwell_s: float = 0.0
