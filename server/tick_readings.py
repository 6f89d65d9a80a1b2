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

# Frames checked together at most: numpy's ≈ 1-3 µs a call spread over this many frames, and the
# joined columns (≈ 10 KB a frame, twice that once widened to float64) stay in the CPU's caches
# (measured: docs/server.md, "Session 6: a tick's binary frames checked together").
CHUNK_FRAMES = 64


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
    out: list[SensorBatch | BadFrame] = []
    for first in range(0, len(frames), CHUNK_FRAMES):
        out += _checked_chunk(frames[first : first + CHUNK_FRAMES])
    return out


def _checked_chunk(frames: Sequence[BinaryReadings]) -> list[SensorBatch | BadFrame]:
    """``checked_together`` for a chunk: its columns joined kind by kind, each kind checked by one
    or two reductions; only when one fails are the frames that hold the bad values looked for."""
    times: list[memoryview] = []  # every frame's times (Layout.times: t_ms, then last_seen_ms)
    sensor: list[memoryview] = []  # then every frame's float32 columns, kind by kind
    levels: list[memoryview] = []
    powers: list[memoryview] = []
    segments: list[int] = []  # the length of each time column, in order
    ordered: list[bool] = []  # False: Wi-Fi's last_seen_ms (any order), True: a series' t_ms
    # One past each frame's last time, sensor value, RSSI and advertised power.
    time_ends, sensor_ends, level_ends, power_ends = [], [], [], []
    n_time = n_sensor = n_level = n_power = 0
    for frame in frames:
        layout = frame.layout
        lengths = layout.lengths
        times += layout.times
        segments += lengths
        ordered += [True] * len(lengths)
        if len(layout.times) > len(lengths):  # Wi-Fi's last_seen_ms, as long as its t_ms
            segments.append(lengths[-1])
            ordered.append(False)
        sensor += layout.sensor
        levels += layout.levels
        n_time += layout.n_times
        n_sensor += layout.n_sensor
        n_level += layout.count - layout.n_sensor // 3  # one RSSI a beacon or Wi-Fi sample
        if layout.power is not None:
            powers.append(layout.power)
            n_power += layout.power.nbytes // VALUE_DTYPE.itemsize
        time_ends.append(n_time)
        sensor_ends.append(n_sensor)
        level_ends.append(n_level)
        power_ends.append(n_power)
    # bytearrays: writable copies the frames cannot alter, as the one-frame path makes.
    all_times = np.frombuffer(bytearray().join(times), TIME_DTYPE)
    if not TIME_DTYPE.isnative:  # a big-endian server: the int64 in its own order
        all_times = all_times.astype(np.int64)
    floats = np.frombuffer(bytearray().join(sensor + levels + powers), VALUE_DTYPE)
    values = floats.astype(np.float64)  # exactly: every float32 is a float64
    bad = _bad_times(all_times, segments, ordered, time_ends)
    sensor_values = values[:n_sensor]
    # |v| ≤ SENSOR_LIMIT for every sensor value (NaN fails the comparison)
    if n_sensor and not np.abs(sensor_values).max() <= SENSOR_LIMIT:
        bad += _frames_of(~(np.abs(sensor_values) <= SENSOR_LIMIT), sensor_ends)
    rssi = values[n_sensor : n_sensor + n_level]
    if n_level and not (rssi.min() >= RSSI_MIN_DBM and rssi.max() <= RSSI_MAX_DBM):
        bad += _frames_of(~((rssi >= RSSI_MIN_DBM) & (rssi <= RSSI_MAX_DBM)), level_ends)
    power = values[n_sensor + n_level :]
    # fmin/fmax skip NaN (none advertised) and keep ±inf, which fail.
    if n_power and (np.fmin.reduce(power) < RSSI_MIN_DBM or np.fmax.reduce(power) > RSSI_MAX_DBM):
        bad += _frames_of((power < RSSI_MIN_DBM) | (power > RSSI_MAX_DBM), power_ends)
    refused = set(bad)
    out: list[SensorBatch | BadFrame] = []
    t0 = s0 = l0 = 0
    for k, frame in enumerate(frames):
        if k in refused:
            out.append(frame.refusal())
        else:
            out.append(_sensor_batch(frame, all_times, values, t0, s0, n_sensor + l0))
        t0, s0, l0 = time_ends[k], sensor_ends[k], level_ends[k]
    return out


def _bad_times(
    all_times: IntArray, segments: list[int], ordered: list[bool], ends: list[int]
) -> list[int]:
    """The frames with a time outside [0, 2^53] or a series' ``t_ms`` going back."""
    # A negative int64 read as uint64 is ≥ 2^63: one maximum checks both ends of [0, 2^53].
    as_unsigned = all_times.view(np.uint64)
    bad = [] if as_unsigned.max() <= MAX_MILLIS else _frames_of(as_unsigned > MAX_MILLIS, ends)
    # Where the times go back (j: t[j] < t[j-1]): allowed at a column's first sample (the
    # previous column, or frame, may end later) and anywhere in last_seen_ms (any order). A
    # frame's columns go back a few times (a sensor's series starts before the previous ends).
    backs = np.flatnonzero(all_times[1:] < all_times[:-1]) + 1
    if len(backs):
        lengths = np.asarray(segments)
        seg_ends = np.cumsum(lengths)
        column = np.searchsorted(seg_ends, backs, side="right")
        wrong = (backs != seg_ends[column] - lengths[column]) & np.asarray(ordered)[column]
        if wrong.any():
            bad += _frames_at(backs[wrong], ends)
    return bad


def _frames_of(bad: Mask, ends: list[int]) -> list[int]:
    """The frames (by ``ends``: one past each frame's last element) holding a True of ``bad``."""
    return _frames_at(np.flatnonzero(bad), ends)


def _frames_at(where: IntArray, ends: list[int]) -> list[int]:
    """The frames holding the elements at ``where`` (``ends`` as in ``_frames_of``)."""
    return np.unique(np.searchsorted(ends, where, side="right")).tolist()


def _sensor_batch(
    frame: BinaryReadings, all_times: IntArray, values: FloatArray, t0: int, s0: int, l0: int
) -> SensorBatch:
    """A good frame's ``SensorBatch``, its columns views of the chunk's arrays (``t0``, ``s0``,
    ``l0``: where the frame's times, sensor values and RSSI start), equal to ``sensor_batch``
    of its batch."""
    layout = frame.layout
    found = {}
    for (name, _), n in zip(layout.vectors, layout.lengths, strict=False):  # vectors come first
        if name != "mag":  # (the tracker reads no magnetometer)
            # x, y, z are consecutive runs of n: (3, n) transposed is the (n, 3) ``xyz``.
            found[name] = Series3(all_times[t0 : t0 + n], values[s0 : s0 + 3 * n].reshape(3, n).T)
        t0 += n
        s0 += 3 * n
    accel, gyro = found.get("accel", EMPTY3), found.get("gyro", EMPTY3)
    rotation = found.get("rotation", EMPTY3)
    latest_ms = frame.time_span()[1]
    beacons = layout.wire.beacons
    if beacons is None:
        return SensorBatch(latest_ms, accel, gyro, rotation)
    n = layout.lengths[len(layout.vectors)]
    # The frame's RSSI run starts with its beacons'.
    return SensorBatch(latest_ms, accel, gyro, rotation, beacons.beacon_id, values[l0 : l0 + n])
