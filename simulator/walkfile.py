"""Writing walks in the recorded-walk text format of ``../shared/data/ilc`` (see its README).

Tab-separated ``unix_ms  TYPE  values...``; header and footer lines start with ``#``:

    TYPE_ACCELEROMETER / _GYROSCOPE / _MAGNETIC_FIELD / _ROTATION_VECTOR   x y z accuracy
    TYPE_BEACON     uuid major minor tx_power rssi distance mac ms
    TYPE_WIFI       ssid bssid rssi frequency last_seen_ms
    TYPE_WAYPOINT   x y

Numbers are printed the way the recordings print Java floats (up to 8 significant digits);
integers (RSSI, accuracy, times) as integers. Same rows, same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ACCELEROMETER = "TYPE_ACCELEROMETER"
GYROSCOPE = "TYPE_GYROSCOPE"
MAGNETIC_FIELD = "TYPE_MAGNETIC_FIELD"
ROTATION_VECTOR = "TYPE_ROTATION_VECTOR"
BEACON = "TYPE_BEACON"
WIFI = "TYPE_WIFI"
WAYPOINT = "TYPE_WAYPOINT"

Value = str | int | float


@dataclass(frozen=True, slots=True)
class WalkRow:
    """One line of a walk: a timestamp, the recordings' type name and its values in order."""

    t_ms: int
    kind: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class WalkHeader:
    """What the recordings' header says about the site, floor and phone."""

    site_id: str
    site_name: str
    floor_id: str
    floor_name: str
    brand: str
    model: str
    android_version: str = "simulated"
    api_level: int = 29


def format_value(value: Value) -> str:
    """Java-like float text: up to 8 significant digits, no exponent for ordinary magnitudes."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return str(int(value))
    return f"{value:.8g}"


def format_row(row: WalkRow) -> str:
    return "\t".join([str(row.t_ms), row.kind, *map(format_value, row.values)])


def _header_lines(header: WalkHeader, start_ms: int) -> list[str]:
    h = header
    sensors = [
        (1, "Simulated Accelerometer", 0.0023956299, 39.22661),
        (4, "Simulated Gyroscope", 0.0010681152, 34.906586),
        (2, "Simulated Magnetometer", 0.5996704, 4911.9995),
        (11, "Simulated Rotation Vector", 5.9604645e-08, 1.0),
    ]
    return [
        f"#\tstartTime:{start_ms}",
        f"#\tSiteID:{h.site_id}\tSiteName:{h.site_name}\tFloorId:{h.floor_id}\tFloorName:{h.floor_name}",
        f"#\tBrand:{h.brand}\tModel:{h.model}\tAndroidName:{h.android_version}\tAPILevel:{h.api_level}\t",
        *[
            f"#\ttype:{t}\tname:{name}\tversion:1\tvendor:Aislecast\tresolution:{res}\tpower:0.1\t"
            f"maximumRange:{rng}"
            for t, name, res, rng in sensors
        ],
        "#\tVersionName:aislecast-simulator\tVersionCode:1\t",
    ]


def write_walk_rows(handle: TextIO, header: WalkHeader, rows: Iterable[WalkRow]) -> int:
    """Write a whole walk (header, rows in the order given, footer) to ``handle``; returns rows."""
    rows = list(rows)
    start_ms = rows[0].t_ms if rows else 0
    end_ms = rows[-1].t_ms if rows else 0
    handle.write("\n".join(_header_lines(header, start_ms)) + "\n")
    count = 0
    for row in rows:
        handle.write(format_row(row) + "\n")
        count += 1
    handle.write(f"#\tendTime:{end_ms}\n")
    return count


def write_walk_file(path: Path | str, header: WalkHeader, rows: Iterable[WalkRow]) -> Path:
    """Write a walk file (UTF-8, ``\\n`` line ends)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        write_walk_rows(handle, header, rows)
    return path
