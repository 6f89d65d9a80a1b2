"""Route planning on the walkable floor: an 8-connected grid, Dijkstra, then string-pulling.

The grid keeps only cells whose centre is at least ``clearance_m`` from any obstacle or wall,
so routes keep clear of shelf edges (people do not brush the shelves, and the phone in front of
the body would not pass through them). Shortest paths come from
``scipy.sparse.csgraph.dijkstra`` on that grid; the staircase it returns is then shortened by
string-pulling: from each corner jump to the farthest later corner still in line of sight inside
the cleared area. The result is the any-angle path a person walks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.ops import nearest_points

# Distance from shelf edges and walls a walking shopper keeps: about half a shoulder width
# (0.25 m) plus a margin so smoothed corners and hand sway stay off the shelves.
CLEARANCE_M = 0.45
# Grid cell size: a quarter of a 2.4 m aisle fits ~5 cells across after clearance.
CELL_M = 0.25
# String-pulling tests lines against an area shrunk by this much less than the clearance,
# so a line along the grid's own edge cells still counts as clear.
LINE_SLACK_M = 0.05


class RouteError(ValueError):
    """No walkable route (a point far outside the floor, or an unreachable area)."""


@dataclass
class RouteGrid:
    """The cleared walkable area as a grid graph, with a cache of shortest-path trees."""

    clear_area: Polygon | MultiPolygon
    origin: tuple[float, float]
    cell_m: float
    shape: tuple[int, int]  # (rows = y, cols = x)
    node_of_cell: np.ndarray  # -1 for blocked cells
    cell_xy: np.ndarray  # (n_nodes, 2) centres of free cells in the main component
    graph: csr_matrix
    _trees: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        walkable: Polygon | MultiPolygon,
        clearance_m: float = CLEARANCE_M,
        cell_m: float = CELL_M,
    ) -> RouteGrid:
        """Grid over ``walkable`` shrunk by ``clearance_m``, keeping its largest connected part."""
        clear = walkable.buffer(-clearance_m)
        if clear.is_empty:
            raise RouteError("no walkable space is wider than twice the clearance")
        min_x, min_y, max_x, max_y = clear.bounds
        xs = np.arange(min_x + cell_m / 2, max_x, cell_m)
        ys = np.arange(min_y + cell_m / 2, max_y, cell_m)
        gx, gy = np.meshgrid(xs, ys)
        free = np.asarray(shapely.contains_xy(clear, gx, gy), dtype=bool)
        rows, cols = free.shape
        index = np.full(free.shape, -1, dtype=np.int64)
        index[free] = np.arange(int(free.sum()))
        graph = _grid_graph(free, index, cell_m)
        # Keep the largest connected part: islands (inside a ring of shelves) are unreachable.
        _, labels = connected_components(graph, directed=False)
        main = np.argmax(np.bincount(labels))
        keep = labels == main
        node = np.full(free.shape, -1, dtype=np.int64)
        flat_keep = np.flatnonzero(free.ravel())[keep]
        node.ravel()[flat_keep] = np.arange(flat_keep.size)
        graph = graph[keep][:, keep].tocsr()
        cell_xy = np.column_stack([gx.ravel()[flat_keep], gy.ravel()[flat_keep]])
        return cls(clear, (float(xs[0]), float(ys[0])), cell_m, (rows, cols), node, cell_xy, graph)

    def snap(self, x: float, y: float) -> int:
        """The grid node nearest to (x, y)."""
        d2 = (self.cell_xy[:, 0] - x) ** 2 + (self.cell_xy[:, 1] - y) ** 2
        return int(np.argmin(d2))

    def clear_point(self, x: float, y: float) -> tuple[float, float]:
        """(x, y) if in the cleared area and reachable, else the nearest reachable cell centre."""
        node = self.snap(x, y)
        cx, cy = self.cell_xy[node]
        if self.clear_area.covers(Point(x, y)) and np.hypot(cx - x, cy - y) < 2 * self.cell_m:
            return (x, y)
        return (float(cx), float(cy))

    def route(self, start: tuple[float, float], goal: tuple[float, float]) -> np.ndarray:
        """The walking polyline (k, 2) from ``start`` to ``goal`` (both moved into clear space)."""
        start = self.clear_point(*start)
        goal = self.clear_point(*goal)
        a, b = self.snap(*start), self.snap(*goal)
        tree = self._trees.get(b)
        if tree is None:
            # One tree per destination serves every shopper heading to the same shelf or door.
            _, tree = dijkstra(self.graph, directed=False, indices=b, return_predecessors=True)
            self._trees[b] = tree
        nodes = [a]
        while nodes[-1] != b:
            parent = int(tree[nodes[-1]])
            if parent < 0:
                raise RouteError(f"no route from {start} to {goal}")
            nodes.append(parent)
        corners = np.vstack([start, self.cell_xy[nodes], goal])
        return self._pull_string(corners)

    def _pull_string(self, corners: np.ndarray) -> np.ndarray:
        """Drop corners a straight line can skip, staying inside the (slightly grown) clear area.

        Corners are grid cell centres, so a route may run up to a cell wide of the taut string.
        """
        area = self.clear_area.buffer(LINE_SLACK_M)
        shapely.prepare(area)
        kept = [0]
        i = 0
        n = len(corners)
        while i < n - 1:
            later = np.arange(i + 1, n)
            lines = shapely.linestrings(
                np.stack(
                    [np.repeat(corners[i : i + 1], later.size, axis=0), corners[later]], axis=1
                )
            )
            visible = np.asarray(shapely.covers(area, lines), dtype=bool)
            visible[0] = True  # the neighbouring corner is always reachable along the grid
            i = int(later[np.flatnonzero(visible)[-1]])
            kept.append(i)
        path = corners[kept]
        # Drop repeated points (start snapped onto its own cell centre).
        step = np.hypot(*np.diff(path, axis=0).T)
        return np.vstack([path[:1], path[1:][step > 1e-9]])


def _grid_graph(free: np.ndarray, index: np.ndarray, cell_m: float) -> csr_matrix:
    """8-connected edges between free cells; diagonals only where both side cells are free
    (no corner cutting past a shelf end)."""
    rows_all, cols_all, weights = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = free[: free.shape[0] - dr, max(0, -dc) : free.shape[1] - max(0, dc)]
        b = free[dr:, max(0, dc) : free.shape[1] - max(0, -dc) or None]
        ok = a & b
        if dr and dc:
            side1 = free[: free.shape[0] - dr, max(0, dc) : free.shape[1] - max(0, -dc) or None]
            side2 = free[dr:, max(0, -dc) : free.shape[1] - max(0, dc)]
            ok &= side1 & side2
        ia = index[: free.shape[0] - dr, max(0, -dc) : free.shape[1] - max(0, dc)][ok]
        ib = index[dr:, max(0, dc) : free.shape[1] - max(0, -dc) or None][ok]
        rows_all.append(ia)
        cols_all.append(ib)
        weights.append(np.full(ia.size, cell_m * (np.sqrt(2.0) if dr and dc else 1.0)))
    n = int(free.sum())
    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    w = np.concatenate(weights)
    return csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n, n),
    )


def nearest_clear_point(area: Polygon | MultiPolygon, x: float, y: float) -> tuple[float, float]:
    """The point of ``area`` nearest to (x, y)."""
    point = Point(x, y)
    if area.covers(point):
        return (x, y)
    near = nearest_points(area, point)[0]
    return (float(near.x), float(near.y))


def path_length(path: np.ndarray) -> float:
    """Length of a polyline (k, 2) in metres."""
    return float(np.hypot(*np.diff(path, axis=0).T).sum())
