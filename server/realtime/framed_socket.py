"""A websocket speaking JSON frames (and, where an endpoint takes them, binary frames): size and
rate limits, error frames, one sender at a time."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from pydantic import ValidationError
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from server.realtime.limits import (
    MAX_FRAME_BYTES,
    MAX_REFUSED_IN_A_ROW,
    TokenBucket,
    utf8_size_over,
)

Frame = TypeVar("Frame")
# Close codes (RFC 6455): 1008 policy violation (auth, flood), 1000 normal.
CLOSE_POLICY = 1008
# Compact JSON like ``json.dumps(separators=(",", ":"))`` at a tenth of the cost (0.3 against
# 2.6 µs a position frame); a NaN would go out as ``null`` rather than as invalid JSON.
_JSON = msgspec.json.Encoder()


class BadFrame(ValueError):
    """A frame a decoder refused; ``reason`` goes back to the client in a ``bad_frame`` error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Exception):
    """A frame was refused; ``code`` and ``reason`` go back to the client in an error frame."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def validation_reason(error: ValidationError) -> str:
    """The first few problems, each as ``where: what`` (the whole list can be huge)."""
    parts = []
    for problem in error.errors()[:3]:
        where = ".".join(str(p) for p in problem["loc"]) or "frame"
        parts.append(f"{where}: {problem['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Stop a helper task and wait until it has stopped."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class FramedSocket:
    """A Starlette ``WebSocket`` (accepted by the endpoint) framed as our protocol's frames.

    Each frame in and each answer out calls the ASGI ``receive``/``send`` under the
    ``WebSocket`` directly, while Starlette's state says the socket is connected: its wrappers
    add a state check and, for ``send``, two coroutine layers that only watch for an HTTP
    response, per frame (docs/server.md, "Session 5: the websocket transport"). Anything else
    (accept, close, a socket already closed either way) goes through Starlette, so errors and
    state transitions stay Starlette's.
    """

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.bucket = TokenBucket()
        self.refused_in_a_row = 0
        # The last frame returned by ``receive_frame`` as received (JSON text or binary bytes).
        self.last_frame: str | bytes = ""
        self._send_lock = asyncio.Lock()
        # The server's ASGI callables, as Starlette keeps them (no public accessor).
        self._asgi_receive = websocket._receive
        self._asgi_send = websocket._send
        # Set when an answer found the client gone. Frames it sent before leaving may still be
        # queued (an ack, then its close, read together): they are still received, and every
        # later answer raises ``WebSocketDisconnect`` as the first did.
        self.peer_gone = False

    async def send(self, frame: dict[str, Any]) -> None:
        text = _JSON.encode(frame).decode()
        async with self._send_lock:
            websocket = self.websocket
            if self.peer_gone:
                raise WebSocketDisconnect(code=1006)
            if websocket.application_state is not WebSocketState.CONNECTED:
                await websocket.send_text(text)  # Starlette raises as it always did
                return
            try:
                await self._asgi_send({"type": "websocket.send", "text": text})
            except OSError:
                # As ``WebSocket.send``: the server found the client gone (1006: abnormal).
                websocket.application_state = WebSocketState.DISCONNECTED
                self.peer_gone = True
                raise WebSocketDisconnect(code=1006) from None

    async def error(self, code: str, reason: str, ref: str | None = None) -> None:
        await self.send({"type": "error", "code": code, "reason": reason, "ref": ref})

    async def close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            await self.websocket.close(code, reason[:120])

    async def receive_frame(
        self,
        decode: Callable[[str], Frame],
        decode_binary: Callable[[bytes], Frame] | None = None,
    ) -> Frame:
        """The next frame that ``decode`` (a ``TypeAdapter.validate_json`` or one raising the same
        ``ValidationError``) accepts, or for a binary frame ``decode_binary`` (raising
        ``BadFrame``; None: binary frames are refused); others get a ``bad_frame`` error and are
        skipped."""
        while True:
            data = await self.receive_data(binary=decode_binary is not None)
            try:
                if isinstance(data, str):
                    frame = decode(data)
                else:
                    assert decode_binary is not None  # receive_data refused it otherwise
                    frame = decode_binary(data)
            except ValidationError as error:
                await self.error("bad_frame", validation_reason(error))
                continue
            except BadFrame as error:
                await self.error("bad_frame", error.reason)
                continue
            self.last_frame = data  # the frame as received, for whoever keeps raw frames
            return frame

    async def serve(
        self,
        answer: Callable[[Frame], Awaitable[None]],
        decode: Callable[[str], Frame],
        decode_binary: Callable[[bytes], Frame] | None = None,
    ) -> None:
        """``answer`` every frame until the client's disconnect is read (which raises
        ``WebSocketDisconnect``). An answer that finds the client gone does not end it: what the
        client sent before leaving (an ack or a proof of play, then its close, can arrive in one
        read) is still queued and still counts; only the answers go nowhere."""
        while True:
            frame = await self.receive_frame(decode, decode_binary)
            with contextlib.suppress(WebSocketDisconnect):
                await answer(frame)

    async def receive_text(self) -> str:
        """The next text frame that passes the rate and size limits (binary frames refused)."""
        text = await self.receive_data(binary=False)
        assert isinstance(text, str)
        return text

    async def receive_data(self, binary: bool) -> str | bytes:
        """The next frame (text, or bytes if ``binary`` allows them) that passes the rate and
        size limits.

        Refused frames are answered with an error frame and skipped; raises ``WebSocketDisconnect``
        when the client leaves or is cut off for flooding.
        """
        while True:
            message = await self._receive_message()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text: str | None = message.get("text")
            data: bytes | None = message.get("bytes") if text is None else None
            refusal = self._check(text, data, binary)
            if refusal is None:
                self.refused_in_a_row = 0
                if text is not None:
                    return text
                assert data is not None  # _check refuses a frame with neither
                return data
            self.refused_in_a_row += 1
            if self.refused_in_a_row > MAX_REFUSED_IN_A_ROW:
                await self.close(CLOSE_POLICY, "too many refused frames")
                raise WebSocketDisconnect(CLOSE_POLICY)
            await self.error(refusal.code, refusal.reason)

    async def _receive_message(self) -> Message:
        """``WebSocket.receive`` for a connected socket, its state kept as Starlette keeps it."""
        websocket = self.websocket
        if websocket.client_state is not WebSocketState.CONNECTED:
            return await websocket.receive()  # Starlette raises (or connects) as it always did
        message = await self._asgi_receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            websocket.client_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.receive":
            expected = '"websocket.receive" or "websocket.disconnect"'
            raise RuntimeError(f"Expected ASGI message {expected}, but got {kind!r}")
        return message

    def _check(self, text: str | None, data: bytes | None, binary: bool) -> Refused | None:
        if not self.bucket.allow(time.monotonic()):
            return Refused("rate_limited", "too many frames; slow down (see docs/protocol.md)")
        if text is None:
            if not binary:
                return Refused("bad_frame", "send JSON as text frames, not binary")
            over = len(data or b"") > MAX_FRAME_BYTES
        else:
            over = utf8_size_over(text, MAX_FRAME_BYTES)
        if over:
            return Refused("too_large", f"frame over {MAX_FRAME_BYTES} bytes")
        return None
