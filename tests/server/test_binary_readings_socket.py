"""Binary readings frames over a real ``/ws/shopper``: the batched runner positions them exactly as
the JSON frames of the same readings, bad ones get an error frame on a connection that stays
usable, and the raw store keeps them byte for byte."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgspec
import numpy as np
import pytest
from sqlalchemy import select

from positioning.batch_tracker import BatchTracker
from server.batch_tracking import StoreBatchTrackers, sensor_batch
from server.database import Database
from server.realtime.frames import ReadingsBatch
from server.realtime.limits import MAX_FRAME_BYTES
from server.tables import RawReadingBatch
from simulator import demo_store
from simulator.wire import binary_readings_frame
from tests.server.harness import (
    LiveServer,
    Phone,
    Staff,
    Store,
    eventually,
    now_ms,
    raw_frames_of,
    seed_store,
)
from tests.server.test_batched_tracking import (  # noqa: F401 (the fixture)
    SHELVES,
    batched,
    more_shoppers,
    shelf_walk,
    stream,
)
from tests.server.test_live_feed_frames import live_feed, recv
from tests.server.test_positioning_wired import seed_demo_store
from tests.server.test_readings_binary import as_float32


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


def positions(received: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    return [(a["t_ms"], a["x"], a["y"]) for a in received if a["type"] == "position"]


def test_binary_and_json_frames_of_the_same_readings_give_the_same_positions(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    server, trackers = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    as_json, as_binary = more_shoppers(staff, store, 2)
    staff.http.close()
    _, frames = shelf_walk(sim_store, SHELVES[2], 7, now_ms() - 60_000)
    frames = [as_float32(f) for f in frames[:15]]  # what a phone's float32 sensors read
    received = {}
    sends: list[tuple[str, Store, list[dict[str, Any] | str | bytes]]] = [
        ("json", as_json, list(frames)),
        ("binary", as_binary, [binary_readings_frame(f) for f in frames]),
    ]
    for name, who, to_send in sends:
        with Phone.connect(server.ws_url) as phone:
            phone.hello(who)
            received[name] = stream(phone, to_send)
    acks = [[a for a in received[name] if a["type"] == "readings_ack"] for name in received]
    assert acks[0] == acks[1]
    assert len(acks[0]) == len(frames)
    # The JSON shopper's positions are those of a tracker fed the frames offline; the binary
    # shopper's are the same, to float precision.
    radio = trackers.radio(store.id)
    assert radio is not None
    alone = BatchTracker(radio.beacon_map, radio.grid, trackers.settings.weinberg_k)
    row = alone.add()
    batches = [sensor_batch(ReadingsBatch.model_validate(f)) for f in frames]
    expected = [(e.t_ms, e.x, e.y) for b in batches for e in alone.push([row], [b])[0]]
    got_json, got_binary = positions(received["json"]), positions(received["binary"])
    assert len(got_binary) == len(got_json) == len(expected) > 5
    for a, b, e in zip(got_binary, got_json, expected, strict=True):
        assert a[0] == b[0] == e[0]
        assert a[1:] == pytest.approx(b[1:], abs=1e-9)
        assert a[1:] == pytest.approx(e[1:], abs=1e-9)


def batches_answered(phone: Phone, frames: list[bytes]) -> list[list[dict[str, Any]]]:
    """Each batch's answer frames: from the one carrying ``accepted`` (a ``readings_ack`` or, hello
    ``answers: position``, a ``position``) up to the next batch's (positions trail their ack)."""
    answers: list[list[dict[str, Any]]] = []
    for frame in frames:
        phone.ws.send(frame)
        while True:
            got = phone.recv()
            if "accepted" in got:
                answers.append([got])
                break
            answers[-1].append(got)  # a position of the previous batch
    answers[-1] += phone.nothing_more({"position"}, 0.5)
    return answers


