"""Binary readings frames (MessagePack, raw little-endian columns) decode to the batch the JSON
frame of the same readings decodes to, and every broken one is refused with a reason."""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.batch_tracking import sensor_batch
from server.realtime.framed_socket import BadFrame
from server.realtime.frames import MAX_READINGS_PER_BATCH, ReadingsBatch
from server.realtime.readings_binary import (
    decode_binary_deferred,
    decode_binary_readings,
    list_columns,
)
from server.realtime.readings_wire import decode_shopper_frame
from simulator.live import load_cast
from simulator.wire import binary_readings_frame, readings_frames
from tests.positioning.test_tick_columns import assert_same_batch
from tests.server import readings_binary_session4 as session4

Frame = dict[str, Any]
NUMERIC = {"x", "y", "z", "rssi_dbm", "tx_power_dbm"}


def as_float32(frame: Frame) -> Frame:
    """The frame with every sensor value and RSSI rounded to float32, as a phone reads them (the
    binary frame carries float32; JSON of these values is then the very same readings)."""
    out: Frame = {"type": "readings"}
    for name, series in frame.items():
        if name == "type":
            continue
        out[name] = {
            key: [None if v is None else float(np.float32(v)) for v in column]
            if key in NUMERIC
            else list(column)
            for key, column in series.items()
        }
    return out


@pytest.fixture(scope="module")
def phone_frames() -> list[Frame]:
    """Twenty seconds of two simulated demo-store visits' readings frames (float32 values)."""
    cast = load_cast("demo", 2, 5, 1, distinct_visits=2, max_visit_s=20.0)
    return [as_float32(f) for _, _, windows in cast.visits for _, rows in windows
            for f in readings_frames(rows)]  # fmt: skip


def test_a_binary_frame_decodes_to_the_json_frames_batch(phone_frames: list[Frame]) -> None:
    assert len(phone_frames) >= 20
    for frame in phone_frames:
        from_json = decode_shopper_frame(json.dumps(frame))
        from_binary = decode_binary_readings(binary_readings_frame(frame))
        assert isinstance(from_json, ReadingsBatch)
        assert isinstance(from_binary, ReadingsBatch)
        assert from_binary.count() == from_json.count() > 0
        assert from_binary.time_span() == from_json.time_span()
        assert all(type(t) is int for t in from_binary.time_span())  # stored as plain ints
        # The list form is the JSON batch itself, equal field by field.
        assert list_columns(from_binary) == from_json
        # And the arrays the batched tracker takes are the same numbers.
        assert_same_batch(sensor_batch(from_binary), sensor_batch(from_json))


def test_a_binary_frame_is_about_half_the_json_text(phone_frames: list[Frame]) -> None:
    json_bytes = sum(len(json.dumps(f, separators=(",", ":"))) for f in phone_frames)
    binary_bytes = sum(len(binary_readings_frame(f)) for f in phone_frames)
    assert binary_bytes < 0.7 * json_bytes


def test_list_columns_leaves_a_json_batch_as_it_is(phone_frames: list[Frame]) -> None:
    batch = decode_shopper_frame(json.dumps(phone_frames[0]))
    assert isinstance(batch, ReadingsBatch)
    assert list_columns(batch) is batch


def test_null_and_absent_tx_power_read_as_in_json() -> None:
    frame = {"type": "readings", "beacons": {"t_ms": [5, 6, 7], "beacon_id": ["a", "b", "c"],
             "rssi_dbm": [-70.0, -80.0, -90.0], "tx_power_dbm": [-59.0, None, -60.0]}}  # fmt: skip
    batch = decode_binary_readings(binary_readings_frame(frame))
    assert batch.beacons is not None
    assert batch.beacons.tx_power_dbm == [-59.0, None, -60.0]
    del frame["beacons"]["tx_power_dbm"]
    batch = decode_binary_readings(binary_readings_frame(frame))
    assert batch.beacons is not None
    assert batch.beacons.tx_power_dbm is None


# ---- broken frames -----------------------------------------------------------------------------

