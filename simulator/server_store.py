"""Load a store defined in the server — over its staff REST API, like any client — as a ``Store``.

What is read (``/api/stores/{id}``, ``…/floors``, ``…/zones``, ``…/beacons``, ``…/screens``):

- the store's first floor (or the one asked for): its rectangle is the outline;
- its zones: kind ``obstacle`` becomes an ``Obstacle`` (walkable = floor minus obstacles), every
  other zone a ``StoreZone``; zones are cut to the floor (the server lets a hand-drawn zone
  overhang its edge by up to a metre);
- its beacons (``tx_power_dbm`` unset → the usual −59 dBm at 1 m);
- its screens that belong to a zone (a screen without a facing looks the opposite way from its
  zone's facing, or east);
- entrances: the floor's ``entrance`` zones in id order, each at its zone's representative point;
  shoppers come in at the first and leave by the last.

The document built from these goes through ``store_from_dict``, so a field the simulator cannot
use raises the same ``StoreError`` a bad ``store.json`` does. Then the store must be walkable: a
floor, an entrance, and a walking path from the entrance to every door, shelf, screen and
checkout zone; otherwise ``StoreError`` names what is missing. Auth: a staff bearer token, or an
email and password for ``POST /api/auth/login``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from simulator.routes import RouteError, RouteGrid
from simulator.store import Store, StoreError, store_from_dict

# The measured power (RSSI at 1 m) assumed for a beacon stored without one.
DEFAULT_TX_POWER_DBM = -59.0
# Zones shoppers walk to: each must have a reachable standing spot this close (metres), or
# within its viewing distance when that is larger (a shelf is seen from its aisle).
REACH_M = 1.0
# Zones a shopper goes to stand in or look at (obstacles and plain areas need no path).
VISITED_KINDS = ("entrance", "shelf", "screen", "checkout")
HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class StaffAuth:
    """A staff bearer token, or the email and password to log in with."""

    token: str | None = None
    email: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class ServerStoreDocuments:
    """The server's JSON for one store, as its REST API returns it."""

    store: dict[str, Any]
    floors: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    beacons: list[dict[str, Any]]
    screens: list[dict[str, Any]]


def staff_headers(client: httpx.Client, auth: StaffAuth) -> dict[str, str]:
    """The ``Authorization`` header: the token given, or one from logging in."""
    if auth.token:
        return {"Authorization": f"Bearer {auth.token}"}
    if not (auth.email and auth.password):
        raise StoreError("reading a store from the server needs a staff token or email + password")
    response = client.post("/api/auth/login", json={"email": auth.email, "password": auth.password})
    if response.status_code != 200:
        raise StoreError(f"the server refused the staff login: {_detail(response)}")
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")


def _get(client: httpx.Client, path: str, store_id: int) -> Any:
    response = client.get(path)
    if response.status_code == 404:
        raise StoreError(f"store {store_id}: not on the server ({_detail(response)})")
    if response.status_code in (401, 403):
        raise StoreError(f"store {store_id}: the server refused access ({_detail(response)})")
    if response.status_code != 200:
        raise StoreError(f"store {store_id}: GET {path} failed ({_detail(response)})")
    return response.json()


def fetch_store_documents(
    base_url: str, store_id: int, auth: StaffAuth, timeout_s: float = HTTP_TIMEOUT_S
) -> ServerStoreDocuments:
    """Read the store, its floors, zones, beacons and screens over the staff REST API."""
    base = f"/api/stores/{store_id}"
    try:
        with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
            client.headers.update(staff_headers(client, auth))
            return ServerStoreDocuments(
                store=_get(client, base, store_id),
                floors=_get(client, f"{base}/floors", store_id),
                zones=_get(client, f"{base}/zones", store_id),
                beacons=_get(client, f"{base}/beacons", store_id),
                screens=_get(client, f"{base}/screens", store_id),
            )
    except httpx.HTTPError as error:
        raise StoreError(f"cannot read store {store_id} from {base_url}: {error}") from None


def _ring(polygon: Polygon) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in polygon.exterior.coords[:-1]]


def _on_floor(points: list[list[float]], floor: Polygon) -> list[list[float]]:
    """The zone cut to the floor rectangle (its largest piece); as given when it fits."""
    polygon = Polygon(points)
    if not polygon.is_valid or floor.covers(polygon):
        return points  # an invalid one is reported by store_from_dict, naming the zone
    cut = polygon.intersection(floor)
    pieces = [g for g in getattr(cut, "geoms", [cut]) if isinstance(g, Polygon) and g.area > 0]
    return _ring(max(pieces, key=lambda g: g.area)) if pieces else points


def _screen_facing(screen: dict[str, Any], zone: dict[str, Any]) -> float:
    if screen.get("facing_deg") is not None:
        return float(screen["facing_deg"])
    if zone.get("facing_deg") is not None:
        return (float(zone["facing_deg"]) + 180.0) % 360.0  # the zone looks toward the screen
    return 0.0


