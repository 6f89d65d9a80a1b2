"""Floor plans in the local metre frame, and the floor folder layout of the recorded walks.

A floor folder (``<site>/<floor>/`` in ``../shared/data/ilc``) holds ``floor_info.json`` with the
floor's size in metres, ``floor_image.png`` covering exactly that size, and ``geojson_map.json``:
the floor outline as the first feature, then one polygon per shop, in lon/lat. The outline's
bounds map linearly onto ``[0, width] x [0, height]`` (checked against the recordings: every
surveyed waypoint falls inside the mapped outline and outside every mapped shop, with no y flip).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

FLOOR_INFO = "floor_info.json"
FLOOR_IMAGE = "floor_image.png"
FLOOR_GEOJSON = "geojson_map.json"
WALKS_DIR = "path_data_files"

# Where written floors are anchored on the globe. Any anchor round-trips (the mapping is by
# bounds); one near the recordings keeps written files looking like theirs.
DEFAULT_ANCHOR_LONLAT = (120.0, 30.0)
# Metres per degree of latitude, and of longitude at the equator (WGS84 mean, good to 0.5 %;
# only the look of written files depends on it, not the round trip).
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


class FloorPlanError(ValueError):
    """A floor folder or geometry that cannot be used, with the reason."""


@dataclass(frozen=True)
class Obstacle:
    """A footprint shoppers cannot walk through: a shop, a shelf, a wall block or a void."""

    id: str
    name: str
    polygon: Polygon
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FloorPlan:
    """A floor in its local metre frame (origin south-west, +x east, +y north)."""

    name: str
    width_m: float
    height_m: float
    outline: Polygon | MultiPolygon
    obstacles: tuple[Obstacle, ...] = ()
    image_path: Path | None = None

    @cached_property
    def walkable(self) -> Polygon | MultiPolygon:
        """Outline minus every obstacle: where a shopper can stand."""
        blocked = shapely.union_all([o.polygon for o in self.obstacles])
        area = self.outline.difference(blocked)
        if not isinstance(area, Polygon | MultiPolygon):
            area = MultiPolygon([g for g in getattr(area, "geoms", []) if isinstance(g, Polygon)])
        return area

    @classmethod
    def rectangle(
        cls, name: str, width_m: float, height_m: float, obstacles: tuple[Obstacle, ...] = ()
    ) -> FloorPlan:
        """A rectangular floor whose outline is the whole plan."""
        return cls(name, width_m, height_m, shapely.box(0, 0, width_m, height_m), obstacles)


def _valid(geom: Any, what: str) -> Polygon | MultiPolygon:
    """Repair self-touching rings the way the recordings need (many shop rings touch themselves)."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    if not polys or geom.is_empty:
        raise FloorPlanError(f"{what}: no polygon area")
    merged = shapely.union_all(polys)
    if not isinstance(merged, Polygon | MultiPolygon):
        raise FloorPlanError(f"{what}: no polygon area")
    return merged


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FloorPlanError(f"{path}: missing") from exc
    except json.JSONDecodeError as exc:
        raise FloorPlanError(f"{path}: not JSON ({exc})") from exc


