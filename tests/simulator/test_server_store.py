"""The simulator loads a store defined in a real server (uvicorn, SQLite) over the staff REST API.

The demo store is drawn into the server the way staff would (floor, zones, its shelf units as
``obstacle`` zones, beacons, screens) and read back with ``load_server_store``; malformed stores
get a ``StoreError`` naming what is missing.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from aislecast.cli import app
from positioning.walkfile import read_walk
from simulator import demo_store
from simulator.routes import RouteGrid
from simulator.server_store import StaffAuth, load_server_store
from simulator.shopper import plan_visit
from simulator.store import Store, StoreError
from tests.server.harness import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer, Staff, settings_for

AUTH = StaffAuth(email=ADMIN_EMAIL, password=ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('server-store') / 'aislecast.sqlite3'}"
    with LiveServer(settings_for(url)) as live:
        yield live


@pytest.fixture(scope="module")
def staff(server: LiveServer) -> Iterator[Staff]:
    client = Staff(server.http_url)
    yield client
    client.http.close()


def ring(polygon: shapely.Polygon) -> list[list[float]]:
    return [[x, y] for x, y in polygon.exterior.coords[:-1]]


def new_store(staff: Staff, width_m: float = 20.0, height_m: float = 10.0) -> tuple[str, int]:
    """A store with one floor; returns its REST base path and the floor id."""
    store = staff.ok("POST", "/api/stores", json={"name": f"Shop {uuid.uuid4().hex[:6]}"})
    base = f"/api/stores/{store['id']}"
    floor = staff.ok("POST", f"{base}/floors", json={"name": "ground", "width_m": width_m,
                                                       "height_m": height_m})  # fmt: skip
    return base, floor["id"]


def add_zone(staff: Staff, base: str, floor_id: int, **zone: Any) -> None:
    staff.ok("POST", f"{base}/zones", json={"floor_id": floor_id, **zone})


def draw_store(staff: Staff, store: Store) -> int:
    """Create ``store`` over REST as staff would; returns the server's store id."""
    base, floor_id = new_store(staff, store.width_m, store.height_m)
    for zone in store.zones:
        add_zone(staff, base, floor_id, id=zone.id, name=zone.name, kind=zone.kind,
                 polygon=ring(zone.polygon), categories=list(zone.categories),
                 facing_deg=zone.facing_deg, view_distance_m=zone.view_distance_m)  # fmt: skip
    for obstacle in store.obstacles:
        add_zone(staff, base, floor_id, id=obstacle.id, name=obstacle.name, kind="obstacle",
                 polygon=ring(obstacle.polygon),
                 categories=obstacle.properties.get("categories", []))  # fmt: skip
    for b in store.beacons:
        beacon = {"id": b.id, "floor_id": floor_id, "x": b.x, "y": b.y,
                  "tx_power_dbm": b.tx_power_dbm}  # fmt: skip
        staff.ok("POST", f"{base}/beacons", json=beacon)
    for s in store.screens:
        screen = {"id": s.id, "floor_id": floor_id, "name": s.name, "zone_id": s.zone_id,
                  "x": s.x, "y": s.y, "facing_deg": s.facing_deg}  # fmt: skip
        staff.ok("POST", f"{base}/screens", json=screen)
    return int(base.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def demo_on_server(staff: Staff) -> tuple[Store, int]:
    store = demo_store(0)
    return store, draw_store(staff, store)


def test_a_store_drawn_over_rest_loads_as_it_was_drawn(
    server: LiveServer, demo_on_server: tuple[Store, int]
) -> None:
    drawn, store_id = demo_on_server
    loaded = load_server_store(server.http_url, store_id, AUTH)
    assert (loaded.width_m, loaded.height_m) == (drawn.width_m, drawn.height_m)

    def zones(store: Store) -> dict[str, tuple[Any, ...]]:
        return {z.id: (z.kind, z.name, z.categories, z.facing_deg, z.view_distance_m,
                       z.polygon.normalize().wkt) for z in store.zones}  # fmt: skip

    assert zones(loaded) == zones(drawn)
    assert {o.id: o.polygon.normalize().wkt for o in loaded.obstacles} == {
        o.id: o.polygon.normalize().wkt for o in drawn.obstacles
    }
    assert loaded.floor_plan().walkable.equals(drawn.floor_plan().walkable)
    assert {(b.id, b.x, b.y, b.tx_power_dbm, b.uuid, b.major, b.minor, b.mac)
            for b in loaded.beacons} == {(b.id, b.x, b.y, b.tx_power_dbm, b.uuid, b.major,
                                          b.minor, b.mac) for b in drawn.beacons}  # fmt: skip
    assert set(loaded.screens) == set(drawn.screens)
    # Doors: the entrance zones, in id order (in at the first, out by the last).
    assert [e.id for e in loaded.entrances] == ["entrance", "exit"]
    for door in loaded.entrances:
        assert loaded.zone(door.id).polygon.contains(shapely.Point(door.x, door.y))


def test_shoppers_in_a_server_store_never_walk_through_its_obstacles(
    server: LiveServer, demo_on_server: tuple[Store, int]
) -> None:
    loaded = load_server_store(server.http_url, demo_on_server[1], AUTH)
    grid = RouteGrid.build(loaded.floor_plan().walkable)
    shelves = shapely.union_all([o.polygon for o in loaded.obstacles])
    assert not shelves.is_empty
    for shopper in range(4):
        rng = np.random.default_rng([3, shopper])
        visit = plan_visit(loaded, grid, f"c{shopper}", Counter(), rng)
        for route, _stop in visit.legs:
            path = shapely.LineString(route) if len(route) > 1 else shapely.Point(route[0])
            assert not path.intersects(shelves)
            assert path.distance(shelves) >= 0.4  # half a shoulder clear of the shelf edges


def test_simulate_from_server_writes_walks_of_the_server_store(
    server: LiveServer, demo_on_server: tuple[Store, int], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--from-server", server.http_url, "--store-id", str(demo_on_server[1]),
         "--staff-email", ADMIN_EMAIL, "--staff-password", ADMIN_PASSWORD,
         "--shoppers", "1", "--max-stops", "2", "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (walk_file,) = tmp_path.glob("*/path_data_files/*.txt")
    walk = read_walk(walk_file)
    assert walk.waypoints
    assert walk.skipped == {}
    written = (tmp_path / "store.json").read_text(encoding="utf-8")
    assert f"(store {demo_on_server[1]})" in written


def _no_entrance(staff: Staff) -> int:
    base, floor_id = new_store(staff)
    add_zone(staff, base, floor_id, name="Till", kind="checkout",
             polygon=[[8, 4], [12, 4], [12, 6], [8, 6]])  # fmt: skip
    return int(base.rsplit("/", 1)[1])


def _walled_in_entrance(staff: Staff) -> int:
    base, floor_id = new_store(staff)
    add_zone(staff, base, floor_id, id="door", name="Door", kind="entrance",
             polygon=[[9, 4], [11, 4], [11, 6], [9, 6]])  # fmt: skip
    for i, (x0, y0, x1, y1) in enumerate(
        [(8, 3, 12, 3.5), (8, 6.5, 12, 7), (8, 3, 8.5, 7), (11.5, 3, 12, 7)]
    ):
        add_zone(staff, base, floor_id, id=f"wall{i}", name="Wall", kind="obstacle",
                 polygon=ring(shapely.box(x0, y0, x1, y1)))  # fmt: skip
    return int(base.rsplit("/", 1)[1])


def _locked_shelf(staff: Staff) -> int:
    base, floor_id = new_store(staff)
    add_zone(staff, base, floor_id, id="door", name="Door", kind="entrance",
             polygon=[[0, 0], [2, 0], [2, 2], [0, 2]])  # fmt: skip
    # A U of walls open to the east edge of the floor: what is inside cannot be reached.
    walls = shapely.box(14, 0, 20, 10).difference(shapely.box(15, 1, 20, 9))
    add_zone(staff, base, floor_id, id="back-room", name="Back room wall", kind="obstacle",
             polygon=ring(walls))  # fmt: skip
    add_zone(staff, base, floor_id, id="safe", name="Safe", kind="shelf",
             polygon=[[16, 4], [18, 4], [18, 6], [16, 6]])  # fmt: skip
    return int(base.rsplit("/", 1)[1])


def _no_floor(staff: Staff) -> int:
    return int(staff.ok("POST", "/api/stores", json={"name": "Empty"})["id"])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_no_floor, "no floor"),
        (_no_entrance, "no entrance zone (kind 'entrance')"),
        (_walled_in_entrance, "entrance 'door' is walled in"),
        (_locked_shelf, "shelf zone 'safe' has no walking path"),
    ],
)
def test_a_store_that_cannot_be_walked_gets_a_clear_error(
    server: LiveServer, staff: Staff, make: Any, reason: str
) -> None:
    with pytest.raises(StoreError, match=re.escape(reason)):
        load_server_store(server.http_url, make(staff), AUTH)


def test_bad_credentials_or_an_unknown_store_get_a_clear_error(server: LiveServer) -> None:
    wrong = StaffAuth(email=ADMIN_EMAIL, password="not it")
    with pytest.raises(StoreError, match="refused the staff login"):
        load_server_store(server.http_url, 1, wrong)
    with pytest.raises(StoreError, match="store 999999: not on the server"):
        load_server_store(server.http_url, 999_999, AUTH)
    with pytest.raises(StoreError, match="needs a staff token"):
        load_server_store(server.http_url, 1, StaffAuth())


def test_live_mode_refuses_a_server_store_it_cannot_walk(
    server: LiveServer, staff: Staff, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--server", server.http_url, "--store-id", str(_no_entrance(staff)),
         "--tokens", str(tmp_path / "tokens.json"), "--staff-email", ADMIN_EMAIL,
         "--staff-password", ADMIN_PASSWORD],
    )  # fmt: skip
    assert result.exit_code == 2
    words = " ".join(result.output.replace("│", " ").split())  # rich wraps the error box
    assert "no entrance zone (kind 'entrance')" in words
