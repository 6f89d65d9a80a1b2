"""Read and write recorded walks in the format of ``../shared/data/ilc`` (tab-separated text).

A row is ``unix_ms  TYPE  values...``; header rows start with ``#``::

    TYPE_ACCELEROMETER / _GYROSCOPE / _MAGNETIC_FIELD / _ROTATION_VECTOR   x y z accuracy
    TYPE_BEACON     uuid major minor tx_power rssi distance mac ms
    TYPE_WIFI       ssid bssid rssi frequency last_seen_ms
    TYPE_WAYPOINT   x y

One writer, ``write_walk``, for readings (the tracker's dataclasses, written so they read back
exactly) and for raw ``WalkRow``s (the simulator's rows with every column the recordings print,
floats like Java's: up to 8 significant digits). Readings keep the file's
order (arrival order: Wi-Fi and beacon rows carry the system clock and can step back in time
against sensor rows). Ground-truth ``TYPE_WAYPOINT`` rows go to ``Walk.waypoints`` only — for
scoring, never for a tracker. Rows that cannot be used are skipped and counted by reason, so a
caller can see what was lost; a file with nothing usable raises ``WalkFormatError``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

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

ACCELEROMETER = "TYPE_ACCELEROMETER"
GYROSCOPE = "TYPE_GYROSCOPE"
MAGNETIC_FIELD = "TYPE_MAGNETIC_FIELD"
ROTATION_VECTOR = "TYPE_ROTATION_VECTOR"
BEACON = "TYPE_BEACON"
WIFI = "TYPE_WIFI"
WAYPOINT = "TYPE_WAYPOINT"

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


Value = str | int | float


@dataclass(frozen=True, slots=True)
class WalkRow:
    """One line of a walk as written: a timestamp, the recordings' type name, its values."""

    t_ms: int
    kind: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class WalkHeader:
    """The recordings' header: site, floor and phone lines, the sensor list, and an ``endTime``
    footer (what the simulator writes, so its files look like the recordings)."""

    site_id: str
    site_name: str
    floor_id: str
    floor_name: str
    brand: str
    model: str
    android_version: str = "simulated"
    api_level: int = 29

    def lines(self, start_ms: int) -> list[str]:
        sensors = [
            (1, "Simulated Accelerometer", 0.0023956299, 39.22661),
            (4, "Simulated Gyroscope", 0.0010681152, 34.906586),
            (2, "Simulated Magnetometer", 0.5996704, 4911.9995),
            (11, "Simulated Rotation Vector", 5.9604645e-08, 1.0),
        ]
        return [
            f"#\tstartTime:{start_ms}",
            f"#\tSiteID:{self.site_id}\tSiteName:{self.site_name}\tFloorId:{self.floor_id}"
            f"\tFloorName:{self.floor_name}",
            f"#\tBrand:{self.brand}\tModel:{self.model}\tAndroidName:{self.android_version}"
            f"\tAPILevel:{self.api_level}\t",
            *[
                f"#\ttype:{t}\tname:{name}\tversion:1\tvendor:Aislecast\tresolution:{res}"
                f"\tpower:0.1\tmaximumRange:{rng}"
                for t, name, res, rng in sensors
            ],
            "#\tVersionName:aislecast-simulator\tVersionCode:1\t",
        ]


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


