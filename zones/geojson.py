"""GeoJSON import and export of zones in a floor's metre frame.

Coordinates are metres in the floor's local frame (origin south-west, +x east, +y north), not
lon/lat: a store plan has no survey anchor. The collection says so in a foreign member
``"aislecast": {"frame": "floor_m", ...}`` and carries the floor's name and size when known.
Each feature is one zone: a Polygon geometry (exterior ring only) and the zone's fields as
properties. Export then import gives back equal zones.

For the recorded malls' lon/lat ``geojson_map.json`` use ``zones.mall`` (through
``positioning.floorplan.read_floor``), which maps lon/lat onto the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zones.model import Floor, Zone, ZoneError
from zones.records import zone_from_properties, zone_properties

FRAME = "floor_m"


def zone_to_feature(zone: Zone) -> dict[str, Any]:
    ring = [[x, y] for x, y in zone.polygon.exterior.coords]
    return {
        "type": "Feature",
        "id": zone.id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": zone_properties(zone),
    }


def zones_to_geojson(zones: Iterable[Zone], floor: Floor | None = None) -> dict[str, Any]:
    """A FeatureCollection of ``zones`` (one Polygon feature each) in the floor metre frame."""
    meta: dict[str, Any] = {"frame": FRAME}
    if floor is not None:
        meta.update(floor=floor.name, width_m=floor.width_m, height_m=floor.height_m)
    return {
        "type": "FeatureCollection",
        "aislecast": meta,
        "features": [zone_to_feature(z) for z in zones],
    }


def zone_from_feature(feature: Any, index: int = 0) -> Zone:
    """The zone one GeoJSON feature describes, or ``ZoneError`` naming the feature and reason."""
    what = f"feature {index}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise ZoneError(f"{what}: not a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping):
        raise ZoneError(f"{what}: has no geometry")
    coords = geometry.get("coordinates")
    if geometry.get("type") == "MultiPolygon" and isinstance(coords, list) and len(coords) == 1:
        coords = coords[0]
    elif geometry.get("type") != "Polygon":
        raise ZoneError(f"{what}: a zone must be a Polygon, got {geometry.get('type')!r}")
    if not isinstance(coords, list) or not coords:
        raise ZoneError(f"{what}: Polygon has no coordinates")
    if len(coords) > 1:
        raise ZoneError(f"{what}: zones with holes are not supported (split the zone instead)")
    properties = dict(feature.get("properties") or {})
    properties.setdefault("id", feature.get("id"))
    return zone_from_properties(properties, coords[0], what)


def zones_from_geojson(document: Any, floor: Floor | None = None) -> list[Zone]:
    """Zones from a FeatureCollection in the floor metre frame (checked against ``floor``)."""
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise ZoneError("GeoJSON: expected a FeatureCollection")
    frame = (document.get("aislecast") or {}).get("frame", FRAME)
    if frame != FRAME:
        raise ZoneError(f"GeoJSON: coordinates must be in the floor metre frame, not {frame!r}")
    features = document.get("features")
    if not isinstance(features, list):
        raise ZoneError("GeoJSON: features must be a list")
    zones = [zone_from_feature(f, i) for i, f in enumerate(features)]
    ids = [z.id for z in zones]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ZoneError(f"GeoJSON: zone ids used more than once: {', '.join(duplicated)}")
    if floor is not None:
        for zone in zones:
            floor.check_on_floor(zone)
    return zones


def read_zones_geojson(path: Path | str, floor: Floor | None = None) -> list[Zone]:
    """Load zones from a GeoJSON file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ZoneError(f"{path}: cannot read GeoJSON ({exc})") from exc
    return zones_from_geojson(document, floor)


def write_zones_geojson(
    path: Path | str, zones: Iterable[Zone], floor: Floor | None = None
) -> Path:
    """Save zones as GeoJSON; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(zones_to_geojson(zones, floor), indent=1), encoding="utf-8")
    return path
