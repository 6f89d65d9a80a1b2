"""Read and write recorded walks in the format of ``../shared/data/ilc`` (tab-separated text).

A row is ``unix_ms  TYPE  values...``; header rows start with ``#``. Readings keep the file's
order (arrival order: Wi-Fi and beacon rows carry the system clock and can step back in time
against sensor rows). Ground-truth ``TYPE_WAYPOINT`` rows go to ``Walk.waypoints`` only — for
scoring, never for a tracker. Rows that cannot be used are skipped and counted by reason, so a
caller can see what was lost; a file with nothing usable raises ``WalkFormatError``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    MagReading,
    Reading,
    RotationVectorReading,
    WifiReading,
    beacon_id_of,
)

_MOTION_TYPES: dict[str, type[AccelReading | GyroReading | MagReading | RotationVectorReading]] = {
    "TYPE_ACCELEROMETER": AccelReading,
    "TYPE_GYROSCOPE": GyroReading,
    "TYPE_MAGNETIC_FIELD": MagReading,
    "TYPE_ROTATION_VECTOR": RotationVectorReading,
}
_TYPE_OF_MOTION = {cls: name for name, cls in _MOTION_TYPES.items()}
# Rows the recordings hold that a tracker does not use: uncalibrated duplicates of the sensors
# above, anonymous BLE adverts without identity (TYPE_BLUE/BLU4), app-internal rows.
_KNOWN_UNUSED = frozenset(
    {
        "TYPE_ACCELEROMETER_UNCALIBRATED",
        "TYPE_GYROSCOPE_UNCALIBRATED",
        "TYPE_MAGNETIC_FIELD_UNCALIBRATED",
        "TYPE_BLUE",
        "TYPE_BLU4",
        "TYPE_DIST1",
        "TYPE_DIST2",
        "TYPE_SENSOR_MAGNETIC_FIELD_ACCURACY_CHANGED",
    }
)


class WalkFormatError(ValueError):
    """A walk file that holds nothing usable, or a walk that cannot be written, with the reason."""


@dataclass(frozen=True, slots=True)
class Waypoint:
    """Ground truth: the surveyor stood at (x, y) metres at ``t_ms``."""

    t_ms: int
    x: float
    y: float


@dataclass(frozen=True)
class Walk:
    """One recorded walk: readings in arrival order, and the waypoints kept apart for scoring."""

    name: str
    readings: tuple[Reading, ...]
    waypoints: tuple[Waypoint, ...] = ()
    header: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def start_ms(self) -> int | None:
        """The header's ``startTime``, else the first reading's time."""
        if "startTime" in self.header:
            try:
                return int(self.header["startTime"])
            except ValueError:
                pass
        return min((r.t_ms for r in self.readings), default=None)


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def parse_row(fields: list[str]) -> Reading | Waypoint | str:
    """One data row → a reading or a waypoint, or the reason it is skipped."""
    if len(fields) < 2:
        return "too few fields"
    try:
        t_ms = int(fields[0])
    except ValueError:
        return "bad timestamp"
    kind = fields[1]
    try:
        motion = _MOTION_TYPES.get(kind)
        if motion is not None:
            x, y, z = float(fields[2]), float(fields[3]), float(fields[4])
            return motion(t_ms, x, y, z) if _finite(x, y, z) else "non-finite value"
        if kind == "TYPE_WIFI":
            rssi = float(fields[4])
            if not _finite(rssi):
                return "non-finite value"
            freq = int(float(fields[5])) if fields[5] else 0
            return WifiReading(t_ms, fields[3], rssi, int(fields[6]), fields[2], freq)
        if kind == "TYPE_BEACON":
            uuid, major, minor, mac = fields[2], fields[3], fields[4], fields[8]
            tx = float(fields[5]) if fields[5] else math.nan
            rssi = float(fields[6])
            if not _finite(rssi):
                return "non-finite value"
            # A written beacon without iBeacon identity keeps its id whole in the uuid field.
            bid = uuid if not (major or minor or mac) else beacon_id_of(uuid, major, minor, mac)
            return BeaconReading(t_ms, bid, rssi, tx if _finite(tx) else None)
        if kind == "TYPE_WAYPOINT":
            wx, wy = float(fields[2]), float(fields[3])
            return Waypoint(t_ms, wx, wy) if _finite(wx, wy) else "non-finite value"
    except (IndexError, ValueError):
        return f"malformed {kind}"
    return "unused type" if kind in _KNOWN_UNUSED else "unknown type"


def read_walk(path: Path | str) -> Walk:
    """Read one walk file; unusable rows are skipped and counted in ``Walk.skipped``.

    Raises ``WalkFormatError`` when the file is missing or holds no reading and no waypoint.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise WalkFormatError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    readings: list[Reading] = []
    waypoints: list[Waypoint] = []
    header: dict[str, str] = {}
    skipped: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if line.startswith("#"):
            for item in fields[1:]:
                key, sep, value = item.partition(":")
                if sep:
                    header.setdefault(key.strip(), value.strip())
            continue
        parsed = parse_row(fields)
        if isinstance(parsed, str):
            skipped[parsed] += 1
        elif isinstance(parsed, Waypoint):
            waypoints.append(parsed)
        else:
            readings.append(parsed)
    if not readings and not waypoints:
        raise WalkFormatError(f"{path}: no readings and no waypoints (skipped: {dict(skipped)})")
    return Walk(path.stem, tuple(readings), tuple(waypoints), header, dict(skipped))


def _row(reading: Reading) -> str:
    if isinstance(reading, WifiReading):
        return (
            f"{reading.t_ms}\tTYPE_WIFI\t{reading.ssid}\t{reading.bssid}\t{reading.rssi_dbm:g}"
            f"\t{reading.frequency_mhz}\t{reading.last_seen_ms}"
        )
    if isinstance(reading, BeaconReading):
        parts = reading.beacon_id.split("_")
        uuid, major, minor, mac = parts if len(parts) == 4 else (reading.beacon_id, "", "", "")
        tx = "" if reading.tx_power_dbm is None else f"{reading.tx_power_dbm:g}"
        return (
            f"{reading.t_ms}\tTYPE_BEACON\t{uuid}\t{major}\t{minor}\t{tx}"
            f"\t{reading.rssi_dbm:g}\t\t{mac}\t{reading.t_ms}"
        )
    kind = _TYPE_OF_MOTION[type(reading)]
    # Accuracy column: 3 = SENSOR_STATUS_ACCURACY_HIGH.
    return f"{reading.t_ms}\t{kind}\t{reading.x!r}\t{reading.y!r}\t{reading.z!r}\t3"


def write_walk(
    path: Path | str,
    readings: Iterable[Reading],
    waypoints: Iterable[Waypoint] = (),
    header: dict[str, str] | None = None,
) -> Path:
    """Write a walk file that ``read_walk`` (and the recordings' tools) can read back.

    Readings are written in the order given (arrival order); each waypoint is placed before the
    first reading later than it. Non-finite values raise ``WalkFormatError``.
    """
    path = Path(path)
    lines = [f"#\t{key}:{value}" for key, value in (header or {}).items()]
    pending = sorted(waypoints, key=lambda w: w.t_ms)
    for reading in readings:
        values = (
            (reading.rssi_dbm,)
            if isinstance(reading, WifiReading | BeaconReading)
            else (reading.x, reading.y, reading.z)
        )
        if not _finite(*values):
            raise WalkFormatError(f"non-finite value in {reading!r}")
        while pending and pending[0].t_ms <= reading.t_ms:
            w = pending.pop(0)
            lines.append(f"{w.t_ms}\tTYPE_WAYPOINT\t{w.x!r}\t{w.y!r}")
        lines.append(_row(reading))
    lines += [f"{w.t_ms}\tTYPE_WAYPOINT\t{w.x!r}\t{w.y!r}" for w in pending]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
