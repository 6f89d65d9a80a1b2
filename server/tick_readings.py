"""A runner tick's binary readings frames checked together, and the tracker's arrays cut from them.

On the event loop a binary frame gets only its per-frame checks (``decode_binary_deferred``:
MessagePack, lengths, counts, in plain Python). Its numbers — times in [0, 2^53] and never going
back within a series, sensor values finite and within ``SENSOR_LIMIT``, RSSI and advertised power
within their bounds (a NaN power: none advertised) — are checked here, for every binary frame of
the tick at once: numpy costs ≈ 1-3 µs a call whatever the size of a 50-sample column, so a
constant number of calls over all the tick's columns replaces ≈ 15 calls a frame. The same joined
arrays then give the good frames' ``TickColumns`` — every good frame's accelerometer samples in one
array, and so on — by one gather per column kind (``checked_columns``): no array, view or object a
frame, and the batched tracker takes them as they are (``BatchTracker.push_columns``).

A frame that fails gets the reason ``decode_binary_readings`` gives it (``BinaryReadings.refusal``,
the column-by-column slow path, for the failed frames only); the tick's other frames are unaffected.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from positioning.batch_input import EMPTY3, SensorBatch, Series3, TickColumns
from positioning.batch_motion import SensorSamples
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


@dataclass
class CheckedFrames:
    """A tick's binary frames once checked: the good frames' batches as ``columns`` (in the
    frames' order) and, per frame, its batch's index in ``columns`` or the ``BadFrame`` that
    refused it."""

    columns: TickColumns
    outcome: list[int | BadFrame]


def checked_columns(frames: Sequence[BinaryReadings]) -> CheckedFrames:
    """The frames' numbers checked together; the good frames' readings as joined columns."""
    if not frames:
        return CheckedFrames(TickColumns.of([]), [])
    try:
        return _checked_columns(frames)
    except Exception:  # a bug here must not fail the tick's every frame: each on its own
        log.exception("checking %d binary frames together failed; one by one", len(frames))
        good: list[SensorBatch] = []
        outcome: list[int | BadFrame] = []
        for found in map(_checked_alone, frames):
            if isinstance(found, BadFrame):
                outcome.append(found)
            else:
                outcome.append(len(good))
                good.append(found)
        return CheckedFrames(TickColumns.of(good), outcome)


def checked_together(frames: Sequence[BinaryReadings]) -> list[SensorBatch | BadFrame]:
    """Each frame's ``SensorBatch`` if its numbers hold, else its ``BadFrame`` (same order):
    ``checked_columns`` cut back into one batch a frame (for tests and benchmarks)."""
    checked = checked_columns(frames)
    return [o if isinstance(o, BadFrame) else checked.columns.batch(o) for o in checked.outcome]


def _checked_alone(frame: BinaryReadings) -> SensorBatch | BadFrame:
    try:
        return sensor_batch(frame.checked())
    except BadFrame as refused:
        return refused


def _checked_columns(frames: Sequence[BinaryReadings]) -> CheckedFrames:
    parts: list[TickColumns] = []
    outcome: list[int | BadFrame] = []
    batches = 0
    for first in range(0, len(frames), CHUNK_FRAMES):
        columns, found = _checked_chunk(frames[first : first + CHUNK_FRAMES])
        outcome += [o if isinstance(o, BadFrame) else o + batches for o in found]
        batches += len(columns)
        parts.append(columns)
    return CheckedFrames(TickColumns.joined(parts), outcome)


def _checked_chunk(frames: Sequence[BinaryReadings]) -> tuple[TickColumns, list[int | BadFrame]]:
    """``checked_columns`` for a chunk: its columns joined kind by kind, each kind checked by one
    or two reductions; only when one fails are the frames that hold the bad values looked for."""
    times: list[bytes] = []  # every frame's times (Layout.times: t_ms, then last_seen_ms)
    sensor: list[bytes] = []  # then every frame's float32 columns, kind by kind
    levels: list[bytes] = []
    powers: list[bytes] = []
    segments: list[int] = []  # the length of each time column, in order
    ordered: list[bool] = []  # False: Wi-Fi's last_seen_ms (any order), True: a series' t_ms
    # One past each frame's last time, sensor value, RSSI and advertised power.
    time_ends, sensor_ends, level_ends, power_ends = [], [], [], []
    n_time = n_sensor = n_level = n_power = 0
    # Per frame, the samples of each vector series (in ``Layout.times``' order) and its beacons.
    accel: list[int] = []
    gyro: list[int] = []
    mag: list[int] = []
    rotation: list[int] = []
    beacons: list[int] = []
    for frame in frames:
        layout = frame.layout
        lengths = layout.lengths
        wire = layout.wire
        accel.append(0 if (v := wire.accel) is None else len(v.t_ms) >> 3)
        gyro.append(0 if (v := wire.gyro) is None else len(v.t_ms) >> 3)
        mag.append(0 if (v := wire.mag) is None else len(v.t_ms) >> 3)
        rotation.append(0 if (v := wire.rotation) is None else len(v.t_ms) >> 3)
        beacons.append(0 if (b := wire.beacons) is None else len(b.t_ms) >> 3)
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
            n_power += len(layout.power) // VALUE_DTYPE.itemsize
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
    outcome: list[int | BadFrame] = []
    good: list[int] = []
    for k, frame in enumerate(frames):
        if k in refused:
            outcome.append(frame.refusal())
        else:
            outcome.append(len(good))
            good.append(k)
    found = [frames[k] for k in good]
    # Where each frame's series start in the joined times and values: a frame's vectors come
    # first, in ``_VECTORS`` order (accel, gyro, mag, rotation), x, y and z runs of n each.
    counts = np.array([accel, gyro, mag, rotation, beacons], dtype=np.int64)
    if len(good) < len(frames):
        counts[:, sorted(refused)] = 0  # a refused frame's samples are left out
    n_accel, n_gyro, n_mag, n_rotation, n_beacons = counts
    accel_t = np.array([0, *time_ends[:-1]], dtype=np.int64)
    accel_s = np.array([0, *sensor_ends[:-1]], dtype=np.int64)
    gyro_t, gyro_s = accel_t + n_accel, accel_s + 3 * n_accel
    rotation_t, rotation_s = gyro_t + n_gyro + n_mag, gyro_s + 3 * (n_gyro + n_mag)
    # The frame's RSSI run starts with its beacons'.
    beacon_at = np.array([0, *level_ends[:-1]], dtype=np.int64) + n_sensor
    # Each frame's batch index (a refused frame's is never used: it has no samples left).
    batch_of = _batch_of(good, len(frames))
    columns = TickColumns(
        np.array([f.time_span()[1] for f in found], dtype=np.int64),
        _sensor_samples(all_times, values, batch_of, accel_t, accel_s, n_accel),
        _sensor_samples(all_times, values, batch_of, gyro_t, gyro_s, n_gyro),
        _sensor_samples(all_times, values, batch_of, rotation_t, rotation_s, n_rotation),
        np.repeat(batch_of, n_beacons),
        list(itertools.chain.from_iterable(
            b.beacon_id for f in found if (b := f.layout.wire.beacons) is not None)),
        values[_runs(beacon_at, n_beacons)],
    )  # fmt: skip
    return columns, outcome


def _batch_of(good: list[int], frames: int) -> IntArray:
    """Each frame's batch index: its place among the good frames (a refused frame: the
    previous good frame's, never used)."""
    if len(good) == frames:
        return np.arange(frames)
    is_good = np.zeros(frames, dtype=np.int64)
    is_good[good] = 1
    return np.cumsum(is_good) - 1


def _runs(starts: IntArray, lengths: IntArray) -> IntArray:
    """The indices of runs of ``lengths[i]`` elements from ``starts[i]``, one after the other:
    index = starts[i] + (position in the run), the position being the overall position minus
    the lengths of the runs before."""
    before = np.cumsum(lengths) - lengths
    return np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))


def _sensor_samples(
    all_times: IntArray, values: FloatArray, batch_of: IntArray, time_at: IntArray,
    value_at: IntArray, samples: IntArray,
) -> SensorSamples:  # fmt: skip
    """One sensor's samples of every frame: times gathered from ``all_times``; x, y, z from
    ``values``, where a frame's x, y and z are consecutive runs of its n samples (so a
    sample's y sits n after its x, its z 2n after). ``xyz`` is the transpose of the gathered
    (3, samples): one 1-D take, no (samples, 3) index array (a third of the cost)."""
    x_at = _runs(value_at, samples)
    run = np.repeat(samples, samples)
    at = np.empty((3, len(x_at)), dtype=np.int64)
    at[0] = x_at
    np.add(x_at, run, out=at[1])
    np.add(at[1], run, out=at[2])
    return SensorSamples(
        np.repeat(batch_of, samples), all_times.take(_runs(time_at, samples)), values.take(at).T
    )


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