BASE: Frame = {
    "type": "readings",
    "accel": {"t_ms": np.arange(10, 60, 10, dtype="<i8").tobytes(),
              "x": np.zeros(5, "<f4").tobytes(), "y": np.ones(5, "<f4").tobytes(),
              "z": np.full(5, 9.8, "<f4").tobytes()},
    "beacons": {"t_ms": np.array([10, 20], "<i8").tobytes(), "beacon_id": ["a", "b"],
                "rssi_dbm": np.array([-70, -75], "<f4").tobytes(),
                "tx_power_dbm": np.array([-59, np.nan], "<f4").tobytes()},
    "wifi": {"t_ms": np.array([10], "<i8").tobytes(), "bssid": ["aa:bb"],
             "rssi_dbm": np.array([-60], "<f4").tobytes(),
             "last_seen_ms": np.array([5], "<i8").tobytes()},
}  # fmt: skip


def _put(path: str, value: Any) -> Callable[[Frame], None]:
    def change(frame: Frame) -> None:
        *parents, last = path.split(".")
        node = frame
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _floats(*values: float) -> bytes:
    return np.array(values, "<f4").tobytes()


def _times(*values: int) -> bytes:
    return np.array(values, "<i8").tobytes()


FIVE = (0.0, 0.0, 0.0, 0.0)
# name → (change, words the reason must contain)
BREAKAGES: dict[str, tuple[Callable[[Frame], None], str]] = {
    "NaN": (_put("accel.x", _floats(*FIVE, float("nan"))), "accel.x[4]"),
    "infinity": (_put("accel.y", _floats(float("inf"), *FIVE)), "accel.y[0]"),
    "sensor out of range": (_put("accel.z", _floats(*FIVE, 5000.5)), "accel.z[4]"),
    "rssi out of range": (_put("beacons.rssi_dbm", _floats(-70, 21)), "beacons.rssi_dbm[1]"),
    "rssi NaN": (_put("wifi.rssi_dbm", _floats(float("nan"))), "wifi.rssi_dbm[0]"),
    "tx power out of range": (
        _put("beacons.tx_power_dbm", _floats(-151, -59)),
        "beacons.tx_power_dbm[0]",
    ),
    "tx power infinite": (
        _put("beacons.tx_power_dbm", _floats(-59, float("-inf"))),
        "beacons.tx_power_dbm[1]",
    ),
    "negative time": (_put("accel.t_ms", _times(-1, 20, 30, 40, 50)), "accel.t_ms[0]"),
    "time past 2**53": (_put("wifi.t_ms", _times(2**53 + 1)), "wifi.t_ms[0]"),
    "last seen negative": (_put("wifi.last_seen_ms", _times(-5)), "wifi.last_seen_ms[0]"),
    "time backwards": (_put("accel.t_ms", _times(10, 30, 20, 40, 50)), "goes backwards"),
    "beacon time backwards": (_put("beacons.t_ms", _times(20, 10)), "goes backwards"),
    "float64 values": (_put("accel.x", np.zeros(5, "<f8").tobytes()), "accel.x has 10 values"),
    "int32 times": (_put("accel.t_ms", np.arange(5, dtype="<i4").tobytes()), "20 bytes"),
    "truncated column": (_put("accel.y", _floats(*FIVE, 1.0)[:-1]), "19 bytes"),
    "truncated times": (_put("wifi.t_ms", _times(10)[:7]), "7 bytes"),
    "misaligned column": (_put("accel.z", _floats(*FIVE)), "accel.z has 4 values for 5 times"),
    "misaligned ids": (_put("beacons.beacon_id", ["a"]), "beacons.beacon_id has 1 values"),
    "misaligned tx power": (_put("beacons.tx_power_dbm", _floats(-59)), "tx_power_dbm has 1"),
    "empty series": (_put("accel", {"t_ms": b"", "x": b"", "y": b"", "z": b""}), "0 times"),
    "too many in one series": (
        _put(
            "accel",
            {
                k: np.zeros(MAX_READINGS_PER_BATCH + 1, "<i8" if k == "t_ms" else "<f4").tobytes()
                for k in ("t_ms", "x", "y", "z")
            },
        ),
        "2001 times",
    ),
    "too many in all": (
        lambda f: f.update(
            {
                name: {
                    k: np.zeros(1000, "<i8" if k == "t_ms" else "<f4").tobytes()
                    for k in ("t_ms", "x", "y", "z")
                }
                for name in ("gyro", "mag")
            }
        ),
        "over 2000",
    ),
    "no series": (lambda f: [f.pop(k) for k in ("accel", "beacons", "wifi")], "at least one"),
    "empty beacon id": (_put("beacons.beacon_id", ["a", ""]), "beacon_id"),
    "long beacon id": (_put("beacons.beacon_id", ["a", "b" * 129]), "beacon_id"),
    "number as beacon id": (_put("wifi.bssid", [7]), "wifi.bssid"),
    "list for a column": (_put("accel.x", [0.0] * 5), "accel.x"),
    "text for a column": (_put("accel.x", "zeros"), "accel.x"),
    "unknown field": (_put("pressure", {"t_ms": _times(1)}), "pressure"),
    "unknown series field": (_put("accel.w", _floats(*FIVE, 0.0)), "w"),
    "series missing a column": (lambda f: f["accel"].pop("y"), "y"),
    "series not a map": (_put("mag", [1, 2, 3]), "mag"),
    "other frame type": (_put("type", "hello"), "type"),
    "no type": (lambda f: f.pop("type"), "type"),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_a_broken_binary_frame_is_refused_with_a_reason(name: str) -> None:
    change, words = BREAKAGES[name]
    frame = copy.deepcopy(BASE)
    decode_binary_readings(msgspec.msgpack.encode(frame))  # the base frame is good
    change(frame)
    with pytest.raises(BadFrame) as refused:
        decode_binary_readings(msgspec.msgpack.encode(frame))
    assert words in refused.value.reason


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01",
        b'{"type": "readings"}',
        b"\xc1",
        msgspec.msgpack.encode([1, 2]),
        msgspec.msgpack.encode(BASE)[:-3],
    ],
    ids=["empty", "garbage", "json bytes", "reserved byte", "an array", "truncated"],
)
def test_bytes_that_are_no_readings_frame_are_refused(data: bytes) -> None:
    with pytest.raises(BadFrame) as refused:
        decode_binary_readings(data)
    assert refused.value.reason


