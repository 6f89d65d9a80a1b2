"""A simulated phone: its model's quirks, its sensors and radios, sensing one window at a time.

``SimulatedPhone.sense(window, t1_ms)`` turns the true motion of one interval into the rows a
real phone would produce in it, keeping its state (biases, scanner timing, caches) between
calls. The file writer feeds it consecutive one-second windows; a live driver can feed the
same windows in (accelerated) real time and stream the rows as they come.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from positioning.walkfile import WAYPOINT, WalkRow
from simulator.motion_sensors import ImuErrors, MotionSensors, make_imu_errors
from simulator.radio import RadioEnvironment
from simulator.scanners import BleScanner, ScannerSettings, WifiScanner
from simulator.store import Store
from simulator.walking import Trajectory

# One sensing step: long enough to vectorise, short enough for a live stream to feel live.
WINDOW_MS = 1000
# Ground-truth waypoints: the recordings' surveyors clicked one every ~5 s; we write one
# every 3 s (and at the start and the end).
WAYPOINT_INTERVAL_MS = 3000
# Phone models and how their radios read: chipsets and antennas differ by several dB for the
# same signal (device heterogeneity in fingerprinting studies: offsets of ±5–10 dB).
PHONE_MODELS = (
    ("Google", "Pixel 6"),
    ("Samsung", "SM-G991B"),
    ("Xiaomi", "M2101K6G"),
    ("OPPO", "PBCM10"),
    ("HUAWEI", "ELS-NX9"),
)
RSSI_OFFSET_SPREAD_DB = 3.0


@dataclass(frozen=True)
class PhoneProfile:
    """One handset: make, model and its fixed radio and sensor offsets."""

    brand: str
    model: str
    ble_offset_db: float
    wifi_offset_db: float
    imu: ImuErrors


def make_phone_profile(rng: np.random.Generator) -> PhoneProfile:
    brand, model = PHONE_MODELS[int(rng.integers(len(PHONE_MODELS)))]
    return PhoneProfile(
        brand,
        model,
        float(rng.normal(0.0, RSSI_OFFSET_SPREAD_DB)),
        float(rng.normal(0.0, RSSI_OFFSET_SPREAD_DB)),
        make_imu_errors(rng),
    )


class SimulatedPhone:
    """Motion sensors + BLE + Wi-Fi of one phone carried through one visit."""

    def __init__(
        self,
        profile: PhoneProfile,
        store: Store,
        environment: RadioEnvironment,
        settings: ScannerSettings,
        start_ms: int,
        rng: np.random.Generator,
    ):
        self.profile = profile
        self.motion = MotionSensors(profile.imu, environment.magnetic_anomaly, rng)
        self.ble = BleScanner(store, environment, settings, profile.ble_offset_db, start_ms, rng)
        self.wifi = WifiScanner(store, environment, settings, profile.wifi_offset_db, start_ms, rng)

    def sense(self, window: Trajectory, t1_ms: int) -> list[WalkRow]:
        """Every row the phone produces in the interval ending at ``t1_ms``, in time order."""
        rows = (
            self.motion.sense(window)
            + self.ble.sense(window, t1_ms)
            + self.wifi.sense(window, t1_ms)
        )
        rows.sort(key=lambda row: row.t_ms)  # stable: same-time rows keep sensor order
        return rows


def waypoint_rows(
    trajectory: Trajectory, t0_ms: int, t1_ms: int, interval_ms: int
) -> list[WalkRow]:
    """Ground-truth rows on the ``interval_ms`` grid from the start, within ``[t0, t1)``."""
    start = trajectory.start_ms
    first = start + -(-(t0_ms - start) // interval_ms) * interval_ms
    times = list(range(first, t1_ms, interval_ms))
    if t0_ms <= trajectory.end_ms < t1_ms and trajectory.end_ms not in times:
        times.append(trajectory.end_ms)
    x, y, _ = trajectory.pose_at(np.array(times, dtype=float))
    return [
        WalkRow(t, WAYPOINT, (float(px), float(py))) for t, px, py in zip(times, x, y, strict=True)
    ]


def walk_windows(
    trajectory: Trajectory, phone: SimulatedPhone, waypoint_interval_ms: int = WAYPOINT_INTERVAL_MS
) -> Iterator[tuple[int, list[WalkRow]]]:
    """``(t1_ms, rows)`` per window: what a phone has to send once the clock passes ``t1_ms``.

    A live driver sleeps until ``t1_ms`` (scaled by its speed-up) and streams the rows.
    """
    t0 = trajectory.start_ms
    while t0 <= trajectory.end_ms:
        t1 = t0 + WINDOW_MS
        window = trajectory.window(t0, t1)
        rows = phone.sense(window, t1) + waypoint_rows(trajectory, t0, t1, waypoint_interval_ms)
        rows.sort(key=lambda row: row.t_ms)
        yield t1, rows
        t0 = t1


def walk_rows(
    trajectory: Trajectory, phone: SimulatedPhone, waypoint_interval_ms: int = WAYPOINT_INTERVAL_MS
) -> Iterator[WalkRow]:
    """The whole walk in time order, with ground-truth waypoints merged in."""
    for _, rows in walk_windows(trajectory, phone, waypoint_interval_ms):
        yield from rows
