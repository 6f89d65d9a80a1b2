"""The websocket transport under every socket, driven without a socket (uvicorn's protocol on a
recording transport): ``FramedSocket``'s size bound against the exact count, disconnects, close
codes, and the flow control the shopper socket relies on."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from server.realtime.asgi_transport import StarletteTransport
from server.realtime.framed_socket import CLOSE_POLICY, FramedSocket
from server.realtime.limits import MAX_FRAME_BYTES, utf8_size_over
from server.realtime.shopper import Connected, ShopperConnection
from server.runtime import Runtime

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Script = Callable[[Receive, Send], Awaitable[None]]


class RecordingTransport:
    """What uvicorn's protocol needs of a transport; keeps every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    paused = False

    def pause_reading(self) -> None:
        assert not self.paused, "paused twice"
        self.paused = True

    def resume_reading(self) -> None:
        assert self.paused, "resumed while reading"
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name in ("sockname", "peername") else default


def scripted(script: Script) -> Callable[..., Awaitable[None]]:
    """An ASGI app that accepts the connection and runs ``script``."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await script(receive, send)

    return app


async def serve_once(
    app: Callable[..., Awaitable[None]],
    client_frames: list[str | bytes],
    client_close: int | None = None,
) -> tuple[list[bytes], list[Frame]]:
    """Run ``app`` on one connection of uvicorn's protocol (a recording transport, no socket);
    the client sends ``client_frames`` once accepted, then a close with ``client_close`` if
    given. The writes after the handshake, and the frames they carry."""
    config = uvicorn.Config(app, ws_per_message_deflate=False, log_level="warning")
    config.load()
    state = ServerState()
    protocol = WebSocketsSansIOProtocol(config, state, {}, asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/ws"))
    client.send_request(client.connect())
    protocol.data_received(b"".join(client.data_to_send()))
    while not transport.writes:  # the app accepts
        await asyncio.sleep(0)
    client.receive_data(transport.writes[0])
    (response,) = client.events_received()
    assert isinstance(response, Response)
    assert response.status_code == 101
    for text in client_frames:  # bytes: sent as they are, even if not UTF-8
        client.send_text(text.encode() if isinstance(text, str) else text)
        protocol.data_received(b"".join(client.data_to_send()))
    if client_close is not None:
        client.send_close(client_close)
        protocol.data_received(b"".join(client.data_to_send()))
    await asyncio.wait_for(asyncio.gather(*state.tasks), 5)
    for _ in range(3):  # let any scheduled flush run
        await asyncio.sleep(0)
    writes = transport.writes[1:]
    client.receive_data(b"".join(writes))
    return writes, [e for e in client.events_received() if isinstance(e, Frame)]


def test_reading_pauses_at_each_message_until_the_app_takes_it() -> None:
    """uvicorn's flow control, kept: a client's close sent after a frame is read only once the
    app has taken that frame, so answering it does not find the socket closed (an ``ack`` sent
    just before a close is not lost; docs/server.md, "Session 5: the websocket transport")."""

    async def scenario() -> list[tuple[str, bool]]:
        ready = asyncio.Event()
        taken: list[tuple[str, bool]] = []  # (message taken, reading paused after)

        async def slow_app(receive: Receive, send: Send) -> None:
            await ready.wait()
            while True:
                message = await receive()
                taken.append((message.get("text", message["type"]), transport.paused))
                if message["type"] != "websocket.receive":
                    return
                await send({"type": "websocket.send", "text": "answer"})

        config = uvicorn.Config(scripted(slow_app), ws_per_message_deflate=False)
        config.load()
        state = ServerState()
        protocol = WebSocketsSansIOProtocol(config, state, {}, asyncio.get_running_loop())
        transport = RecordingTransport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/ws"))
        client.send_request(client.connect())
        protocol.data_received(b"".join(client.data_to_send()))
        while not transport.writes:
            await asyncio.sleep(0)
        client.receive_data(transport.writes[0])
        client.send_text(b"ack")
        protocol.data_received(b"".join(client.data_to_send()))
        assert transport.paused  # the app has not taken it: what follows stays in the socket
        ready.set()
        while not taken:
            await asyncio.sleep(0)
        client.send_close(1000)
        protocol.data_received(b"".join(client.data_to_send()))
        await asyncio.wait_for(asyncio.gather(*state.tasks), 5)
        return taken

    assert asyncio.run(scenario()) == [("ack", False), ("websocket.disconnect", False)]


# Characters of 1, 2, 3 and 4 bytes in UTF-8.
WIDTHS = {"a": 1, "é": 2, "€": 3, "😀": 4}


@pytest.mark.parametrize("limit", [1, 7, 64, 1000])
def test_the_size_bound_gives_the_exact_counts_verdict_around_the_limit(limit: int) -> None:
    texts = [
        char * n + tail
        for char in WIDTHS
        for n in range(max(0, limit // WIDTHS[char] - 3), limit // WIDTHS[char] + 4)
        for tail in ("", "a", "😀")
    ]
    texts += ["a" * (limit // 4) + "😀", "é" * (limit // 2) + "a" * (limit % 2 + 1), ""]
    for text in texts:
        assert utf8_size_over(text, limit) == (len(text.encode("utf-8")) > limit), text[:20]


def framed_echo_app(
    seen: list[object],
) -> FastAPI:
    """Each text frame echoed by ``FramedSocket.send``; ``close`` closes with 1008; what the
    socket raised when the client left goes to ``seen``."""
    app = FastAPI()

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        framed = FramedSocket(StarletteTransport(websocket))
        await framed.accept()
        try:
            while True:
                text = await framed.receive_text()
                if text == "close":
                    await framed.close(CLOSE_POLICY, "x" * 200)
                    return
                await framed.send({"type": "echo", "chars": len(text)})
        except WebSocketDisconnect as gone:
            seen.append(gone.code)
            try:  # asking again after the disconnect is Starlette's error, as before
                await framed.receive_text()
            except WebSocketDisconnected as error:
                seen.append(type(error))

    return app


def framed(client_frames: list[str], client_close: int | None = None) -> list[Frame]:
    """What the framed echo answers ``client_frames`` (on the default protocol)."""
    app = framed_echo_app([])
    _, frames = asyncio.run(serve_once(app, client_frames, client_close))
    return frames


def test_frames_at_the_byte_limit_pass_and_one_byte_over_is_refused_with_multibyte_text() -> None:
    at_limit = "€" * (MAX_FRAME_BYTES // 3) + "a" * (MAX_FRAME_BYTES % 3)
    over = at_limit[:-1] + "é"  # one character of two bytes in place of one of one
    assert len(at_limit.encode()) == MAX_FRAME_BYTES
    frames = framed([at_limit, over, "ok", "close"])
    answers = [json.loads(frame.data) for frame in frames if frame.opcode is Opcode.TEXT]
    assert answers[0] == {"type": "echo", "chars": len(at_limit)}
    assert (answers[1]["type"], answers[1]["code"]) == ("error", "too_large")
    assert answers[2] == {"type": "echo", "chars": 2}


def test_a_client_leaving_raises_its_close_code_once_then_starlettes_error() -> None:
    seen: list[object] = []
    asyncio.run(serve_once(framed_echo_app(seen), [], 4001))
    assert seen == [4001, WebSocketDisconnected]


def test_an_answer_to_a_client_already_gone_raises_abnormal_closure() -> None:
    seen: list[object] = []
    # The client's frame and its close both arrive before the answer is sent.
    asyncio.run(serve_once(framed_echo_app(seen), ["hi"], 4001))
    assert seen[0] == 1006


def test_close_sends_the_policy_code_and_a_reason_cut_to_120_characters() -> None:
    closing = framed(["close"])[-1]
    assert closing.opcode is Opcode.CLOSE
    assert Close.parse(closing.data) == Close(CLOSE_POLICY, "x" * 120)


def test_frames_sent_before_the_client_left_are_received_after_an_answer_finds_it_gone() -> None:
    seen: list[object] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        framed = FramedSocket(StarletteTransport(WebSocket(scope, receive, send)))  # type: ignore[arg-type]
        await framed.accept()
        try:
            while True:
                text = await framed.receive_text()
                seen.append(text)
                try:
                    await framed.send({"type": "echo"})
                except WebSocketDisconnect as gone:  # every answer, not only the first
                    seen.append(gone.code)
        except WebSocketDisconnect as left:
            seen.append(("left", left.code))

    # The three frames and the close arrive together, before the first answer is sent.
    asyncio.run(serve_once(app, ["a", "b", "c"], 4001))
    assert seen == ["a", 1006, "b", 1006, "c", 1006, ("left", 4001)]


def test_a_shoppers_ack_sent_just_before_leaving_is_handled_though_answers_fail() -> None:
    handled: list[object] = []

    class Recording(ShopperConnection):
        async def _handle(self, connected: Connected, frame: Any) -> None:
            handled.append(frame.seq)
            await self.socket.send({"type": "noted"})  # the client is gone: this raises

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)  # type: ignore[arg-type]
        connection = Recording(FramedSocket(StarletteTransport(websocket)), cast(Runtime, None))
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            await connection._serve(cast(Connected, None))
        handled.append("left")

    acks = [json.dumps({"type": "ack", "seq": seq}) for seq in (1, 2, 3)]
    asyncio.run(serve_once(app, acks, 1000))
    assert handled == [1, 2, 3, "left"]


def test_serve_answers_every_frame_the_client_sent_before_leaving() -> None:
    """What the shopper and screen sockets run on: a failed answer does not end the serving."""
    seen: list[object] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        framed = FramedSocket(StarletteTransport(WebSocket(scope, receive, send)))  # type: ignore[arg-type]
        await framed.accept()

        async def answer(text: str) -> None:
            seen.append(text)
            await framed.send({"type": "noted"})  # the client is gone: this raises

        try:
            await framed.serve(answer, str)
        except WebSocketDisconnect as left:
            seen.append(left.code)

    asyncio.run(serve_once(app, ["played 1", "played 2"], 4001))
    assert seen == ["played 1", "played 2", 4001]


class _Decoded:
    """A decoded frame (weakly referenceable, so a test can see when it is gone)."""


class _QueueTransport:
    """A ``FrameTransport`` fed from a queue; ``waiting`` is set while a receive waits."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.waiting = asyncio.Event()

    async def accept(self) -> None:
        pass

    async def receive(self) -> str:
        self.waiting.set()
        text = await self.inbox.get()
        self.waiting.clear()
        return text

    async def send(self, text: bytes) -> None:
        pass

    async def close(self, code: int, reason: str) -> None:
        pass


@pytest.mark.anyio
async def test_a_served_frame_is_let_go_before_the_next_is_awaited() -> None:
    """While a connection waits (about a second) for its next frame, the last decoded frame is
    no longer held: thousands of connections' would be walked by every young collector pass."""
    import weakref

    transport = _QueueTransport()
    socket = FramedSocket(transport)
    seen: list[weakref.ref[_Decoded]] = []

    def decode(_text: str) -> _Decoded:
        frame = _Decoded()
        seen.append(weakref.ref(frame))
        return frame

    async def answer(_frame: _Decoded) -> None:
        pass

    serving = asyncio.create_task(socket.serve(answer, decode))
    await transport.inbox.put("{}")
    await asyncio.sleep(0)
    await asyncio.wait_for(transport.waiting.wait(), 5)
    while transport.inbox.qsize():  # the frame taken and answered, the next receive waiting
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(seen) == 1
    assert seen[0]() is None
    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving
