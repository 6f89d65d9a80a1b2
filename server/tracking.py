"""``PipelineWiring.tracker_for`` on ``positioning.tracker.Tracker``: batches in, estimates out.

The app sends about a second of sensing as one column series per sensor (``ReadingsBatch``).
``ReadingsTracker`` turns the columns into positioning's reading dataclasses, merges the sensors in
``t_ms`` order — stable, so within a sensor the app's order is kept and at equal times the sensors
come in the order accel, gyro, mag, rotation, beacons, wifi — and pushes them one by one into the
shopper's own ``Tracker``.

Each store's tracker inputs — its beacons (``BeaconMap``) and its floor as a walkable raster
(``WalkableGrid``) — are built once and shared by its shoppers' trackers, rebuilt when the beacons
or the floor change (read from the database at most every ``RADIO_CHECK_MS``, not per connect).
The walkable area is the floor's rectangle minus the floor's obstacle zones (kind ``obstacle``:
shelf units, walls); editing one rebuilds the raster. A store without beacons gets no tracker:
the app is told ``positioning: not_wired`` and sends fixes.
"""

from __future__ import annotations

import heapq
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from positioning import (
    AccelReading,
    BeaconMap,
    BeaconReading,
    Estimate,
    FloorPlan,
    GyroReading,
    MagReading,
    Reading,
    RotationVectorReading,
    Tracker,
    TrackerSettings,
    WalkableGrid,
    WifiReading,
)
from positioning.beacons import DEFAULT_TX_POWER_DBM
from server.clock import now_ms
from server.database import Database
from server.realtime.frames import BeaconSeries, ReadingsBatch, VectorSeries, WifiSeries
from server.store_zones import ZONE_CHECK_MS, floor_obstacle_documents, obstacles_of
from server.tables import Beacon, Floor

# Staff edits of beacons, floors and obstacle zones (over REST, in this process or another) reach
# new trackers within this long: the same staleness as zone edits reaching the zone detector.
RADIO_CHECK_MS = ZONE_CHECK_MS


def store_beacons(session: Session, store_id: int) -> dict[str, tuple[float, float, float | None]]:
    """``{beacon_id: (x, y, tx_power_dbm)}``, the shape ``positioning.beacons.BeaconMap`` takes."""
    beacons = session.scalars(select(Beacon).where(Beacon.store_id == store_id))
    return {b.id: (b.x, b.y, b.tx_power_dbm) for b in beacons}


def store_floors(session: Session, store_id: int) -> list[tuple[int, str, float, float]]:
    """``(floor_id, name, width_m, height_m)`` of each floor."""
    floors = session.scalars(select(Floor).where(Floor.store_id == store_id).order_by(Floor.id))
    return [(f.id, f.name, f.width_m, f.height_m) for f in floors]


_VECTOR_READINGS: dict[
    str, type[AccelReading | GyroReading | MagReading | RotationVectorReading]
] = {
    "accel": AccelReading,
    "gyro": GyroReading,
    "mag": MagReading,
    "rotation": RotationVectorReading,
}


def _vector_readings(name: str, series: VectorSeries) -> list[Reading]:
    kind = _VECTOR_READINGS[name]
    return [kind(*sample) for sample in zip(series.t_ms, series.x, series.y, series.z, strict=True)]


def _beacon_readings(series: BeaconSeries) -> list[Reading]:
    powers = series.tx_power_dbm or [None] * len(series.t_ms)
    return [
        BeaconReading(t, beacon_id, rssi, None if power is None else float(power))
        for t, beacon_id, rssi, power in zip(
            series.t_ms, series.beacon_id, series.rssi_dbm, powers, strict=True
        )
    ]


def _wifi_readings(series: WifiSeries) -> list[Reading]:
    return [
        WifiReading(*sample)
        for sample in zip(
            series.t_ms, series.bssid, series.rssi_dbm, series.last_seen_ms, strict=True
        )
    ]


