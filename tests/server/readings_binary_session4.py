"""The session-4 bulk path of ``decode_binary_readings``, frozen: the leaner one in
``server.realtime.readings_binary`` (session 5) must decode every frame to the same batch and
refuse every frame with the same reason (``test_readings_binary``). It reads the shared
decoder's columns, ``bytes`` since session 9 (``memoryview`` before: ``len`` is ``nbytes`` for
both)."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from server.realtime.framed_socket import BadFrame
from server.realtime.frames import (
    MAX_MILLIS,
    MAX_READINGS_PER_BATCH,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    SENSOR_LIMIT,
    BeaconSeries,
    ReadingsBatch,
    VectorSeries,
    WifiSeries,
)
from server.realtime.readings_binary import (
    _DECODER,
    _VECTORS,
    TIME_DTYPE,
    VALUE_DTYPE,
    FloatArray,
    _Explain,
    _explained,
    _Readings,
)
from server.realtime.readings_wire import _trusted


def decode_binary_readings(data: bytes) -> ReadingsBatch:
    """As session 4 decoded a binary readings frame."""
    try:
        wire = _DECODER.decode(data)
    except msgspec.ValidationError as error:
        raise BadFrame(f"binary readings frame: {error}") from None
    except msgspec.DecodeError:
        raise BadFrame(
            "a binary frame must be a MessagePack readings frame (docs/protocol.md)"
        ) from None
    except UnicodeDecodeError:
        raise BadFrame("binary readings frame: a string is not valid UTF-8") from None
    try:
        return checked_at_once(wire)
    except _Explain:
        _explained(wire)
        raise BadFrame("binary readings frame refused") from None


def checked_at_once(wire: _Readings) -> ReadingsBatch:
    """The good frame's batch, every check a constant number of numpy calls per frame.

    numpy costs ≈ 1-3 µs a call whatever the size of a 50-sample column, so the columns are
    joined by type (one ``bytes.join``, one ``frombuffer``: all times; all float32 values, sensor
    then RSSI then advertised power) and each kind checked with one or two reductions. Lengths are
    checked from byte counts, in Python.
    """
    vectors = [(name, s) for name in _VECTORS if (s := getattr(wire, name)) is not None]
    beacons, wifi = wire.beacons, wire.wifi
    times: list[bytes] = []  # each series' t_ms, in the order above; wifi's last_seen last
    lengths: list[int] = []
    sensor: list[bytes] = []
    rssi: list[bytes] = []
    power: bytes | None = None
    for _, vector in vectors:
        n = _length_of(vector.t_ms)
        if not len(vector.x) == len(vector.y) == len(vector.z) == 4 * n:
            raise _Explain
        times.append(vector.t_ms)
        lengths.append(n)
        sensor += (vector.x, vector.y, vector.z)
    if beacons is not None:
        n = _length_of(beacons.t_ms)
        power = beacons.tx_power_dbm
        if (len(beacons.rssi_dbm) != 4 * n or len(beacons.beacon_id) != n
                or (power is not None and len(power) != 4 * n)):  # fmt: skip
            raise _Explain
        times.append(beacons.t_ms)
        lengths.append(n)
        rssi.append(beacons.rssi_dbm)
    if wifi is not None:
        n = _length_of(wifi.t_ms)
        if len(wifi.rssi_dbm) != 4 * n or len(wifi.bssid) != n or len(wifi.last_seen_ms) != 8 * n:
            raise _Explain
        times.append(wifi.t_ms)
        lengths.append(n)
        rssi.append(wifi.rssi_dbm)
    count = sum(lengths)
    if not 0 < count <= MAX_READINGS_PER_BATCH:
        raise _Explain
    all_times = _joined(times + ([] if wifi is None else [wifi.last_seen_ms]), TIME_DTYPE, np.int64)
    # A negative int64 read as uint64 is ≥ 2^63: one maximum checks both ends of [0, 2^53].
    if all_times.view(np.uint64).max() > MAX_MILLIS:
        raise _Explain
    t_ms = all_times[:count]
    back = t_ms[1:] < t_ms[:-1]
    series_ends = list(accumulate(lengths))[:-1]  # from one series to the next, time may go back
    back[[end - 1 for end in series_ends]] = False
    if back.any():
        raise _Explain
    floats = _joined(sensor + rssi + ([] if power is None else [power]), VALUE_DTYPE, np.float64)
    n_sensor = 3 * sum(lengths[: len(vectors)])  # x, y, z of every vector sample
    n_rssi = count - n_sensor // 3  # one a beacon or Wi-Fi sample
    values, levels = floats[:n_sensor], floats[n_sensor : n_sensor + n_rssi]
    if n_sensor and not np.abs(values).max() <= SENSOR_LIMIT:  # NaN fails the comparison
        raise _Explain
    if n_rssi and not (levels.min() >= RSSI_MIN_DBM and levels.max() <= RSSI_MAX_DBM):
        raise _Explain
    out: dict[str, Any] = dict.fromkeys(("accel", "gyro", "mag", "rotation", "beacons", "wifi"))
    out["type"] = "readings"
    starts = [0, *series_ends]
    k = 0  # the series' index in ``lengths``
    for name, _ in vectors:
        t0, n, v0 = starts[k], lengths[k], 3 * starts[k]
        columns: dict[str, Any] = {"t_ms": t_ms[t0 : t0 + n], "x": values[v0 : v0 + n],
                                   "y": values[v0 + n : v0 + 2 * n],
                                   "z": values[v0 + 2 * n : v0 + 3 * n]}  # fmt: skip
        out[name] = _trusted(VectorSeries, columns, {"t_ms", "x", "y", "z"})
        k += 1
    r0 = 0
    if beacons is not None:
        t0, n = starts[k], lengths[k]
        powers = None if power is None else _powers(floats[n_sensor + n_rssi :])
        columns = {"t_ms": t_ms[t0 : t0 + n], "beacon_id": beacons.beacon_id,
                   "rssi_dbm": levels[:n], "tx_power_dbm": powers}  # fmt: skip
        given_columns = set(columns) - ({"tx_power_dbm"} if powers is None else set())
        out["beacons"] = _trusted(BeaconSeries, columns, given_columns)
        r0, k = n, k + 1
    if wifi is not None:
        t0, n = starts[k], lengths[k]
        columns = {"t_ms": t_ms[t0 : t0 + n], "bssid": wifi.bssid, "rssi_dbm": levels[r0:],
                   "last_seen_ms": all_times[count:]}  # fmt: skip
        out["wifi"] = _trusted(WifiSeries, columns, set(columns))
    given = {name for name, value in out.items() if value is not None}
    # ReadingsBatch's cached properties, filled in as plain ints (the columns hold numpy ints).
    out["_count"] = count
    out["_time_span"] = (
        min(int(t_ms[t0]) for t0 in starts),
        max(int(t_ms[end - 1]) for end in [*series_ends, count]),
    )
    return _trusted(ReadingsBatch, out, given)


def _length_of(t_ms: bytes) -> int:
    """How many times a whole, non-empty, not too long ``t_ms`` column holds."""
    n, rest = divmod(len(t_ms), TIME_DTYPE.itemsize)
    if rest or not 1 <= n <= MAX_READINGS_PER_BATCH:
        raise _Explain
    return n


def _joined(columns: list[bytes], wire: np.dtype[Any], native: type) -> NDArray[Any]:
    """The columns end to end, in native order and precision (a copy the frame cannot alter)."""
    return np.frombuffer(b"".join(columns), dtype=wire).astype(native)


def _powers(power: FloatArray) -> list[float | None]:
    """The advertised powers as JSON has them: None where NaN (no power advertised)."""
    bad = (power < RSSI_MIN_DBM) | (power > RSSI_MAX_DBM)  # ±inf fail; NaN passes (None)
    if bad.any():
        i = int(np.argmax(bad))
        raise BadFrame(
            f"beacons.tx_power_dbm[{i}]: {power[i]} is not NaN (none advertised) nor a "
            f"finite number in [{RSSI_MIN_DBM}, {RSSI_MAX_DBM}]"
        )
    return [None if p != p else p for p in power.tolist()]  # p != p: NaN
