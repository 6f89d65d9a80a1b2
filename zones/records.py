"""Zones as plain JSON-ready dicts, in the shape of ``store.json``'s ``zones`` entries.

``{"id", "name", "kind", "polygon": [[x, y], ...], "categories", "skus", "facing_deg",
"view_distance_m", "facing_edge"}`` in metres. The server stores zones and their history in this
shape, the simulator writes it, and GeoJSON features carry the same fields as properties.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zones.model import Zone, ZoneError, polygon_from_coords

ZONE_FIELDS = (
    "id",
    "name",
    "kind",
    "categories",
    "skus",
    "facing_deg",
    "view_distance_m",
    "facing_edge",
)


def zone_properties(zone: Zone) -> dict[str, Any]:
    """Every field of a zone except its polygon."""
    return {
        "id": zone.id,
        "name": zone.name,
        "kind": zone.kind,
        "categories": list(zone.categories),
        "skus": list(zone.skus),
        "facing_deg": zone.facing_deg,
        "view_distance_m": zone.view_distance_m,
        "facing_edge": zone.facing_edge,
    }


def zone_to_dict(zone: Zone) -> dict[str, Any]:
    """A zone as a ``store.json`` zone entry (exterior ring without its closing vertex)."""
    ring = [[x, y] for x, y in zone.polygon.exterior.coords[:-1]]
    return {**zone_properties(zone), "polygon": ring}


def _optional_number(entry: Mapping[str, Any], key: str, what: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ZoneError(f"{what}: {key} must be a number or null, got {value!r}")
    return float(value)


def _string_list(entry: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ZoneError(f"{what}: {key} must be a list of strings")
    return tuple(str(v) for v in value)


def zone_from_properties(entry: Mapping[str, Any], polygon_coords: Any, what: str = "zone") -> Zone:
    """A validated zone from its properties and ``[[x, y], ...]`` exterior ring."""
    if not isinstance(entry, Mapping):
        raise ZoneError(f"{what}: must be an object with id, name, kind and polygon")
    zone_id = entry.get("id")
    if not isinstance(zone_id, str) or not zone_id:
        raise ZoneError(f"{what}: id must be a non-empty string")
    what = f"zone {zone_id!r}"
    edge = entry.get("facing_edge")
    if edge is not None and (isinstance(edge, bool) or not isinstance(edge, int)):
        raise ZoneError(f"{what}: facing_edge must be an integer edge index or null")
    if polygon_coords is None or isinstance(polygon_coords, str):
        raise ZoneError(f"{what}: polygon must be a list of [x, y] vertices")
    return Zone(
        id=zone_id,
        name=str(entry.get("name") or zone_id),
        kind=entry.get("kind", "area"),
        polygon=polygon_from_coords(polygon_coords, what),
        categories=_string_list(entry, "categories", what),
        skus=_string_list(entry, "skus", what),
        facing_deg=_optional_number(entry, "facing_deg", what),
        view_distance_m=_optional_number(entry, "view_distance_m", what),
        facing_edge=edge,
    )


def zone_from_dict(entry: Mapping[str, Any]) -> Zone:
    """The zone a ``store.json`` zone entry describes, or ``ZoneError`` with the reason."""
    if not isinstance(entry, Mapping):
        raise ZoneError("zone: must be an object with id, name, kind and polygon")
    return zone_from_properties(entry, entry.get("polygon"), f"zone {entry.get('id')!r}")
