"""``FramedSocket``'s transport over picows: websocket frames parsed in Cython on the event loop,
no ASGI, no Starlette, no coroutine per frame until the app's own ``receive`` (docs/server.md,
"Session 8: picows"). The phone port (``server.realtime.phone_port``) serves the shopper and
screen sockets on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
)
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from server.realtime.framed_socket import FramedSocket
from server.realtime.limits import TRANSPORT_MAX_FRAME_BYTES

log = logging.getLogger(__name__)

# Reading stops while this many messages wait for the app, and starts again once it has taken
# them all: a client cannot queue more than this (× the 1 MB frame limit) in the server's memory
# however slow its answers are; the kernel's buffers and TCP hold the rest. A phone sends a frame
# a second, so this only bites a flood (uvicorn pauses at every message: a syscall pair a frame).
INBOX_PAUSE_AT = 8
# After our close frame, how long the client has to answer with its own before the TCP
# connection is cut (uvicorn and websockets wait up to 10 s; a phone that is gone never answers).
CLOSE_TIMEOUT_S = 3.0
# Shutdown: sockets get close 1012 (service restart, as uvicorn sends) and their handlers this
# long to finish (visits touched, batch slots closed) before they are cancelled.
SHUTDOWN_GRACE_S = 10.0
TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
CONTINUATION = WSMsgType.CONTINUATION
CLOSE = WSMsgType.CLOSE


# Close codes (RFC 6455) for what the transport refuses, as uvicorn's websockets close.
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_TEXT = 1007
CLOSE_TOO_BIG = 1009


class _Refusal(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Left:
    """In the inbox after the client's last message: its close code (1006: it just went)."""

    code: int


Serve = Callable[[FramedSocket], Awaitable[None]]
# Takes a binary message on the event loop as it arrives (``PicowsSocket.take_binary``): True if
# it took it (it then calls ``answered`` once the message is answered), False to leave it to the
# app's ``receive``.
BinaryHandler = Callable[[bytes], bool]


