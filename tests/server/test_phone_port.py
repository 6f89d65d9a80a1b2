"""The picows phone port over real sockets: the shopper socket's batches answered there, the
transport's own rules (paths, fragments, frame limits, UTF-8, pings, flooding, close codes) and
shutdown. The shopper and screen sockets' behaviour on it is also asked by their own tests,
parametrized by ``port_kind``."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from picows import WSCloseCode, WSFrame, WSMsgType
from picows.picows import _make_test_ws_frame
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from server.batch_tracking import StoreBatchTrackers
from server.realtime.framed_socket import FramedSocket
from server.realtime.limits import MAX_REFUSED_IN_A_ROW, TRANSPORT_MAX_FRAME_BYTES
from server.realtime.picows_transport import INBOX_PAUSE_AT, PicowsSocket
from simulator import demo_store
from simulator.wire import binary_readings_frame
from tests.server.fakes import campaign_document, fake_wiring
from tests.server.harness import (
    LiveServer,
    Phone,
    Staff,
    Store,
    add_campaign,
    eventually,
    now_ms,
    seed_store,
    settings_for,
)
from tests.server.test_batched_tracking import (  # noqa: F401 (the fixture)
    SHELVES,
    batched,
    more_shoppers,
    shelf_walk,
)
from tests.server.test_binary_readings_socket import batches_answered
from tests.server.test_positioning_wired import seed_demo_store
from tests.server.test_readings_binary import as_float32
from tests.server.test_shopper_socket import app_open, fix, offers_in_db


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


def closed_with(phone: Phone) -> int | None:
    """The close code the server sent, once its close arrives (frames before it skipped)."""
    try:
        while True:
            phone.recv()
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


def sent_then_closed_with(phone: Phone, message: str | Iterator[str]) -> int | None:
    """``closed_with`` after sending ``message``, which the close may cut short."""
    try:
        phone.ws.send(message)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code
    return closed_with(phone)


def test_binary_readings_batches_are_answered_by_positions_on_the_phone_port(
    batched: tuple[LiveServer, StoreBatchTrackers],  # noqa: F811 (the imported fixture)
) -> None:
    server, _ = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    (shopper,) = more_shoppers(staff, store, 1)
    staff.http.close()
    _, walk = shelf_walk(sim_store, SHELVES[1], 11, now_ms() - 60_000)
    frames = [binary_readings_frame(as_float32(f)) for f in walk[:15]]
    with Phone.connect(server.phone_ws_url) as phone:
        assert phone.hello(shopper, answers="position")["positioning"] == "server"
        answers = batches_answered(phone, frames)
    assert len(answers) == len(frames)  # every batch answered, in order
    positioned = [a[0] for a in answers if a[0]["type"] == "position"]
    assert len(positioned) >= 10
    assert all(p["accepted"] > 0 and p["positioning"] == "server" for p in positioned)


@pytest.mark.parametrize("path", ["/ws/live", "/ws/nope", "/"])
def test_a_path_the_phone_port_does_not_serve_is_refused_with_404(
    live: LiveServer, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live.phone_ws_url}{path}", open_timeout=10)
    assert refused.value.response.status_code == 404


def test_a_query_string_does_not_change_the_route(live: LiveServer, store: Store) -> None:
    with connect(f"{live.phone_ws_url}/ws/shopper?app=1", open_timeout=10) as ws:
        assert Phone(ws).hello(store)["type"] == "welcome"


def test_a_fragmented_message_is_received_as_one_frame(live: LiveServer, store: Store) -> None:
    with Phone.connect(live.phone_ws_url) as phone:
        phone.hello(store)
        whole = json.dumps(fix(35, 15))
        phone.ws.send(iter([whole[:10], whole[10:30], whole[30:]]))
        position = phone.recv_type("position")
        assert (position["x"], position["y"]) == (35, 15)


@pytest.mark.parametrize("fragmented", [False, True])
def test_a_message_over_the_transport_limit_closes_1009(
    live: LiveServer, store: Store, fragmented: bool
) -> None:
    with Phone.connect(live.phone_ws_url) as phone:
        phone.hello(store)
        big = "x" * (TRANSPORT_MAX_FRAME_BYTES + 1)
        half = len(big) // 2
        message = iter([big[:half], big[half:]]) if fragmented else big
        assert sent_then_closed_with(phone, message) == 1009


def test_text_that_is_not_utf8_closes_1007(live: LiveServer, store: Store) -> None:
    with Phone.connect(live.phone_ws_url) as phone:
        phone.hello(store)
        phone.ws.send(b'{"type": "\xff"}', text=True)
        assert closed_with(phone) == 1007


def test_pings_are_answered(live: LiveServer, store: Store) -> None:
    with Phone.connect(live.phone_ws_url) as phone:
        phone.hello(store)
        assert phone.ws.ping().wait(10)
        phone.send(fix(35, 15))  # and frames still flow
        assert phone.recv_type("position")["x"] == 35


def test_a_flood_of_refused_frames_is_cut_off_with_1008(live: LiveServer, port_kind: str) -> None:
    # Binary frames on the screen socket are refused whatever the rate (a refused frame that a
    # refilled token lets through would start the count again: timing, not behaviour).
    with connect(f"{live.url_of(port_kind)}/ws/screen", open_timeout=10) as ws:
        screen = Phone(ws)
        for _ in range(MAX_REFUSED_IN_A_ROW):
            ws.send(b"\x00")
        assert {screen.recv()["code"] for _ in range(MAX_REFUSED_IN_A_ROW)} <= {
            "bad_frame", "rate_limited"}  # fmt: skip
        ws.send(b"\x00")  # one more refused in a row: cut off
        assert closed_with(screen) == 1008


def test_an_ack_sent_just_before_the_app_leaves_is_recorded(
    live: LiveServer, store: Store, admin: Staff, port_kind: str
) -> None:
    add_campaign(admin, store, campaign_document("app_open", "n1"))
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        phone.send(app_open())
        offer = phone.recv_type("offer")
        phone.send({"type": "ack", "seq": offer["seq"]})
    # The close followed the ack at once; the ack still counts.
    assert eventually(lambda: offers_in_db(live, store.customer_id)[0].status == "acked")


def test_shutting_the_server_down_closes_phone_sockets_with_1012(database_url: str) -> None:
    server = LiveServer(settings_for(database_url, phone_port=0), fake_wiring()).start()
    stopped = False
    try:
        staff = Staff(server.http_url)
        store = seed_store(staff)
        staff.http.close()
        with Phone.connect(server.phone_ws_url) as phone:
            welcome = phone.hello(store)
            stopper = threading.Thread(target=server.stop)
            stopper.start()
            code = closed_with(phone)
            stopper.join(timeout=30)
            stopped = not stopper.is_alive()
    finally:
        if not stopped:
            server.stop()
    assert welcome["visit_id"]
    assert code == 1012
    assert stopped
    assert not server.thread.is_alive()


class FakeSocket:
    """What ``PicowsSocket`` uses of picows' ``WSTransport`` and the transport under it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []
        self.paused = False
        self.is_close_frame_sent = False
        self.underlying_transport = self

    def pause_reading(self) -> None:
        assert not self.paused, "paused twice"
        self.paused = True

    def resume_reading(self) -> None:
        assert self.paused, "resumed while reading"
        self.paused = False

    def send(self, kind: WSMsgType, payload: bytes) -> None:
        self.sent.append((kind.name, payload))

    def send_close(self, code: WSCloseCode, reason: bytes) -> None:
        self.is_close_frame_sent = True
        self.sent.append(("CLOSE", code.value))

    def disconnect(self) -> None:
        self.sent.append(("DISCONNECT", None))