def format_value(value: Value) -> str:
    """Java-like float text: up to 8 significant digits, no exponent for ordinary magnitudes."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return str(int(value))
    return f"{value:.8g}"


def format_row(row: WalkRow) -> str:
    return "\t".join([str(row.t_ms), row.kind, *map(format_value, row.values)])


def reading_row(reading: Reading) -> WalkRow:
    """A reading as the row ``parse_row`` turns back into the same reading (floats by ``repr``,
    which round-trips exactly; the columns a reading does not carry left empty)."""
    if isinstance(reading, WifiReading):
        return WalkRow(
            reading.t_ms,
            WIFI,
            (reading.ssid, reading.bssid, f"{reading.rssi_dbm:g}", reading.frequency_mhz,
             reading.last_seen_ms),
        )  # fmt: skip
    if isinstance(reading, BeaconReading):
        parts = reading.beacon_id.split("_")
        uuid, major, minor, mac = parts if len(parts) == 4 else (reading.beacon_id, "", "", "")
        tx = "" if reading.tx_power_dbm is None else f"{reading.tx_power_dbm:g}"
        return WalkRow(
            reading.t_ms,
            BEACON,
            (uuid, major, minor, tx, f"{reading.rssi_dbm:g}", "", mac, reading.t_ms),
        )
    # Accuracy column: 3 = SENSOR_STATUS_ACCURACY_HIGH.
    values = (repr(reading.x), repr(reading.y), repr(reading.z), 3)
    return WalkRow(reading.t_ms, _TYPE_OF_MOTION[type(reading)], values)


def waypoint_row(waypoint: Waypoint) -> WalkRow:
    return WalkRow(waypoint.t_ms, WAYPOINT, (repr(waypoint.x), repr(waypoint.y)))


def _checked_row(item: Reading | WalkRow) -> WalkRow:
    if isinstance(item, WalkRow):
        values = [v for v in item.values if isinstance(v, float)]
    elif isinstance(item, WifiReading | BeaconReading):
        values = [item.rssi_dbm]
    else:
        values = [item.x, item.y, item.z]
    if not _finite(*values):
        raise WalkFormatError(f"non-finite value in {item!r}")
    return item if isinstance(item, WalkRow) else reading_row(item)


def _with_waypoints(rows: Iterator[WalkRow], waypoints: Iterable[Waypoint]) -> Iterator[WalkRow]:
    pending = sorted(waypoints, key=lambda w: w.t_ms)
    for row in rows:
        while pending and pending[0].t_ms <= row.t_ms:
            yield waypoint_row(pending.pop(0))
        yield row
    for waypoint in pending:
        yield waypoint_row(waypoint)


def write_walk_to(
    handle: TextIO,
    rows: Iterable[Reading | WalkRow],
    waypoints: Iterable[Waypoint] = (),
    header: Mapping[str, str] | WalkHeader | None = None,
) -> int:
    """Write a walk to an open text file; returns the number of lines after the header.

    ``rows`` (readings or raw rows, mixed) are written in the order given (arrival order); each
    waypoint is placed before the first row later than it. A ``Mapping`` header is written one
    ``#\tkey:value`` line per item; a ``WalkHeader`` as the recordings' header, its
    ``startTime`` the first row's time, and an ``endTime`` footer with the last row's. A
    non-finite value raises ``WalkFormatError``.
    """
    checked = map(_checked_row, rows)
    first = next(checked, None)
    rows_in_order = checked if first is None else itertools.chain([first], checked)
    if isinstance(header, WalkHeader):
        handle.write("\n".join(header.lines(first.t_ms if first else 0)) + "\n")
    else:
        handle.writelines(f"#\t{key}:{value}\n" for key, value in (header or {}).items())
    count, last_ms = 0, 0
    for row in _with_waypoints(rows_in_order, waypoints):
        handle.write(format_row(row) + "\n")
        count += 1
        last_ms = row.t_ms
    if isinstance(header, WalkHeader):
        handle.write(f"#\tendTime:{last_ms}\n")
    return count


def write_walk(
    path: Path | str,
    rows: Iterable[Reading | WalkRow],
    waypoints: Iterable[Waypoint] = (),
    header: Mapping[str, str] | WalkHeader | None = None,
) -> Path:
    """Write a walk file (UTF-8, ``\\n`` line ends) that ``read_walk`` and the recordings' tools
    read back; see ``write_walk_to``."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        write_walk_to(handle, rows, waypoints, header)
    return path
