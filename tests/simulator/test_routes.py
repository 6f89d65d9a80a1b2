from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from positioning.floorplan import FloorPlan, Obstacle
from simulator.demo_store import demo_store
from simulator.routes import CLEARANCE_M, LINE_SLACK_M, RouteGrid, path_length


@pytest.fixture(scope="module")
def demo_grid() -> tuple[FloorPlan, RouteGrid]:
    plan = demo_store(2).floor_plan()
    return plan, RouteGrid.build(plan.walkable)


def test_routes_never_cross_shelves_and_keep_clear_of_their_edges(
    demo_grid: tuple[FloorPlan, RouteGrid],
) -> None:
    plan, grid = demo_grid
    shelves = shapely.union_all([o.polygon for o in plan.obstacles])
    rng = np.random.default_rng(1)
    spots = grid.cell_xy[rng.choice(len(grid.cell_xy), size=25, replace=False)]
    for a, b in itertools.pairwise(spots):
        route = grid.route(tuple(a), tuple(b))
        line = shapely.LineString(route)
        assert not line.intersects(shelves)
        assert line.distance(shelves) >= CLEARANCE_M - LINE_SLACK_M - 1e-6
        assert plan.outline.contains(line)
        assert np.allclose(route[0], a)
        assert np.allclose(route[-1], b)


def test_a_route_across_the_aisles_goes_round_the_gondolas(
    demo_grid: tuple[FloorPlan, RouteGrid],
) -> None:
    _, grid = demo_grid
    # From the aisle west of gondola 1 to the aisle east of gondola 10, mid-height: the
    # straight line crosses ten gondolas, so the route must detour to a cross-aisle.
    route = grid.route((4.2, 18.0), (43.5, 18.0))
    assert path_length(route) > 43.5 - 4.2 + 2 * 5.0
    assert route[:, 1].min() < 11.5 or route[:, 1].max() > 25.0


def test_in_open_floor_the_route_is_the_straight_line() -> None:
    plan = FloorPlan.rectangle("hall", 30.0, 20.0)
    grid = RouteGrid.build(plan.walkable)
    route = grid.route((2.0, 3.0), (27.0, 17.0))
    assert len(route) == 2
    assert path_length(route) == pytest.approx(np.hypot(25.0, 14.0))


def test_route_round_a_wall_end_is_close_to_the_taut_string() -> None:
    wall = Obstacle("wall", "wall", shapely.box(10.0, 0.0, 11.0, 15.0))
    plan = FloorPlan.rectangle("room", 20.0, 20.0, (wall,))
    grid = RouteGrid.build(plan.walkable)
    route = grid.route((5.0, 5.0), (15.0, 5.0))
    # The taut string: up to the wall's grown corner, across its grown top, down again.
    west, east, top = 10.0 - CLEARANCE_M, 11.0 + CLEARANCE_M, 15.0
    taut = np.hypot(west - 5.0, top - 5.0) + (east - west) + np.hypot(15.0 - east, top - 5.0)
    # Corners are grid cell centres, so the route may run up to a cell wide of the string.
    assert taut <= path_length(route) <= 1.06 * taut
    assert route[:, 1].max() >= top