def read_floor_size(floor_dir: Path) -> tuple[float, float]:
    """``(width_m, height_m)`` from ``floor_info.json``."""
    info = _read_json(Path(floor_dir) / FLOOR_INFO)
    try:
        width, height = float(info["map_info"]["width"]), float(info["map_info"]["height"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FloorPlanError(f"{floor_dir}/{FLOOR_INFO}: needs map_info.width/height") from exc
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise FloorPlanError(f"{floor_dir}/{FLOOR_INFO}: size must be positive metres")
    return width, height


def read_floor(floor_dir: Path | str, name: str | None = None) -> FloorPlan:
    """Load a floor folder into the local metre frame.

    >>> plan = read_floor("../shared/data/ilc/site1/F1")  # doctest: +SKIP
    >>> round(plan.width_m), len(plan.obstacles)  # doctest: +SKIP
    (240, 172)
    """
    floor_dir = Path(floor_dir)
    width, height = read_floor_size(floor_dir)
    features = _read_json(floor_dir / FLOOR_GEOJSON).get("features") or []
    if not features:
        raise FloorPlanError(f"{floor_dir}/{FLOOR_GEOJSON}: no features")
    try:
        geoms = [shape(f["geometry"]) for f in features]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FloorPlanError(f"{floor_dir}/{FLOOR_GEOJSON}: bad geometry ({exc})") from exc
    min_x, min_y, max_x, max_y = geoms[0].bounds
    if not (max_x > min_x and max_y > min_y):
        raise FloorPlanError(f"{floor_dir}/{FLOOR_GEOJSON}: floor outline has no extent")
    sx, sy = width / (max_x - min_x), height / (max_y - min_y)
    # x' = sx·(lon − min_x), y' = sy·(lat − min_y)
    to_local = [sx, 0.0, 0.0, sy, -sx * min_x, -sy * min_y]

    outline = _valid(affinity.affine_transform(geoms[0], to_local), "floor outline")
    obstacles = []
    for i, (feature, geom) in enumerate(zip(features[1:], geoms[1:], strict=True), start=1):
        props = dict(feature.get("properties") or {})
        local = affinity.affine_transform(geom, to_local)
        try:
            poly = _valid(local, f"feature {i}")
        except FloorPlanError:
            continue  # a degenerate shop outline (a line or a point) blocks nothing
        for part in getattr(poly, "geoms", [poly]):
            obstacles.append(
                Obstacle(
                    id=str(props.get("id", i)),
                    name=str(props.get("name") or props.get("display") or f"shop {i}"),
                    polygon=part,
                    properties=props,
                )
            )
    image = floor_dir / FLOOR_IMAGE
    return FloorPlan(
        name=name or floor_dir.name,
        width_m=width,
        height_m=height,
        outline=outline,
        obstacles=tuple(obstacles),
        image_path=image if image.exists() else None,
    )


def floor_to_geojson(
    plan: FloorPlan, anchor_lonlat: tuple[float, float] = DEFAULT_ANCHOR_LONLAT
) -> dict[str, Any]:
    """The ``geojson_map.json`` document for a plan: outline first, then each obstacle.

    The outline must span the whole plan, since readers map its bounds onto the plan's size.
    """
    min_x, min_y, max_x, max_y = plan.outline.bounds
    if not all(
        math.isclose(a, b, abs_tol=1e-6)
        for a, b in zip(
            (min_x, min_y, max_x, max_y), (0, 0, plan.width_m, plan.height_m), strict=False
        )
    ):
        raise FloorPlanError("the outline must span [0, width] x [0, height] to round-trip")
    lon0, lat0 = anchor_lonlat
    deg_per_m_lon = 1.0 / (_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    deg_per_m_lat = 1.0 / _M_PER_DEG_LAT
    to_lonlat = [deg_per_m_lon, 0.0, 0.0, deg_per_m_lat, lon0, lat0]

    def feature(geom: Polygon | MultiPolygon, props: dict[str, Any]) -> dict[str, Any]:
        lonlat = affinity.affine_transform(geom, to_lonlat)
        return {"type": "Feature", "geometry": mapping(lonlat), "properties": props}

    outline = plan.outline
    if isinstance(outline, Polygon):
        outline = MultiPolygon([outline])
    features = [feature(outline, {"type": "floor", "name": plan.name})]
    features += [
        feature(o.polygon, {"id": o.id, "name": o.name, **o.properties}) for o in plan.obstacles
    ]
    return {"type": "FeatureCollection", "features": features}


def write_floor(plan: FloorPlan, floor_dir: Path | str) -> Path:
    """Write ``floor_info.json`` and ``geojson_map.json`` (the image is the caller's to draw)."""
    floor_dir = Path(floor_dir)
    (floor_dir / WALKS_DIR).mkdir(parents=True, exist_ok=True)
    info = {"map_info": {"height": plan.height_m, "width": plan.width_m}}
    (floor_dir / FLOOR_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    (floor_dir / FLOOR_GEOJSON).write_text(json.dumps(floor_to_geojson(plan)), encoding="utf-8")
    return floor_dir
