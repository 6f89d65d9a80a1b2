"""A store definition: floor, obstacles, zones, beacons, screens, entrances and Wi-Fi access points.

``store.json`` (metres, local floor frame: origin south-west, +x east, +y north)::

    {"name", "width_m", "height_m",
     "outline": GeoJSON Polygon/MultiPolygon geometry in metres (optional; default the rectangle),
     "obstacles": [{"id", "name", "polygon": [[x, y], ...], "kind", "categories"}],
     "zones": [{"id", "name", "kind", "polygon": [[x, y], ...], "categories", "skus",
                "facing_deg", "view_distance_m"}],
     "beacons": [{"id", "x", "y", "tx_power_dbm", "uuid", "major", "minor", "mac", "height_m"}],
     "screens": [{"id", "name", "zone_id", "x", "y", "facing_deg"}],
     "entrances": [{"id", "name", "x", "y"}],
     "wifi": [{"bssid", "ssid", "x", "y", "frequency_mhz", "power_1m_dbm"}]}

A shelf zone is the strip of aisle floor in front of a shelf face: a shopper standing in it and
looking along ``facing_deg`` (map heading, 0 = +x, counter-clockwise) sees the shelf, which is
at most ``view_distance_m`` away. A screen's ``facing_deg`` is the way its display points (toward
the viewers); its zone's ``facing_deg`` is the opposite (from the viewer toward the screen).
A beacon's ``id`` is ``f"{uuid}_{major}_{minor}_{mac}"``, as the recordings name iBeacons.
A zone of kind ``obstacle`` (the server's way to draw a shelf unit) is read as an obstacle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from positioning.floorplan import FloorPlan, Obstacle

ZONE_KINDS = ("area", "shelf", "screen", "entrance", "checkout")
OBSTACLE_KIND = "obstacle"  # a zone of this kind is an obstacle (zones.events.ZoneKind)
# iBeacon measured power (RSSI at 1 m) outside this range is a typo, not a radio.
TX_POWER_RANGE_DBM = (-100.0, 0.0)


class StoreError(ValueError):
    """A store definition that cannot be used, with where and why."""


@dataclass(frozen=True)
class StoreZone:
    """A zone as ``zones.model.Zone`` will hold it (polygon in the floor's metre frame)."""

    id: str
    name: str
    kind: str
    polygon: Polygon
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    facing_deg: float | None = None
    view_distance_m: float | None = None


@dataclass(frozen=True)
class Beacon:
    """An iBeacon at a known spot, ``height_m`` above the floor."""

    id: str
    x: float
    y: float
    tx_power_dbm: float
    uuid: str
    major: int
    minor: int
    mac: str
    height_m: float = 2.8


@dataclass(frozen=True)
class Screen:
    """A digital signage screen; ``facing_deg`` is the direction its display points."""

    id: str
    name: str
    zone_id: str
    x: float
    y: float
    facing_deg: float


@dataclass(frozen=True)
class Entrance:
    """A door: where shoppers come in and go out."""

    id: str
    name: str
    x: float
    y: float


@dataclass(frozen=True)
class WifiAccessPoint:
    """A Wi-Fi radio; ``power_1m_dbm`` is the RSSI a phone reads 1 m away."""

    bssid: str
    ssid: str
    x: float
    y: float
    frequency_mhz: int
    power_1m_dbm: float


@dataclass(frozen=True)
class Store:
    """Everything the simulator needs to walk shoppers through a floor."""

    name: str
    width_m: float
    height_m: float
    outline: Polygon | MultiPolygon
    obstacles: tuple[Obstacle, ...] = ()
    zones: tuple[StoreZone, ...] = ()
    beacons: tuple[Beacon, ...] = ()
    screens: tuple[Screen, ...] = ()
    entrances: tuple[Entrance, ...] = ()
    wifi: tuple[WifiAccessPoint, ...] = field(default=())

    def floor_plan(self) -> FloorPlan:
        """The floor as positioning reads it: outline minus obstacles."""
        return FloorPlan(self.name, self.width_m, self.height_m, self.outline, self.obstacles)

    def zone(self, zone_id: str) -> StoreZone:
        """The zone with this id (KeyError names it)."""
        for zone in self.zones:
            if zone.id == zone_id:
                return zone
        raise KeyError(f"no zone {zone_id!r} in store {self.name!r}")


def _ring(points: list[tuple[float, float]] | Any) -> list[list[float]]:
    return [[round(float(x), 4), round(float(y), 4)] for x, y in points]


def store_to_dict(store: Store) -> dict[str, Any]:
    """The ``store.json`` document."""
    return {
        "name": store.name,
        "width_m": store.width_m,
        "height_m": store.height_m,
        "outline": mapping(store.outline),
        "obstacles": [
            {
                "id": o.id,
                "name": o.name,
                "polygon": _ring(o.polygon.exterior.coords[:-1]),
                **{k: v for k, v in o.properties.items() if k in ("kind", "categories")},
            }
            for o in store.obstacles
        ],
        "zones": [
            {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                "polygon": _ring(z.polygon.exterior.coords[:-1]),
                "categories": list(z.categories),
                "skus": list(z.skus),
                "facing_deg": z.facing_deg,
                "view_distance_m": z.view_distance_m,
            }
            for z in store.zones
        ],
        "beacons": [vars(b) for b in store.beacons],
        "screens": [vars(s) for s in store.screens],
        "entrances": [vars(e) for e in store.entrances],
        "wifi": [vars(w) for w in store.wifi],
    }


def write_store(store: Store, path: Path | str) -> Path:
    """Write ``store.json`` (stable key order, so the same store gives the same bytes)."""
    path = Path(path)
    path.write_text(json.dumps(store_to_dict(store), indent=1) + "\n", encoding="utf-8")
    return path


def load_store(path: Path | str) -> Store:
    """Read and validate ``store.json``; every defect raises :class:`StoreError` naming it."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreError(f"{path}: missing") from exc
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: not JSON ({exc})") from exc
    try:
        return store_from_dict(doc)
    except StoreError as exc:
        raise StoreError(f"{path}: {exc}") from exc


# ---- validation: one small reader per field type, each naming the field it rejects ----


def _get(doc: Any, key: str, where: str) -> Any:
    if not isinstance(doc, dict):
        raise StoreError(f"{where}: must be an object")
    if key not in doc:
        raise StoreError(f"{where}.{key}: missing")
    return doc[key]


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StoreError(f"{where}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise StoreError(f"{where}: must be finite")
    if positive and number <= 0:
        raise StoreError(f"{where}: must be positive, got {number}")
    return number


def _optional_number(value: Any, where: str, *, positive: bool = False) -> float | None:
    return None if value is None else _number(value, where, positive=positive)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{where}: must be a non-empty string")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StoreError(f"{where}: must be a list of strings")
    return tuple(value)


def _items(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise StoreError(f"{key}: must be a list")
    return value


def _polygon(
    value: Any, where: str, floor: Polygon | MultiPolygon, *, inside_floor: bool = True
) -> Polygon:
    if not isinstance(value, list) or len(value) < 3:
        raise StoreError(f"{where}: needs a list of at least 3 [x, y] points")
    points = []
    for i, point in enumerate(value):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise StoreError(f"{where}[{i}]: must be [x, y]")
        points.append(
            (_number(point[0], f"{where}[{i}][0]"), _number(point[1], f"{where}[{i}][1]"))
        )
    polygon = Polygon(points)
    if not polygon.is_valid or polygon.area <= 0:
        raise StoreError(
            f"{where}: not a simple polygon with area ({shapely.is_valid_reason(polygon)})"
        )
    # A zone reaching beyond the floor by more than a rounding error is a drawing mistake;
    # an obstacle may (the recordings' shops overhang the outline) but must touch the floor.
    if inside_floor and polygon.difference(floor).area > 1e-3 * polygon.area + 1e-6:
        raise StoreError(f"{where}: reaches outside the floor")
    if not inside_floor and not polygon.intersects(floor):
        raise StoreError(f"{where}: lies entirely outside the floor")
    return polygon


def _position(doc: Any, where: str, floor: Polygon | MultiPolygon) -> tuple[float, float]:
    """``doc["x"], doc["y"]``, which must be a point on the floor."""
    x = _number(_get(doc, "x", where), f"{where}.x")
    y = _number(_get(doc, "y", where), f"{where}.y")
    if not floor.buffer(1e-6).covers(shapely.Point(x, y)):
        raise StoreError(f"{where}: ({x:.2f}, {y:.2f}) is outside the floor")
    return x, y


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise StoreError(f"{what}: duplicate id {item_id!r}")
        seen.add(item_id)


def _outline(doc: dict[str, Any], width: float, height: float) -> Polygon | MultiPolygon:
    if doc.get("outline") is None:
        return shapely.box(0.0, 0.0, width, height)
    try:
        outline = shape(doc["outline"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreError(f"outline: not a GeoJSON polygon geometry ({exc})") from exc
    if not isinstance(outline, Polygon | MultiPolygon) or outline.is_empty:
        raise StoreError("outline: must be a Polygon or MultiPolygon")
    if not outline.is_valid:
        repaired = shapely.make_valid(outline)
        if not isinstance(repaired, Polygon | MultiPolygon):
            raise StoreError("outline: not a valid polygon and cannot be repaired into one")
        outline = repaired
    min_x, min_y, max_x, max_y = outline.bounds
    if min_x < -1e-6 or min_y < -1e-6 or max_x > width + 1e-6 or max_y > height + 1e-6:
        raise StoreError("outline: reaches beyond [0, width_m] x [0, height_m]")
    return outline


def _obstacle(doc: Any, where: str, floor: Polygon | MultiPolygon) -> Obstacle:
    props: dict[str, Any] = {}
    if isinstance(doc, dict) and "kind" in doc:
        props["kind"] = _text(doc["kind"], f"{where}.kind")
    if isinstance(doc, dict) and "categories" in doc:
        props["categories"] = list(_texts(doc["categories"], f"{where}.categories"))
    return Obstacle(
        id=_text(_get(doc, "id", where), f"{where}.id"),
        name=_text(_get(doc, "name", where), f"{where}.name"),
        polygon=_polygon(
            _get(doc, "polygon", where), f"{where}.polygon", floor, inside_floor=False
        ),
        properties=props,
    )


def _is_obstacle_zone(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == OBSTACLE_KIND


def _zone(doc: Any, where: str, floor: Polygon | MultiPolygon) -> StoreZone:
    kind = _get(doc, "kind", where)
    if kind not in ZONE_KINDS:
        raise StoreError(f"{where}.kind: {kind!r} is not one of {', '.join(ZONE_KINDS)}")
    return StoreZone(
        id=_text(_get(doc, "id", where), f"{where}.id"),
        name=_text(_get(doc, "name", where), f"{where}.name"),
        kind=kind,
        polygon=_polygon(_get(doc, "polygon", where), f"{where}.polygon", floor),
        categories=_texts(doc.get("categories"), f"{where}.categories"),
        skus=_texts(doc.get("skus"), f"{where}.skus"),
        facing_deg=_optional_number(doc.get("facing_deg"), f"{where}.facing_deg"),
        view_distance_m=_optional_number(
            doc.get("view_distance_m"), f"{where}.view_distance_m", positive=True
        ),
    )


def _beacon(doc: Any, where: str, floor: Polygon | MultiPolygon) -> Beacon:
    x, y = _position(doc, where, floor)
    tx = _number(_get(doc, "tx_power_dbm", where), f"{where}.tx_power_dbm")
    if not TX_POWER_RANGE_DBM[0] <= tx <= TX_POWER_RANGE_DBM[1]:
        raise StoreError(f"{where}.tx_power_dbm: {tx} dBm is not a plausible RSSI at 1 m")
    beacon_id = _text(_get(doc, "id", where), f"{where}.id")
    uuid, major, minor, mac = [*beacon_id.split("_"), "", "0", "0", ""][:4]
    return Beacon(
        id=beacon_id,
        x=x,
        y=y,
        tx_power_dbm=tx,
        uuid=_text(doc.get("uuid", uuid or beacon_id), f"{where}.uuid"),
        major=int(
            _number(doc.get("major", int(major) if major.isdigit() else 0), f"{where}.major")
        ),
        minor=int(
            _number(doc.get("minor", int(minor) if minor.isdigit() else 0), f"{where}.minor")
        ),
        mac=_text(doc.get("mac", mac or beacon_id), f"{where}.mac"),
        height_m=_number(doc.get("height_m", 2.8), f"{where}.height_m"),
    )


def _screen(doc: Any, where: str, floor: Polygon | MultiPolygon, zone_ids: set[str]) -> Screen:
    x, y = _position(doc, where, floor)
    zone_id = _text(_get(doc, "zone_id", where), f"{where}.zone_id")
    if zone_id not in zone_ids:
        raise StoreError(f"{where}.zone_id: no zone {zone_id!r}")
    return Screen(
        id=_text(_get(doc, "id", where), f"{where}.id"),
        name=_text(_get(doc, "name", where), f"{where}.name"),
        zone_id=zone_id,
        x=x,
        y=y,
        facing_deg=_number(_get(doc, "facing_deg", where), f"{where}.facing_deg"),
    )


def _entrance(doc: Any, where: str, floor: Polygon | MultiPolygon) -> Entrance:
    x, y = _position(doc, where, floor)
    return Entrance(
        id=_text(_get(doc, "id", where), f"{where}.id"),
        name=_text(doc.get("name", doc.get("id")), f"{where}.name"),
        x=x,
        y=y,
    )


def _wifi(doc: Any, where: str, floor: Polygon | MultiPolygon) -> WifiAccessPoint:
    x, y = _position(doc, where, floor)
    return WifiAccessPoint(
        bssid=_text(_get(doc, "bssid", where), f"{where}.bssid"),
        ssid=_text(_get(doc, "ssid", where), f"{where}.ssid"),
        x=x,
        y=y,
        frequency_mhz=int(_number(_get(doc, "frequency_mhz", where), f"{where}.frequency_mhz")),
        power_1m_dbm=_number(_get(doc, "power_1m_dbm", where), f"{where}.power_1m_dbm"),
    )


def store_from_dict(doc: Any) -> Store:
    """Build a :class:`Store` from a parsed ``store.json``, validating every field."""
    if not isinstance(doc, dict):
        raise StoreError("the store definition must be a JSON object")
    width = _number(_get(doc, "width_m", "store"), "width_m", positive=True)
    height = _number(_get(doc, "height_m", "store"), "height_m", positive=True)
    outline = _outline(doc, width, height)
    obstacles = [
        _obstacle(o, f"obstacles[{i}]", outline) for i, o in enumerate(_items(doc, "obstacles"))
    ]
    zone_items = list(enumerate(_items(doc, "zones")))
    obstacles += [
        _obstacle(z, f"zones[{i}]", outline) for i, z in zone_items if _is_obstacle_zone(z)
    ]
    zones = [_zone(z, f"zones[{i}]", outline) for i, z in zone_items if not _is_obstacle_zone(z)]
    _unique([z.id for z in zones], "zones")
    beacons = [_beacon(b, f"beacons[{i}]", outline) for i, b in enumerate(_items(doc, "beacons"))]
    _unique([b.id for b in beacons], "beacons")
    zone_ids = {z.id for z in zones}
    screens = [
        _screen(s, f"screens[{i}]", outline, zone_ids) for i, s in enumerate(_items(doc, "screens"))
    ]
    _unique([s.id for s in screens], "screens")
    entrances = [
        _entrance(e, f"entrances[{i}]", outline) for i, e in enumerate(_items(doc, "entrances"))
    ]
    wifi = [_wifi(w, f"wifi[{i}]", outline) for i, w in enumerate(_items(doc, "wifi"))]
    _unique([w.bssid for w in wifi], "wifi")
    return Store(
        name=_text(_get(doc, "name", "store"), "name"),
        width_m=width,
        height_m=height,
        outline=outline,
        obstacles=tuple(obstacles),
        zones=tuple(zones),
        beacons=tuple(beacons),
        screens=tuple(screens),
        entrances=tuple(entrances),
        wifi=tuple(wifi),
    )
