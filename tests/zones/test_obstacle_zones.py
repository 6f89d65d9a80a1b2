"""Obstacle zones (shelf units, walls): part of the floor's shape, never a place with events."""

from __future__ import annotations

import numpy as np
import shapely

from positioning import Estimate
from zones import Zone, ZoneEventDetector
from zones.analytics import VisitColumns, ZoneEventColumns, zone_table
from zones.model import standing_zones, zone_obstacles

from .helpers import box_zone

T0 = 1_700_000_000_000
# A 0.6 m shelf unit (narrower than the detector's enter margins allow for a zone shoppers
# enter) beside the aisle strip in front of it.
UNIT = Zone.from_coords("unit", "Gondola 1", "obstacle", [[0, 0], [6, 0], [6, 0.6], [0, 0.6]],
                        categories=("bakery",))  # fmt: skip
AISLE = box_zone("aisle", 0, 0.6, 6, 3.6)


def _estimates(x: float, y: float, seconds: int) -> list[Estimate]:
    return [Estimate(T0 + k * 500, x, y, 270.0, 1.0) for k in range(seconds * 2)]


def test_the_detector_never_emits_events_for_an_obstacle_zone() -> None:
    detector = ZoneEventDetector([UNIT, AISLE])
    # Estimates land on the shelf unit for a minute (positioning error), then in the aisle.
    events = [e for est in _estimates(3.0, 0.3, 60) for e in detector.update("ann", est)]
    assert events == []
    aisle = [e for est in _estimates(3.0, 2.0, 60) for e in detector.update("bob", est)]
    assert {e.zone_id for e in aisle} == {"aisle"}
    assert [e.zone_id for e in detector.end_visit("ann", T0 + 60_000)] == [None]
    assert [z.id for z in detector.zones] == ["aisle"]


def test_the_batch_form_skips_obstacles_too() -> None:
    t = T0 + np.arange(0, 60_000, 500)
    n = t.size
    events = ZoneEventDetector([UNIT, AISLE]).update_batch(
        ["ann"] * n, t, np.full(n, 3.0), np.full(n, 0.3), np.zeros(n), np.ones(n)
    )
    assert events == []


def test_obstacles_become_positionings_obstacles_and_leave_the_standing_zones() -> None:
    assert standing_zones([UNIT, AISLE]) == [AISLE]
    (obstacle,) = zone_obstacles([UNIT, AISLE])
    assert obstacle.id == "unit"
    assert obstacle.polygon.equals(UNIT.polygon)
    assert obstacle.properties["categories"] == ["bakery"]
    assert (
        not shapely.box(0, 0, 6, 3.6).difference(obstacle.polygon).contains(shapely.Point(3.0, 0.3))
    )


def test_the_zone_table_has_no_row_for_an_obstacle() -> None:
    visits = VisitColumns.of([0], [T0], [T0 + 60_000], [True])
    events = ZoneEventColumns.of([0, 0], [1, 1], ["enter", "exit"], [T0, T0 + 30_000])
    table = zone_table([UNIT, AISLE], events, visits, k=1)
    assert [row.zone_id for row in table.rows] == ["aisle"]
    assert table.row("aisle").visitors == 1
