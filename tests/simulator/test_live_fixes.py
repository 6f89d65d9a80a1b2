"""A simulated app that positions itself (``LiveSettings.send_fixes``): fixes, not readings."""

from __future__ import annotations

from pathlib import Path

from server.database import Database
from simulator.live import LiveSettings, load_cast
from tests.server.harness import LiveServer
from tests.simulator.test_live_server import SEED, run, seeded, store_folder  # noqa: F401


def test_a_self_positioning_phone_sends_fixes_and_the_server_places_it_exactly(
    store_folder: Path,  # noqa: F811
    seeded: tuple[LiveServer, Database, dict],  # noqa: F811
) -> None:
    server, _database, tokens = seeded
    cast = load_cast(str(store_folder), 1, SEED, max_stops=2)
    stats = run(server, cast, tokens, LiveSettings(speed=15, max_visit_s=20, send_fixes=True))
    (phone,) = stats.phones
    assert phone.finished
    assert phone.errors == []
    assert phone.batches == 20  # one fix a simulated second
    assert phone.samples_sent == 0  # no sensor readings at all
    assert phone.ack_latency_ms == []  # fixes are answered by positions, not readings_acks
    assert phone.batches_unacked == 0
    assert len(phone.position_error_m) == 20
    # The server's position is the fix: the true pose, to the rounding of JSON floats.
    assert max(phone.position_error_m) < 1e-6
