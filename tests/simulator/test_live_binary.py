"""The simulated app's wire by default: readings as binary frames (``LiveSettings.binary_readings``)
and one answer frame a batch (``LiveSettings.ack_in_position``: hello ``answers: position``); JSON
text and the two answer frames stay supported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from server.database import Database
from server.tables import RawReadingBatch
from simulator.live import LiveSettings, PhoneStats, load_cast
from simulator.wire import hello_frame
from tests.server.harness import LiveServer, eventually, raw_frames_of
from tests.simulator.test_live_server import SEED, run, seeded, store_folder  # noqa: F401


def raw_frames(database: Database) -> list[str | bytes]:
    with database.session() as session:
        return [f.frame for f in raw_frames_of(session.scalars(select(RawReadingBatch)))]


def assert_acked_and_positioned(phone: PhoneStats) -> None:
    assert phone.finished
    assert phone.errors == []
    assert phone.batches >= 19
    assert phone.samples_sent > 1000  # 50 Hz IMU and the beacons, every second
    assert phone.batches_unacked == 0  # every batch acknowledged
    assert len(phone.ack_latency_ms) == phone.batches
    assert phone.samples_accepted == phone.samples_sent
    assert phone.position_error_m  # positioned from the readings


def test_the_default_phone_sends_binary_frames_acked_by_their_position(
    store_folder: Path,  # noqa: F811
    seeded: tuple[LiveServer, Database, dict],  # noqa: F811
) -> None:
    server, database, tokens = seeded
    cast = load_cast(str(store_folder), 1, SEED, max_stops=2)
    (phone,) = run(server, cast, tokens, LiveSettings(speed=15, max_visit_s=20)).phones
    assert_acked_and_positioned(phone)
    # A batch with a position is acked by it; the others (standing still) by a readings_ack.
    assert 0 < phone.acks_in_position <= phone.batches
    frames = eventually(lambda: len(raw_frames(database)) >= phone.batches and raw_frames(database))
    assert frames
    assert all(isinstance(frame, bytes) for frame in frames)  # kept as received: binary


def test_a_phone_sending_json_text_with_two_answers_is_acked_and_positioned_alike(
    store_folder: Path,  # noqa: F811
    seeded: tuple[LiveServer, Database, dict],  # noqa: F811
) -> None:
    server, database, tokens = seeded
    cast = load_cast(str(store_folder), 1, SEED, max_stops=2)
    settings = LiveSettings(speed=15, max_visit_s=20, binary_readings=False, ack_in_position=False)
    (phone,) = run(server, cast, tokens, settings).phones
    assert_acked_and_positioned(phone)
    assert phone.acks_in_position == 0  # every batch got its readings_ack
    frames = eventually(lambda: len(raw_frames(database)) >= phone.batches and raw_frames(database))
    assert frames
    assert all(isinstance(frame, str) for frame in frames)


def test_the_hello_asks_for_position_answers_only_when_told() -> None:
    plain = hello_frame("token", 3, "1.0", ("signage",), None)
    assert "answers" not in plain
    assert hello_frame("token", 3, "1.0", ("signage",), 4, "position") == {
        **plain, "last_seen_seq": 4, "answers": "position"}  # fmt: skip
