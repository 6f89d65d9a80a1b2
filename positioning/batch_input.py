"""One shopper's batch of readings as arrays (``SensorBatch``), and many of them sensor by sensor.

A phone sends about a second of sensing at a time, one time-ordered series per sensor. The batched
tracker takes those series as numpy arrays, never as one object per reading: ``TickColumns`` holds
many shoppers' batches joined sensor by sensor (what ``BatchMotion.run`` and
``BeaconFixer.fix_columns`` take; ``BatchMotion`` works out the merged time order itself), made
either directly from a server tick's joined arrays or from ``SensorBatch``es (``TickColumns.of``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from positioning.batch_motion import MotionSamples, SensorSamples

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Series3:
    """A 3-axis sensor series: ``t_ms`` (n,) in time order and ``xyz`` (n, 3)."""

    t_ms: IntArray
    xyz: Array

    @classmethod
    def of(cls, t_ms: Sequence[int], x: Sequence[float], y: Sequence[float],
           z: Sequence[float]) -> Series3:  # fmt: skip
        return cls(np.asarray(t_ms, dtype=np.int64), np.array((x, y, z), dtype=float).T)


EMPTY3 = Series3(np.zeros(0, dtype=np.int64), np.zeros((0, 3)))


@dataclass(frozen=True)
class SensorBatch:
    """About a second of one phone's readings; ``latest_ms`` is its latest reading time."""

    latest_ms: int
    accel: Series3 = EMPTY3
    gyro: Series3 = EMPTY3
    rotation: Series3 = EMPTY3
    beacon_id: Sequence[str] = ()
    beacon_rssi_dbm: Array = field(default_factory=lambda: np.zeros(0))


def motion_samples(rows: IntArray, batches: Sequence[SensorBatch]) -> MotionSamples:
    """Each sensor's samples of every batch, concatenated row by row (no merge, no padding)."""
    return MotionSamples(
        np.asarray(rows, dtype=np.int64),
        _concatenated([b.accel for b in batches]),
        _concatenated([b.gyro for b in batches]),
        _concatenated([b.rotation for b in batches]),
    )


def _concatenated(series: Sequence[Series3]) -> SensorSamples:
    if not series:
        return SensorSamples(EMPTY3.t_ms, EMPTY3.t_ms, EMPTY3.xyz)
    lengths = np.fromiter((len(s.t_ms) for s in series), dtype=np.int64, count=len(series))
    row = np.repeat(np.arange(len(series)), lengths)
    t_ms = np.concatenate([s.t_ms for s in series])
    # BatchMotion reads the merged order off (row, time) keys: a series must not go backwards.
    _check_in_time_order(row, t_ms)
    return SensorSamples(row, t_ms, np.concatenate([s.xyz for s in series]))


