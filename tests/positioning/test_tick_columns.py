"""``TickColumns``: many shoppers' batches joined sensor by sensor, taken apart and put together
again without changing a number; ``push_columns`` is ``push`` on them."""

from __future__ import annotations

import numpy as np
import pytest

from positioning.batch_input import SensorBatch, Series3, TickColumns
from positioning.batch_motion import SensorSamples
from tests.positioning.synthetic import walk_readings
from tests.positioning.test_batch_tracker import corridor_batch_tracker, sensor_batches
from tests.positioning.test_tracker import BEACONS


def corridor_batches() -> list[list[SensorBatch]]:
    """Three shoppers' one-second batches; the second shopper's every third without beacons."""
    paths = [[(4.0, 10.0), (76.0, 10.0)], [(70.0, 9.0), (10.0, 11.0)], [(30.0, 10.0), (60.0, 10.0)]]
    per_row = []
    for i, path in enumerate(paths):
        readings, _ = walk_readings(path, seed=3 + i, beacons=BEACONS)
        per_row.append(sensor_batches(readings, 300 + 250 * i))
    per_row[1] = [SensorBatch(b.latest_ms, b.accel, b.gyro, b.rotation) if k % 3 == 0 else b
                  for k, b in enumerate(per_row[1])]  # fmt: skip
    return per_row


def assert_same_batch(ours: SensorBatch, theirs: SensorBatch) -> None:
    assert ours.latest_ms == theirs.latest_ms
    for name in ("accel", "gyro", "rotation"):
        np.testing.assert_array_equal(getattr(ours, name).t_ms, getattr(theirs, name).t_ms)
        np.testing.assert_array_equal(getattr(ours, name).xyz, getattr(theirs, name).xyz)
    assert list(ours.beacon_id) == list(theirs.beacon_id)
    np.testing.assert_array_equal(ours.beacon_rssi_dbm, theirs.beacon_rssi_dbm)


def test_joined_taken_and_cut_back_columns_give_the_batches_they_were_made_of() -> None:
    per_row = corridor_batches()
    batches = [per_row[r][s] for s in range(3) for r in range(3)]
    columns = TickColumns.of(batches)
    assert len(columns) == len(batches)
    for k, batch in enumerate(batches):
        assert_same_batch(columns.batch(k), batch)
    halves = TickColumns.joined([TickColumns.of(batches[:4]), TickColumns.of(batches[4:])])
    for k, batch in enumerate(batches):
        assert_same_batch(halves.batch(k), batch)
    picked = [1, 3, 4, 8]
    taken = columns.take(picked)
    assert len(taken) == len(picked)
    for k, original in enumerate(picked):
        assert_same_batch(taken.batch(k), batches[original])
    with pytest.raises(ValueError, match="increasing"):
        columns.take([3, 1])


def test_push_columns_gives_what_push_gives_batch_by_batch() -> None:
    per_row = corridor_batches()
    by_batches, by_columns = corridor_batch_tracker(), corridor_batch_tracker()
    rows = [by_batches.add() for _ in per_row]
    assert rows == [by_columns.add() for _ in per_row]
    placed = 0
    for second in range(min(len(b) for b in per_row)):
        batches = [per_row[r][second] for r in range(len(rows))]
        expected = by_batches.push(rows, batches)
        # (In the same order: a fix's last bits depend on its row's place in the products.)
        assert by_columns.push_columns(np.array(rows), TickColumns.of(batches)) == expected
        placed += sum(map(len, expected))
    assert placed > 0


def test_a_series_going_back_in_time_or_a_row_twice_is_refused() -> None:
    forward = Series3.of([0, 20, 40], [0, 0, 0], [0, 0, 0], [9.8, 9.8, 9.8])
    tracker = corridor_batch_tracker()
    rows = [tracker.add(), tracker.add()]
    columns = TickColumns.of([SensorBatch(40, forward), SensorBatch(40, forward)])
    backward = SensorSamples(np.zeros(3, np.int64), np.array([0, 40, 20]), np.zeros((3, 3)))
    reversed_times = TickColumns(
        columns.latest_ms,
        columns.accel,
        columns.gyro,
        backward,
        columns.beacon_row,
        columns.beacon_id,
        columns.beacon_rssi_dbm,
    )
    with pytest.raises(ValueError, match="back in time"):
        tracker.push_columns(rows, reversed_times)
    with pytest.raises(ValueError, match="one batch per row per push"):
        tracker.push_columns([rows[0], rows[0]], columns)
    with pytest.raises(ValueError, match="one batch per row"):
        tracker.push_columns(rows[:1], columns)
