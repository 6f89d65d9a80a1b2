"""Spatially correlated random fields over the floor (shadowing, magnetic anomalies).

A zero-mean Gaussian field with covariance σ²·exp(−d²/(2ℓ²)) is approximated by random Fourier
features (Rahimi & Recht 2007): f(p) = σ·√(2/K)·Σₖ cos(ωₖ·p + bₖ), ωₖ ~ N(0, I/ℓ²),
bₖ ~ U(0, 2π). Var f = σ² exactly; the covariance converges as K grows. Evaluating it is a dot
product, so a field is defined everywhere, costs no grid, and the same place always gives the
same value — a phone walking back past a shelf sees the same shadowing again, as in a store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 64 features keep the sampled covariance within a few percent of the kernel.
FEATURES = 64


@dataclass(frozen=True)
class RandomFields:
    """``count`` independent fields sharing σ and ℓ."""

    omega: np.ndarray  # (count, K, 2) angular frequencies, rad/m
    phase: np.ndarray  # (count, K)
    sigma: float

    @classmethod
    def make(
        cls,
        count: int,
        sigma: float,
        length_m: float,
        rng: np.random.Generator,
        features: int = FEATURES,
    ) -> RandomFields:
        omega = rng.normal(0.0, 1.0 / length_m, size=(count, features, 2))
        phase = rng.uniform(0.0, 2 * np.pi, size=(count, features))
        return cls(omega, phase, sigma)

    def at(self, field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Value of field ``field[i]`` at ``(x[i], y[i])`` for every i (arrays of one length)."""
        omega = self.omega[field]  # (n, K, 2)
        arg = omega[..., 0] * np.asarray(x)[:, None] + omega[..., 1] * np.asarray(y)[:, None]
        arg += self.phase[field]
        scale = self.sigma * np.sqrt(2.0 / self.omega.shape[1])
        return scale * np.cos(arg).sum(axis=1)

    def all_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Every field at every point: shape (count, n)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        arg = (
            self.omega[:, :, 0, None] * x[None, None, :]
            + self.omega[:, :, 1, None] * y[None, None, :]
        )
        arg += self.phase[:, :, None]
        scale = self.sigma * np.sqrt(2.0 / self.omega.shape[1])
        return scale * np.cos(arg).sum(axis=1)
