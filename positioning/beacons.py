"""Beacons at known positions: RSSI → range by a log-distance model, and locating beacons.

Log-distance path loss: ``rssi = P₁ − 10·n·log₁₀(d)`` with P₁ the level at 1 m (the iBeacon
``tx_power`` field when the installer set it) and n the path-loss exponent (2 in free space,
1.6–3.5 indoors). ``calibrate_path_loss`` fits n (and a common offset to P₁) from survey
readings at known distances; ``locate_beacons`` finds unknown beacon positions from survey
walks by non-linear least squares on the same model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

# Indoor defaults before calibration: a phone ≈ 1 m from a −59 dBm-at-1-m iBeacon (Apple's
# reference), exponent 2.2 for a mall corridor with people in the way.
DEFAULT_TX_POWER_DBM = -59.0
DEFAULT_PATH_LOSS_EXPONENT = 2.2
# RSSI scatter about the model from body shadowing and multipath, dB (1σ).
RSSI_SIGMA_DB = 6.0
# Ranges closer than this are all "at the beacon": the model breaks down in the near field.
MIN_RANGE_M = 0.5
# A beacon needs this many readings at distinct places to be located.
MIN_READINGS_TO_LOCATE = 6
EXPONENT_LIMITS = (1.2, 5.0)


class BeaconError(ValueError):
    """A beacon definition that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True)
class PathLossModel:
    """``rssi = tx_power + offset − 10·n·log₁₀(d)``."""

    exponent: float = DEFAULT_PATH_LOSS_EXPONENT
    offset_db: float = 0.0
    sigma_db: float = RSSI_SIGMA_DB

    def rssi_at(
        self, tx_power_dbm: float, distance_m: NDArray[np.float64] | float
    ) -> NDArray[np.float64]:
        d = np.maximum(np.asarray(distance_m, dtype=float), MIN_RANGE_M)
        return tx_power_dbm + self.offset_db - 10.0 * self.exponent * np.log10(d)

    def range_m(self, tx_power_dbm: float, rssi_dbm: float) -> float:
        """d = 10^((P₁ + offset − rssi) / (10·n))."""
        return max(
            MIN_RANGE_M,
            10.0 ** ((tx_power_dbm + self.offset_db - rssi_dbm) / (10.0 * self.exponent)),
        )


@dataclass(frozen=True)
class BeaconMap:
    """Beacons at known places: ``{beacon_id: (x, y, tx_power_dbm)}``, floor metre frame."""

    beacons: Mapping[str, tuple[float, float, float]]
    model: PathLossModel = PathLossModel()

    def __post_init__(self) -> None:
        for bid, spec in self.beacons.items():
            if len(spec) != 3 or not all(math.isfinite(v) for v in spec):
                raise BeaconError(
                    f"beacon {bid!r}: needs finite (x, y, tx_power_dbm), got {spec!r}"
                )

    def __contains__(self, beacon_id: object) -> bool:
        return beacon_id in self.beacons

    def log_likelihood(
        self, beacon_id: str, rssi_dbm: float, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """log p(rssi | phone at (x, y)) under the model with Gaussian RSSI noise (vectorised)."""
        bx, by, tx = self.beacons[beacon_id]
        expected = self.model.rssi_at(tx, np.hypot(x - bx, y - by))
        return -0.5 * ((rssi_dbm - expected) / self.model.sigma_db) ** 2


@dataclass(frozen=True, slots=True)
class RangeSample:
    """A beacon heard at a known phone position (a survey walk's interpolated waypoint)."""

    beacon_id: str
    x: float
    y: float
    rssi_dbm: float


def calibrate_path_loss(
    samples: Iterable[RangeSample], beacons: Mapping[str, tuple[float, float, float]]
) -> PathLossModel:
    """Fit exponent n and offset by linear least squares on rssi − P₁ = offset − 10·n·log₁₀(d)."""
    rows, target = [], []
    for s in samples:
        if s.beacon_id not in beacons:
            continue
        bx, by, tx = beacons[s.beacon_id]
        d = max(MIN_RANGE_M, math.hypot(s.x - bx, s.y - by))
        rows.append((1.0, -10.0 * math.log10(d)))
        target.append(s.rssi_dbm - tx)
    if len(rows) < 3:
        return PathLossModel()
    a, b = np.asarray(rows), np.asarray(target)
    (offset, exponent), *_ = np.linalg.lstsq(a, b, rcond=None)
    exponent = float(np.clip(exponent, *EXPONENT_LIMITS))
    residual = b - (offset + exponent * a[:, 1])
    sigma = float(np.std(residual)) if len(b) > 3 else RSSI_SIGMA_DB
    return PathLossModel(exponent, float(offset), max(sigma, 1.0))


def locate_beacons(
    samples: Sequence[RangeSample],
    model: PathLossModel = PathLossModel(),
    tx_power_dbm: float = DEFAULT_TX_POWER_DBM,
) -> dict[str, tuple[float, float, float]]:
    """Positions (and fitted 1 m level) of beacons from survey readings at known phone positions.

    Per beacon, minimise Σ (rssi − (P₁ − 10·n·log₁₀|p − b|))² over (bx, by, P₁), n from ``model``,
    starting from the RSSI-weighted centroid of its strongest readings.
    """
    by_beacon: dict[str, list[RangeSample]] = {}
    for s in samples:
        by_beacon.setdefault(s.beacon_id, []).append(s)
    located: dict[str, tuple[float, float, float]] = {}
    for bid, obs in by_beacon.items():
        pts = np.array([(s.x, s.y) for s in obs])
        rssi = np.array([s.rssi_dbm for s in obs])
        if len(obs) < MIN_READINGS_TO_LOCATE or len(np.unique(np.round(pts), axis=0)) < 3:
            continue
        strongest = np.argsort(rssi)[-max(3, len(obs) // 5) :]
        w = 10.0 ** (rssi[strongest] / 10.0)
        start = np.array([*(w @ pts[strongest] / w.sum()), tx_power_dbm])

        def residual(
            p: NDArray[np.float64], pts: NDArray[np.float64] = pts, rssi: NDArray[np.float64] = rssi
        ) -> NDArray[np.float64]:
            d = np.maximum(np.hypot(pts[:, 0] - p[0], pts[:, 1] - p[1]), MIN_RANGE_M)
            return rssi - (p[2] - 10.0 * model.exponent * np.log10(d))

        fit = least_squares(residual, start, loss="soft_l1", f_scale=model.sigma_db)
        located[bid] = (float(fit.x[0]), float(fit.x[1]), float(fit.x[2]))
    return located
