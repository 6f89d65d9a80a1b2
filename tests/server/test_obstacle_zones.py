"""Obstacle zones shape the server's positioning: its walkable grid is the floor minus them.

A zone of kind ``obstacle`` drawn, moved or deleted over REST changes the grid the next tracker
gets, without a restart; seeding a simulator folder writes its shelf units as obstacle zones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from server.database import Database
from server.seed import seed_store
from server.tables import Zone
from server.tracking import StoreTrackers
from simulator import demo_store, simulate_to_folder
from tests.server.harness import LiveServer, Staff

T0 = 1_790_000_000_000
UNIT = [[4, 2], [8, 2], [8, 3], [4, 3]]  # a 4 m x 1 m shelf unit
MOVED = [[12, 6], [16, 6], [16, 7], [12, 7]]


@pytest.fixture(scope="module")
def database(database_url: str) -> Iterator[Database]:
    """The live server's own database, read by the trackers as the server's pipeline reads it."""
    db = Database.connect(database_url)
    yield db
    db.dispose()


def free_at(trackers: StoreTrackers, store_id: int, x: float, y: float) -> bool:
    radio = trackers.radio(store_id)
    assert radio is not None
    return bool(radio.grid.is_free(np.array([x]), np.array([y]))[0])


def test_an_obstacle_drawn_moved_and_deleted_over_rest_reshapes_the_walkable_grid(
    live: LiveServer, admin: Staff, database: Database
) -> None:
    store = admin.ok("POST", "/api/stores", json={"name": "Obstacles"})
    base = f"/api/stores/{store['id']}"
    floor = admin.ok("POST", f"{base}/floors", json={"name": "g", "width_m": 20, "height_m": 10})
    admin.ok("POST", f"{base}/beacons", json={"id": "b1", "floor_id": floor["id"], "x": 1, "y": 1})
    trackers = StoreTrackers(database, check_ms=0)  # edits seen at once
    assert free_at(trackers, store["id"], 6, 2.5)
    before = trackers.radio(store["id"])
    assert trackers.radio(store["id"]) is before  # nothing changed: the cached raster

    admin.ok("POST", f"{base}/zones", json={"id": "unit", "floor_id": floor["id"],
                                            "name": "Gondola", "kind": "obstacle",
                                            "polygon": UNIT})  # fmt: skip
    assert not free_at(trackers, store["id"], 6, 2.5)
    assert free_at(trackers, store["id"], 6, 4.0)

    admin.ok("PATCH", f"{base}/zones/unit", json={"polygon": MOVED})
    assert free_at(trackers, store["id"], 6, 2.5)
    assert not free_at(trackers, store["id"], 14, 6.5)

    admin.ok("DELETE", f"{base}/zones/unit")
    assert free_at(trackers, store["id"], 14, 6.5)


def test_an_ordinary_zone_does_not_block_walking(admin: Staff, database: Database) -> None:
    store = admin.ok("POST", "/api/stores", json={"name": "Shelf strip"})
    base = f"/api/stores/{store['id']}"
    floor = admin.ok("POST", f"{base}/floors", json={"name": "g", "width_m": 20, "height_m": 10})
    admin.ok("POST", f"{base}/beacons", json={"id": "b1", "floor_id": floor["id"], "x": 1, "y": 1})
    admin.ok("POST", f"{base}/zones", json={"floor_id": floor["id"], "name": "Bread",
                                            "kind": "shelf", "polygon": UNIT})  # fmt: skip
    assert free_at(StoreTrackers(database), store["id"], 6, 2.5)


def test_seeding_a_simulated_store_writes_its_shelf_units_as_obstacle_zones(
    database: Database, tmp_path: Path
) -> None:
    store = demo_store(0)
    simulate_to_folder(store, 0, 0, tmp_path)
    report = seed_store(database, tmp_path, T0, issue_tokens=False)
    assert report.obstacles == len(store.obstacles) > 0
    assert report.zones == len(store.zones)
    with database.session() as session:
        rows = session.scalars(select(Zone).where(Zone.store_id == report.store_id)).all()
    obstacles = {row.id for row in rows if row.document["kind"] == "obstacle"}
    assert obstacles == {o.id for o in store.obstacles}
    trackers = StoreTrackers(database)
    for obstacle in store.obstacles[:5]:
        centre = obstacle.polygon.representative_point()
        assert not free_at(trackers, report.store_id, centre.x, centre.y)
    door = store.entrances[0]
    assert free_at(trackers, report.store_id, door.x, door.y)
