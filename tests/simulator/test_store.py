from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.demo_store import BEACON_AREA_M2, demo_store
from simulator.store import StoreError, load_store, store_from_dict, store_to_dict, write_store


@pytest.fixture(scope="module")
def demo_doc() -> dict[str, Any]:
    return json.loads(json.dumps(store_to_dict(demo_store(3))))


def test_demo_store_round_trips_through_store_json(tmp_path: Path) -> None:
    store = demo_store(3)
    loaded = load_store(write_store(store, tmp_path / "store.json"))
    as_json = lambda s: json.loads(json.dumps(store_to_dict(s)))  # noqa: E731
    assert as_json(loaded) == as_json(store)
    assert [b.id for b in loaded.beacons] == [b.id for b in store.beacons]


def test_demo_store_has_what_a_supermarket_needs() -> None:
    store = demo_store(3)
    kinds = {z.kind for z in store.zones}
    assert kinds == {"shelf", "screen", "checkout", "entrance", "area"}
    shelves = [z for z in store.zones if z.kind == "shelf"]
    assert all(z.categories and z.facing_deg is not None and z.view_distance_m for z in shelves)
    # Shelf zones lie on walkable floor, in front of their shelf: a step along facing_deg
    # from the strip's centre meets a shelf.
    walkable = store.floor_plan().walkable
    for zone in shelves:
        assert walkable.buffer(1e-6).covers(zone.polygon)
    area_per_beacon = store.width_m * store.height_m / len(store.beacons)
    assert 30 <= area_per_beacon <= 100
    assert area_per_beacon == pytest.approx(BEACON_AREA_M2, rel=0.3)
    for screen in store.screens:
        zone = store.zone(screen.zone_id)
        assert zone.kind == "screen"
        assert walkable.buffer(1e-6).covers(zone.polygon)
        # A viewer in the zone who looks along the zone's facing looks at the screen.
        centre = zone.polygon.centroid
        bearing = np.degrees(np.arctan2(screen.y - centre.y, screen.x - centre.x))
        assert abs((bearing - zone.facing_deg + 180) % 360 - 180) < 1e-6
        assert abs((screen.facing_deg - zone.facing_deg) % 360 - 180) < 1e-6


def test_same_seed_same_store_and_other_seed_other_layout() -> None:
    assert store_to_dict(demo_store(5)) == store_to_dict(demo_store(5))
    cats = lambda seed: [z.categories for z in demo_store(seed).zones]  # noqa: E731
    assert cats(5) != cats(6)


def _broken(doc: dict[str, Any], change: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    if change == "missing width":
        del doc["width_m"]
    elif change == "bad kind":
        doc["zones"][0]["kind"] = "aisle"
    elif change == "outside":
        doc["zones"][0]["polygon"] = [[0, 0], [100, 0], [100, 100]]
    elif change == "two points":
        doc["zones"][0]["polygon"] = [[0, 0], [1, 1]]
    elif change == "screen zone":
        doc["screens"][0]["zone_id"] = "nowhere"
    elif change == "duplicate":
        doc["zones"][1]["id"] = doc["zones"][0]["id"]
    elif change == "tx power":
        doc["beacons"][0]["tx_power_dbm"] = 59
    elif change == "beacon outside":
        doc["beacons"][0]["x"] = -5.0
    elif change == "nan facing":
        doc["zones"][0]["facing_deg"] = "east"
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing width", r"width_m: missing"),
        ("bad kind", r"zones\[0\]\.kind: 'aisle' is not one of"),
        ("outside", r"zones\[0\]\.polygon: reaches outside the floor"),
        ("two points", r"zones\[0\]\.polygon: needs a list of at least 3"),
        ("screen zone", r"screens\[0\]\.zone_id: no zone 'nowhere'"),
        ("duplicate", r"zones: duplicate id"),
        ("tx power", r"beacons\[0\]\.tx_power_dbm: 59.0 dBm is not a plausible"),
        ("beacon outside", r"beacons\[0\]: \(-5.00, .*\) is outside the floor"),
        ("nan facing", r"zones\[0\]\.facing_deg: must be a number"),
    ],
)
def test_malformed_store_definitions_say_what_is_wrong(
    demo_doc: dict[str, Any], change: str, message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        store_from_dict(_broken(demo_doc, change))


def test_unreadable_store_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=r"store\.json: not JSON"):
        load_store(path)
    with pytest.raises(StoreError, match="missing"):
        load_store(tmp_path / "absent.json")
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(StoreError, match="must be a JSON object"):
        load_store(path)


def test_a_zone_of_kind_obstacle_is_read_as_an_obstacle(demo_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(demo_doc)
    unit = doc["obstacles"].pop(0)
    doc["zones"].append({**unit, "kind": "obstacle"})
    store = store_from_dict(doc)
    assert unit["id"] in {o.id for o in store.obstacles}
    assert unit["id"] not in {z.id for z in store.zones}
    assert store.floor_plan().walkable.equals(store_from_dict(demo_doc).floor_plan().walkable)