# ---- fuzzing: a bad frame is a BadFrame, never another exception -------------------------------

msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.binary(max_size=24)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
SERIES_FIELDS = ["t_ms", "x", "y", "z", "beacon_id", "bssid", "rssi_dbm", "tx_power_dbm",
                 "last_seen_ms"]  # fmt: skip
random_series = st.fixed_dictionaries({}, optional=dict.fromkeys(SERIES_FIELDS, msgpack_values))
random_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["readings", "hello", ""])},
    optional=dict.fromkeys(["accel", "gyro", "mag", "rotation", "beacons", "wifi"], random_series),
)


def decoded_or_refused(data: bytes) -> None:
    try:
        batch = decode_binary_readings(data)
    except BadFrame as refused:
        reason = refused.reason
    else:
        assert 0 < batch.count() <= MAX_READINGS_PER_BATCH
        return
    assert reason  # any other exception fails the test
    assert reason != "binary readings frame refused"  # the bulk checks and the named ones agree


@settings(max_examples=300, deadline=None)
@given(frame=random_frames)
def test_random_binary_frames_are_decoded_or_refused_with_a_reason(frame: Frame) -> None:
    decoded_or_refused(msgspec.msgpack.encode(frame))


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, 10_000), byte=st.integers(0, 255), cut=st.integers(0, 10_000))
def test_a_good_frame_with_a_byte_changed_or_cut_short_is_decoded_or_refused(
    position: int, byte: int, cut: int
) -> None:
    data = bytearray(msgspec.msgpack.encode(BASE))
    data[position % len(data)] = byte
    decoded_or_refused(bytes(data[: max(1, cut % (len(data) + 1))]))


# ---- the leaner bulk checks (session 5) against session 4's ------------------------------------


def outcome(decode: Callable[[bytes], ReadingsBatch], data: bytes) -> tuple[Any, ...]:
    """What a decoder makes of the bytes: the batch (as lists, with its cached figures and its
    columns' dtypes), or the refusal's reason."""
    try:
        batch = decode(data)
    except BadFrame as refused:
        return ("refused", refused.reason)
    dtypes = [(name, key, getattr(column, "dtype", None))
              for name, series in batch.series().items()
              for key, column in series.__dict__.items()]  # fmt: skip
    return ("batch", list_columns(batch), batch.count(), batch.time_span(), dtypes)


def both_outcomes(data: bytes) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return outcome(decode_binary_readings, data), outcome(session4.decode_binary_readings, data)


