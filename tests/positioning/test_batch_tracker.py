"""The batched tracker follows several shoppers of one store at once, each on its own walk."""

from __future__ import annotations

import itertools

import numpy as np

from positioning.batch_input import SensorBatch, Series3
from positioning.batch_tracker import BatchTracker
from positioning.beacons import BeaconMap, PathLossModel
from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    Reading,
    RotationVectorReading,
)
from positioning.scoring import score_walk
from positioning.walkable import WalkableGrid
from tests.positioning.synthetic import walk_readings
from tests.positioning.test_tracker import BEACONS, CORRIDOR, calibrated_k

# The corridor walk of test_tracker, both ways, from different places and at different phases.
PATHS = [[(4.0, 10.0), (76.0, 10.0)], [(70.0, 9.0), (10.0, 11.0)], [(30.0, 10.0), (60.0, 10.0)]]
# Beacons and steps without the particles' map constraint: looser than the particle tracker's
# 1 m / 2 m on this corridor, tight enough to fail a filter that lost or swapped its shoppers.
MEDIAN_ERROR_M = 2.0
P90_ERROR_M = 3.5


def _series(part: list[Reading], kind: type) -> Series3:
    rows = [r for r in part if isinstance(r, kind)]
    return Series3.of([r.t_ms for r in rows], [r.x for r in rows], [r.y for r in rows],
                      [r.z for r in rows])  # type: ignore[attr-defined]  # fmt: skip


def sensor_batches(readings: list[Reading], phase_ms: int) -> list[SensorBatch]:
    """The walk cut into one-second batches, the first ``phase_ms`` long."""
    t0, end = readings[0].t_ms, readings[-1].t_ms
    edges = [t0 - 1, *range(t0 + phase_ms, end + 1000, 1000)]
    out = []
    for lo, hi in itertools.pairwise(edges):
        part = [r for r in readings if lo < r.t_ms <= hi]
        beacons = [r for r in part if isinstance(r, BeaconReading)]
        out.append(SensorBatch(
            max(r.t_ms for r in part), _series(part, AccelReading), _series(part, GyroReading),
            _series(part, RotationVectorReading), [b.beacon_id for b in beacons],
            np.array([b.rssi_dbm for b in beacons])))  # fmt: skip
    return out


def corridor_batch_tracker() -> BatchTracker:
    beacon_map = BeaconMap(BEACONS, PathLossModel(exponent=2.0, sigma_db=3.0))
    return BatchTracker(beacon_map, WalkableGrid.from_plan(CORRIDOR), calibrated_k())


def test_shoppers_walking_at_once_are_each_positioned_on_their_own_walk() -> None:
    walks = [walk_readings(path, seed=7 + i, beacons=BEACONS) for i, path in enumerate(PATHS)]
    per_row = [sensor_batches(readings, 400 + 300 * i) for i, (readings, _) in enumerate(walks)]
    tracker = corridor_batch_tracker()
    rows = [tracker.add() for _ in walks]
    estimates: list[list] = [[] for _ in walks]
    for round_ in range(max(len(b) for b in per_row)):
        now = [i for i, b in enumerate(per_row) if round_ < len(b)]
        out = tracker.push([rows[i] for i in now], [per_row[i][round_] for i in now])
        for i, found in zip(now, out, strict=True):
            assert all(e.t_ms <= per_row[i][round_].latest_ms for e in found)  # never ahead
            estimates[i] += found
    grid = WalkableGrid.from_plan(CORRIDOR)
    for (_, waypoints), found in zip(walks, estimates, strict=True):
        errors = score_walk(found, waypoints)
        assert errors.missing <= 1
        assert np.median(errors.position_m) < MEDIAN_ERROR_M, np.round(errors.position_m, 1)
        assert np.percentile(errors.position_m, 90) < P90_ERROR_M
        xs, ys = np.array([e.x for e in found]), np.array([e.y for e in found])
        assert grid.is_free(xs, ys).all()  # never inside a shop


def test_a_removed_shoppers_row_starts_afresh_for_the_next() -> None:
    readings, _ = walk_readings(PATHS[0], seed=7, beacons=BEACONS)
    batches = sensor_batches(readings, 1000)
    tracker = corridor_batch_tracker()
    first = tracker.add()
    for batch in batches[:5]:
        tracker.push([first], [batch])
    assert tracker.ekf.ready[first]
    assert len(tracker) == 1
    tracker.remove(first)
    assert len(tracker) == 0
    assert not tracker.ekf.ready[first]
    again = tracker.add()
    assert again == first
    motion_only = SensorBatch(batches[5].latest_ms, batches[5].accel, batches[5].gyro)
    assert tracker.push([again], [motion_only]) == [[]]  # no fix yet: no estimate


def _flat(estimates: list[list]) -> list[tuple[int, float, float, float, float]]:
    return [(e.t_ms, e.x, e.y, e.heading_deg, e.accuracy_m) for found in estimates for e in found]


def test_a_shoppers_estimates_do_not_depend_on_who_shares_the_push_or_the_other_stores() -> None:
    """Each shopper pushed alone in its own tracker, against all of them in one tracker's pushes
    while another store's tracker (other beacons) pushes in between: the same estimates to
    1e-9 (the fix's products and the motion's merges run over every row of a push at once)."""
    walks = [walk_readings(path, seed=21 + i, beacons=BEACONS)[0] for i, path in enumerate(PATHS)]
    per_row = [sensor_batches(readings, 500 + 200 * i) for i, readings in enumerate(walks)]
    alone = []
    for batches in per_row:
        tracker = corridor_batch_tracker()
        row = tracker.add()
        alone.append(_flat([found for b in batches for found in tracker.push([row], [b])]))
    shared = corridor_batch_tracker()
    other_beacons = {f"o{i}": (8.0 + 10.0 * i, 11.0, -62.0) for i in range(7)}
    other = BatchTracker(BeaconMap(other_beacons, PathLossModel(exponent=2.2, sigma_db=4.0)),
                         WalkableGrid.from_plan(CORRIDOR), calibrated_k())  # fmt: skip
    other_rows = [other.add() for _ in range(2)]
    rows = [shared.add() for _ in per_row]
    together: list[list] = [[] for _ in per_row]
    for round_ in range(max(len(b) for b in per_row)):
        now = [i for i, b in enumerate(per_row) if round_ < len(b)]
        other.push(other_rows, [per_row[0][round_ % len(per_row[0])]] * 2)
        out = shared.push([rows[i] for i in now], [per_row[i][round_] for i in now])
        for i, found in zip(now, out, strict=True):
            together[i].append(found)
    for expected, found in zip(alone, together, strict=True):
        got = _flat(found)
        assert len(got) == len(expected) > 10
        for a, b in zip(got, expected, strict=True):
            assert a[0] == b[0]
            assert np.allclose([a[1], a[2], a[4]], [b[1], b[2], b[4]], rtol=0.0, atol=1e-9)
            assert abs((a[3] - b[3] + 180.0) % 360.0 - 180.0) < 1e-9  # facing, across 0/360
