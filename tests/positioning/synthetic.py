"""A seeded synthetic shopper: readings a flat-held phone would report along a known path."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    Reading,
    RotationVectorReading,
    WifiReading,
)
from positioning.steps import GRAVITY
from positioning.walkfile import Walk, Waypoint

SAMPLE_MS = 20  # 50 Hz, like the recordings
SPEED_M_S = 1.25
CADENCE_HZ = 1.9
BOUNCE_M_S2 = 2.5  # vertical acceleration amplitude of a walking, hand-held phone


def rotation_vector_for(heading_deg: float) -> tuple[float, float, float]:
    """Rotation vector of a flat phone whose +y axis points at map heading ``heading_deg``.

    heading = 90° − azimuth and a flat phone turned by α about up has azimuth −α, so α = h − 90°.
    """
    alpha = math.radians((heading_deg - 90.0 + 180.0) % 360.0 - 180.0)
    return 0.0, 0.0, math.sin(alpha / 2.0)


def path_position(
    path: Sequence[tuple[float, float]], distance_m: float
) -> tuple[float, float, float]:
    """(x, y, heading_deg) after walking ``distance_m`` along the polyline."""
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        seg = math.hypot(x1 - x0, y1 - y0)
        heading = math.degrees(math.atan2(y1 - y0, x1 - x0))
        if distance_m <= seg:
            f = distance_m / seg
            return x0 + f * (x1 - x0), y0 + f * (y1 - y0), heading
        distance_m -= seg
    (xa, ya), (xb, yb) = path[-2], path[-1]
    return xb, yb, math.degrees(math.atan2(yb - ya, xb - xa))


def walk_readings(
    path: Sequence[tuple[float, float]],
    seed: int,
    t0_ms: int = 1_700_000_000_000,
    beacons: dict[str, tuple[float, float, float]] | None = None,
    access_points: dict[str, tuple[float, float, float]] | None = None,
    path_loss_exponent: float = 2.0,
    rssi_noise_db: float = 2.0,
    waypoint_every_ms: int = 4000,
    phone_offset_deg: float = 0.0,
) -> tuple[list[Reading], list[Waypoint]]:
    """Motion at 50 Hz, beacons at 1 Hz, Wi-Fi scans every 2 s; waypoints along the path.

    ``phone_offset_deg``: the phone points this far (counter-clockwise) off the walking
    direction throughout (held sideways, or a compass off by a constant).
    """
    rng = np.random.default_rng(seed)
    length = sum(math.dist(a, b) for a, b in itertools.pairwise(path))
    duration_ms = int(1000 * length / SPEED_M_S)
    readings: list[Reading] = []
    waypoints: list[Waypoint] = []
    previous_heading: float | None = None
    for t in range(0, duration_ms + 1, SAMPLE_MS):
        t_ms = t0_ms + t
        x, y, heading = path_position(path, SPEED_M_S * t / 1000.0)
        rv = rotation_vector_for(heading + phone_offset_deg)
        yaw_rate = 0.0
        if previous_heading is not None:
            turn = (heading - previous_heading + 180.0) % 360.0 - 180.0
            yaw_rate = math.radians(turn) / (SAMPLE_MS / 1000.0)
        previous_heading = heading
        bounce = BOUNCE_M_S2 * math.sin(2 * math.pi * CADENCE_HZ * t / 1000.0)
        readings.append(AccelReading(t_ms, *rng.normal(0, 0.05, 2), GRAVITY + bounce))
        readings.append(GyroReading(t_ms, 0.0, 0.0, yaw_rate + rng.normal(0, 0.005)))
        readings.append(RotationVectorReading(t_ms, *rv))
        if t % waypoint_every_ms == 0:
            waypoints.append(Waypoint(t_ms, x, y))
        if beacons and t % 1000 == 0:
            for bid, (bx, by, tx) in beacons.items():
                d = max(0.5, math.hypot(x - bx, y - by))
                rssi = tx - 10 * path_loss_exponent * math.log10(d) + rng.normal(0, rssi_noise_db)
                if rssi > -100:
                    readings.append(BeaconReading(t_ms, bid, round(rssi), tx))
        if access_points and t % 2000 == 0 and t > 0:
            for bssid, (ax, ay, p1) in access_points.items():
                d = max(1.0, math.hypot(x - ax, y - ay))
                rssi = p1 - 10 * path_loss_exponent * math.log10(d) + rng.normal(0, rssi_noise_db)
                if rssi > -95:
                    readings.append(WifiReading(t_ms, bssid, round(rssi), t_ms - 100))
    return readings, waypoints


def hall_survey_walks(access_points: dict[str, tuple[float, float, float]]) -> list[Walk]:
    """Six east-west survey walks, 6 m apart, across a 40 m × 40 m hall (boustrophedon)."""
    survey = []
    for row, y in enumerate(range(4, 40, 6)):
        ends = [(2.0, float(y)), (38.0, float(y))]
        path = ends if row % 2 == 0 else ends[::-1]
        readings, waypoints = walk_readings(path, seed=10 + row, access_points=access_points)
        survey.append(Walk(f"s{row}", tuple(readings), tuple(waypoints)))
    return survey