def test_the_lean_decoder_gives_session_4s_batch_for_every_phone_frame(
    phone_frames: list[Frame],
) -> None:
    with_nan_power = copy.deepcopy(phone_frames[0])
    with_nan_power["beacons"]["tx_power_dbm"][0] = None
    frames = [binary_readings_frame(f) for f in [*phone_frames, with_nan_power]]
    for data in [*frames, msgspec.msgpack.encode(BASE)]:
        ours, theirs = both_outcomes(data)
        assert ours[0] == "batch"
        assert ours == theirs


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_the_lean_decoder_refuses_each_broken_frame_with_session_4s_reason(name: str) -> None:
    change, _ = BREAKAGES[name]
    frame = copy.deepcopy(BASE)
    change(frame)
    ours, theirs = both_outcomes(msgspec.msgpack.encode(frame))
    assert ours[0] == "refused"
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(frame=random_frames)
def test_random_frames_get_the_same_outcome_from_both_decoders(frame: Frame) -> None:
    data = msgspec.msgpack.encode(frame)
    ours, theirs = both_outcomes(data)
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, 10_000), byte=st.integers(0, 255), cut=st.integers(0, 10_000))
def test_a_changed_or_cut_frame_gets_the_same_outcome_from_both_decoders(
    position: int, byte: int, cut: int
) -> None:
    data = bytearray(msgspec.msgpack.encode(BASE))
    data[position % len(data)] = byte
    data = bytes(data[: max(1, cut % (len(data) + 1))])
    ours, theirs = both_outcomes(data)
    assert ours == theirs


# Columns whose values a phone may well send, good or bad, for the fuzzer below: good times in
# order, times out of order or out of range, floats in and out of each kind's bounds.
good_times = st.lists(st.integers(0, 2**53), min_size=1, max_size=6).map(sorted)
any_times = st.lists(st.integers(-(2**63), 2**63 - 1), min_size=0, max_size=6)
float_values = st.floats(width=32) | st.sampled_from([5000.0, -5000.0, 20.0, -150.0, 20.5, -150.5])


@st.composite
def numeric_frames(draw: st.DrawFn) -> bytes:
    """A frame of every series with columns of plausible lengths and edge values."""
    frame: Frame = {"type": "readings"}
    for name in draw(st.sets(st.sampled_from(["accel", "gyro", "beacons", "wifi"]), min_size=1)):
        t_ms = draw(st.one_of(good_times, any_times))
        n = len(t_ms) + draw(st.sampled_from([0, 0, 0, 1, -1]))
        floats = st.lists(float_values, min_size=max(n, 0), max_size=max(n, 0))
        series: Frame = {"t_ms": np.array(t_ms, "<i8").tobytes()}
        if name in ("accel", "gyro"):
            series.update({axis: np.array(draw(floats), "<f4").tobytes() for axis in "xyz"})
        elif name == "beacons":
            series["beacon_id"] = ["b"] * len(t_ms)
            series["rssi_dbm"] = np.array(draw(floats), "<f4").tobytes()
            if draw(st.booleans()):
                powers = draw(st.lists(float_values | st.just(float("nan")),
                                       min_size=len(t_ms), max_size=len(t_ms)))  # fmt: skip
                series["tx_power_dbm"] = np.array(powers, "<f4").tobytes()
        else:
            series["bssid"] = ["w"] * len(t_ms)
            series["rssi_dbm"] = np.array(draw(floats), "<f4").tobytes()
            series["last_seen_ms"] = np.array(draw(any_times | good_times), "<i8").tobytes()
        frame[name] = series
    return msgspec.msgpack.encode(frame)


@settings(max_examples=500, deadline=None)
@given(data=numeric_frames())
def test_frames_with_edge_values_get_the_same_outcome_from_both_decoders(data: bytes) -> None:
    ours, theirs = both_outcomes(data)
    assert ours == theirs


def tracked_from(root: object) -> int:
    """How many objects the garbage collector tracks among those reachable from ``root``, classes
    and what they lead to (modules, functions) left out."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or not gc.is_tracked(obj) or isinstance(obj, type):
            continue
        seen.add(id(obj))
        todo += gc.get_referents(obj)
    return len(seen)


def test_a_queued_binary_frame_holds_few_objects_the_collector_walks(
    phone_frames: list[Frame],
) -> None:
    # A frame waits on the event loop for its tick: at 5,000 phones thousands wait, and every
    # young pass of the collector walks what they hold. Its columns are bytes (never tracked);
    # memoryview columns made it 50–56 objects, now 12 (docs/server.md, "Session 9").
    for frame in phone_frames:
        deferred = decode_binary_deferred(binary_readings_frame(frame))
        assert tracked_from(deferred) <= 16
        assert deferred.layout.times
        assert not any(gc.is_tracked(c) for c in deferred.layout.times)
