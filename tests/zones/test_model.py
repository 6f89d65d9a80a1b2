from __future__ import annotations

import math

import pytest
import shapely

from positioning import FloorPlan
from zones import Floor, Zone, ZoneError
from zones.model import angle_between_deg

from .helpers import box_zone

SQUARE = [[0, 0], [2, 0], [2, 2], [0, 2]]


@pytest.mark.parametrize(
    ("coords", "reason"),
    [
        ([[0, 0], [2, 2], [2, 0], [0, 2]], "Self-intersection"),
        ([[0, 0], [1, 1]], "at least 3 distinct vertices"),
        ([[0, 0], [1, 1], [0, 0], [1, 1]], "at least 3 distinct vertices"),
        ([[0, 0], [math.nan, 1], [1, 0]], "finite"),
        ([[0, 0], [math.inf, 1], [1, 0]], "finite"),
        ([[0, 0], ["a", 1], [1, 0]], r"\[x, y\] pairs"),
        ([[0, 0], [1, 1], [2, 2]], "no area|Too few|invalid"),
    ],
)
def test_malformed_polygons_are_rejected_with_the_reason(coords: list, reason: str) -> None:
    with pytest.raises(ZoneError, match=reason):
        Zone.from_coords("bad", "Bad", "area", coords)


def test_unknown_kind_and_empty_id_are_rejected() -> None:
    with pytest.raises(ZoneError, match="kind 'aisle' is not one of area, shelf"):
        Zone.from_coords("a", "A", "aisle", SQUARE)  # type: ignore[arg-type]
    with pytest.raises(ZoneError, match="id must be a non-empty string"):
        Zone.from_coords(" ", "A", "area", SQUARE)


def test_multipolygon_outline_is_rejected() -> None:
    two = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])
    with pytest.raises(ZoneError, match="single Polygon"):
        Zone("a", "A", "area", two)  # type: ignore[arg-type]


def test_facing_edge_gives_the_inward_normal_whatever_the_ring_order() -> None:
    # Edge 0 runs along y = 0: a shopper sees it from the south, looking north (90°).
    ccw = box_zone("ccw", 0, 0, 4, 1, facing_edge=0, view_distance_m=2.0)
    cw = Zone.from_coords(
        "cw", "cw", "shelf", [[0, 0], [0, 1], [4, 1], [4, 0]], facing_edge=3, view_distance_m=2.0
    )
    assert ccw.facing_deg == pytest.approx(90.0)
    assert cw.facing_deg == pytest.approx(90.0)  # edge 3 of the clockwise ring is y = 0 too


def test_facing_needs_a_viewing_distance_and_must_agree_with_the_edge() -> None:
    with pytest.raises(ZoneError, match="needs view_distance_m"):
        box_zone("a", 0, 0, 1, 1, facing_deg=90.0)
    with pytest.raises(ZoneError, match="disagrees with edge 0"):
        box_zone("a", 0, 0, 1, 1, facing_edge=0, facing_deg=270.0, view_distance_m=2.0)
    with pytest.raises(ZoneError, match="edge index"):
        box_zone("a", 0, 0, 1, 1, facing_edge=4, view_distance_m=2.0)
    with pytest.raises(ZoneError, match="positive number"):
        box_zone("a", 0, 0, 1, 1, view_distance_m=-1.0)
    assert box_zone("a", 0, 0, 1, 1, facing_deg=-90.0, view_distance_m=1.0).facing_deg == 270.0


def test_zone_width_is_its_narrowest_span() -> None:
    assert box_zone("a", 0, 0, 10, 2).width_m == pytest.approx(2.0, abs=0.01)


def test_zone_outside_the_floor_is_rejected_with_how_much_lies_outside() -> None:
    plan = FloorPlan.rectangle("shop", 20.0, 10.0)
    floor = Floor(plan, (box_zone("inside", 1, 1, 3, 3),))
    with pytest.raises(ZoneError, match=r"zone 'off'.* lies outside floor 'shop'"):
        floor.with_zone(box_zone("off", 18, 8, 22, 12))
    # A vertex snapped a few millimetres past the wall is fine.
    assert floor.with_zone(box_zone("edge", 15, 5, 20.001, 10)).zone("edge").id == "edge"


def test_floor_rejects_duplicate_ids_and_unknown_zones() -> None:
    plan = FloorPlan.rectangle("shop", 20.0, 10.0)
    with pytest.raises(ZoneError, match="used twice"):
        Floor(plan, (box_zone("a", 1, 1, 3, 3), box_zone("a", 5, 5, 7, 7)))
    floor = Floor(plan, (box_zone("a", 1, 1, 3, 3),))
    assert floor.without_zone("a").zones == ()
    with pytest.raises(ZoneError, match="not on floor"):
        floor.without_zone("b")
    assert (floor.name, floor.width_m, floor.height_m) == ("shop", 20.0, 10.0)


def test_angle_between_wraps_around_north() -> None:
    assert angle_between_deg(350.0, 10.0) == pytest.approx(20.0)
    assert angle_between_deg(90.0, 270.0) == pytest.approx(180.0)


def test_categories_given_as_one_string_are_rejected_not_split_into_letters() -> None:
    with pytest.raises(ZoneError, match="categories must be a list of strings"):
        box_zone("a", 0, 0, 1, 1, categories="milk")
    assert box_zone("a", 0, 0, 1, 1, categories=["milk"]).categories == ("milk",)
