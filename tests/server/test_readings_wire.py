"""The msgspec fast path for readings frames answers exactly as pydantic's ``SHOPPER_FRAME``.

The fast path may only be narrower than pydantic: a frame it accepts must be the object pydantic
builds, and a frame it refuses goes to pydantic, so the answer (object or error reason) is
pydantic's either way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from server.realtime.frames import MAX_READINGS_PER_BATCH, SHOPPER_FRAME, ReadingsBatch
from server.realtime.readings_wire import decode_shopper_frame
from simulator.live import load_cast
from simulator.wire import readings_frames

Frame = dict[str, Any]


@pytest.fixture(scope="module")
def phone_frames() -> list[Frame]:
    """Twenty seconds of two simulated demo-store visits' readings frames, as the phones send them
    (the load mode of ``simulate live``, as ``benchmarks/server_load.py`` streams them)."""
    cast = load_cast("demo", 2, 5, 1, distinct_visits=2, max_visit_s=20.0)
    return [
        f for _, _, windows in cast.visits for _, rows in windows for f in readings_frames(rows)
    ]


def answer(decode: Callable[[str], Any], text: str) -> Any:
    """What a decoder makes of a frame: the object, or the list of problems it names."""
    try:
        return decode(text)
    except ValidationError as error:
        return [(e["type"], e["loc"], e["msg"]) for e in error.errors()]


def assert_same_answer(text: str) -> None:
    ours, pydantics = answer(decode_shopper_frame, text), answer(SHOPPER_FRAME.validate_json, text)
    assert type(ours) is type(pydantics)
    assert ours == pydantics


def test_phone_frames_decode_to_the_batch_pydantic_builds(phone_frames: list[Frame]) -> None:
    assert len(phone_frames) >= 20
    for frame in phone_frames:
        text = json.dumps(frame)
        batch = decode_shopper_frame(text)
        assert isinstance(batch, ReadingsBatch)
        assert batch == SHOPPER_FRAME.validate_json(text)
        assert batch.count() == sum(len(s.t_ms) for s in batch.series().values())
        assert batch.model_dump_json() == SHOPPER_FRAME.validate_json(text).model_dump_json()


def _set(path: str, value: Any) -> Callable[[Frame], None]:
    """Set ``frame[a][b][i]`` (path ``"a.b.i"``) to ``value``."""

    def change(frame: Frame) -> None:
        *parents, last = path.split(".")
        node: Any = frame
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return change


def _drop_last(path: str) -> Callable[[Frame], None]:
    def change(frame: Frame) -> None:
        section, column = path.split(".")
        frame[section][column].pop()

    return change


def _swap_first_times(section: str) -> Callable[[Frame], None]:
    def change(frame: Frame) -> None:
        t = frame[section]["t_ms"]
        t[0], t[1] = t[1] + 1, t[0]

    return change


def _too_many(frame: Frame) -> None:
    """Every accel column repeated so the batch is over the cap (each column alone is not)."""
    accel = frame["accel"]
    n = len(accel["t_ms"])
    reps = MAX_READINGS_PER_BATCH // n
    t_ms = [accel["t_ms"][0] + i for i in range(n * reps)]
    frame["accel"] = {"t_ms": t_ms, **{a: accel[a] * reps for a in "xyz"}}


def _only(section: str) -> Callable[[Frame], None]:
    def change(frame: Frame) -> None:
        for key in list(frame):
            if key not in ("type", section):
                del frame[key]

    return change


WIFI = {"t_ms": [1, 2], "bssid": ["a1", "b2"], "rssi_dbm": [-60, -70], "last_seen_ms": [0, 1]}

BREAKAGES: dict[str, Callable[[Frame], None]] = {
    "NaN": _set("accel.x.3", float("nan")),
    "infinity": _set("gyro.z.0", float("inf")),
    "minus infinity": _set("beacons.rssi_dbm.0", float("-inf")),
    "sensor out of range": _set("accel.y.2", 5000.5),
    "rssi out of range": _set("beacons.rssi_dbm.0", 21),
    "tx power out of range": _set("beacons.tx_power_dbm.0", -151),
    "negative time": _set("accel.t_ms.0", -1),
    "time past 2**53": _set("rotation.t_ms.0", 2**53 + 1),
    "fractional time": _set("accel.t_ms.0", 1.5),
    "whole float time (pydantic accepts)": _set("accel.t_ms.0", 1.0),
    "number as text (pydantic accepts)": _set("accel.x.0", "1.5"),
    "text for a number": _set("accel.x.0", "north"),
    "bool for a number": _set("gyro.x.0", True),
    "null in a column": _set("accel.z.1", None),
    "null tx power (allowed)": _set("beacons.tx_power_dbm.0", None),
    "null tx power column (allowed)": _set("beacons.tx_power_dbm", None),
    "empty beacon id": _set("beacons.beacon_id.0", ""),
    "long beacon id": _set("beacons.beacon_id.0", "b" * 129),
    "number as beacon id": _set("beacons.beacon_id.0", 7),
    "misaligned column": _drop_last("accel.z"),
    "misaligned beacons": _drop_last("beacons.rssi_dbm"),
    "misaligned tx power": _drop_last("beacons.tx_power_dbm"),
    "accel time backwards": _swap_first_times("accel"),
    "beacon time backwards": _swap_first_times("beacons"),
    "unknown field": _set("pressure", {"t_ms": [1], "x": [1], "y": [1], "z": [1]}),
    "unknown series field": _set("accel.w", [0.0]),
    "series missing a column": lambda frame: frame["gyro"].pop("y"),
    "empty series": _set("mag", {"t_ms": [], "x": [], "y": [], "z": []}),
    "series not an object": _set("mag", [1, 2, 3]),
    "null series (allowed)": _set("mag", None),
    "no series": _only("type"),
    "only beacons (allowed)": _only("beacons"),
    "wifi (allowed)": _set("wifi", WIFI),
    "misaligned wifi": _set("wifi", {**WIFI, "last_seen_ms": [0]}),
    "wifi time backwards": _set("wifi", {**WIFI, "t_ms": [2, 1]}),
    "too many readings": _too_many,
    "wrong type tag": _set("type", "reading"),
    "type not first (allowed)": lambda frame: frame.update({"type": frame.pop("type")}),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_every_broken_frame_gets_pydantics_answer(phone_frames: list[Frame], breakage: str) -> None:
    frame = copy.deepcopy(next(f for f in phone_frames if "beacons" in f and "rotation" in f))
    BREAKAGES[breakage](frame)
    assert_same_answer(json.dumps(frame))


IN_ORDER = '{"t_ms": [1, 2], "x": [0, 0], "y": [0, 0], "z": [0, 0]}'
BACKWARDS = '{"t_ms": [2, 1], "x": [0, 0], "y": [0, 0], "z": [0, 0]}'


@pytest.mark.parametrize(
    "text",
    [
        # A repeated key: the last one counts, and both are checked.
        f'{{"type": "readings", "accel": {BACKWARDS}, "accel": {IN_ORDER}}}',
        f'{{"type": "readings", "accel": {IN_ORDER}, "accel": {BACKWARDS}}}',
        '{"type": "readings", "accel": {"t_ms": [1], "x": [9999], "x": [1], "y": [0], "z": [0]}}',
        f'{{"type": "readings", "type": "fix", "accel": {IN_ORDER}}}',
        f'{{"type": "fix", "type": "readings", "accel": {IN_ORDER}}}',
        "not json at all",
        "[1, 2]",
        '{"type": "readings", "accel": {"t_ms": [1], "x": [NaN], "y": [0], "z": [0]}}',
        '{"type": "readings", "accel": {"t_ms": [1], "x": [1e999], "y": [0], "z": [0]}}',
        json.dumps({"type": "hello", "token": "t", "store_id": 1, "app_version": "1.0"}),
        json.dumps({"type": "ack", "seq": 3}),
        json.dumps({"type": "ack", "seq": 1, "extra": True}),
        json.dumps({"type": "bye", "t_ms": 5}),
    ],
)
def test_other_frames_get_pydantics_answer(text: str) -> None:
    assert_same_answer(text)