class PicowsSocket(WSListener):
    """One websocket on the phone port: a picows listener, and the ``FrameTransport`` of the
    ``FramedSocket`` that ``serve`` runs on (in a task of its own, started once connected).

    Messages go to the waiting ``receive`` directly (a future's result: no queue when the app
    keeps up) or wait in order in an inbox. A client's close is answered when the app has read
    up to it, so what it sent before (an ack, a proof of play) is answered on an open socket,
    as uvicorn does by reading the close only after the app took the previous message.
    """

    def __init__(self, serve: Serve, sockets: set[PicowsSocket]) -> None:
        super().__init__()
        self._serve = serve
        self._sockets = sockets
        self._transport: WSTransport | None = None
        self._inbox: deque[str | bytes | _Left] = deque()
        self._waiter: asyncio.Future[str | bytes | _Left] | None = None
        self._reading_paused = False
        # A fragmented message so far (its type and its parts) and its size.
        self._fragments: list[bytes] = []
        self._fragmented: WSMsgType | None = None
        self._fragments_size = 0
        self._left: _Left | None = None  # the client's close (or its going), once seen
        self._finished = False  # the app read the client's leaving: later reads are an error
        self._disconnected = False
        self._cut = False  # we closed the TCP connection (picows reports it a moment later)
        self._writable: asyncio.Future[None] | None = None  # while the write buffer is full
        self._direct: BinaryHandler | None = None
        self._direct_busy = False  # a message the handler took is not answered yet
        self.task: asyncio.Task[None] | None = None

    # -- picows callbacks (on the event loop, synchronous) --

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport
        self._sockets.add(self)
        self.task = asyncio.get_running_loop().create_task(self._run())

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if self._left is not None:
            return  # nothing counts after the client's close (or our refusal)
        try:
            self._frame(transport, frame)
        except _Refusal as refusal:
            # The app reads the code as the client's leaving (uvicorn: the same); the client
            # gets our close with it at once.
            self._left = _Left(refusal.code)
            self._deliver(self._left)
            self._close_now(refusal.code, refusal.reason)

    def _frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if transport.is_close_frame_sent and kind is not CLOSE:
            return  # after our close only the client's close counts (RFC 6455, 5.5.1)
        if kind is TEXT or kind is BINARY:
            if self._fragmented is not None:
                raise _Refusal(CLOSE_PROTOCOL_ERROR, "a new message inside a fragmented one")
            if frame.fin:
                self._deliver(self._whole(kind, frame))
            else:
                self._fragmented = kind
                self._add_fragment(frame)
        elif kind is CONTINUATION:
            if self._fragmented is None:
                raise _Refusal(CLOSE_PROTOCOL_ERROR, "a continuation of no message")
            self._add_fragment(frame)
            if frame.fin:
                payload = b"".join(self._fragments)
                kind, self._fragmented = self._fragmented, None
                self._fragments, self._fragments_size = [], 0
                self._deliver(self._decoded(kind, payload))
        elif kind is CLOSE:
            if transport.is_close_frame_sent:  # the client's answer to our close: done
                transport.disconnect()
            elif self._left is None:
                self._left = _Left(frame.get_close_code().value or 1005)
                self._deliver(self._left)
        # PING is answered by picows (auto pong); PONG answers its auto ping.

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._disconnected = True
        if self._left is None:
            self._left = _Left(1006)
            self._deliver(self._left)
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # -- FrameTransport, for the FramedSocket --

    async def accept(self) -> None:
        """picows completed the handshake before ``on_ws_connected``."""

    async def receive(self) -> str | bytes:
        if self._inbox:
            message = self._inbox.popleft()
            if self._reading_paused and not self._inbox:
                self._reading_paused = False
                self._ws.underlying_transport.resume_reading()
        elif self._finished:
            raise WebSocketDisconnected("the client has left; nothing more to receive")
        else:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                message = await waiter
            except asyncio.CancelledError:
                # Cancelled (a hello's timeout) after the message was handed over: keep it.
                if waiter.done() and not waiter.cancelled():
                    self._inbox.appendleft(waiter.result())
                raise
            finally:
                self._waiter = None
        if isinstance(message, _Left):
            self._finished = True
            self._close_now(message.code if message.code not in (1005, 1006) else 1000, "")
            raise WebSocketDisconnect(message.code)
        return message

    async def send(self, text: bytes) -> None:
        ws = self._ws
        if self._disconnected or ws.is_close_frame_sent:
            raise WebSocketDisconnect(code=1006)
        ws.send(TEXT, text)
        writable = self._writable
        if writable is not None and not writable.done():
            await writable  # the kernel's buffer is full: wait until it drains (or they leave)

    async def close(self, code: int, reason: str) -> None:
        self._close_now(code, reason)

    # -- DirectBinary: binary messages handled as they arrive --

    def take_binary(self, handler: BinaryHandler | None) -> None:
        """Binary messages that arrive while the app waits in ``receive`` with nothing queued go
        to ``handler`` at once, on the event loop, instead of waking the app: no future, task
        step or coroutine chain a message (docs/server.md, "Session 11"). Until the handler
        calls ``answered``, later messages wait in the inbox, so they are read in order."""
        self._direct = handler

    def answered(self) -> None:
        """The message the handler took is answered: the next one goes on (handler or app)."""
        self._direct_busy = False
        waiter = self._waiter
        if self._inbox and waiter is not None and not waiter.done():
            message = self._inbox.popleft()
            if self._reading_paused and not self._inbox:
                self._reading_paused = False
                self._ws.underlying_transport.resume_reading()
            self._hand_over(waiter, message)

    def send_now(self, texts: Sequence[bytes]) -> bool:
        """Text frames now, unless the write buffer is full (False: nothing sent, the caller
        must ``send``, which waits); raises ``WebSocketDisconnect`` as ``send`` does."""
        ws = self._ws
        if self._disconnected or ws.is_close_frame_sent:
            raise WebSocketDisconnect(code=1006)
        writable = self._writable
        if writable is not None and not writable.done():
            return False
        for text in texts:
            ws.send(TEXT, text)
        return True

    # -- inside --

    @property
    def _ws(self) -> WSTransport:
        assert self._transport is not None, "used before on_ws_connected"
        return self._transport

    def _deliver(self, message: str | bytes | _Left) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done() and not self._inbox and not self._direct_busy:
            self._hand_over(waiter, message)  # the app is waiting: no queue
            return
        self._inbox.append(message)
        paused = self._reading_paused or self._disconnected
        if len(self._inbox) >= INBOX_PAUSE_AT and not paused:
            self._reading_paused = True
            self._ws.underlying_transport.pause_reading()

    def _hand_over(
        self, waiter: asyncio.Future[str | bytes | _Left], message: str | bytes | _Left
    ) -> None:
        """To the handler if it takes it, else to the waiting ``receive``."""
        direct = self._direct
        if direct is not None and type(message) is bytes:
            self._direct_busy = True
            try:
                if direct(message):
                    return
            except Exception:
                log.exception("binary frame handler failed; the app reads the frame")
            self._direct_busy = False
        self._waiter = None
        waiter.set_result(message)

    @staticmethod
    def _whole(kind: WSMsgType, frame: WSFrame) -> str | bytes:
        if kind is BINARY:
            return frame.get_payload_as_bytes()
        try:
            return frame.get_payload_as_utf8_text()
        except UnicodeDecodeError:
            raise _Refusal(CLOSE_INVALID_TEXT, "text frame not UTF-8") from None

    @staticmethod
    def _decoded(kind: WSMsgType, payload: bytes) -> str | bytes:
        if kind is BINARY:
            return payload
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refusal(CLOSE_INVALID_TEXT, "text message not UTF-8") from None

    def _add_fragment(self, frame: WSFrame) -> None:
        # The whole message is bounded as one frame is (picows' max_frame_size): 1009 above.
        self._fragments_size += frame.payload_size
        if self._fragments_size > TRANSPORT_MAX_FRAME_BYTES:
            raise _Refusal(CLOSE_TOO_BIG, f"message over {TRANSPORT_MAX_FRAME_BYTES} bytes")
        self._fragments.append(frame.get_payload_as_bytes())

    def _close_now(self, code: int, reason: str) -> None:
        """Our close frame (once), then the TCP connection cut when the client answers it (or
        at once if it already sent its own), else after ``CLOSE_TIMEOUT_S``."""
        ws = self._ws
        if self._disconnected or self._cut:
            return
        if not ws.is_close_frame_sent:
            ws.send_close(WSCloseCode(code), reason.encode()[:123])
            if self._reading_paused:  # read on, to find the client's close behind its frames
                self._reading_paused = False
                ws.underlying_transport.resume_reading()
            if self._left is None:
                asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, ws.disconnect)
        if self._left is not None:
            self._cut = True
            ws.disconnect()

    async def _run(self) -> None:
        try:
            await self._serve(FramedSocket(self))
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("phone port socket failed")
            self._close_now(1011, "server error")  # internal error, as uvicorn closes
        finally:
            self._close_now(1000, "")  # a handler that returned without closing
            self._sockets.discard(self)

    def shut_down(self) -> None:
        """The server stops: the app reads 1012 after what the client sent, the client gets
        close 1012 (service restart)."""
        if self._left is None:
            self._left = _Left(1012)
            self._deliver(self._left)
        with contextlib.suppress(Exception):
            self._close_now(1012, "server shutting down")
