"""The walkable floor as a raster, for fast point-in-floor tests of thousands of particles.

Shapely answers "is this point on walkable floor" exactly but costs microseconds per point; a
particle filter asks it for every particle on every step. The plan is rasterised once per floor
(cell centre inside the walkable area), after which a lookup is one numpy index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from positioning.axes import plan_axes_rad
from positioning.floorplan import FloorPlan

# Raster cell, m: finer than a shop-front gap or a corridor's half width (≥ 1 m in malls and
# supermarket aisles), coarse enough to rasterise a 240 m × 180 m mall in about a second.
CELL_M = 0.5
# Samples per cell width along a move checked by ``is_free_segment``: four per cell catch every
# crossing of a wall one cell thick except corner clips shorter than a quarter cell.
SEGMENT_SAMPLES_PER_CELL = 4


@dataclass(frozen=True)
class WalkableGrid:
    """``free[row, col]`` is True when the cell centre is walkable; row 0 is the south edge.

    ``axes_rad`` are the plan's main wall directions (``positioning.axes.plan_axes_rad``), kept
    with the raster so a tracker that has the grid has them too.
    """

    free: NDArray[np.bool_]
    cell_m: float
    width_m: float
    height_m: float
    axes_rad: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def from_plan(cls, plan: FloorPlan, cell_m: float = CELL_M) -> WalkableGrid:
        cols = max(1, int(np.ceil(plan.width_m / cell_m)))
        rows = max(1, int(np.ceil(plan.height_m / cell_m)))
        xs = (np.arange(cols) + 0.5) * cell_m
        ys = (np.arange(rows) + 0.5) * cell_m
        gx, gy = np.meshgrid(xs, ys)
        area = plan.walkable
        shapely.prepare(area)
        free = shapely.contains_xy(area, gx.ravel(), gy.ravel()).reshape(rows, cols)
        return cls(free, cell_m, plan.width_m, plan.height_m, plan_axes_rad(plan))

    def is_free(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Vectorised walkability of points; outside the plan is not walkable.

        >>> grid = WalkableGrid(np.ones((2, 2), bool), 1.0, 2.0, 2.0)
        >>> grid.is_free(np.array([0.5, 2.5]), np.array([1.5, 0.5])).tolist()
        [True, False]
        """
        col = np.floor(np.asarray(x) / self.cell_m).astype(np.int64)
        row = np.floor(np.asarray(y) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (row >= 0) & (col < self.free.shape[1]) & (row < self.free.shape[0])
        out = np.zeros(np.shape(col), dtype=bool)
        out[inside] = self.free[row[inside], col[inside]]
        return out

    def is_free_segment(
        self,
        x0: NDArray[np.float64],
        y0: NDArray[np.float64],
        x1: NDArray[np.float64],
        y1: NDArray[np.float64],
    ) -> NDArray[np.bool_]:
        """Whether each straight move (x0, y0) → (x1, y1) stays on walkable floor all the way.

        Samples every ``cell_m / SEGMENT_SAMPLES_PER_CELL`` along the longest move, so no cell a
        move crosses by more than a corner sliver is skipped (the start is taken as given).

        >>> free = np.ones((1, 3), bool); free[0, 1] = False
        >>> grid = WalkableGrid(free, 1.0, 3.0, 1.0)
        >>> x0, y0, x1, y1 = np.array([[0.5, 0.5], [0.5, 0.5], [2.5, 0.4], [0.5, 0.6]])
        >>> grid.is_free_segment(x0, y0, x1, y1).tolist()
        [False, True]
        """
        dx, dy = np.asarray(x1) - x0, np.asarray(y1) - y0
        longest = float(np.sqrt((dx * dx + dy * dy).max(initial=0.0)))
        samples = max(1, math.ceil(longest * SEGMENT_SAMPLES_PER_CELL / self.cell_m))
        ok = np.ones(np.shape(dx), dtype=bool)
        for i in range(1, samples + 1):
            f = i / samples
            ok &= self.is_free(x0 + f * dx, y0 + f * dy)
        return ok

    def free_cells_xy(self) -> NDArray[np.float64]:
        """Centres of all walkable cells, (n, 2)."""
        rows, cols = np.nonzero(self.free)
        return np.column_stack(((cols + 0.5) * self.cell_m, (rows + 0.5) * self.cell_m))
