"""The step EKF of ``positioning.ekf`` over many shoppers at once: one row per shopper.

Same state ``[x, y, δ, s]``, same equations, same constants; ``step_transition``, ``step_noise``
and ``mahalanobis2`` broadcast over the leading row axis. Each call takes a boolean mask of the
rows it concerns; every other row is left bit-for-bit untouched (rows are gathered, updated and
scattered back, never computed in place under a mask). Update, as filterpy's
``ExtendedKalmanFilter.update`` (Joseph form):

    S = H·P·Hᵀ + R,  K = P·Hᵀ·S⁻¹,  x ← x + K·(z − H·x)
    P ← (I − K·H)·P·(I − K·H)ᵀ + K·R·Kᵀ

with the gate and the divergence reset of ``StepEKF.update_position``. ``tests/positioning/
test_batch_ekf.py`` runs random step/fix sequences through both and asserts x and P agree to 1e-9.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from positioning.ekf import (
    GATE_MAHALANOBIS2,
    INIT_OFFSET_SIGMA_RAD,
    INIT_SCALE_SIGMA,
    MAX_CONSECUTIVE_REJECTS,
    mahalanobis2,
    step_noise,
    step_transition,
)

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


class BatchEKF:
    """``StepEKF`` for ``rows`` shoppers; a row is unready until its first fix or ``reset``."""

    def __init__(self, rows: int = 0) -> None:
        self.x = np.zeros((rows, 4))
        self.P = np.zeros((rows, 4, 4))
        self.ready = np.zeros(rows, dtype=bool)
        self.rejects = np.zeros(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ready)

    def grow(self, rows: int) -> None:
        """Add unready rows up to ``rows`` in total (existing rows keep their state)."""
        extra = rows - len(self)
        if extra <= 0:
            return
        self.x = np.concatenate([self.x, np.zeros((extra, 4))])
        self.P = np.concatenate([self.P, np.zeros((extra, 4, 4))])
        self.ready = np.concatenate([self.ready, np.zeros(extra, dtype=bool)])
        self.rejects = np.concatenate([self.rejects, np.zeros(extra, dtype=np.int64)])

    def clear(self, rows: Mask) -> None:
        """Forget the masked rows (a shopper left; the row can be given to another)."""
        self.ready[rows] = False
        self.rejects[rows] = 0
        self.x[rows] = 0.0
        self.P[rows] = 0.0

    def reset(self, rows: Mask, x: Array, y: Array, sigma_m: Array) -> None:
        """``StepEKF.reset`` on the masked rows; x, y, σ are per row (length ``len(self)``)."""
        idx = np.flatnonzero(rows)
        self._reset_rows(idx, x[idx], y[idx], sigma_m[idx])

    def predict_step(self, rows: Mask, length_m: Array, heading_rad: Array) -> None:
        """One step on the masked rows that are ready: x ← f(x), P ← F·P·Fᵀ + Q."""
        idx = np.flatnonzero(rows & self.ready)
        self.predict_rows(idx, length_m[idx], heading_rad[idx])

    def predict_rows(self, idx: NDArray[np.int64], length_m: Array, heading_rad: Array) -> None:
        """``predict_step`` on rows ``idx`` (distinct), the step of ``idx[k]`` in ``[k]``: no
        array as long as the filter (a store's thousands of rows for a tick's hundreds)."""
        idx = np.asarray(idx, dtype=np.int64)
        ready = self.ready[idx]
        if not ready.all():
            idx, length_m, heading_rad = idx[ready], length_m[ready], heading_rad[ready]
        if len(idx) == 0:
            return
        state = self.x[idx]
        new, jac = step_transition(state, length_m, heading_rad)
        q = step_noise(state, length_m, heading_rad)
        self.P[idx] = jac @ self.P[idx] @ np.swapaxes(jac, -1, -2) + q
        self.x[idx] = new

    def update_position(self, rows: Mask, x: Array, y: Array, sigma_m: Array) -> Mask:
        """Gated position update on the masked rows; returns which rows took it (or reset)."""
        accepted = np.zeros(len(self), dtype=bool)
        idx = np.flatnonzero(rows)
        accepted[idx] = self.update_rows(idx, x[idx], y[idx], sigma_m[idx])
        return accepted

    def update_rows(self, idx: NDArray[np.int64], x: Array, y: Array, sigma_m: Array) -> Mask:
        """``update_position`` on rows ``idx`` (distinct), the fix of ``idx[k]`` in ``[k]``;
        returns, per row of ``idx``, whether it took the fix (or reset)."""
        idx = np.asarray(idx, dtype=np.int64)
        accepted = np.zeros(len(idx), dtype=bool)
        fresh = ~self.ready[idx]
        self._reset_rows(idx[fresh], x[fresh], y[fresh], sigma_m[fresh])
        accepted[fresh] = True
        old = np.flatnonzero(~fresh)  # positions in ``idx`` of the rows already started
        if len(old) == 0:
            return accepted
        rows = idx[old]
        state, p = self.x[rows], self.P[rows]
        r = (sigma_m[old] ** 2)[:, None, None] * np.eye(2)
        z = np.stack([x[old], y[old]], axis=-1)
        innovation = z - state[:, :2]
        s = p[:, :2, :2] + r  # H·P·Hᵀ with H = [I₂ 0]
        gated = mahalanobis2(innovation, s) > GATE_MAHALANOBIS2
        self.rejects[rows[gated]] += 1
        diverged = gated & (self.rejects[rows] >= MAX_CONSECUTIVE_REJECTS)
        take = ~gated
        self.rejects[rows[take]] = 0
        p, s, r, innovation = p[take], s[take], r[take], innovation[take]
        gain = p[:, :, :2] @ np.linalg.inv(s)  # P·Hᵀ·S⁻¹
        i_kh = np.broadcast_to(np.eye(4), p.shape).copy()
        i_kh[:, :, :2] -= gain  # I − K·H
        kept = rows[take]
        self.x[kept] = state[take] + (gain @ innovation[..., None])[..., 0]
        self.P[kept] = i_kh @ p @ np.swapaxes(i_kh, -1, -2) + gain @ r @ np.swapaxes(gain, -1, -2)
        back = old[diverged]
        self._reset_rows(rows[diverged], x[back], y[back], sigma_m[back])
        accepted[old[take]] = True
        accepted[back] = True
        return accepted

    def sigma_m(self, rows: NDArray[np.int64] | None = None) -> Array:
        """RMS horizontal 1σ per row (of ``rows``, else every row): √((σx² + σy²)/2)."""
        p = self.P if rows is None else self.P[rows]
        return np.asarray(np.sqrt(0.5 * (p[:, 0, 0] + p[:, 1, 1])))

    def _reset_rows(self, idx: NDArray[np.int64], x: Array, y: Array, sigma_m: Array) -> None:
        if len(idx) == 0:
            return
        self.x[idx] = np.stack([x, y, np.zeros_like(x), np.ones_like(x)], axis=-1)
        p = np.zeros((len(idx), 4, 4))
        p[:, 0, 0] = p[:, 1, 1] = sigma_m**2
        p[:, 2, 2], p[:, 3, 3] = INIT_OFFSET_SIGMA_RAD**2, INIT_SCALE_SIGMA**2
        self.P[idx] = p
        self.ready[idx] = True
        self.rejects[idx] = 0
