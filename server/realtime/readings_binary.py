"""The ``readings`` frame as a websocket **binary** frame: MessagePack with raw numeric columns.

An app MAY send its readings batch as MessagePack instead of JSON text (docs/protocol.md, "readings
as a binary frame"): the same fields and series, but every numeric column is one MessagePack
``bin`` holding little-endian numbers, so the server reads each column with one
``np.frombuffer`` instead of parsing ≈ 1,100 decimal numbers into Python floats. Column types
(``COLUMN_DTYPES``):

- times (``t_ms``, ``last_seen_ms``): int64 — exact for every ``t_ms`` the JSON frame allows
  (≤ 2^53) with no base to agree on; Zstandard folds the repeated high bytes in the raw store.
- sensor values (``x``, ``y``, ``z``): float32 — what Android's ``SensorEvent.values`` and iOS's
  CoreMotion deliver at the source (a float32 has 24 bits of mantissa, ≈ 7 significant digits,
  more than the JSON frames' 6 decimals of a value below 100); widening to float64 is exact.
- RSSI and advertised power (``rssi_dbm``, ``tx_power_dbm``): float32 — dBm readings are whole
  numbers or quarter dB, which float32 holds exactly; NaN in ``tx_power_dbm`` is JSON's ``null``
  (the beacon did not advertise its power).
- ids (``beacon_id``, ``bssid``): MessagePack arrays of strings, as in JSON.

Validation is the JSON path's (``server.realtime.frames``), vectorised: every value finite and
within the same bounds, columns as long as ``t_ms``, ``t_ms`` never going back, 1 to
``MAX_READINGS_PER_BATCH`` samples, ids 1 to ``MAX_SHORT_TEXT`` characters, no unknown field. A
frame that fails raises ``BadFrame`` with the first problem found. A good frame becomes a
``ReadingsBatch`` whose numeric columns are numpy arrays (int64 times, float64 values) rather than
lists; everything downstream reads columns with ``len``, indexing, ``np.asarray`` or ``columns``.

The shopper socket splits the checks (``decode_binary_deferred``): on the event loop only what is
per frame and plain Python (MessagePack, the lengths: ``Layout``), giving a ``BinaryReadings``;
the numbers are checked in the runner's tick, for all its binary frames at once
(``server.tick_readings``), with the same reasons.
"""

from __future__ import annotations

import struct
from itertools import accumulate
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from server.realtime.framed_socket import BadFrame
from server.realtime.frames import (
    MAX_MILLIS,
    MAX_READINGS_PER_BATCH,
    MAX_SHORT_TEXT,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    SENSOR_LIMIT,
    BeaconSeries,
    ReadingsBatch,
    VectorSeries,
    WifiSeries,
)
from server.realtime.readings_wire import _trusted

# The wire type of each numeric column (``<``: little-endian, whatever the server's byte order).
TIME_DTYPE = np.dtype("<i8")
VALUE_DTYPE = np.dtype("<f4")
COLUMN_DTYPES: dict[str, np.dtype[Any]] = {
    "t_ms": TIME_DTYPE,
    "last_seen_ms": TIME_DTYPE,
    "x": VALUE_DTYPE,
    "y": VALUE_DTYPE,
    "z": VALUE_DTYPE,
    "rssi_dbm": VALUE_DTYPE,
    "tx_power_dbm": VALUE_DTYPE,
}

_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SHORT_TEXT)]
_Ids = Annotated[list[_Text], msgspec.Meta(max_length=MAX_READINGS_PER_BATCH)]

# Columns as ``bytes``: a copy of the frame's bytes (≈ 10 KB a frame, ≈ 1 µs), which the garbage
# collector never tracks. ``memoryview`` columns (no copy) were two tracked objects each (the view
# and its managed buffer): ≈ 40 a frame, 134,000 of a young pass's 250,000 objects with frames
# queued at 5,000 phones (docs/server.md, "Session 9"). gc=False: the structs hold no cycles.