def test_a_hello_asking_answers_position_gets_one_frame_a_batch_with_the_same_fields(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    two_frames, one_frame = more_shoppers(staff, store, 2)
    _, walk = shelf_walk(sim_store, SHELVES[1], 11, now_ms() - 60_000)
    frames = [binary_readings_frame(as_float32(f)) for f in walk[:15]]
    with live_feed(server, staff, store) as feed:
        with Phone.connect(server.ws_url) as phone:
            phone.hello(two_frames)  # no ``answers``: today's readings_ack, then positions
            plain = batches_answered(phone, frames)
        with Phone.connect(server.ws_url) as phone:
            phone.hello(one_frame, answers="position")
            combined = batches_answered(phone, frames)
        shown = 2 * (sum(map(len, plain)) - 15)  # each shopper's positions
        live_positions = [recv(feed, "position") for _ in range(shown)]
    staff.http.close()
    assert len(plain) == len(combined) == 15
    positioned = 0
    for before, after in zip(plain, combined, strict=True):
        ack, positions = before[0], before[1:]
        assert ack["type"] == "readings_ack"
        assert all(p["type"] == "position" for p in positions)
        if not positions:  # nothing to carry the ack: the readings_ack, as without the option
            assert after == [ack]
            continue
        positioned += 1
        # One frame fewer: the first position carries the ack's fields, nothing else changes.
        assert len(after) == len(before) - 1
        first = dict(after[0])
        assert (first.pop("accepted"), first.pop("positioning")) == (
            ack["accepted"], ack["positioning"])  # fmt: skip
        assert [first, *after[1:]] == positions
        assert all("accepted" not in p for p in after[1:])
    assert positioned >= 10
    # The staff live feed gets the positions of both shoppers without the ack's fields.
    assert live_positions
    assert all("accepted" not in p and "positioning" not in p for p in live_positions)


def test_a_batch_without_a_position_is_still_acked_by_readings_ack_when_answers_position(
    live: LiveServer, store: Store
) -> None:
    t = now_ms()
    frame = {"type": "readings", "beacons": {"t_ms": [t], "beacon_id": ["b"], "rssi_dbm": [-70]}}
    with Phone.connect(live.ws_url) as phone:
        assert phone.hello(store, answers="position")["positioning"] == "not_wired"
        for sent in (binary_readings_frame(frame), json.dumps(frame)):
            phone.send(sent)
            assert phone.recv() == {"type": "readings_ack", "accepted": 1,
                                    "positioning": "not_wired"}  # fmt: skip
        assert phone.nothing_more({"position", "readings_ack"}) == []
        # Anything else in ``answers`` is a bad hello field, refused as such.
    with Phone.connect(live.ws_url) as phone:
        phone.send({"type": "hello", "token": store.app_token, "store_id": store.id,
                    "app_version": "1.0.0", "answers": "both"})  # fmt: skip
        error = phone.recv()
        assert (error["code"], error["type"]) == ("bad_frame", "error")
        assert "answers" in error["reason"]


def test_a_bad_binary_frame_gets_a_reason_and_the_connection_stays_usable(
    live: LiveServer, store: Store, port_kind: str
) -> None:
    t = now_ms()
    good = {"type": "readings", "beacons": {"t_ms": [t], "beacon_id": ["B_1_2_AA"],
            "rssi_dbm": [-71.0]}}  # fmt: skip
    accel = {"t_ms": np.array([t, t + 20], "<i8").tobytes(),
             "x": np.array([0.0, np.nan], "<f4").tobytes(),
             "y": np.zeros(2, "<f4").tobytes(), "z": np.zeros(2, "<f4").tobytes()}  # fmt: skip
    bad = msgspec.msgpack.encode({"type": "readings", "accel": accel})
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        phone.ws.send(bad)
        error = phone.recv_type("error")
        assert error["code"] == "bad_frame"
        assert "accel.x[1]" in error["reason"]
        phone.ws.send(b"\x93\x01\x02\x03")  # MessagePack, but an array
        assert phone.recv_type("error")["code"] == "bad_frame"
        phone.ws.send(b"\x80" + b"\x00" * (MAX_FRAME_BYTES + 1))
        assert phone.recv_type("error")["code"] == "too_large"
        old = dict(good, beacons={**good["beacons"], "t_ms": [t - 3_600_000]})
        phone.ws.send(binary_readings_frame(old))
        assert phone.recv_type("error")["code"] == "bad_timestamp"
        phone.ws.send(binary_readings_frame(good))
        assert phone.recv_type("readings_ack")["accepted"] == 1
        phone.send(good)  # and JSON text still works beside it
        assert phone.recv_type("readings_ack")["accepted"] == 1


def test_a_binary_frame_before_hello_is_told_to_say_hello(live: LiveServer, store: Store) -> None:
    t = now_ms()
    frame = {"type": "readings", "beacons": {"t_ms": [t], "beacon_id": ["b"], "rssi_dbm": [-70]}}
    with Phone.connect(live.ws_url) as phone:
        phone.ws.send(binary_readings_frame(frame))
        assert phone.recv()["code"] == "hello_first"
        phone.hello(store)


def test_binary_frames_are_kept_raw_byte_for_byte_beside_json_ones(
    live: LiveServer, store: Store
) -> None:
    t = now_ms()
    frames = [{"type": "readings", "accel": {"t_ms": [t + k * 1000 + 20 * i for i in range(50)],
               "x": [0.25] * 50, "y": [0.5] * 50, "z": [9.75] * 50}} for k in range(2)]  # fmt: skip
    data = binary_readings_frame(frames[0])
    text = json.dumps(frames[1])
    with Phone.connect(live.ws_url) as phone:
        welcome = phone.hello(store)
        phone.ws.send(data)
        phone.recv_type("readings_ack")
        phone.send(text)
        phone.recv_type("readings_ack")
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)

    def stored() -> list[tuple[int, int, str | bytes]]:
        with database.session() as session:
            query = select(RawReadingBatch).where(RawReadingBatch.visit_id == welcome["visit_id"])
            rows = session.scalars(query).all()
            return sorted((f.t_first_ms, f.n_readings, f.frame) for f in raw_frames_of(rows))

    rows = eventually(lambda: len(stored()) == 2 and stored())
    database.dispose()
    assert rows == [(t, 50, data), (t + 1000, 50, text)]


