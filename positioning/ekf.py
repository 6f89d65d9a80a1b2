"""Extended Kalman filter over position, heading offset and step scale, on filterpy.

State ``[x, y, δ, s]``: position (m), heading offset between the phone's heading ψ and the
walking direction (rad), and the shopper's step-length scale against Weinberg's K.

Predict on a step of length L at heading ψ:

    x' = x + s·L·cos(ψ + δ),  y' = y + s·L·sin(ψ + δ),  δ' = δ,  s' = s
    F  = ∂f/∂state = [[1, 0, −s·L·sin(ψ+δ), L·cos(ψ+δ)],
                      [0, 1,  s·L·cos(ψ+δ), L·sin(ψ+δ)],
                      [0, 0, 1, 0], [0, 0, 0, 1]]
    P' = F·P·Fᵀ + Q

Update on a position measurement z = (x, y) with covariance R = σ²·I (H = [I₂ 0]), gated on
the squared Mahalanobis distance d² = νᵀ·S⁻¹·ν (ν = z − Hx, S = H·P·Hᵀ + R). After
``MAX_CONSECUTIVE_REJECTS`` gated-out measurements in a row the filter has diverged and is reset
on the measurement.

The maths lives in small array functions (``step_transition``, ``step_noise``,
``mahalanobis2``) so a batched version across shoppers can reuse them; ``StepEKF`` drives
filterpy's ``ExtendedKalmanFilter`` with them.
"""

from __future__ import annotations

import math

import numpy as np
from filterpy.kalman import ExtendedKalmanFilter
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Per-step process noise: heading jitter (rad), length noise (fraction), drift of δ and s.
STEP_HEADING_SIGMA_RAD = math.radians(8.0)
STEP_LENGTH_SIGMA = 0.15
OFFSET_DRIFT_RAD = math.radians(1.0)
SCALE_DRIFT = 0.01
# Prior on δ and s at a reset.
INIT_OFFSET_SIGMA_RAD = math.radians(10.0)
INIT_SCALE_SIGMA = 0.15
# χ²(2 dof) at 0.999: a position fix this far out is an outlier, not news.
GATE_MAHALANOBIS2 = 13.82
# Consecutive rejected fixes that mean the filter, not the fixes, is wrong.
MAX_CONSECUTIVE_REJECTS = 3
H_POSITION = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


def step_transition(
    state: Array, length_m: float | Array, heading_rad: float | Array
) -> tuple[Array, Array]:
    """f(state) and its Jacobian F for one step (see the module equations).

    Batched: ``state`` is ``(..., 4)`` (one row per shopper), ``length_m`` and ``heading_rad``
    broadcast against ``state[..., 0]``; returns ``(..., 4)`` and ``(..., 4, 4)``.
    """
    state = np.asarray(state, dtype=float)
    x, y, offset, scale = (state[..., i] for i in range(4))
    length = np.broadcast_to(np.asarray(length_m, dtype=float), x.shape)
    theta = heading_rad + offset
    c, s = np.cos(theta), np.sin(theta)
    new = np.stack([x + scale * length * c, y + scale * length * s, offset, scale], axis=-1)
    jac = np.zeros((*x.shape, 4, 4))
    jac[..., 0, 0] = jac[..., 1, 1] = jac[..., 2, 2] = jac[..., 3, 3] = 1.0
    jac[..., 0, 2], jac[..., 0, 3] = -scale * length * s, length * c
    jac[..., 1, 2], jac[..., 1, 3] = scale * length * c, length * s
    return new, jac


def step_noise(state: Array, length_m: float | Array, heading_rad: float | Array) -> Array:
    """Q for one step: along-track σ = s·L·σ_L, cross-track σ = s·L·σ_ψ, plus δ, s drift.

    Q_xy = R(θ)·diag(along², across²)·R(θ)ᵀ; batched like ``step_transition``.
    """
    state = np.asarray(state, dtype=float)
    offset, scale = state[..., 2], state[..., 3]
    theta = heading_rad + offset
    c, s = np.cos(theta), np.sin(theta)
    along2 = (scale * length_m * STEP_LENGTH_SIGMA) ** 2
    across2 = (scale * length_m * STEP_HEADING_SIGMA_RAD) ** 2
    q = np.zeros((*np.shape(offset), 4, 4))
    q[..., 0, 0] = c * c * along2 + s * s * across2
    q[..., 1, 1] = s * s * along2 + c * c * across2
    q[..., 0, 1] = q[..., 1, 0] = c * s * (along2 - across2)
    q[..., 2, 2], q[..., 3, 3] = OFFSET_DRIFT_RAD**2, SCALE_DRIFT**2
    return q


def mahalanobis2(innovation: Array, s: Array) -> Array:
    """d² = νᵀ·S⁻¹·ν, batched over leading axes (ν: (..., 2), S: (..., 2, 2))."""
    solved = np.linalg.solve(s, innovation[..., None])[..., 0]
    return np.asarray(np.sum(innovation * solved, axis=-1))


class _StepModel(ExtendedKalmanFilter):
    """filterpy's EKF with the step motion model as its state transition."""

    x: Array

    def predict_x(self, u: tuple[float, float] = (0.0, 0.0)) -> None:
        self.x, _ = step_transition(self.x, u[0], u[1])


class StepEKF:
    """The per-shopper EKF; unready until ``reset`` gives it a position."""

    def __init__(self) -> None:
        self.filter = _StepModel(dim_x=4, dim_z=2)
        self.ready = False
        self.rejects = 0

    def reset(self, x: float, y: float, sigma_m: float) -> None:
        self.filter.x = np.array([x, y, 0.0, 1.0])
        self.filter.P = np.diag(
            [sigma_m**2, sigma_m**2, INIT_OFFSET_SIGMA_RAD**2, INIT_SCALE_SIGMA**2]
        )
        self.ready, self.rejects = True, 0

    def predict_step(self, length_m: float, heading_rad: float) -> None:
        if not self.ready:
            return
        _, jac = step_transition(self.filter.x, length_m, heading_rad)
        self.filter.F = jac
        self.filter.Q = step_noise(self.filter.x, length_m, heading_rad)
        self.filter.predict(u=(length_m, heading_rad))

    def update_position(self, x: float, y: float, sigma_m: float) -> bool:
        """Gated position update; True when accepted. Resets after repeated rejections."""
        if not self.ready:
            self.reset(x, y, sigma_m)
            return True
        z = np.array([x, y])
        r = np.eye(2) * sigma_m**2
        innovation = z - H_POSITION @ self.filter.x
        s = H_POSITION @ self.filter.P @ H_POSITION.T + r
        if float(mahalanobis2(innovation, s)) > GATE_MAHALANOBIS2:
            self.rejects += 1
            if self.rejects >= MAX_CONSECUTIVE_REJECTS:
                self.reset(x, y, sigma_m)
                return True
            return False
        self.rejects = 0
        self.filter.update(z, lambda _s: H_POSITION, lambda s_: H_POSITION @ s_, R=r)
        return True

    @property
    def x(self) -> float:
        return float(self.filter.x[0])

    @property
    def y(self) -> float:
        return float(self.filter.x[1])

    @property
    def sigma_m(self) -> float:
        """RMS horizontal 1σ: √((σx² + σy²)/2)."""
        return math.sqrt(0.5 * float(self.filter.P[0, 0] + self.filter.P[1, 1]))
