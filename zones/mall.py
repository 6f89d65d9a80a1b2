"""The recorded malls as floors with their shops as zones.

``positioning.floorplan.read_floor`` maps a recording's lon/lat ``geojson_map.json`` onto the
plan's metres and returns the shops as obstacles. Each shop becomes an ``area`` zone that stands
for the shop's categories. The recorded surveyors walked the corridors and never a shop's
footprint, so the zone also takes a strip of corridor in front of the shop (``front_m``): being
in front of a shop window is what a mall campaign triggers on.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely.geometry import Polygon

from positioning.floorplan import FloorPlan, Obstacle, read_floor
from zones.model import Floor, Zone, ZoneError

# Corridor strip added in front of each shop: about two strides, the depth of the space where
# people stop at a shop window, and wider than the 2 m hysteresis band of the default settings.
SHOP_FRONT_M = 2.0
# Shop outlines smaller than this are kiosks' or survey slivers' artefacts, not shops to trigger on.
MIN_SHOP_AREA_M2 = 1.0


def _shop_polygon(plan: FloorPlan, shop: Obstacle, front_m: float) -> Polygon | None:
    grown = (
        shop.polygon.buffer(front_m, join_style="mitre", mitre_limit=2.0)
        if front_m
        else shop.polygon
    )
    on_floor = shapely.intersection(grown, plan.outline)
    parts = [g for g in getattr(on_floor, "geoms", [on_floor]) if isinstance(g, Polygon)]
    if not parts:
        return None
    best = max(parts, key=lambda g: g.intersection(shop.polygon).area)
    # Holes would only be courtyards of walkway inside a grown shop; a zone is its outer ring.
    outer = Polygon(best.exterior).simplify(0.01)
    return outer if isinstance(outer, Polygon) else None


def shop_zones(
    plan: FloorPlan, front_m: float = SHOP_FRONT_M, view_distance_m: float | None = None
) -> list[Zone]:
    """One ``area`` zone per shop of the plan, grown ``front_m`` into the corridor."""
    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for shop in plan.obstacles:
        if shop.polygon.area < MIN_SHOP_AREA_M2:
            continue
        polygon = _shop_polygon(plan, shop, front_m)
        if polygon is None or not polygon.is_valid or polygon.area <= 0:
            continue
        count = seen.get(shop.id, 0)
        seen[shop.id] = count + 1
        zone_id = shop.id if count == 0 else f"{shop.id}#{count}"
        category = shop.properties.get("category") or []
        categories = tuple(str(c) for c in (category if isinstance(category, list) else [category]))
        try:
            zones.append(
                Zone(
                    zone_id, shop.name, "area", polygon, categories, view_distance_m=view_distance_m
                )
            )
        except ZoneError:
            continue  # an outline the floor's own repair could not make usable
    return zones


def read_mall_floor(
    floor_dir: Path | str, front_m: float = SHOP_FRONT_M, view_distance_m: float | None = None
) -> Floor:
    """A recorded mall floor folder as a ``Floor`` with its shops as zones."""
    plan = read_floor(floor_dir)
    return Floor(plan, tuple(shop_zones(plan, front_m, view_distance_m)))


def read_waypoints(walk_path: Path | str) -> list[tuple[int, float, float]]:
    """``(t_ms, x, y)`` of a recorded walk's TYPE_WAYPOINT lines: the surveyed ground truth.

    For replays and pictures only; a tracker under test must never read them.
    """
    waypoints = []
    with Path(walk_path).open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4 and parts[1] == "TYPE_WAYPOINT":
                waypoints.append((int(parts[0]), float(parts[2]), float(parts[3])))
    return waypoints
