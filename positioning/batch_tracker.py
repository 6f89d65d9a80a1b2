"""A store's shoppers tracked together: one batch of readings per shopper in, estimates out.

Per call, for every shopper with a pending batch at once (one row each):

1. motion samples → ``BatchMotion`` (step detector and heading filter, state carried per row);
2. each step → ``BatchEKF.predict_step`` with the Weinberg length and the heading at the step,
   in the order the steps came (round j moves every row that had a j-th step);
3. beacon readings → ``BeaconFixer`` (grid likelihood) → ``BatchEKF.update_position`` (gated; the
   first fix starts the row's track);
4. one ``Estimate`` per started row at the batch's latest reading time, the EKF position snapped
   onto the walkable floor.

Causal: a batch's estimate uses that batch and earlier ones only. Against the per-shopper
``Tracker`` this gives up the particle layer (map constraint on every step, multimodal starts)
for a filter whose cost is a few numpy calls per batch of the whole store;
``benchmarks/server_load.py`` reports the accuracy of both on simulated walks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from positioning.batch_beacons import BeaconFixer
from positioning.batch_ekf import BatchEKF
from positioning.batch_input import SensorBatch, TickColumns
from positioning.batch_motion import NEVER, BatchMotion, MotionSamples, MotionSteps
from positioning.beacons import BeaconMap
from positioning.estimate import Estimate
from positioning.steps import DEFAULT_WEINBERG_K, MAX_STEP_M, MIN_STEP_M
from positioning.walkable import WalkableGrid

IntArray = NDArray[np.int64]


# Added in quadrature to the filter's σ for the reported accuracy, m. The EKF treats successive
# beacon fixes as independent, so its own σ (≈ 0.4 m) is far too small; this floor stands for the
# fixes' correlated error. Set so the claimed radius holds the truth about 2/3 of the time on
# simulated demo-store walks (benchmarks/tracker_accuracy.py). The particle tracker's 3 m floor
# was set the same way on the recorded malls, where Wi-Fi fingerprints, not known beacons, place.
ACCURACY_FLOOR_M = 2.1


class BatchTracker:
    """Rows for shoppers (``add``/``remove``) and ``push`` for a batch of each of some rows."""

    def __init__(
        self, beacon_map: BeaconMap, grid: WalkableGrid, weinberg_k: float = DEFAULT_WEINBERG_K
    ) -> None:
        self.grid = grid
        self.weinberg_k = weinberg_k
        self.fixer = BeaconFixer(beacon_map, grid)
        self.motion = BatchMotion()
        self.ekf = BatchEKF()
        self.now_ms = np.zeros(0, dtype=np.int64)
        self._free_rows: list[int] = []
        self._free_xy = grid.free_cells_xy()
        self._nearest_free = cKDTree(self._free_xy) if len(self._free_xy) else None

    def __len__(self) -> int:
        """Rows in use."""
        return len(self.ekf) - len(self._free_rows)

    def add(self) -> int:
        """A row for a new shopper (a freed one if any)."""
        if not self._free_rows:
            old = len(self.ekf)
            rows = max(8, 2 * old)
            self.ekf.grow(rows)
            self.motion.grow(rows)
            self.now_ms = np.concatenate([self.now_ms, np.full(rows - old, NEVER)])
            self._free_rows.extend(range(rows - 1, old - 1, -1))  # lowest row handed out first
        return self._free_rows.pop()

    def remove(self, row: int) -> None:
        """The shopper left: forget the row's state and give it back."""
        mask = np.zeros(len(self.ekf), dtype=bool)
        mask[row] = True
        self.ekf.clear(mask)
        self.motion.clear(mask)
        self.now_ms[row] = NEVER
        self._free_rows.append(row)

    def push(self, rows: Sequence[int], batches: Sequence[SensorBatch]) -> list[list[Estimate]]:
        """One batch for each of ``rows`` (distinct); each row's estimates, in the same order."""
        if len(batches) != len(rows):
            raise ValueError("one batch per row")
        return self.push_columns(rows, TickColumns.of(batches))

    def push_columns(
        self, rows: Sequence[int] | IntArray, columns: TickColumns
    ) -> list[list[Estimate]]:
        """``push`` with the batches already joined: batch k of ``columns`` for ``rows[k]``."""
        idx = np.asarray(rows, dtype=np.int64)
        if len(idx) != len(columns):
            raise ValueError("one batch per row")
        if len(np.unique(idx)) != len(idx):
            raise ValueError("one batch per row per push")
        if len(idx) == 0:
            return []
        columns.check_time_order()
        motion = MotionSamples(idx, columns.accel, columns.gyro, columns.rotation)
        steps = self.motion.run(motion)
        self._predict(idx, steps)
        has, x, y, sigma = self.fixer.fix_columns(
            len(idx), columns.beacon_row, columns.beacon_id, columns.beacon_rssi_dbm
        )
        self._update(idx, has, x, y, sigma)
        self.now_ms[idx] = np.maximum(self.now_ms[idx], columns.latest_ms)
        return self._estimates(idx)

    def _predict(self, idx: IntArray, steps: MotionSteps) -> None:
        """Each row's steps in order: round j predicts every row's j-th step (with a heading)."""
        usable = ~np.isnan(steps.heading_rad)
        row = steps.row[usable]  # by row, then time
        rank = np.arange(len(row)) - np.searchsorted(row, row, side="left")
        length = np.clip(self.weinberg_k * steps.feature[usable], MIN_STEP_M, MAX_STEP_M)
        heading = steps.heading_rad[usable]
        for j in range(int(rank.max(initial=-1)) + 1):
            at = rank == j
            self.ekf.predict_rows(idx[row[at]], length[at], heading[at])

    def _update(self, idx: IntArray, has: NDArray[np.bool_], x: NDArray[np.float64],
                y: NDArray[np.float64], sigma: NDArray[np.float64]) -> None:  # fmt: skip
        self.ekf.update_rows(idx[has], x[has], y[has], sigma[has])

    def _estimates(self, idx: IntArray) -> list[list[Estimate]]:
        ready = self.ekf.ready[idx]
        x, y = self.onto_floor(self.ekf.x[idx, 0], self.ekf.x[idx, 1])
        accuracy = np.hypot(self.ekf.sigma_m(idx), ACCURACY_FLOOR_M)
        heading = self.motion.heading_rad(idx)
        # Facing in [0, 360), 0 before the first rotation vector (math.degrees(h) % 360 per row).
        facing = np.where(np.isnan(heading), 0.0, np.degrees(heading) % 360.0)
        # One ``tolist`` per column, then plain Python floats and ints into the Estimates.
        columns = zip(ready.tolist(), self.now_ms[idx].tolist(), x.tolist(), y.tolist(),
                      facing.tolist(), accuracy.tolist(), strict=True)  # fmt: skip
        return [[Estimate(t, ex, ey, f, a)] if r else [] for r, t, ex, ey, f, a in columns]

    def onto_floor(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Points off the walkable floor moved to the nearest walkable cell centre."""
        off = ~self.grid.is_free(x, y)
        if not off.any() or self._nearest_free is None:
            return x, y
        x, y = x.copy(), y.copy()
        _, nearest = self._nearest_free.query(np.column_stack([x[off], y[off]]))
        x[off], y[off] = self._free_xy[nearest, 0], self._free_xy[nearest, 1]
        return x, y
