"""The phone's side of the shopper websocket (docs/protocol.md): frames as plain JSON-ready dicts.

Pure functions, no sockets: ``readings_frames`` turns one window of a ``SimulatedPhone``'s rows
into ``readings`` frames in the protocol's column format (one series per sensor, arrays side by
side), shifting every time by ``offset_ms`` (simulated clock → the wall clock the server checks).
Ground-truth waypoints are never sent: a phone does not know where it is.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from positioning.walkfile import (
    ACCELEROMETER,
    BEACON,
    GYROSCOPE,
    MAGNETIC_FIELD,
    ROTATION_VECTOR,
    WIFI,
    WalkRow,
)

Frame = dict[str, Any]

# The protocol's cap on samples per batch ("2,000 samples at most in all"); a longer window is
# split into several frames in time order.
MAX_SAMPLES_PER_FRAME = 2000
# Android's sensor types → the protocol's series names; every one carries x, y, z (the walk
# files' fourth value, the accuracy flag, is not part of the protocol).
VECTOR_SERIES = {
    ACCELEROMETER: "accel",
    GYROSCOPE: "gyro",
    MAGNETIC_FIELD: "mag",
    ROTATION_VECTOR: "rotation",
}
SENT_KINDS = frozenset({*VECTOR_SERIES, BEACON, WIFI})
# Sensor values are float32 on the phone: 6 decimals keep all of it and a third of the bytes.
DECIMALS = 6


def beacon_id(uuid: str, major: int, minor: int, mac: str) -> str:
    """The id positioning builds from a beacon row: ``f"{UUID}_{major}_{minor}_{mac}"``."""
    return f"{uuid.upper()}_{major}_{minor}_{mac}"


def _series(rows: list[WalkRow], offset_ms: int) -> Frame:
    """One ``readings`` frame from rows in time order (sensor types the protocol lacks dropped)."""
    frame: Frame = {"type": "readings"}
    for row in rows:
        t_ms = row.t_ms + offset_ms
        if row.kind in VECTOR_SERIES:
            series = frame.setdefault(
                VECTOR_SERIES[row.kind], {"t_ms": [], "x": [], "y": [], "z": []}
            )
            series["t_ms"].append(t_ms)
            for axis, value in zip("xyz", row.values[:3], strict=True):
                series[axis].append(round(float(value), DECIMALS))
        elif row.kind == BEACON:
            uuid, major, minor, tx_power, rssi, _distance, mac, _ms = row.values
            series = frame.setdefault(
                "beacons", {"t_ms": [], "beacon_id": [], "rssi_dbm": [], "tx_power_dbm": []}
            )
            series["t_ms"].append(t_ms)
            series["beacon_id"].append(beacon_id(str(uuid), int(major), int(minor), str(mac)))
            series["rssi_dbm"].append(int(rssi))
            series["tx_power_dbm"].append(int(tx_power))
        elif row.kind == WIFI:
            _ssid, bssid, rssi, _frequency, last_seen_ms = row.values
            series = frame.setdefault(
                "wifi", {"t_ms": [], "bssid": [], "rssi_dbm": [], "last_seen_ms": []}
            )
            series["t_ms"].append(t_ms)
            series["bssid"].append(str(bssid))
            series["rssi_dbm"].append(int(rssi))
            series["last_seen_ms"].append(int(last_seen_ms) + offset_ms)
    return frame


def readings_frames(rows: list[WalkRow], offset_ms: int = 0) -> list[Frame]:
    """The window's rows as ``readings`` frames (usually one; none if nothing is sendable).

    Rows must be in time order (``SimulatedPhone.sense`` returns them so), which keeps every
    series' ``t_ms`` non-decreasing as the protocol requires.
    """
    sendable = [row for row in rows if row.kind in SENT_KINDS]
    return [
        _series(sendable[i : i + MAX_SAMPLES_PER_FRAME], offset_ms)
        for i in range(0, len(sendable), MAX_SAMPLES_PER_FRAME)
    ]


def samples_in(frame: Frame) -> int:
    """Samples in a ``readings`` frame, as the server counts them in ``readings_ack.accepted``."""
    return sum(len(series["t_ms"]) for key, series in frame.items() if key != "type")


def hello_frame(
    token: str,
    store_id: int,
    app_version: str,
    consents: tuple[str, ...],
    last_seen_seq: int | None,
    answers: str | None = None,
) -> Frame:
    """``answers="position"``: the batch's first ``position`` frame carries its ack (one answer
    frame a batch); None leaves the field out (the server's default, ``readings_ack``)."""
    frame: Frame = {
        "type": "hello",
        "token": token,
        "store_id": store_id,
        "app_version": app_version,
        "consents": list(consents),
        "last_seen_seq": last_seen_seq,
    }
    if answers is not None:
        frame["answers"] = answers
    return frame


def event_frame(kind: str, t_ms: int, offer_id: str | None = None) -> Frame:
    """``app_open`` (no offer) or ``offer_opened`` / ``offer_redeemed`` (with the offer's id)."""
    frame: Frame = {"type": "event", "kind": kind, "t_ms": t_ms}
    if offer_id is not None:
        frame["offer_id"] = offer_id
    return frame


def ack_frame(seq: int) -> Frame:
    return {"type": "ack", "seq": seq}


def bye_frame(t_ms: int) -> Frame:
    return {"type": "bye", "t_ms": t_ms}


def fix_frame(t_ms: int, x: float, y: float, heading_deg: float, accuracy_m: float) -> Frame:
    """A position the app worked out itself (docs/protocol.md, "fix"); heading in [0, 360)."""
    return {"type": "fix", "t_ms": t_ms, "x": x, "y": y, "heading_deg": heading_deg % 360.0,
            "accuracy_m": accuracy_m}  # fmt: skip


# ---- the binary readings frame (docs/protocol.md, "readings as a binary frame") ----------------

# Each numeric column's wire type: little-endian int64 times, float32 values (what the phone's
# sensors deliver), float32 RSSI and advertised power (NaN: none advertised, JSON's null).
BINARY_COLUMN_DTYPES = {
    "t_ms": "<i8",
    "last_seen_ms": "<i8",
    "x": "<f4",
    "y": "<f4",
    "z": "<f4",
    "rssi_dbm": "<f4",
    "tx_power_dbm": "<f4",
}
_MSGPACK = msgspec.msgpack.Encoder()


def binary_readings_frame(frame: Frame) -> bytes:
    """A ``readings`` frame as the protocol's binary frame: MessagePack with every numeric column
    one ``bin`` of little-endian numbers (ids stay arrays of strings)."""
    out: dict[str, Any] = {"type": "readings"}
    for name, series in frame.items():
        if name == "type":
            continue
        out[name] = {
            key: _packed(key, column) if key in BINARY_COLUMN_DTYPES else list(column)
            for key, column in series.items()
        }
    return _MSGPACK.encode(out)


def _packed(key: str, column: list[Any]) -> bytes:
    values = [float("nan") if v is None else v for v in column]
    return np.asarray(values, dtype=BINARY_COLUMN_DTYPES[key]).tobytes()
