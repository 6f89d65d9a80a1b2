"""A tick's binary frames checked together (``server.tick_readings``) give each good frame the
arrays ``sensor_batch`` makes of its one-by-one decoded batch, and each bad frame the reason
``decode_binary_readings`` gives it, whatever the other frames of the tick."""

from __future__ import annotations

import copy

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from positioning.batch_input import SensorBatch, Series3
from server.realtime.framed_socket import BadFrame
from server.realtime.readings_binary import (
    BinaryReadings,
    decode_binary_deferred,
    decode_binary_readings,
)
from server.tick_readings import checked_together, sensor_batch
from simulator.wire import binary_readings_frame
from tests.server.test_readings_binary import (  # noqa: F401 (the fixture)
    BASE,
    BREAKAGES,
    Frame,
    phone_frames,
    random_frames,
)


def assert_same_series(ours: Series3, theirs: Series3) -> None:
    for a, b in ((ours.t_ms, theirs.t_ms), (ours.xyz, theirs.xyz)):
        assert a.dtype == b.dtype
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # exactly: NaN nowhere, float32 widened alike


def assert_same_arrays(ours: SensorBatch, theirs: SensorBatch) -> None:
    assert ours.latest_ms == theirs.latest_ms
    for name in ("accel", "gyro", "rotation"):
        assert_same_series(getattr(ours, name), getattr(theirs, name))
    assert list(ours.beacon_id) == list(theirs.beacon_id)
    assert ours.beacon_rssi_dbm.dtype == theirs.beacon_rssi_dbm.dtype
    np.testing.assert_array_equal(ours.beacon_rssi_dbm, theirs.beacon_rssi_dbm)


def one_by_one(data: bytes) -> SensorBatch | str:
    """Today's path: the frame decoded and checked alone, then ``sensor_batch``; or the reason."""
    try:
        return sensor_batch(decode_binary_readings(data))
    except BadFrame as refused:
        return refused.reason


def together(frames: list[bytes]) -> list[SensorBatch | str]:
    """The tick's path: each frame's per-frame checks, then the tick's numbers all at once."""
    out: list[SensorBatch | str] = []
    deferred: list[tuple[int, BinaryReadings]] = []
    for data in frames:
        try:
            deferred.append((len(out), decode_binary_deferred(data)))
            out.append("")
        except BadFrame as refused:
            out.append(refused.reason)
    checked = checked_together([frame for _, frame in deferred])
    for (k, _), result in zip(deferred, checked, strict=True):
        out[k] = result.reason if isinstance(result, BadFrame) else result
    return out


def assert_same_outcomes(frames: list[bytes]) -> None:
    for data, ours in zip(frames, together(frames), strict=True):
        theirs = one_by_one(data)
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            assert isinstance(ours, SensorBatch)
            assert_same_arrays(ours, theirs)


def test_a_tick_of_phone_frames_gives_each_the_arrays_of_its_batch(
    phone_frames: list[Frame],  # noqa: F811 (the imported fixture)
) -> None:
    with_nan_power = copy.deepcopy(phone_frames[0])
    with_nan_power["beacons"]["tx_power_dbm"][0] = None
    frames = [binary_readings_frame(f) for f in [*phone_frames, with_nan_power]]
    frames.append(msgspec.msgpack.encode(BASE))  # with Wi-Fi and a magnetometer-free layout
    found = together(frames)
    assert all(isinstance(f, SensorBatch) for f in found)
    assert_same_outcomes(frames)
    for data in frames:  # what the socket and the raw store read before the tick
        deferred, batch = decode_binary_deferred(data), decode_binary_readings(data)
        assert (deferred.count(), deferred.time_span()) == (batch.count(), batch.time_span())


def test_a_tick_mixing_good_and_broken_frames_refuses_each_broken_one_with_its_reason(
    phone_frames: list[Frame],  # noqa: F811 (the imported fixture)
) -> None:
    good = [binary_readings_frame(f) for f in phone_frames[:6]]
    broken = []
    for change, _ in BREAKAGES.values():
        frame = copy.deepcopy(BASE)
        change(frame)
        broken.append(msgspec.msgpack.encode(frame))
    # Good and broken frames alternate (several shoppers' frames in one tick).
    tick = [data for pair in zip(broken, good * len(broken), strict=False) for data in pair]
    found = together(tick)
    assert [isinstance(f, SensorBatch) for f in found] == [False, True] * len(broken)
    for (_, words), reason in zip(BREAKAGES.values(), found[::2], strict=True):
        assert isinstance(reason, str)
        assert words in reason
    assert_same_outcomes(tick)


NUMBERS = ["NaN", "infinity", "sensor out of range", "rssi out of range", "rssi NaN",
           "tx power out of range", "tx power infinite", "negative time", "time past 2**53",
           "last seen negative", "time backwards", "beacon time backwards"]  # fmt: skip


@pytest.mark.parametrize("name", NUMBERS)
def test_a_numbers_breakage_is_found_by_the_tick_not_by_the_per_frame_checks(name: str) -> None:
    change, words = BREAKAGES[name]
    frame = copy.deepcopy(BASE)
    change(frame)
    deferred = decode_binary_deferred(msgspec.msgpack.encode(frame))  # lengths hold: no refusal
    (result,) = checked_together([deferred])
    assert isinstance(result, BadFrame)
    assert words in result.reason


@settings(max_examples=200, deadline=None)
@given(frames=st.lists(random_frames, min_size=1, max_size=5))
def test_random_frames_in_one_tick_get_the_one_by_one_outcome(frames: list[Frame]) -> None:
    assert_same_outcomes(
        [msgspec.msgpack.encode(BASE)] + [msgspec.msgpack.encode(f) for f in frames]
    )


@settings(max_examples=200, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.integers(0, 10_000)),
        min_size=1,
        max_size=5,
    )
)
def test_changed_or_cut_frames_in_one_tick_get_the_one_by_one_outcome(
    changes: list[tuple[int, int, int]],
) -> None:
    base = msgspec.msgpack.encode(BASE)
    frames = [base]
    for position, byte, cut in changes:
        data = bytearray(base)
        data[position % len(data)] = byte
        frames += (bytes(data[: max(1, cut % (len(data) + 1))]), base)
    assert_same_outcomes(frames)


def test_an_empty_tick_checks_nothing() -> None:
    assert checked_together([]) == []