def test_bad_binary_frames_in_the_batched_runners_ticks_get_their_reason_beside_good_ones(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    """Two shoppers send their frames without waiting, so the runner's ticks hold both shoppers'
    good and bad frames: each bad one gets its ``bad_frame`` reason in its place among the
    answers, is not stored, and the good ones around it are acked."""
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    shoppers = more_shoppers(staff, store, 2)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[1], 3, now_ms() - 60_000)
    frames = [as_float32(f) for f in walk[:4]]
    not_finite = json.loads(json.dumps(frames[1]))
    not_finite["accel"]["x"][3] = float("nan")
    backwards = json.loads(json.dumps(frames[1]))
    times = backwards["gyro"]["t_ms"]
    times[1], times[2] = times[2], times[1]
    # A time before 1970 is a bad frame, not a bad timestamp (its numbers are checked first).
    negative = json.loads(json.dumps(frames[2]))
    negative["accel"]["t_ms"][0] = -1
    sends = [
        [frames[0], not_finite, frames[1], frames[2]],
        [backwards, frames[0], negative, frames[1], not_finite],
    ]
    expected = [
        [("readings_ack", ""), ("error", "accel.x[3]"), ("readings_ack", ""), ("readings_ack", "")],
        [
            ("error", "goes backwards"),
            ("readings_ack", ""),
            ("error", "accel.t_ms[0]: -1"),
            ("readings_ack", ""),
            ("error", "x[3]"),
        ],
    ]
    with contextlib.ExitStack() as stack:
        phones = [stack.enter_context(Phone.connect(server.ws_url)) for _ in shoppers]
        visits = [phone.hello(who)["visit_id"] for phone, who in zip(phones, shoppers, strict=True)]
        for phone, to_send in zip(phones, sends, strict=True):
            for frame in to_send:
                phone.ws.send(binary_readings_frame(frame))
        for phone, wanted in zip(phones, expected, strict=True):
            answers = []
            while len(answers) < len(wanted):
                got = phone.recv()
                if got["type"] == "error":
                    assert got["code"] == "bad_frame"
                    answers.append(("error", got["reason"]))
                elif got["type"] == "readings_ack":
                    answers.append(("readings_ack", ""))
            assert [kind for kind, _ in answers] == [kind for kind, _ in wanted]
            for (_, reason), (_, words) in zip(answers, wanted, strict=True):
                assert words in reason
        # The connection stays usable: a good frame after the bad one is still acked.
        phones[1].ws.send(binary_readings_frame(frames[3]))
        assert phones[1].recv_type("readings_ack")["accepted"] > 0
    database = Database.connect(server.server.config.app.state.runtime.settings.database_url)

    def stored(visit_id: int) -> list[int]:
        with database.session() as session:
            query = select(RawReadingBatch).where(RawReadingBatch.visit_id == visit_id)
            return sorted(f.t_first_ms for f in raw_frames_of(session.scalars(query).all()))

    good_first_ms = [min(min(s["t_ms"]) for s in f.values() if isinstance(s, dict)) for f in frames]
    rows = eventually(
        lambda: all(len(stored(v)) == 3 for v in visits) and [stored(v) for v in visits]
    )
    database.dispose()
    assert rows == [sorted(good_first_ms[:3]), sorted([good_first_ms[k] for k in (0, 1, 3)])]
