from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from positioning import FloorPlan
from zones import (
    Floor,
    Zone,
    ZoneError,
    zone_from_dict,
    zone_to_dict,
    zones_from_geojson,
    zones_to_geojson,
)
from zones.geojson import read_zones_geojson, write_zones_geojson
from zones.mall import read_mall_floor

from .helpers import box_zone


def _zones() -> list[Zone]:
    return [
        box_zone(
            "dairy",
            1,
            1,
            5,
            2.5,
            categories=("milk", "cheese"),
            skus=("sku-1",),
            facing_edge=0,
            view_distance_m=3.0,
        ),
        Zone.from_coords("door", "Main door", "entrance", [[0, 8], [2, 8], [1.5, 9.7]]),
        box_zone("tv", 10, 3, 12, 6, facing_deg=200.0, view_distance_m=4.5),
    ]


def test_geojson_round_trip_gives_equal_zones(tmp_path: Path) -> None:
    floor = Floor(FloorPlan.rectangle("demo", 20.0, 10.0), tuple(_zones()))
    path = write_zones_geojson(tmp_path / "zones.geojson", floor.zones, floor)
    back = read_zones_geojson(path, floor)
    assert back == list(floor.zones)
    for written, read in zip(floor.zones, back, strict=True):
        assert written.polygon.equals_exact(read.polygon, 0.0)
    doc = json.loads(path.read_text())
    assert doc["aislecast"] == {
        "frame": "floor_m",
        "floor": "demo",
        "width_m": 20.0,
        "height_m": 10.0,
    }
    assert doc["features"][0]["geometry"]["type"] == "Polygon"


def test_store_json_records_round_trip() -> None:
    for zone in _zones():
        entry = json.loads(json.dumps(zone_to_dict(zone)))
        assert zone_from_dict(entry) == zone


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f["geometry"].update(type="Point"), "must be a Polygon"),
        (lambda f: f["geometry"]["coordinates"].append([[0, 0], [1, 0], [0, 1], [0, 0]]), "holes"),
        (lambda f: f["properties"].update(kind="aisle"), "kind 'aisle'"),
        (lambda f: f["properties"].update(facing_deg="north"), "facing_deg must be a number"),
        (
            lambda f: f["geometry"].update(coordinates=[[[0, 0], [1, 1], [1, 0], [0, 1]]]),
            "Self-inter",
        ),
        (lambda f: f.pop("geometry"), "no geometry"),
    ],
)
def test_bad_features_are_rejected_with_the_reason(
    mutate: Callable[[dict[str, Any]], object], reason: str
) -> None:
    doc = zones_to_geojson(_zones())
    mutate(doc["features"][0])
    with pytest.raises(ZoneError, match=reason):
        zones_from_geojson(doc)


def test_duplicate_ids_and_foreign_frames_are_rejected() -> None:
    zones = _zones()
    with pytest.raises(ZoneError, match="more than once: dairy"):
        zones_from_geojson(zones_to_geojson([zones[0], zones[0]]))
    doc = zones_to_geojson(zones)
    doc["aislecast"]["frame"] = "wgs84"
    with pytest.raises(ZoneError, match="floor metre frame"):
        zones_from_geojson(doc)
    with pytest.raises(ZoneError, match="FeatureCollection"):
        zones_from_geojson({"type": "Feature"})


def test_import_checks_zones_against_the_floor() -> None:
    small = Floor(FloorPlan.rectangle("small", 8.0, 10.0))
    with pytest.raises(ZoneError, match=r"'tv'.* lies outside floor 'small'"):
        zones_from_geojson(zones_to_geojson(_zones()), small)


@pytest.mark.ilc
def test_recorded_mall_shops_load_as_zones_and_round_trip(ilc_floor_dirs: list[Path]) -> None:
    for floor_dir in ilc_floor_dirs:
        floor = read_mall_floor(floor_dir)
        assert len(floor.zones) > 100
        assert all(z.kind == "area" and z.categories for z in floor.zones)
        # Grown 2 m into the corridor, each zone still covers its shop.
        shops = {o.id: o.polygon for o in floor.plan.obstacles}
        for zone in floor.zones[:50]:
            shop = shops[zone.id.split("#")[0]]
            assert zone.polygon.buffer(0.05).covers(shop.intersection(floor.outline))
        assert zones_from_geojson(zones_to_geojson(floor.zones, floor), floor) == list(floor.zones)
