"""Binary readings frames handled as they arrive on the phone port (``ShopperConnection._direct``,
``PicowsSocket.take_binary``): the same answers as the coroutine path, in the order the frames
came, offers and refusals as before, and nothing lost when the phone leaves at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from server.batch_tracking import StoreBatchTrackers
from server.database import Database
from server.realtime.limits import FRAME_BURST
from server.realtime.shopper import ShopperConnection
from server.tables import RawReadingBatch
from simulator import demo_store, walk_windows
from simulator.wire import binary_readings_frame
from tests.server.harness import (
    LiveServer,
    Phone,
    Staff,
    add_campaign,
    eventually,
    now_ms,
    raw_frames_of,
    settings_for,
)
from tests.server.test_batched_tracking import (  # noqa: F401 (the fixture)
    SHELVES,
    batched,
    more_shoppers,
    shelf_walk,
)
from tests.server.test_binary_readings_socket import batches_answered
from tests.server.test_positioning_wired import readings_frame, seed_demo_store, simulated_visit
from tests.server.test_readings_binary import as_float32
from tests.server.test_shopper_socket import app_open


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The type of every frame that went through ``ShopperConnection._handle`` (the coroutine
    path), in order."""
    seen: list[str] = []
    handle = ShopperConnection._handle

    async def spy(self: ShopperConnection, connected: Any, frame: Any) -> None:
        seen.append(frame.type)
        await handle(self, connected, frame)

    monkeypatch.setattr(ShopperConnection, "_handle", spy)
    return seen


def test_binary_batches_skip_the_coroutine_path_on_the_phone_port_with_the_same_answers(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
    handled: list[str],
) -> None:
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    on_uvicorn, on_phone_port = more_shoppers(staff, store, 2)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[1], 11, now_ms() - 60_000)
    frames = [binary_readings_frame(as_float32(f)) for f in walk[:12]]
    answers = {}
    for url, shopper in ((server.ws_url, on_uvicorn), (server.phone_ws_url, on_phone_port)):
        handled.clear()
        with Phone.connect(url) as phone:
            phone.hello(shopper, answers="position")
            answers[url] = batches_answered(phone, frames)
        answers[url + " handled"] = list(handled)
    assert answers[server.ws_url + " handled"] == ["readings"] * len(frames)
    # Every batch taken as it arrived but perhaps the first: one that comes before the socket
    # serves (the hello's offers replayed first) waits in the inbox for ``serve``.
    assert answers[server.phone_ws_url + " handled"] in ([], ["readings"])
    # Two shoppers on the same walk, one row each: the same answers, frame for frame.
    assert answers[server.phone_ws_url] == answers[server.ws_url]
    assert sum(a[0]["type"] == "position" for a in answers[server.ws_url]) >= 8


def test_a_frame_sent_behind_a_binary_batch_is_answered_after_it(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    """The app event and the bad frame behind a batch wait for the batch's answer (the runner's
    tick, ≥ 20 ms), as they would behind the coroutine path: answers come in the frames' order."""
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[0], 5, now_ms() - 60_000)
    with Phone.connect(server.phone_ws_url) as phone:
        phone.hello(store, answers="position")
        for k, frame in enumerate(walk[:6]):
            phone.ws.send(binary_readings_frame(as_float32(frame)))
            phone.send(app_open())
            phone.send({"type": "nonsense"})
            got = [phone.recv() for _ in range(3)]
            assert "accepted" in got[0], (k, got)
            assert [g["type"] for g in got[1:]] == ["event_ack", "error"], (k, got)
            assert got[2]["code"] == "bad_frame"


def test_binary_frames_over_the_rate_are_refused_on_the_phone_port_as_on_uvicorns(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    shoppers = more_shoppers(staff, store, 2)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[0], 5, now_ms() - 60_000)
    frame = binary_readings_frame(as_float32(walk[0]))
    # Each frame waits for the last one's tick (≥ 20 ms), so the phone sends faster than the
    # rate (20 a second) refills only once the burst is spent: send four bursts' worth.
    sent = 4 * int(FRAME_BURST)
    kinds = {}
    for url, shopper in zip((server.ws_url, server.phone_ws_url), shoppers, strict=True):
        with Phone.connect(url) as phone:
            phone.hello(shopper, answers="position")
            for _ in range(sent):
                phone.ws.send(frame)
            got = [phone.recv() for _ in range(sent)]
        answered = sum("accepted" in g for g in got)
        refused = sum(g.get("code") == "rate_limited" for g in got)
        kinds[url] = (answered, refused)
        assert answered + refused == sent, got
        assert FRAME_BURST <= answered < sent  # the burst, and what the rate refilled meanwhile


def test_a_batch_sent_just_before_the_phone_leaves_is_positioned_and_kept(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    """The phone closes right behind its batch: the leave waits for the batch's tick, so the
    frame is stored and the row freed only after it was pushed."""
    server, trackers = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[2], 7, now_ms() - 60_000)
    frames = [binary_readings_frame(as_float32(f)) for f in walk[:3]]
    with Phone.connect(server.phone_ws_url) as phone:
        visit_id = phone.hello(store, answers="position")["visit_id"]
        for frame in frames:
            phone.ws.send(frame)
    database = Database.connect(server.server.config.app.state.runtime.settings.database_url)

    def stored() -> list[bytes | str]:
        with database.session() as session:
            query = select(RawReadingBatch).where(RawReadingBatch.visit_id == visit_id)
            return [f.frame for f in raw_frames_of(session.scalars(query).all())]

    kept = eventually(lambda: len(stored()) == len(frames) and stored())
    database.dispose()
    assert sorted(kept) == sorted(frames)
    batch = trackers.store_batch(store.id)
    assert batch is not None
    assert eventually(lambda: len(batch.tracker) == 0)


@pytest.fixture
def batched_real(database_url: str) -> Iterator[LiveServer]:
    """The real cores with the batched tracker, and the phone port."""
    settings = settings_for(database_url, tracker="batched", phone_port=0)
    with LiveServer(settings) as server:
        yield server


def test_an_offer_triggered_by_a_direct_batch_reaches_the_phone_once(
    batched_real: LiveServer,
) -> None:
    """A step with offers is answered by a task (the offers published and awaited): the
    campaign's offer arrives once, behind the positions that entered its zone."""
    visit = simulated_visit(now_ms() - 90_000)
    staff = Staff(batched_real.http_url)
    store = seed_demo_store(staff, visit.store, "demo-walker-direct")
    campaign = add_campaign(staff, store, {"context": {"event": "enter", "zone_ids": ["aisles"]},
                                           "content": {"title": "Fresh this week"}})  # fmt: skip
    staff.http.close()
    received: list[dict[str, Any]] = []
    with Phone.connect(batched_real.phone_ws_url) as phone:
        assert phone.hello(store, answers="position")["positioning"] == "server"
        sent = 0
        for _t1, rows in walk_windows(visit.trajectory, visit.phone):
            phone.ws.send(binary_readings_frame(as_float32(readings_frame(rows))))
            sent += 1
            time.sleep(0.06)  # under the socket's 20 frames/s
        answered = 0
        while answered < sent:
            frame = phone.recv()
            answered += "accepted" in frame
            received.append(frame)
        received += phone.nothing_more({"position", "offer"}, 1.0)
    offers = [f for f in received if f["type"] == "offer"]
    assert [(o["campaign_id"], o["zone_id"]) for o in offers] == [(campaign, "aisles")]
    entered = next(i for i, f in enumerate(received) if f.get("zone_id") == "aisles")
    assert entered < received.index(offers[0])
