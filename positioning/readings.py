"""What a phone reports: motion sensor samples and radio observations, each stamped in Unix ms.

Phone frame and units are Android's (``SensorEvent.values``). Every reading is a frozen
dataclass with ``t_ms`` first, so a stream of them can be ordered, stored and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccelReading:
    """Accelerometer, m/s², gravity included (``TYPE_ACCELEROMETER``)."""

    t_ms: int
    x: float
    y: float
    z: float


@dataclass(frozen=True, slots=True)
class GyroReading:
    """Gyroscope, rad/s about the phone axes (``TYPE_GYROSCOPE``)."""

    t_ms: int
    x: float
    y: float
    z: float


@dataclass(frozen=True, slots=True)
class MagReading:
    """Magnetometer, µT (``TYPE_MAGNETIC_FIELD``)."""

    t_ms: int
    x: float
    y: float
    z: float


@dataclass(frozen=True, slots=True)
class RotationVectorReading:
    """``TYPE_ROTATION_VECTOR`` values[0..2]: the vector part of the phone→world unit quaternion.

    World frame is Android's East-North-Up; the scalar part is ``sqrt(1 − x² − y² − z²)``.
    """

    t_ms: int
    x: float
    y: float
    z: float


@dataclass(frozen=True, slots=True)
class BeaconReading:
    """One BLE advertisement heard; ``beacon_id`` is ``uuid_major_minor_mac`` for iBeacons."""

    t_ms: int
    beacon_id: str
    rssi_dbm: float
    tx_power_dbm: float | None = None


@dataclass(frozen=True, slots=True)
class WifiReading:
    """One access point in a Wi-Fi scan delivered at ``t_ms``.

    ``last_seen_ms`` is when the phone last actually heard it: scan results are cached, so an entry
    can be many seconds older than the scan that reports it.
    """

    t_ms: int
    bssid: str
    rssi_dbm: float
    last_seen_ms: int
    ssid: str = ""
    frequency_mhz: int = 0


MotionReading = AccelReading | GyroReading | MagReading | RotationVectorReading
RadioReading = BeaconReading | WifiReading
Reading = MotionReading | RadioReading


def beacon_id_of(uuid: str, major: str | int, minor: str | int, mac: str) -> str:
    """The identity of an iBeacon in the recordings: major/minor repeat across devices, so add MAC.

    >>> beacon_id_of("fda50693-a4e2", 10073, 61418, "AA:BB")
    'FDA50693-A4E2_10073_61418_AA:BB'
    """
    return f"{uuid.upper()}_{major}_{minor}_{mac}"
