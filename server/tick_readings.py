"""A runner tick's binary readings frames checked together, and the tracker's arrays cut from them.

On the event loop a binary frame gets only its per-frame checks (``decode_binary_deferred``:
MessagePack, lengths, counts, in plain Python). Its numbers — times in [0, 2^53] and never going
back within a series, sensor values finite and within ``SENSOR_LIMIT``, RSSI and advertised power
within their bounds (a NaN power: none advertised) — are checked here, for every binary frame of
the tick at once: numpy costs ≈ 1-3 µs a call whatever the size of a 50-sample column, so a
constant number of calls over all the tick's columns replaces ≈ 15 calls a frame. The same joined
arrays then give each good frame's ``SensorBatch`` as views (no copy, no ``np.asarray`` a column).

A frame that fails gets the reason ``decode_binary_readings`` gives it (``BinaryReadings.refusal``,
the column-by-column slow path, for the failed frames only); the tick's other frames are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

from positioning.batch_input import EMPTY3, SensorBatch, Series3
from server.realtime.framed_socket import BadFrame
from server.realtime.frames import (
    MAX_MILLIS,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    SENSOR_LIMIT,
    ReadingsBatch,
    VectorSeries,
)
from server.realtime.readings_binary import TIME_DTYPE, VALUE_DTYPE, BinaryReadings

log = logging.getLogger(__name__)
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Mask = NDArray[np.bool_]

# The vectors the batched tracker reads (a magnetometer series is checked, not tracked).
_TRACKED = ("accel", "gyro", "rotation")


def _series3(series: VectorSeries | None) -> Series3:
    return EMPTY3 if series is None else Series3.of(series.t_ms, series.x, series.y, series.z)


def sensor_batch(batch: ReadingsBatch) -> SensorBatch:
    """The frame's columns as the arrays the batched tracker takes (no object per reading)."""
    beacons = batch.beacons
    return SensorBatch(
        latest_ms=batch.time_span()[1],
        accel=_series3(batch.accel),
        gyro=_series3(batch.gyro),
        rotation=_series3(batch.rotation),
        beacon_id=() if beacons is None else beacons.beacon_id,
        beacon_rssi_dbm=np.zeros(0) if beacons is None else np.asarray(beacons.rssi_dbm),
    )


def checked_together(frames: Sequence[BinaryReadings]) -> list[SensorBatch | BadFrame]:
    """Each frame's ``SensorBatch`` if its numbers hold, else its ``BadFrame`` (same order)."""
    if not frames:
        return []
    try:
        return _checked_together(frames)
    except Exception:  # a bug here must not fail the tick's every frame: each on its own
        log.exception("checking %d binary frames together failed; one by one", len(frames))
        return [_checked_alone(frame) for frame in frames]


def _checked_alone(frame: BinaryReadings) -> SensorBatch | BadFrame:
    try:
        return sensor_batch(frame.checked())
    except BadFrame as refused:
        return refused


def _checked_together(frames: Sequence[BinaryReadings]) -> list[SensorBatch | BadFrame]:
    # One list of every frame's time columns and one of its float32 columns, in the order of
    # ``Layout``: a frame's values are its sensor values, then RSSI, then advertised powers.
    times: list[memoryview] = []
    floats: list[memoryview] = []
    segments: list[int] = []  # the length of each time column of the tick, in order
    ordered: list[bool] = []  # False: Wi-Fi's last_seen_ms (any order), True: a series' t_ms
    kinds: list[int] = []  # float32 runs: 0 sensor, 1 RSSI, 2 advertised power
    runs: list[int] = []
    time_ends: list[int] = []  # one past each frame's last time and last value
    value_ends: list[int] = []
    n_time = n_value = 0
    for frame in frames:
        layout = frame.layout
        lengths = layout.lengths
        times += layout.times
        segments += lengths
        ordered += [True] * len(lengths)
        if len(layout.times) > len(lengths):  # Wi-Fi's last_seen_ms, as long as its t_ms
            segments.append(lengths[-1])
            ordered.append(False)
        floats += layout.sensor
        floats += layout.levels
        n_levels = layout.count - layout.n_sensor // 3  # one RSSI a beacon or Wi-Fi sample
        kinds += (0, 1)
        runs += (layout.n_sensor, n_levels)
        n_value += layout.n_sensor + n_levels
        if layout.power is not None:
            floats.append(layout.power)
            kinds.append(2)
            runs.append(lengths[-1] if layout.wire.wifi is None else lengths[-2])
            n_value += runs[-1]
        n_time += layout.n_times
        time_ends.append(n_time)
        value_ends.append(n_value)
    # bytearrays: writable copies the frames cannot alter, as the one-frame path makes.
    all_times = np.frombuffer(bytearray().join(times), TIME_DTYPE)
    if not TIME_DTYPE.isnative:  # a big-endian server: the int64 in its own order
        all_times = all_times.astype(np.int64)
    values = np.frombuffer(bytearray().join(floats), VALUE_DTYPE).astype(np.float64)
    bad = set(_bad_times(all_times, segments, ordered, time_ends))
    bad.update(_bad_values(values, kinds, runs, value_ends))
    out: list[SensorBatch | BadFrame] = []
    t0 = v0 = 0
    for k, frame in enumerate(frames):
        out.append(frame.refusal() if k in bad else _sensor_batch(frame, all_times, values, t0, v0))
        t0, v0 = time_ends[k], value_ends[k]
    return out


