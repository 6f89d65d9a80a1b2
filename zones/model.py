"""The zone model: polygons in a floor's metre frame, what they stand for, and the side they face.

A zone is validated when it is built: a bad polygon, kind or facing raises ``ZoneError`` with the
reason, so nothing downstream (the lookup, the detector, the server) sees a zone it cannot use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, get_args

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from positioning.floorplan import FloorPlan, Obstacle
from zones.events import OBSTACLE, ZoneKind

ZONE_KINDS: tuple[str, ...] = get_args(ZoneKind)

# A zone may poke this far past the floor outline and still count as on the floor: the recorded
# malls' shop rings overshoot their outline by centimetres where the survey traced the same wall
# twice, and admins snap vertices to the plan edge.
OUTSIDE_FLOOR_TOLERANCE_M2 = 0.05
OUTSIDE_FLOOR_TOLERANCE_SHARE = 0.01


class ZoneError(ValueError):
    """A zone, floor or zone document that cannot be used, with the reason."""


def polygon_from_coords(coords: Sequence[Sequence[float]], what: str = "zone") -> Polygon:
    """A polygon from ``[[x, y], ...]`` (closing vertex optional), or ``ZoneError`` saying why."""
    try:
        points = [(float(p[0]), float(p[1])) for p in coords]
    except (TypeError, ValueError, IndexError) as exc:
        raise ZoneError(f"{what}: vertices must be [x, y] pairs of numbers ({exc})") from exc
    if not all(math.isfinite(v) for p in points for v in p):
        raise ZoneError(f"{what}: vertices must be finite numbers (found NaN or infinity)")
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]
    if len(set(points)) < 3:
        raise ZoneError(
            f"{what}: a polygon needs at least 3 distinct vertices, got {len(set(points))}"
        )
    return Polygon(points)


def check_polygon(polygon: object, what: str = "zone") -> Polygon:
    """Return ``polygon`` if it is a usable zone outline; raise ``ZoneError`` with the reason."""
    if not isinstance(polygon, Polygon):
        kind = getattr(polygon, "geom_type", type(polygon).__name__)
        raise ZoneError(f"{what}: the outline must be a single Polygon, got {kind}")
    coords = shapely.get_coordinates(polygon)
    if not np.isfinite(coords).all():
        raise ZoneError(f"{what}: vertices must be finite numbers (found NaN or infinity)")
    if polygon.is_empty or len(set(map(tuple, coords.tolist()))) < 3:
        raise ZoneError(f"{what}: a polygon needs at least 3 distinct vertices")
    if not polygon.is_valid:
        raise ZoneError(f"{what}: invalid polygon ({shapely.is_valid_reason(polygon)})")
    if polygon.area <= 0:
        raise ZoneError(f"{what}: the polygon has no area")
    return polygon


def _normalise_deg(angle: float) -> float:
    return float(angle) % 360.0


@dataclass(frozen=True)
class Zone:
    """A named polygon on a floor that stands for products, a screen, an entrance or a checkout.

    ``facing_deg`` is the direction a shopper looks in to see the zone's front (from the viewing
    spot toward the zone; 0 = +x, counter-clockwise). Give it directly, or give ``facing_edge``
    (index ``i`` of the exterior edge from vertex ``i`` to ``i + 1``) and it is the inward normal
    of that edge. With ``view_distance_m`` but no facing, the zone is seen from every side (a shop
    front): a shopper faces it when looking toward its nearest point.
    """

    id: str
    name: str
    kind: ZoneKind
    polygon: Polygon
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    facing_deg: float | None = None
    view_distance_m: float | None = None
    facing_edge: int | None = None

    def __post_init__(self) -> None:
        what = f"zone {self.id!r}"
        if not isinstance(self.id, str) or not self.id.strip():
            raise ZoneError("zone: id must be a non-empty string")
        if self.kind not in ZONE_KINDS:
            raise ZoneError(f"{what}: kind {self.kind!r} is not one of {', '.join(ZONE_KINDS)}")
        if not isinstance(self.name, str):
            raise ZoneError(f"{what}: name must be a string")
        check_polygon(self.polygon, what)
        for label in ("categories", "skus"):
            values = getattr(self, label)
            if isinstance(values, str) or not isinstance(values, tuple | list):
                raise ZoneError(f"{what}: {label} must be a list of strings, got {values!r}")
            object.__setattr__(self, label, tuple(str(v) for v in values))
        self._check_facing(what)

    def _check_facing(self, what: str) -> None:
        if self.view_distance_m is not None and not (
            math.isfinite(self.view_distance_m) and self.view_distance_m > 0
        ):
            raise ZoneError(f"{what}: view_distance_m must be a positive number of metres")
        if self.facing_deg is not None:
            if not math.isfinite(self.facing_deg):
                raise ZoneError(f"{what}: facing_deg must be a finite angle in degrees")
            object.__setattr__(self, "facing_deg", _normalise_deg(self.facing_deg))
        if self.facing_edge is not None:
            n_edges = len(self.polygon.exterior.coords) - 1
            if not (isinstance(self.facing_edge, int) and 0 <= self.facing_edge < n_edges):
                raise ZoneError(f"{what}: facing_edge must be an edge index in [0, {n_edges})")
            normal = edge_inward_normal_deg(self.polygon, self.facing_edge)
            if self.facing_deg is not None and angle_between_deg(self.facing_deg, normal) > 1.0:
                raise ZoneError(
                    f"{what}: facing_deg {self.facing_deg:.1f} disagrees with edge "
                    f"{self.facing_edge}, which is seen looking toward {normal:.1f}"
                )
            object.__setattr__(self, "facing_deg", normal)
        if self.facing_deg is not None and self.view_distance_m is None:
            raise ZoneError(
                f"{what}: a facing direction needs view_distance_m (how far it is seen)"
            )

    @classmethod
    def from_coords(
        cls, id: str, name: str, kind: ZoneKind, coords: Sequence[Sequence[float]], **fields: Any
    ) -> Zone:
        """A zone from ``[[x, y], ...]`` in metres (validated like any zone)."""
        return cls(id, name, kind, polygon_from_coords(coords, f"zone {id!r}"), **fields)

    @property
    def sees_facing(self) -> bool:
        """Whether facing events can fire for this zone (it has a viewing distance)."""
        return self.view_distance_m is not None

    @cached_property
    def width_m(self) -> float:
        """The zone's narrowest span: twice the radius of its largest inscribed circle."""
        circle = shapely.maximum_inscribed_circle(self.polygon)
        return 2.0 * float(circle.length)

    @property
    def is_obstacle(self) -> bool:
        """Whether shoppers cannot stand here (it blocks walking and never has events)."""
        return self.kind == OBSTACLE

    def moved(self, **changes: Any) -> Zone:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