class _Vector(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: bytes
    x: bytes
    y: bytes
    z: bytes


class _Beacons(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: bytes
    beacon_id: _Ids
    rssi_dbm: bytes
    tx_power_dbm: bytes | None = None


class _Wifi(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: bytes
    bssid: _Ids
    rssi_dbm: bytes
    last_seen_ms: bytes


class _Readings(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    type: Literal["readings"]  # required (a tag would be optional when decoding one struct)
    accel: _Vector | None = None
    gyro: _Vector | None = None
    mag: _Vector | None = None
    rotation: _Vector | None = None
    beacons: _Beacons | None = None
    wifi: _Wifi | None = None


_DECODER = msgspec.msgpack.Decoder(_Readings)
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def decode_binary_readings(data: bytes) -> ReadingsBatch:
    """The readings batch in a binary frame; raises ``BadFrame`` with the reason if it is bad."""
    wire = _decoded(data)
    try:
        return _checked_at_once(wire)
    except _Explain:
        raise _refusal(wire) from None


def decode_binary_deferred(data: bytes) -> BinaryReadings:
    """The binary frame with only its per-frame checks done (MessagePack decode, lengths, counts:
    plain Python); its numbers are checked later, with the rest of a tick's frames
    (``server.tick_readings``), or alone by ``BinaryReadings.checked``. Raises ``BadFrame`` with
    the reason ``decode_binary_readings`` gives for a frame whose structure is bad."""
    wire = _decoded(data)
    try:
        layout = Layout(wire)
    except _Explain:
        raise _refusal(wire) from None
    return BinaryReadings(layout)


def _decoded(data: bytes) -> _Readings:
    try:
        return _DECODER.decode(data)
    except msgspec.ValidationError as error:
        raise BadFrame(f"binary readings frame: {error}") from None
    except msgspec.DecodeError:
        raise BadFrame(
            "a binary frame must be a MessagePack readings frame (docs/protocol.md)"
        ) from None
    except UnicodeDecodeError:  # msgspec lets it through for a string of bad UTF-8
        raise BadFrame("binary readings frame: a string is not valid UTF-8") from None


def _refusal(wire: _Readings) -> BadFrame:
    """The ``BadFrame`` naming the first problem of a frame a bulk check refused."""
    try:
        _explained(wire)
    except BadFrame as refused:
        return refused
    return BadFrame("binary readings frame refused")  # (every _Explain has one)


class _Explain(Exception):
    """A bulk check failed: ``_explained`` finds which value, column or series it was."""


_VECTORS = ("accel", "gyro", "mag", "rotation")


class Layout:
    """A frame's columns as the bulk checks read them, once its lengths hold (plain Python, no
    numpy; raises ``_Explain`` otherwise).

    ``times``: each series' ``t_ms`` (vectors in ``_VECTORS`` order, beacons, Wi-Fi), then Wi-Fi's
    ``last_seen_ms``; ``sensor``: x, y, z of each vector; ``levels``: beacon then Wi-Fi RSSI;
    ``power``: the advertised powers, if sent. ``lengths``: each series' samples.
    """

    __slots__ = ("count", "lengths", "levels", "n_sensor", "n_times", "power", "sensor", "times",
                 "vectors", "wire")  # fmt: skip

    def __init__(self, wire: _Readings) -> None:
        self.wire = wire
        self.vectors = [(name, s) for name in _VECTORS if (s := getattr(wire, name)) is not None]
        beacons, wifi = wire.beacons, wire.wifi
        times: list[bytes] = []
        lengths: list[int] = []
        sensor: list[bytes] = []
        levels: list[bytes] = []
        for _, vector in self.vectors:
            n = _length(vector.t_ms)
            if not len(vector.x) == len(vector.y) == len(vector.z) == 4 * n:
                raise _Explain
            times.append(vector.t_ms)
            lengths.append(n)
            sensor += (vector.x, vector.y, vector.z)
        self.n_sensor = 3 * sum(lengths)  # x, y, z of every vector sample
        self.power = power = None if beacons is None else beacons.tx_power_dbm
        if beacons is not None:
            n = _length(beacons.t_ms)
            if (len(beacons.rssi_dbm) != 4 * n or len(beacons.beacon_id) != n
                    or (power is not None and len(power) != 4 * n)):  # fmt: skip
                raise _Explain
            times.append(beacons.t_ms)
            lengths.append(n)
            levels.append(beacons.rssi_dbm)
        if wifi is not None:
            n = _length(wifi.t_ms)
            if (
                len(wifi.rssi_dbm) != 4 * n
                or len(wifi.bssid) != n
                or len(wifi.last_seen_ms) != 8 * n
            ):
                raise _Explain
            times.append(wifi.t_ms)
            lengths.append(n)
            levels.append(wifi.rssi_dbm)
        self.count = count = sum(lengths)
        if not 0 < count <= MAX_READINGS_PER_BATCH:
            raise _Explain
        self.n_times = count
        if wifi is not None:
            times.append(wifi.last_seen_ms)
            self.n_times += lengths[-1]
        self.times, self.lengths, self.sensor, self.levels = times, lengths, sensor, levels

    def time_span(self) -> tuple[int, int]:
        """Earliest and latest ``t_ms`` as the wire has them (every series' ends: in time order
        once the frame is checked), read from the bytes."""
        series = self.times[: len(self.lengths)]
        first = min([_time_at(t)[0] for t in series])
        return first, max([_time_at(t, len(t) - 8)[0] for t in series])


class BinaryReadings:
    """A binary readings frame whose numbers are still to be checked (``decode_binary_deferred``):
    what the socket and the raw store ask of a batch (``count``, ``time_span``) without them."""

    __slots__ = ("_span", "layout")
    type = "readings"  # as ``ReadingsBatch.type``, for the error frames' ``ref``

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._span = layout.time_span()

    def count(self) -> int:
        return self.layout.count

    def time_span(self) -> tuple[int, int]:
        return self._span

    def checked(self) -> ReadingsBatch:
        """The frame checked alone, as ``decode_binary_readings`` does (raises ``BadFrame``)."""
        try:
            return _checked_layout(self.layout)
        except _Explain:
            raise self.refusal() from None

    def refusal(self) -> BadFrame:
        """The ``BadFrame`` for this frame, once a check has refused it."""
        return _refusal(self.layout.wire)


def _checked_at_once(wire: _Readings) -> ReadingsBatch:
    return _checked_layout(Layout(wire))


def _checked_layout(layout: Layout) -> ReadingsBatch:
    """The good frame's batch, every check a constant number of numpy calls per frame.

    numpy costs ≈ 1-3 µs a call whatever the size of a 50-sample column, so every column is
    joined into one buffer (one ``bytearray.join``: all times — each series' ``t_ms`` in order,
    then Wi-Fi's ``last_seen_ms`` — then every float32 value: sensor, RSSI, advertised power), read
    by two ``frombuffer`` views, and each kind checked with one or two reductions. Lengths are
    checked from byte counts, in Python (``Layout``). Any failure raises ``_Explain``
    (``_explained`` names it).
    """
    wire, vectors, lengths = layout.wire, layout.vectors, layout.lengths
    beacons, wifi, power = wire.beacons, wire.wifi, layout.power
    count, n_times, n_sensor = layout.count, layout.n_times, layout.n_sensor
    values = layout.sensor + layout.levels
    if power is not None:
        values.append(power)
    # A bytearray: the arrays are writable copies the frame cannot alter, as JSON's lists are.
    joined = bytearray().join(layout.times + values)
    all_times = np.frombuffer(joined, TIME_DTYPE, n_times)
    if not TIME_DTYPE.isnative:  # a big-endian server: the int64 in its own order
        all_times = all_times.astype(np.int64)
    # A negative int64 read as uint64 is ≥ 2^63: one maximum checks both ends of [0, 2^53].
    if all_times.view(np.uint64).max() > MAX_MILLIS:
        raise _Explain
    # Where t_ms goes back: allowed only from a series' last sample to the next series' first.
    backs = (all_times[1:count] < all_times[: count - 1]).nonzero()[0].tolist()
    ends = list(accumulate(lengths))  # one past each series' last sample
    if backs and not set(backs).issubset([end - 1 for end in ends[:-1]]):
        raise _Explain
    floats = np.frombuffer(joined, VALUE_DTYPE, offset=8 * n_times).astype(np.float64)
    n_rssi = count - n_sensor // 3  # one a beacon or Wi-Fi sample
    sensor, levels = floats[:n_sensor], floats[n_sensor : n_sensor + n_rssi]
    if n_sensor and not np.abs(sensor).max() <= SENSOR_LIMIT:  # NaN fails the comparison
        raise _Explain
    # RSSI and advertised power share their bounds: one min and one max over both when no power
    # is NaN (the usual frame), else the powers are checked alone (``_with_none``).
    powers, bounded = None, levels
    if power is not None:
        powers = floats[n_sensor + n_rssi :].tolist()
        total = sum(powers)  # NaN if one is NaN (or +inf and -inf: refused all the same)
        if total == total:
            bounded = floats[n_sensor:]
        else:
            powers = _with_none(floats[n_sensor + n_rssi :], powers)
    if len(bounded) and not (bounded.min() >= RSSI_MIN_DBM and bounded.max() <= RSSI_MAX_DBM):
        raise _Explain
    starts = [0, *ends[:-1]]
    # Every series' first and last time, as plain ints (ReadingsBatch.time_span), from the bytes.
    first = min([_time_at(joined, 8 * t0)[0] for t0 in starts])
    last = max([_time_at(joined, 8 * (end - 1))[0] for end in ends])
    out: dict[str, Any] = dict.fromkeys(("accel", "gyro", "mag", "rotation", "beacons", "wifi"))
    out["type"] = "readings"
    t_ms = all_times[:count]
    for k, (name, _) in enumerate(vectors):
        t0, n = starts[k], lengths[k]
        v0 = 3 * t0  # vectors come first: their values start at 3 × their first sample
        columns: dict[str, Any] = {"t_ms": t_ms[t0 : t0 + n], "x": sensor[v0 : v0 + n],
                                   "y": sensor[v0 + n : v0 + 2 * n],
                                   "z": sensor[v0 + 2 * n : v0 + 3 * n]}  # fmt: skip
        out[name] = _trusted(VectorSeries, columns, set(_VECTOR_FIELDS))
    k, r0 = len(vectors), 0
    if beacons is not None:
        t0, n = starts[k], lengths[k]
        columns = {"t_ms": t_ms[t0 : t0 + n], "beacon_id": beacons.beacon_id,
                   "rssi_dbm": levels[:n], "tx_power_dbm": powers}  # fmt: skip
        given_columns = _BEACON_FIELDS if powers is None else _BEACON_FIELDS_WITH_POWER
        out["beacons"] = _trusted(BeaconSeries, columns, set(given_columns))
        r0, k = n, k + 1
    if wifi is not None:
        t0, n = starts[k], lengths[k]
        columns = {"t_ms": t_ms[t0 : t0 + n], "bssid": wifi.bssid, "rssi_dbm": levels[r0:],
                   "last_seen_ms": all_times[count:]}  # fmt: skip
        out["wifi"] = _trusted(WifiSeries, columns, set(_WIFI_FIELDS))
    given = {name for name, value in out.items() if value is not None}
    # ReadingsBatch's cached properties, filled in as plain ints.
    out["_count"] = count
    out["_time_span"] = (first, last)
    return _trusted(ReadingsBatch, out, given)


_time_at = struct.Struct("<q").unpack_from  # one t_ms of the joined bytes, as the wire has it
_VECTOR_FIELDS = frozenset(("t_ms", "x", "y", "z"))
_BEACON_FIELDS = frozenset(("t_ms", "beacon_id", "rssi_dbm"))
_BEACON_FIELDS_WITH_POWER = _BEACON_FIELDS | {"tx_power_dbm"}
_WIFI_FIELDS = frozenset(("t_ms", "bssid", "rssi_dbm", "last_seen_ms"))


def _length(t_ms: bytes) -> int:
    """How many times a whole, non-empty, not too long ``t_ms`` column holds."""
    n, rest = divmod(len(t_ms), TIME_DTYPE.itemsize)
    if rest or not 1 <= n <= MAX_READINGS_PER_BATCH:
        raise _Explain
    return n


def _with_none(power: FloatArray, listed: list[float]) -> list[float | None]:
    """Advertised powers with a NaN (none advertised) as JSON has them, None for NaN, once their
    bounds hold (``fmin``/``fmax`` skip NaN and keep ±inf, which fail: ``_Explain``)."""
    if np.fmin.reduce(power) < RSSI_MIN_DBM or np.fmax.reduce(power) > RSSI_MAX_DBM:
        raise _Explain
    return [None if p != p else p for p in listed]


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


def _explained(wire: _Readings) -> None:
    """Raise ``BadFrame`` naming the frame's first problem, column by column (the slow path, for
    frames the bulk checks refused)."""
    count = 0
    for name in ("accel", "gyro", "mag", "rotation", "beacons", "wifi"):
        series = getattr(wire, name)
        if isinstance(series, _Vector):
            count += len(_vector(name, series).t_ms)
        elif isinstance(series, _Beacons):
            count += len(_beacons(series).t_ms)
        elif isinstance(series, _Wifi):
            count += len(_wifi(series).t_ms)
    if count == 0:
        raise BadFrame("a readings batch needs at least one series")
    if count > MAX_READINGS_PER_BATCH:
        raise BadFrame(f"{count} readings in one batch, over {MAX_READINGS_PER_BATCH}")


def _column(where: str, buffer: bytes, n: int | None) -> NDArray[Any]:
    """The column's numbers (``n``: the length it must have; None for ``t_ms`` itself)."""
    name = where.rsplit(".", 1)[1]
    dtype = COLUMN_DTYPES[name]
    size = len(buffer)
    if size % dtype.itemsize:
        raise BadFrame(
            f"{where}: {size} bytes is not a whole number of {dtype.name} values "
            f"({dtype.itemsize} bytes each, little-endian)"
        )
    values = np.frombuffer(buffer, dtype=dtype)
    if n is None:
        if not 1 <= len(values) <= MAX_READINGS_PER_BATCH:
            raise BadFrame(f"{where}: {len(values)} times; 1 to {MAX_READINGS_PER_BATCH} allowed")
    elif len(values) != n:
        raise BadFrame(f"{where} has {len(values)} values for {n} times")
    return values


def _times(where: str, buffer: bytes, n: int | None = None) -> IntArray:
    t_ms = _column(where, buffer, n).astype(np.int64)  # native order, a copy the frame can't alter
    bad = (t_ms < 0) | (t_ms > MAX_MILLIS)
    if bad.any():
        i = int(np.argmax(bad))
        raise BadFrame(f"{where}[{i}]: {int(t_ms[i])} is not a time between 0 and {MAX_MILLIS}")
    return t_ms


def _in_order(where: str, t_ms: IntArray) -> None:
    if (np.diff(t_ms) < 0).any():
        raise BadFrame(f"{where}: t_ms goes backwards (samples must be in arrival order)")


def _bounded(where: str, buffer: bytes, n: int, low: float, high: float) -> FloatArray:
    """float32 values widened to float64 (exactly); each finite and in [low, high]."""
    values = _column(where, buffer, n).astype(np.float64)
    bad = ~((values >= low) & (values <= high))  # NaN fails both comparisons
    if bad.any():
        i = int(np.argmax(bad))
        raise BadFrame(f"{where}[{i}]: {values[i]} is not a finite number in [{low}, {high}]")
    return values


def _vector(name: str, series: _Vector) -> VectorSeries:
    t_ms = _times(f"{name}.t_ms", series.t_ms)
    n = len(t_ms)
    x, y, z = (
        _bounded(f"{name}.{axis}", getattr(series, axis), n, -SENSOR_LIMIT, SENSOR_LIMIT)
        for axis in "xyz"
    )
    _in_order(name, t_ms)
    return _trusted(VectorSeries, {"t_ms": t_ms, "x": x, "y": y, "z": z}, {"t_ms", "x", "y", "z"})


def _ids(where: str, ids: list[str], n: int) -> list[str]:
    if len(ids) != n:
        raise BadFrame(f"{where} has {len(ids)} values for {n} times")
    return ids


def _beacons(series: _Beacons) -> BeaconSeries:
    t_ms = _times("beacons.t_ms", series.t_ms)
    n = len(t_ms)
    values: dict[str, Any] = {
        "t_ms": t_ms,
        "beacon_id": _ids("beacons.beacon_id", series.beacon_id, n),
        "rssi_dbm": _bounded("beacons.rssi_dbm", series.rssi_dbm, n, RSSI_MIN_DBM, RSSI_MAX_DBM),
        "tx_power_dbm": None,
    }
    if series.tx_power_dbm is not None:
        power = _column("beacons.tx_power_dbm", series.tx_power_dbm, n).astype(np.float64)
        values["tx_power_dbm"] = _powers(power)
    _in_order("beacons", t_ms)
    return _trusted(BeaconSeries, values, {k for k, v in values.items() if v is not None})


def _wifi(series: _Wifi) -> WifiSeries:
    t_ms = _times("wifi.t_ms", series.t_ms)
    n = len(t_ms)
    values = {
        "t_ms": t_ms,
        "bssid": _ids("wifi.bssid", series.bssid, n),
        "rssi_dbm": _bounded("wifi.rssi_dbm", series.rssi_dbm, n, RSSI_MIN_DBM, RSSI_MAX_DBM),
        "last_seen_ms": _times("wifi.last_seen_ms", series.last_seen_ms, n),
    }
    _in_order("wifi", t_ms)
    return _trusted(WifiSeries, values, set(values))


def list_columns(batch: ReadingsBatch) -> ReadingsBatch:
    """The batch with Python lists for columns, as the JSON path builds it (the same batch if it
    has them already): for a ``PositionSource`` that reads samples one by one, where a numpy
    column's items would be numpy scalars (and a numpy ``t_ms`` in an estimate is no JSON)."""
    present = batch.series()
    if not any(isinstance(s.t_ms, np.ndarray) for s in present.values()):
        return batch
    values: dict[str, Any] = dict(batch.__dict__)
    for name, series in present.items():
        columns = {k: v.tolist() if isinstance(v, np.ndarray) else v
                   for k, v in series.__dict__.items()}  # fmt: skip
        values[name] = _trusted(type(series), columns, set(series.model_fields_set))
    return _trusted(ReadingsBatch, values, set(batch.model_fields_set))
