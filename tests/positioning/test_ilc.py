"""Checks on the real recordings (skipped where ../shared/data/ilc is absent)."""

import math
from pathlib import Path

import numpy as np
import pytest

from positioning.heading import android_azimuth_rad, map_heading_rad
from positioning.readings import RotationVectorReading, WifiReading
from positioning.walkfile import read_walk

pytestmark = pytest.mark.ilc


def leg_heading_errors(walk_paths: list[Path], convention) -> list[float]:
    """Signed error of the mean phone heading over each ≥ 5 m leg against the leg direction."""
    errors = []
    for path in walk_paths:
        walk = read_walk(path)
        rv = [
            (r.t_ms, convention(r.x, r.y, r.z))
            for r in walk.readings
            if isinstance(r, RotationVectorReading)
        ]
        times = np.array([t for t, _ in rv])
        angles = np.array([a for _, a in rv])
        for a, b in zip(walk.waypoints, walk.waypoints[1:], strict=False):
            if math.hypot(b.x - a.x, b.y - a.y) < 5.0:
                continue
            inside = (times >= a.t_ms) & (times <= b.t_ms)
            if not inside.any():
                continue
            mean = math.atan2(np.sin(angles[inside]).mean(), np.cos(angles[inside]).mean())
            true = math.atan2(b.y - a.y, b.x - a.x)
            errors.append(math.degrees(math.atan2(math.sin(mean - true), math.cos(mean - true))))
    return errors


def test_map_heading_is_90_degrees_minus_android_azimuth_on_the_recordings(ilc_floor_dirs):
    for floor in ilc_floor_dirs:
        walks = sorted((floor / "path_data_files").glob("*.txt"))[:12]
        ours = np.array(leg_heading_errors(walks, map_heading_rad))
        assert len(ours) >= 10
        assert abs(np.median(ours)) < 8.0, floor  # no constant bias
        assert np.median(np.abs(ours)) < 20.0, floor
        flipped = np.array(leg_heading_errors(walks, lambda x, y, z: -map_heading_rad(x, y, z)))
        assert np.median(np.abs(flipped)) > 1.5 * np.median(np.abs(ours))  # +y is north, not south
        for quarter in (-math.pi / 2, math.pi / 2, math.pi):
            turned = leg_heading_errors(
                walks, lambda x, y, z, q=quarter: map_heading_rad(x, y, z) + q
            )
            assert np.median(np.abs(turned)) > 60.0
        azimuth = leg_heading_errors(walks, android_azimuth_rad)  # azimuth is not the map heading
        assert np.median(np.abs(azimuth)) > 1.5 * np.median(np.abs(ours))


def test_a_real_walk_reads_with_only_known_unused_rows_skipped(ilc_floor_dirs):
    path = sorted((ilc_floor_dirs[0] / "path_data_files").glob("*.txt"))[0]
    walk = read_walk(path)
    assert len(walk.readings) > 1000
    assert len(walk.waypoints) >= 2
    assert set(walk.skipped) <= {"unused type"}
    wifi = [r for r in walk.readings if isinstance(r, WifiReading)]
    assert wifi
    assert all(r.last_seen_ms <= r.t_ms + 1000 for r in wifi)