@dataclass(frozen=True)
class TickColumns:
    """Several shoppers' batches as joined columns, batch k for the k-th row of a push.

    Each sensor's samples of every batch, batch by batch (``SensorSamples.row``: the batch's
    index, non-decreasing; each batch's series in time order), and every beacon reading with its
    batch (``beacon_row``, non-decreasing). What ``BatchTracker.push_columns`` takes: a server
    that already holds a tick's readings as joined arrays hands them over without an object per
    batch; ``of`` joins per-batch ``SensorBatch``es into the same columns.
    """

    latest_ms: IntArray  # (batches,) each batch's latest reading time
    accel: SensorSamples
    gyro: SensorSamples
    rotation: SensorSamples
    beacon_row: IntArray  # (readings,)
    beacon_id: Sequence[str]  # (readings,)
    beacon_rssi_dbm: Array  # (readings,)

    def __len__(self) -> int:
        return len(self.latest_ms)

    @classmethod
    def of(cls, batches: Sequence[SensorBatch]) -> TickColumns:
        """The batches' series joined sensor by sensor (``motion_samples``'s concatenation)."""
        n = len(batches)
        lengths = np.fromiter((len(b.beacon_id) for b in batches), np.int64, n)
        rssi = [np.asarray(b.beacon_rssi_dbm, dtype=float) for b in batches]
        return cls(
            np.fromiter((b.latest_ms for b in batches), np.int64, n),
            _concatenated([b.accel for b in batches]),
            _concatenated([b.gyro for b in batches]),
            _concatenated([b.rotation for b in batches]),
            np.repeat(np.arange(n), lengths),
            list(itertools.chain.from_iterable(b.beacon_id for b in batches)),
            np.concatenate(rssi) if n else np.zeros(0),
        )

    @classmethod
    def joined(cls, parts: Sequence[TickColumns]) -> TickColumns:
        """The parts' batches one after the other (one part: itself)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.of([])
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        return cls(
            np.concatenate([p.latest_ms for p in parts]),
            _joined_samples([p.accel for p in parts], offsets),
            _joined_samples([p.gyro for p in parts], offsets),
            _joined_samples([p.rotation for p in parts], offsets),
            np.concatenate([p.beacon_row + o for p, o in zip(parts, offsets, strict=True)]),
            list(itertools.chain.from_iterable(p.beacon_id for p in parts)),
            np.concatenate([p.beacon_rssi_dbm for p in parts]),
        )

    def take(self, batches: Sequence[int] | IntArray) -> TickColumns:
        """Only the given batches (increasing indices), renumbered from 0 in that order."""
        picked = np.asarray(batches, dtype=np.int64)
        if len(picked) > 1 and not (np.diff(picked) > 0).all():
            raise ValueError("batches to take must be increasing")
        new = np.full(len(self) + 1, -1, dtype=np.int64)  # old batch index → new, −1: dropped
        new[picked] = np.arange(len(picked))
        keep = new[self.beacon_row] >= 0
        return TickColumns(
            self.latest_ms[picked],
            _taken(self.accel, new),
            _taken(self.gyro, new),
            _taken(self.rotation, new),
            new[self.beacon_row[keep]],
            [self.beacon_id[i] for i in np.flatnonzero(keep).tolist()],
            self.beacon_rssi_dbm[keep],
        )

    def batch(self, k: int) -> SensorBatch:
        """Batch ``k`` on its own (copies: a test's view, not the tracker's path)."""
        beacons = np.flatnonzero(self.beacon_row == k)
        return SensorBatch(
            int(self.latest_ms[k]),
            _series_of(self.accel, k),
            _series_of(self.gyro, k),
            _series_of(self.rotation, k),
            [self.beacon_id[i] for i in beacons.tolist()],
            self.beacon_rssi_dbm[beacons],
        )

    def check_time_order(self) -> None:
        """``ValueError`` if a batch's series goes back in time (``BatchMotion`` reads the
        merged order off (row, time) keys)."""
        for samples in (self.accel, self.gyro, self.rotation):
            _check_in_time_order(samples.row, samples.t_ms)


def _joined_samples(parts: Sequence[SensorSamples], offsets: IntArray) -> SensorSamples:
    return SensorSamples(
        np.concatenate([p.row + o for p, o in zip(parts, offsets, strict=True)]),
        np.concatenate([p.t_ms for p in parts]),
        np.concatenate([p.xyz for p in parts]),
    )


def _taken(samples: SensorSamples, new: IntArray) -> SensorSamples:
    row = new[samples.row]
    keep = row >= 0
    return SensorSamples(row[keep], samples.t_ms[keep], samples.xyz[keep])


def _series_of(samples: SensorSamples, k: int) -> Series3:
    at = samples.row == k
    return Series3(samples.t_ms[at], samples.xyz[at])


def _check_in_time_order(row: IntArray, t_ms: IntArray) -> None:
    if ((np.diff(t_ms) < 0) & (row[1:] == row[:-1])).any():
        raise ValueError("a sensor series goes back in time (samples must be in time order)")