def frame(kind: WSMsgType, payload: bytes, fin: bool = True) -> WSFrame:
    return _make_test_ws_frame(kind, payload, fin, False)


def test_messages_queue_in_order_reading_pauses_and_the_close_is_answered_when_read() -> None:
    async def scenario() -> tuple[list[object], list[bool], bool, list[tuple[str, object]]]:
        served: list[object] = []

        async def serve(socket: FramedSocket) -> None:
            await started.wait()
            try:
                while True:
                    served.append(await socket.transport.receive())
                    paused.append(fake.paused)
            except WebSocketDisconnect as left:
                served.append(left.code)

        started, paused, fake = asyncio.Event(), [], FakeSocket()
        socket = PicowsSocket(serve, set())
        socket.on_ws_connected(fake)  # type: ignore[arg-type]
        for i in range(INBOX_PAUSE_AT):  # the app is busy: they wait, then reading pauses
            socket.on_ws_frame(fake, frame(WSMsgType.TEXT, f"m{i}".encode()))  # type: ignore[arg-type]
        socket.on_ws_frame(fake, frame(WSMsgType.BINARY, b"\x01", fin=False))  # type: ignore[arg-type]
        socket.on_ws_frame(fake, frame(WSMsgType.CONTINUATION, b"\x02"))  # type: ignore[arg-type]
        close = (4001).to_bytes(2, "big") + b"bye"
        socket.on_ws_frame(fake, frame(WSMsgType.CLOSE, close))  # type: ignore[arg-type]
        assert fake.paused
        assert fake.sent == []  # the close is answered once the app reads up to it
        started.set()
        assert socket.task is not None
        await socket.task
        return served, paused, fake.paused, fake.sent

    served, paused, still_paused, sent = asyncio.run(scenario())
    assert served == [*(f"m{i}" for i in range(INBOX_PAUSE_AT)), b"\x01\x02", 4001]
    assert paused == [True] * (INBOX_PAUSE_AT + 1)  # until the inbox is empty
    assert not still_paused  # resumed once drained
    assert sent == [("CLOSE", 4001), ("DISCONNECT", None)]