def _bad_times(
    all_times: IntArray, segments: list[int], ordered: list[bool], ends: list[int]
) -> list[int]:
    """The frames with a time outside [0, 2^53] or a series' ``t_ms`` going back."""
    # A negative int64 read as uint64 is ≥ 2^63: one comparison checks both ends of [0, 2^53].
    bad = all_times.view(np.uint64) > MAX_MILLIS
    # t[j] < t[j-1] counts only inside one series' t_ms: not at a column's first sample (the
    # previous column, or frame, may end later) and never in last_seen_ms (any order).
    inside = np.repeat(np.asarray(ordered), segments)
    lengths = np.asarray(segments)
    inside[np.cumsum(lengths) - lengths] = False
    bad[1:] |= (all_times[1:] < all_times[:-1]) & inside[1:]
    return _frames_of(bad, ends)


def _bad_values(
    values: FloatArray, kinds: list[int], runs: list[int], ends: list[int]
) -> list[int]:
    """The frames with a sensor value not finite or beyond ``SENSOR_LIMIT``, an RSSI not finite
    or outside its bounds, or an advertised power outside them (NaN: none advertised, allowed)."""
    kind = np.repeat(np.asarray(kinds, dtype=np.int8), runs)
    in_bounds = (values >= RSSI_MIN_DBM) & (values <= RSSI_MAX_DBM)  # NaN fails both
    sensor = kind == 0
    ok = np.where(sensor, np.abs(values) <= SENSOR_LIMIT, in_bounds)
    ok |= (kind == 2) & np.isnan(values)
    return _frames_of(~ok, ends)


def _frames_of(bad: Mask, ends: list[int]) -> list[int]:
    """The frames (by ``ends``: one past each frame's last element) holding a True of ``bad``."""
    where = np.flatnonzero(bad)
    if not len(where):
        return []
    return np.unique(np.searchsorted(ends, where, side="right")).tolist()


def _sensor_batch(
    frame: BinaryReadings, all_times: IntArray, values: FloatArray, t0: int, v0: int
) -> SensorBatch:
    """A good frame's ``SensorBatch``, its columns views of the tick's arrays (``t0``, ``v0``:
    where the frame's times and values start), equal to ``sensor_batch`` of its batch."""
    layout = frame.layout
    series = dict.fromkeys(_TRACKED, EMPTY3)
    starts = accumulate(layout.lengths, initial=t0)
    for (name, _), start, n in zip(layout.vectors, starts, layout.lengths, strict=False):
        if name in series:
            # x, y, z are consecutive runs of n: (3, n) transposed is the (n, 3) ``xyz``.
            xyz = values[v0 : v0 + 3 * n].reshape(3, n).T
            series[name] = Series3(all_times[start : start + n], xyz)
        v0 += 3 * n
    accel, gyro, rotation = series["accel"], series["gyro"], series["rotation"]
    latest_ms = frame.time_span()[1]
    beacons = layout.wire.beacons
    if beacons is None:
        return SensorBatch(latest_ms, accel, gyro, rotation)
    n = layout.lengths[len(layout.vectors)]
    # The frame's RSSI run (right after its sensor values) starts with its beacons'.
    return SensorBatch(latest_ms, accel, gyro, rotation, beacons.beacon_id, values[v0 : v0 + n])
