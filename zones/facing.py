"""Where a zone can be seen from, and whether a heading looks at it.

A zone with a facing direction ``u`` (unit vector of ``facing_deg``) and viewing distance ``d`` is
seen from the polygon swept backwards along ``−u`` by ``d`` (its Minkowski sum with the segment
``[0, −d·u]``); with a ``facing_edge`` only that edge is swept, so the view area is the strip in
front of it. A zone with a viewing distance but no facing is seen from every side: the view area
is the ring within ``d`` of it, and the shopper must look toward its nearest point.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from zones.model import Zone


def _sweep(geometry: Polygon | LineString, dx: float, dy: float) -> BaseGeometry:
    """Minkowski sum of ``geometry`` with the segment from the origin to ``(dx, dy)``.

    A polygon is swept by its outer ring: a zone is seen from outside, so a hole in it (a
    courtyard) is no place to view it from.
    """
    outer = geometry.exterior if isinstance(geometry, Polygon) else geometry
    coords = shapely.get_coordinates(outer)
    moved = coords + np.array([dx, dy])
    # Each boundary segment swept along the vector covers the parallelogram between the segment
    # and its copy; with the geometry and its copy those make up the whole sum.
    quads = [
        shapely.convex_hull(shapely.multipoints([coords[i], coords[i + 1], moved[i], moved[i + 1]]))
        for i in range(len(coords) - 1)
    ]
    solid = Polygon(outer) if isinstance(geometry, Polygon) else geometry
    translated = shapely.transform(solid, lambda xy: xy + np.array([dx, dy]))
    return shapely.union_all([solid, translated, *quads])


def view_area(zone: Zone) -> BaseGeometry | None:
    """Where a shopper can stand to see ``zone`` (None if it has no viewing distance)."""
    if zone.view_distance_m is None:
        return None
    distance = zone.view_distance_m
    if zone.facing_deg is None:
        return zone.polygon.buffer(distance).difference(zone.polygon)
    theta = math.radians(zone.facing_deg)
    back = (-distance * math.cos(theta), -distance * math.sin(theta))
    if zone.facing_edge is not None:
        ring = list(zone.polygon.exterior.coords)
        edge = LineString(ring[zone.facing_edge : zone.facing_edge + 2])
        strip = _sweep(edge, *back)
        return strip if strip.area > 0 else None
    return _sweep(zone.polygon, *back)


def bearings_to_nearest_deg(
    polygons: Polygon | NDArray[np.object_], x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Direction (deg) from each point ``(x, y)`` to the nearest point of its polygon's boundary.

    ``polygons`` is one polygon for all points or one per point.
    """
    lines = shapely.shortest_line(shapely.points(x, y), shapely.boundary(polygons))
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    delta = ends[:, 1] - ends[:, 0]
    return np.degrees(np.arctan2(delta[:, 1], delta[:, 0])) % 360.0


def heading_gap_deg(
    heading_deg: NDArray[np.float64], direction_deg: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Smallest absolute difference between headings, in [0, 180] (elementwise)."""
    return np.abs((heading_deg - direction_deg + 180.0) % 360.0 - 180.0)
