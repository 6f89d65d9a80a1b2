"""A phone's BLE and Wi-Fi scanners: which packets it hears and what it reports, window by window.

BLE: each beacon advertises every 100 ms + advDelay. An Android phone (``"android"`` mode)
reports each packet it decodes as a row, at the packet's time; it decodes a packet with the
scanner's receive ratio (scan duty cycle and the three advertising channels) times the
sensitivity edge. iOS (``"ios"`` mode) ranging reports once a second per beacon heard, with the
mean RSSI of that second's packets (CLBeacon.rssi is such an average).

Wi-Fi: a scan every few seconds (Android throttles app-triggered scans; the recordings' Android
8.1 phones show one every ~2 s, Android 9+ allows 4 per 2 minutes in the foreground). Every
scan reports the cached list: each access point with the RSSI and time it was last actually
measured, up to ``WIFI_CACHE_MS`` old (the recordings' last_seen column lags the row's time
by up to ~30 s for the same reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from positioning.walkfile import BEACON, WIFI, WalkRow
from simulator.radio import (
    ADV_DELAY_MAX_MS,
    ADVERTISING_INTERVAL_MS,
    BLE_FADING_DB,
    WIFI_FADING_DB,
    WIFI_SENSITIVITY_DBM,
    RadioEnvironment,
    altbeacon_distance_m,
    detection_probability,
)
from simulator.store import Store
from simulator.walking import Trajectory

BLE_MODES = ("android", "ios")
# Share of advertising packets an Android scan decodes in SCAN_MODE_LOW_LATENCY: the radio
# listens on one of three channels at a time, so about a third of packets get through.
ANDROID_RECEIVE_RATIO = 0.3
# iOS ranging listens continuously in the foreground.
IOS_RECEIVE_RATIO = 0.6
# Default gap between Wi-Fi scans and its jitter: the recordings' Android 8.1 phones scan every
# ~2 s (median 1.9–2.3 s per floor). For Android 9+ foreground throttling (4 scans per 2 min)
# set the interval to 30 s.
WIFI_SCAN_INTERVAL_MS, WIFI_SCAN_JITTER_MS = 2000, 300
# A scan sweeps the channels over ~1.5 s, so measurements predate the result.
WIFI_SWEEP_MS = 1500
# An AP missed by a scan stays in the list with its old reading for this long.
WIFI_CACHE_MS = 30_000
# Radio conditions drift between visits (other shoppers, doors, APs adapting their transmit
# power): each visit sees every radio offset by a constant drawn once, σ per radio type.
BEACON_VISIT_DRIFT_DB = 1.5
AP_VISIT_DRIFT_DB = 3.0
# Chance a scan misses an AP that is above sensitivity (a channel dwell at the wrong moment).
WIFI_MISS_P = 0.1


@dataclass(frozen=True)
class ScannerSettings:
    ble_mode: str = "android"
    ble_receive_ratio: float | None = None  # None: the mode's default
    wifi: bool = True
    wifi_scan_interval_ms: int = WIFI_SCAN_INTERVAL_MS

    def receive_ratio(self) -> float:
        if self.ble_receive_ratio is not None:
            return self.ble_receive_ratio
        return ANDROID_RECEIVE_RATIO if self.ble_mode == "android" else IOS_RECEIVE_RATIO


class BleScanner:
    """Stateful BLE reception of one phone (next advertising time of every beacon)."""

    def __init__(
        self,
        store: Store,
        environment: RadioEnvironment,
        settings: ScannerSettings,
        rssi_offset_db: float,
        start_ms: int,
        rng: np.random.Generator,
    ):
        if settings.ble_mode not in BLE_MODES:
            raise ValueError(f"ble_mode must be one of {BLE_MODES}, got {settings.ble_mode!r}")
        self.beacons, self.env, self.settings = store.beacons, environment, settings
        self.offset_db, self.rng = rssi_offset_db, rng
        # Beacons are not synchronised: each starts at a random point of its interval.
        self.next_adv_ms = start_ms + rng.uniform(0, ADVERTISING_INTERVAL_MS, len(self.beacons))
        self.drift_db = rng.normal(0.0, BEACON_VISIT_DRIFT_DB, len(self.beacons))

    def _packets(self, t1_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(beacon index, time) of every advertising event before ``t1_ms``."""
        which, when = [], []
        while len(self.beacons):
            due = self.next_adv_ms < t1_ms
            if not due.any():
                break
            which.append(np.flatnonzero(due))
            when.append(self.next_adv_ms[due])
            self.next_adv_ms[due] += ADVERTISING_INTERVAL_MS + self.rng.uniform(
                0, ADV_DELAY_MAX_MS, int(due.sum())
            )
        if not which:
            return np.zeros(0, dtype=int), np.zeros(0)
        return np.concatenate(which), np.concatenate(when)

    def sense(self, window: Trajectory, t1_ms: int) -> list[WalkRow]:
        """Rows for the packets advertised before ``t1_ms`` (the end of ``window``)."""
        beacon, when = self._packets(t1_ms)
        if beacon.size == 0:
            return []
        x, y, heading = window.pose_at(when)
        rssi = (
            self.env.beacon_mean_rssi(beacon, x, y, heading)
            + self.offset_db
            + self.drift_db[beacon]
        )
        rssi = rssi + BLE_FADING_DB * self.rng.standard_normal(beacon.size)
        heard = self.rng.random(
            beacon.size
        ) < self.settings.receive_ratio() * detection_probability(rssi)
        beacon, when, rssi = (
            beacon[heard],
            np.floor(when[heard]).astype(np.int64),
            np.round(rssi[heard]),
        )
        if self.settings.ble_mode == "ios":
            return self._ranged(beacon, rssi, t1_ms)
        order = np.argsort(when, kind="stable")
        return [self._row(int(when[i]), int(beacon[i]), float(rssi[i])) for i in order]

    def _ranged(self, beacon: np.ndarray, rssi: np.ndarray, t1_ms: int) -> list[WalkRow]:
        """iOS ranging: one row per beacon heard in the window, mean RSSI, at the window's end.
        The phone senses in one-second windows, which is iOS's ranging period."""
        rows = []
        for b in np.unique(beacon):
            rows.append(self._row(t1_ms - 1, int(b), float(np.round(rssi[beacon == b].mean()))))
        return rows

    def _row(self, t_ms: int, index: int, rssi: float) -> WalkRow:
        b = self.beacons[index]
        distance = float(altbeacon_distance_m(np.array(rssi), np.array(b.tx_power_dbm)))
        return WalkRow(
            t_ms,
            BEACON,
            (b.uuid, b.major, b.minor, int(b.tx_power_dbm), int(rssi), distance, b.mac, t_ms),
        )