def batch_readings(batch: ReadingsBatch) -> Iterator[Reading]:
    """The batch's readings merged in ``t_ms`` order (stable across and within sensors)."""
    streams: list[list[Reading]] = []
    for name, series in batch.series().items():
        if isinstance(series, VectorSeries):
            streams.append(_vector_readings(name, series))
        elif isinstance(series, BeaconSeries):
            streams.append(_beacon_readings(series))
        else:
            streams.append(_wifi_readings(series))
    # Each series is in time order (validated in frames.py); heapq.merge keeps ties in the
    # order of the streams, and within a stream, so the merge is stable.
    return heapq.merge(*streams, key=lambda reading: reading.t_ms)


class ReadingsTracker:
    """The pipeline's ``PositionSource`` for one shopper."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        estimates: list[Estimate] = []
        for reading in batch_readings(batch):
            estimates += self.tracker.push(reading)
        return estimates


@dataclass(frozen=True)
class StoreRadio:
    """What every tracker of a store shares (read-only for the trackers)."""

    key: tuple[object, ...]
    beacon_map: BeaconMap
    grid: WalkableGrid


def _store_radio(
    database: Database, store_id: int
) -> tuple[
    tuple[object, ...],
    dict[str, tuple[float, float, float | None]],
    list[tuple[int, str, float, float]],
]:
    with database.session() as session:
        beacons = store_beacons(session, store_id)
        floors = store_floors(session, store_id)
    key = (tuple(sorted(beacons.items())), tuple(floors[:1]))
    return key, beacons, floors


class StoreTrackers:
    """``tracker_for``: one ``Tracker`` per connected shopper on the store's shared inputs."""

    def __init__(
        self,
        database: Database,
        settings: TrackerSettings | None = None,
        clock: Callable[[], int] = now_ms,
        check_ms: int = RADIO_CHECK_MS,
    ) -> None:
        self.database = database
        self.settings = settings or TrackerSettings()
        self.clock = clock
        self.check_ms = check_ms
        self._radios: dict[int, StoreRadio] = {}
        self._checked: dict[int, tuple[int, StoreRadio | None]] = {}  # store → (read at, radio)
        self._lock = threading.Lock()

    def radio(self, store_id: int) -> StoreRadio | None:
        """The store's beacons and floor raster (None without beacons or a floor), read from the
        database at most every ``check_ms`` (a connect storm reads it once, not per phone)."""
        now = self.clock()
        with self._lock:
            checked = self._checked.get(store_id)
        if checked is not None and now - checked[0] < self.check_ms:
            return checked[1]
        radio = self._read_radio(store_id)
        with self._lock:
            self._checked[store_id] = (now, radio)
        return radio

    def _read_radio(self, store_id: int) -> StoreRadio | None:
        """The store's radio as the database has it now; the built one is kept while its beacons,
        floor and obstacles are unchanged."""
        key, beacons, floors = _store_radio(self.database, store_id)
        if not beacons or not floors:
            return None
        obstacles_signature, obstacle_documents = floor_obstacle_documents(
            self.database, store_id, floors[0][0]
        )
        key = (*key, obstacles_signature)
        with self._lock:
            radio = self._radios.get(store_id)
            if radio is not None and radio.key == key:
                return radio
        # Trackers work on the store's first floor (as the pipeline's positions do).
        _floor_id, name, width_m, height_m = floors[0]
        beacon_map = BeaconMap(
            {
                beacon_id: (x, y, DEFAULT_TX_POWER_DBM if tx_power is None else tx_power)
                for beacon_id, (x, y, tx_power) in beacons.items()
            }
        )
        obstacles = obstacles_of(store_id, obstacle_documents)
        grid = WalkableGrid.from_plan(FloorPlan.rectangle(name, width_m, height_m, obstacles))
        radio = StoreRadio(key, beacon_map, grid)
        with self._lock:
            self._radios[store_id] = radio
        return radio

    def __call__(self, store_id: int, customer_id: str) -> ReadingsTracker | None:
        radio = self.radio(store_id)
        if radio is None:
            return None
        # Seeded per shopper: a replay of the same readings gives the same estimates.
        seed = zlib.crc32(customer_id.encode("utf-8"))
        settings = replace(self.settings, seed=seed)
        return ReadingsTracker(Tracker(None, radio.grid, radio.beacon_map, settings))
