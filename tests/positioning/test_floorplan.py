from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from positioning.floorplan import (
    FloorPlan,
    FloorPlanError,
    Obstacle,
    floor_to_geojson,
    read_floor,
    write_floor,
)


def _shop(x0: float, y0: float, x1: float, y1: float, name: str) -> Obstacle:
    return Obstacle(id=name, name=name, polygon=shapely.box(x0, y0, x1, y1))


def test_written_floor_reads_back_in_metres(tmp_path: Path) -> None:
    plan = FloorPlan.rectangle(
        "demo", 40.0, 25.0, (_shop(5, 5, 10, 20, "dairy"), _shop(20, 2, 35, 8, "bakery"))
    )
    loaded = read_floor(write_floor(plan, tmp_path / "F1"))

    assert (loaded.width_m, loaded.height_m) == (40.0, 25.0)
    assert [o.name for o in loaded.obstacles] == ["dairy", "bakery"]
    for written, read in zip(plan.obstacles, loaded.obstacles, strict=True):
        assert written.polygon.symmetric_difference(read.polygon).area < 1e-6
    assert loaded.walkable.area == pytest.approx(40 * 25 - 5 * 15 - 15 * 6)


def test_geojson_is_lonlat_with_the_outline_first(tmp_path: Path) -> None:
    doc = floor_to_geojson(FloorPlan.rectangle("demo", 40.0, 25.0, (_shop(1, 1, 2, 2, "a"),)))
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 119 < lon < 121
    assert 29 < lat < 31
    assert doc["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert doc["features"][1]["properties"]["name"] == "a"


def test_walkable_excludes_obstacles() -> None:
    plan = FloorPlan.rectangle("demo", 10.0, 10.0, (_shop(2, 2, 4, 4, "shelf"),))
    assert not plan.walkable.contains(shapely.Point(3, 3))
    assert plan.walkable.contains(shapely.Point(5, 5))


def test_outline_that_does_not_span_the_plan_cannot_be_written(tmp_path: Path) -> None:
    plan = FloorPlan("odd", 10.0, 10.0, shapely.box(1, 1, 9, 9))
    with pytest.raises(FloorPlanError, match="span"):
        write_floor(plan, tmp_path)


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ("not json", "not JSON"),
        (json.dumps({"map_info": {"width": 10}}), "map_info"),
        (json.dumps({"map_info": {"width": -1, "height": 5}}), "positive"),
    ],
)
def test_bad_floor_info_is_rejected_with_a_reason(tmp_path: Path, info: str, reason: str) -> None:
    (tmp_path / "floor_info.json").write_text(info)
    with pytest.raises(FloorPlanError, match=reason):
        read_floor(tmp_path)


def test_missing_geojson_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "floor_info.json").write_text(json.dumps({"map_info": {"width": 5, "height": 5}}))
    with pytest.raises(FloorPlanError, match="missing"):
        read_floor(tmp_path)


@pytest.mark.ilc
def test_recorded_waypoints_stand_on_walkable_floor(ilc_floor_dirs: list[Path]) -> None:
    for floor_dir in ilc_floor_dirs:
        plan = read_floor(floor_dir)
        points = []
        for walk in sorted((floor_dir / "path_data_files").glob("*.txt"))[:10]:
            for line in walk.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) >= 4 and parts[1] == "TYPE_WAYPOINT":
                    points.append(shapely.Point(float(parts[2]), float(parts[3])))
        inside = sum(plan.walkable.buffer(0.5).contains(p) for p in points)
        assert points, floor_dir
        assert inside == len(points), floor_dir
