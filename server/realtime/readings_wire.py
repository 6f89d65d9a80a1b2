"""A fast path for the frame the server gets most: ``readings``, decoded by msgspec.

About 1,100 numbers arrive with every readings batch, once a second per phone. A typed
``msgspec.json.Decoder`` parses them and checks each one against the same bounds as the pydantic
models of ``server.realtime.frames`` in one native pass (≈ 26 µs a real frame against pydantic's
≈ 46 µs); the few checks across columns (aligned lengths, time order, the batch's size) follow in
plain Python on the lists. A frame that passes everything becomes the same ``ReadingsBatch`` that
pydantic would have built, without validating it again.

Anything else — another frame type, a bad or unusual readings frame (NaN, a number out of range,
a string where a number goes, misaligned columns) — goes to ``SHOPPER_FRAME.validate_json``, which
stays the authority: it answers with the same object or the same error reason as before. So the
fast path only has to be *narrower* than pydantic, never wider; ``tests/server/test_readings_wire``
checks that on real frames and on 38 ways of breaking one.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from msgspec.structs import asdict
from pydantic import BaseModel

from server.realtime.frames import (
    MAX_MILLIS,
    MAX_READINGS_PER_BATCH,
    MAX_SHORT_TEXT,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    SENSOR_LIMIT,
    SHOPPER_FRAME,
    Ack,
    AppEventFrame,
    BeaconSeries,
    Bye,
    Fix,
    Hello,
    ReadingsBatch,
    VectorSeries,
    WifiSeries,
)

AnyShopperFrame = Hello | ReadingsBatch | Fix | AppEventFrame | Ack | Bye
Model = TypeVar("Model", bound=BaseModel)

# The bounds of frames.py, as msgspec constraints (an infinity or NaN fails any bound).
_Sensor = Annotated[float, msgspec.Meta(ge=-SENSOR_LIMIT, le=SENSOR_LIMIT)]
_Rssi = Annotated[float, msgspec.Meta(ge=RSSI_MIN_DBM, le=RSSI_MAX_DBM)]
_Millis = Annotated[int, msgspec.Meta(ge=0, le=MAX_MILLIS)]
_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SHORT_TEXT)]
_Times = Annotated[list[_Millis], msgspec.Meta(min_length=1, max_length=MAX_READINGS_PER_BATCH)]

# gc=False: these structs hold lists of numbers and strings only (no cycle can form) and live for
# one call; untracked, they do not count towards the collector's next young pass.


class _Vector(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: _Times
    x: list[_Sensor]
    y: list[_Sensor]
    z: list[_Sensor]


class _Beacons(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: _Times
    beacon_id: list[_Text]
    rssi_dbm: list[_Rssi]
    tx_power_dbm: list[_Rssi | None] | None = None


class _Wifi(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    t_ms: _Times
    bssid: list[_Text]
    rssi_dbm: list[_Rssi]
    last_seen_ms: list[_Millis]


class _Readings(
    msgspec.Struct, forbid_unknown_fields=True, gc=False, tag_field="type", tag="readings"
):
    accel: _Vector | None = None
    gyro: _Vector | None = None
    mag: _Vector | None = None
    rotation: _Vector | None = None
    beacons: _Beacons | None = None
    wifi: _Wifi | None = None


_DECODER = msgspec.json.Decoder(_Readings)


class _NotFast(Exception):
    """The frame is not a plain good readings frame: pydantic decides."""


def decode_shopper_frame(text: str) -> AnyShopperFrame:
    """The shopper frame in ``text``; raises pydantic's ``ValidationError`` with the reason."""
    try:
        return _fast_readings(text)
    except (msgspec.DecodeError, _NotFast):
        return SHOPPER_FRAME.validate_json(text)


def _fast_readings(text: str) -> ReadingsBatch:
    wire = _DECODER.decode(text)
    values: dict[str, Any] = {
        "type": "readings",
        "accel": _vector(wire.accel),
        "gyro": _vector(wire.gyro),
        "mag": _vector(wire.mag),
        "rotation": _vector(wire.rotation),
        "beacons": _beacons(wire.beacons),
        "wifi": _wifi(wire.wifi),
    }
    present = [s for s in values.values() if s is not None]
    count = sum(len(s.t_ms) for s in present[1:])  # present[0]: the type
    if not 0 < count <= MAX_READINGS_PER_BATCH:
        raise _NotFast
    given = {name for name, value in values.items() if value is not None}
    # ``_count``: the cached_property that ReadingsBatch's own validator fills in.
    values["_count"] = count
    return _trusted(ReadingsBatch, values, given)


def _vector(series: _Vector | None) -> VectorSeries | None:
    if series is None:
        return None
    t_ms = series.t_ms
    if not len(t_ms) == len(series.x) == len(series.y) == len(series.z) or sorted(t_ms) != t_ms:
        raise _NotFast  # misaligned or out of order: ``_aligned_and_in_order`` in frames.py
    return _trusted(VectorSeries, asdict(series), set(VectorSeries.model_fields))


def _beacons(series: _Beacons | None) -> BeaconSeries | None:
    if series is None:
        return None
    t_ms, power = series.t_ms, series.tx_power_dbm
    n = len(t_ms)
    aligned = len(series.beacon_id) == len(series.rssi_dbm) == n
    if not aligned or (power is not None and len(power) != n) or sorted(t_ms) != t_ms:
        raise _NotFast
    values = asdict(series)
    return _trusted(BeaconSeries, values, {k for k, v in values.items() if v is not None})


def _wifi(series: _Wifi | None) -> WifiSeries | None:
    if series is None:
        return None
    t_ms = series.t_ms
    aligned = len(t_ms) == len(series.bssid) == len(series.rssi_dbm) == len(series.last_seen_ms)
    if not aligned or sorted(t_ms) != t_ms:
        raise _NotFast
    return _trusted(WifiSeries, asdict(series), set(WifiSeries.model_fields))


_set = object.__setattr__


def _trusted(cls: type[Model], values: dict[str, Any], given: set[str]) -> Model:
    """A model from values already validated against its constraints, as pydantic stores one.

    ``model_construct`` does the same with per-field bookkeeping at ≈ 5 µs a model; this is the
    four slots of a pydantic v2 model set directly (``test_readings_wire`` compares the result
    with pydantic's own, with ``==``). ``given``: the fields the frame had (an explicit ``null``
    series counts as absent here; nothing reads ``model_fields_set``).
    """
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", given)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
