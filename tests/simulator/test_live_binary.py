"""A simulated app streaming its readings as binary frames (``LiveSettings.binary_readings``)."""

from __future__ import annotations

from pathlib import Path

from server.database import Database
from simulator.live import LiveSettings, load_cast
from tests.server.harness import LiveServer
from tests.simulator.test_live_server import SEED, run, seeded, store_folder  # noqa: F401


def test_a_phone_sending_binary_readings_is_acked_and_positioned_like_a_json_one(
    store_folder: Path,  # noqa: F811
    seeded: tuple[LiveServer, Database, dict],  # noqa: F811
) -> None:
    server, _database, tokens = seeded
    cast = load_cast(str(store_folder), 1, SEED, max_stops=2)
    settings = LiveSettings(speed=15, max_visit_s=20, binary_readings=True)
    stats = run(server, cast, tokens, settings)
    (phone,) = stats.phones
    assert phone.finished
    assert phone.errors == []
    assert phone.batches >= 19
    assert phone.samples_sent > 1000  # 50 Hz IMU and the beacons, every second
    assert phone.batches_unacked == 0  # every binary batch got its readings_ack
    assert len(phone.ack_latency_ms) == phone.batches
    assert phone.position_error_m  # positioned from the binary readings
