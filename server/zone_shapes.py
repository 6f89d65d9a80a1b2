"""Checks on a zone's polygon against its floor, shared by the REST API and the store seeder.

Whether a drawn shape fits its floor is checked here; whether the zone makes sense to the zones core
(a facing direction needs a viewing distance, ...) is ``zones.records.zone_from_dict``'s call, so a
zone the detector would reject is refused at the door rather than skipped later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shapely.geometry import Polygon
from shapely.validation import explain_validity

from zones.model import ZoneError
from zones.records import zone_from_dict

# Hand-drawn zones may overhang the plan's edge a little; more means the wrong floor or units.
FLOOR_EDGE_TOLERANCE_M = 1.0
# Smaller than a floor tile: a slip of the mouse, not a zone.
MIN_ZONE_AREA_M2 = 0.05


def zone_shape_problem(
    polygon_xy: Sequence[tuple[float, float]], width_m: float, height_m: float
) -> str | None:
    """Why this polygon cannot be a zone on a ``width_m`` × ``height_m`` floor (None if it can)."""
    polygon = Polygon(polygon_xy)
    if not polygon.is_valid:
        return f"polygon invalid: {explain_validity(polygon)}"
    if polygon.area < MIN_ZONE_AREA_M2:
        return f"zone area {polygon.area:.3f} m² is below {MIN_ZONE_AREA_M2} m²"
    x0, y0, x1, y1 = polygon.bounds
    tol = FLOOR_EDGE_TOLERANCE_M
    if x0 < -tol or y0 < -tol or x1 > width_m + tol or y1 > height_m + tol:
        return f"zone reaches outside the floor ({width_m} m × {height_m} m)"
    return None


def zone_model_problem(zone_id: str, document: Mapping[str, Any]) -> str | None:
    """Why the zones core would refuse this zone document (None if it takes it)."""
    try:
        zone_from_dict({**document, "id": zone_id})
    except ZoneError as error:
        return str(error)
    return None