def _zone_entry(zone: dict[str, Any], floor: Polygon) -> dict[str, Any]:
    entry = {k: v for k, v in zone.items() if k not in ("store_id", "floor_id", "version")}
    if zone.get("kind") != "obstacle":  # obstacles may overhang the floor; zones may not
        entry["polygon"] = _on_floor(zone["polygon"], floor)
    return entry


def _beacon_entry(beacon: dict[str, Any]) -> dict[str, Any]:
    power = beacon.get("tx_power_dbm")
    return {"id": beacon["id"], "x": beacon["x"], "y": beacon["y"],
            "tx_power_dbm": DEFAULT_TX_POWER_DBM if power is None else power}  # fmt: skip


def _screen_entries(
    screens: list[dict[str, Any]], zone_by_id: dict[str, dict[str, Any]], floor_id: int
) -> list[dict[str, Any]]:
    """Screens of the floor that belong to a zone (the simulator's screens draw shoppers to it)."""
    entries = []
    for screen in screens:
        zone = zone_by_id.get(screen.get("zone_id") or "")
        if screen.get("floor_id") == floor_id and zone is not None:
            entries.append({"id": screen["id"], "name": screen["name"], "zone_id": zone["id"],
                            "x": screen["x"], "y": screen["y"],
                            "facing_deg": _screen_facing(screen, zone)})  # fmt: skip
    return entries


def _entrance_entry(zone: dict[str, Any]) -> dict[str, Any]:
    point = Polygon(zone["polygon"]).representative_point()
    return {"id": zone["id"], "name": zone["name"], "x": point.x, "y": point.y}


def store_document(docs: ServerStoreDocuments, floor_id: int | None = None) -> dict[str, Any]:
    """The server's store as a ``store.json`` document (see ``simulator.store``)."""
    name = f"{docs.store.get('name', 'store')} (store {docs.store.get('id')})"
    floors = sorted(docs.floors, key=lambda f: f["id"])
    if floor_id is not None:
        floors = [f for f in floors if f["id"] == floor_id]
    if not floors:
        which = "no floor" if floor_id is None else f"no floor {floor_id}"
        raise StoreError(f"{name}: {which}; add the floor plan before walking shoppers there")
    floor = floors[0]
    rectangle = shapely.box(0.0, 0.0, float(floor["width_m"]), float(floor["height_m"]))
    zones = [z for z in docs.zones if z.get("floor_id") == floor["id"]]
    entrances = [z for z in zones if z.get("kind") == "entrance"]
    if not entrances:
        raise StoreError(
            f"{name}, floor {floor['name']!r}: no entrance zone (kind 'entrance') for shoppers "
            "to come in by"
        )
    return {
        "name": name,
        "width_m": floor["width_m"],
        "height_m": floor["height_m"],
        "zones": [_zone_entry(z, rectangle) for z in zones],
        "beacons": [_beacon_entry(b) for b in docs.beacons if b.get("floor_id") == floor["id"]],
        "screens": _screen_entries(docs.screens, {z["id"]: z for z in zones}, floor["id"]),
        "entrances": [_entrance_entry(z) for z in entrances],
    }


def check_walkable(store: Store) -> RouteGrid:
    """The store's route grid, or ``StoreError`` naming the door or zone no path reaches."""
    try:
        grid = RouteGrid.build(store.floor_plan().walkable)
    except RouteError as error:
        raise StoreError(f"{store.name}: nowhere to walk ({error})") from None
    cells: NDArray[np.object_] = np.asarray(shapely.points(grid.cell_xy), dtype=object)
    reachable = shapely.STRtree(cells)
    for entrance in store.entrances:
        door = shapely.Point(entrance.x, entrance.y)
        if reachable.query(door, predicate="dwithin", distance=REACH_M).size == 0:
            raise StoreError(
                f"{store.name}: entrance {entrance.id!r} is walled in: no walking path reaches "
                f"it (nothing walkable within {REACH_M:g} m of ({entrance.x:.1f}, "
                f"{entrance.y:.1f}) that connects to the rest of the floor)"
            )
    for zone in store.zones:
        if zone.kind not in VISITED_KINDS:
            continue
        reach = max(REACH_M, zone.view_distance_m or 0.0)
        if reachable.query(zone.polygon, predicate="dwithin", distance=reach).size == 0:
            raise StoreError(
                f"{store.name}: {zone.kind} zone {zone.id!r} has no walking path to it "
                f"(obstacles close it off from the main walkable floor)"
            )
    return grid


def store_from_server(docs: ServerStoreDocuments, floor_id: int | None = None) -> Store:
    """A validated, walkable ``Store`` from the server's documents."""
    store = store_from_dict(store_document(docs, floor_id))
    check_walkable(store)
    return store


def load_server_store(
    base_url: str, store_id: int, auth: StaffAuth, floor_id: int | None = None
) -> Store:
    """Read store ``store_id`` from the server at ``base_url`` (``http://host:port``)."""
    return store_from_server(fetch_store_documents(base_url, store_id, auth), floor_id)