class WifiScanner:
    """Stateful Wi-Fi scanning of one phone (next scan time and the cached results)."""

    def __init__(
        self,
        store: Store,
        environment: RadioEnvironment,
        settings: ScannerSettings,
        rssi_offset_db: float,
        start_ms: int,
        rng: np.random.Generator,
    ):
        self.aps, self.env, self.settings = store.wifi, environment, settings
        self.offset_db, self.rng = rssi_offset_db, rng
        self.next_scan_ms = start_ms + int(rng.integers(0, settings.wifi_scan_interval_ms))
        self.last_rssi = np.full(len(self.aps), np.nan)
        self.last_seen_ms = np.zeros(len(self.aps), dtype=np.int64)
        self.drift_db = rng.normal(0.0, AP_VISIT_DRIFT_DB, len(self.aps))

    def sense(self, window: Trajectory, t1_ms: int) -> list[WalkRow]:
        rows: list[WalkRow] = []
        while self.settings.wifi and len(self.aps) and self.next_scan_ms < t1_ms:
            rows += self._scan(self.next_scan_ms, window)
            jitter = int(self.rng.integers(-WIFI_SCAN_JITTER_MS, WIFI_SCAN_JITTER_MS + 1))
            self.next_scan_ms += self.settings.wifi_scan_interval_ms + jitter
        return rows

    def _scan(self, t_ms: int, window: Trajectory) -> list[WalkRow]:
        # Poses before the window clamp to its first sample: the sweep is shorter than a window.
        n = len(self.aps)
        measured_ms = t_ms - self.rng.integers(0, WIFI_SWEEP_MS, n)
        x, y, heading = window.pose_at(measured_ms)
        rssi = self.env.ap_mean_rssi(np.arange(n), x, y, heading) + self.offset_db + self.drift_db
        rssi = np.round(rssi + WIFI_FADING_DB * self.rng.standard_normal(n))
        seen = (rssi > WIFI_SENSITIVITY_DBM) & (self.rng.random(n) > WIFI_MISS_P)
        self.last_rssi[seen] = rssi[seen]
        self.last_seen_ms[seen] = measured_ms[seen]
        listed = np.flatnonzero(
            ~np.isnan(self.last_rssi) & (t_ms - self.last_seen_ms <= WIFI_CACHE_MS)
        )
        # Android lists results strongest first.
        listed = listed[np.argsort(-self.last_rssi[listed], kind="stable")]
        return [
            WalkRow(
                t_ms,
                WIFI,
                (
                    self.aps[i].ssid,
                    self.aps[i].bssid,
                    int(self.last_rssi[i]),
                    self.aps[i].frequency_mhz,
                    int(self.last_seen_ms[i]),
                ),
            )
            for i in listed
        ]