def standing_zones(zones: Iterable[Zone]) -> list[Zone]:
    """The zones shoppers can be in: every zone but the obstacles."""
    return [zone for zone in zones if not zone.is_obstacle]


def zone_obstacles(zones: Iterable[Zone]) -> tuple[Obstacle, ...]:
    """The obstacle zones as positioning's ``Obstacle``s (what a ``FloorPlan`` subtracts)."""
    return tuple(
        Obstacle(z.id, z.name, z.polygon, {"kind": z.kind, "categories": list(z.categories)})
        for z in zones
        if z.is_obstacle
    )


def edge_inward_normal_deg(polygon: Polygon, edge: int) -> float:
    """Direction (deg) perpendicular to exterior edge ``edge``, pointing into the polygon."""
    ring = list(polygon.exterior.coords)
    (x0, y0), (x1, y1) = ring[edge], ring[edge + 1]
    # For a counter-clockwise ring the interior lies left of each edge: normal = (−dy, dx).
    ccw = bool(polygon.exterior.is_ccw)
    dx, dy = x1 - x0, y1 - y0
    nx, ny = (-dy, dx) if ccw else (dy, -dx)
    return _normalise_deg(math.degrees(math.atan2(ny, nx)))


def angle_between_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two headings, in [0, 180]."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


@dataclass(frozen=True)
class Floor:
    """A floor plan (name, size, walkable outline, image) and the zones drawn on it."""

    plan: FloorPlan
    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for zone in self.zones:
            if zone.id in seen:
                raise ZoneError(f"zone {zone.id!r}: the id is used twice on floor {self.name!r}")
            seen.add(zone.id)
            self.check_on_floor(zone)

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def width_m(self) -> float:
        return self.plan.width_m

    @property
    def height_m(self) -> float:
        return self.plan.height_m

    @property
    def outline(self) -> Polygon | MultiPolygon:
        return self.plan.outline

    @property
    def walkable(self) -> Polygon | MultiPolygon:
        return self.plan.walkable

    @property
    def image_path(self) -> Path | None:
        return self.plan.image_path

    def check_on_floor(self, zone: Zone) -> Zone:
        """Return ``zone`` if it lies on the floor outline; else ``ZoneError`` says how far off."""
        outside = zone.polygon.difference(self.plan.outline).area
        allowed = max(OUTSIDE_FLOOR_TOLERANCE_M2, OUTSIDE_FLOOR_TOLERANCE_SHARE * zone.polygon.area)
        if outside > allowed:
            share = 100.0 * outside / zone.polygon.area
            raise ZoneError(
                f"zone {zone.id!r}: {outside:.2f} m² ({share:.0f} %) lies outside floor "
                f"{self.name!r} (0..{self.width_m:g} x 0..{self.height_m:g} m outline)"
            )
        return zone

    def zone(self, zone_id: str) -> Zone:
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise ZoneError(f"zone {zone_id!r}: not on floor {self.name!r}")

    def with_zones(self, zones: Iterable[Zone]) -> Floor:
        """The same plan with ``zones`` instead (validated again)."""
        return Floor(self.plan, tuple(zones))

    def with_zone(self, zone: Zone) -> Floor:
        """Add ``zone``, or replace the zone with its id."""
        kept = [z for z in self.zones if z.id != zone.id]
        return self.with_zones([*kept, zone])

    def without_zone(self, zone_id: str) -> Floor:
        self.zone(zone_id)
        return self.with_zones(z for z in self.zones if z.id != zone_id)
