from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zones.lookup import PolygonIndex, ZoneIndex, pairs_to_lists

from .helpers import box_zone


def _random_polygons(seed: int, n: int) -> list[shapely.Polygon]:
    rng = np.random.default_rng(seed)
    polygons = []
    for _ in range(n):
        cx, cy = rng.uniform(0, 50, 2)
        # Star-shaped polygons with 3–9 vertices: convex and concave, any orientation.
        k = int(rng.integers(3, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.5, 4.0, k)
        polygon = shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        if polygon.is_valid and polygon.area > 0.1:
            polygons.append(polygon)
    return polygons


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_polygons=st.integers(1, 60),
    cell=st.sampled_from([None, 0.3, 2.0, 50.0]),
)
def test_fast_lookup_equals_the_naive_loop(seed: int, n_polygons: int, cell: float | None) -> None:
    polygons = _random_polygons(seed, n_polygons) or [shapely.box(1, 1, 3, 2)]
    index = PolygonIndex(polygons, cell_m=cell)
    rng = np.random.default_rng(seed + 1)
    x, y = rng.uniform(-5, 55, 400), rng.uniform(-5, 55, 400)
    # Vertices, edge midpoints and off-floor points test the boundary and the grid's edges.
    corners = shapely.get_coordinates(shapely.boundary(index.geometries))[:50]
    x = np.r_[x, corners[:, 0], corners[:, 0].mean(), -1e9, np.nan]
    y = np.r_[y, corners[:, 1], 1e9, corners[:, 1].mean(), 0.0]
    naive = index.contains_loop_naive(x, y)
    assert pairs_to_lists(*index.contains_pairs(x, y), x.size) == naive
    assert pairs_to_lists(*index.contains_pairs_strtree(x, y), x.size) == naive
    assert index.contains_loop_strtree(x[:100], y[:100]) == naive[:100]


def test_dwithin_pairs_match_shapely_distance() -> None:
    polygons = _random_polygons(7, 40)
    index = PolygonIndex(polygons)
    rng = np.random.default_rng(8)
    x, y, r = rng.uniform(0, 50, 300), rng.uniform(0, 50, 300), rng.uniform(0, 3, 300)
    points, found = index.dwithin_pairs(x, y, r)
    distance = shapely.distance(
        np.asarray(polygons)[None, :], np.asarray(shapely.points(x, y))[:, None]
    )
    expected = np.argwhere(distance <= r[:, None])
    assert np.array_equal(np.c_[points, found], expected)


def test_zone_ids_at_names_every_zone_holding_each_point() -> None:
    index = ZoneIndex([box_zone("a", 0, 0, 4, 4), box_zone("b", 2, 2, 6, 6)])
    assert index.zone_ids_at([1, 3, 5, 9], [1, 3, 5, 9]) == [["a"], ["a", "b"], ["b"], []]


def test_empty_index_finds_nothing() -> None:
    index = PolygonIndex([])
    points, polygons = index.contains_pairs([1.0], [1.0])
    assert points.size == 0
    assert polygons.size == 0
