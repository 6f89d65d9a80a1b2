"""A websocket speaking JSON frames (and, where an endpoint takes them, binary frames): size and
rate limits, error frames, one sender at a time, over any ``FrameTransport`` (Starlette's
``WebSocket`` on uvicorn's port, picows on the phone port)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

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


class FrameTransport(Protocol):
    """What ``FramedSocket`` needs of a websocket: whole messages in, JSON text frames out.

    Implemented over Starlette's ``WebSocket`` (``server.realtime.asgi_transport``, uvicorn's
    port) and over picows (``server.realtime.picows_transport``, the phone port).
    """

    async def accept(self) -> None:
        """Complete the handshake (a transport whose handshake is done already: nothing)."""

    async def receive(self) -> str | bytes:
        """The next whole message, text or binary; raises ``WebSocketDisconnect(code)`` once the
        client has left (its close code, 1006 if it just went)."""

    async def send(self, text: bytes) -> None:
        """One text frame of UTF-8 ``text``; raises ``WebSocketDisconnect(1006)`` when this
        finds the client gone."""

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and ``reason`` (at most 123 bytes)."""


@runtime_checkable
class DirectBinary(Protocol):
    """A transport that can hand binary messages to a handler as they arrive, on the event loop
    (``server.realtime.picows_transport.PicowsSocket``; uvicorn's port cannot)."""

    def take_binary(self, handler: Callable[[bytes], bool] | None) -> None:
        """Binary messages go to ``handler`` (True: taken) while the app waits with nothing
        queued; later messages wait until ``answered``."""

    def answered(self) -> None:
        """The message the handler took is answered."""

    def send_now(self, texts: Sequence[bytes]) -> bool:
        """Text frames without waiting, or False (nothing sent) when ``send`` would wait."""


class FramedSocket:
    """A websocket (a ``FrameTransport``, accepted or not) framed as our protocol's frames:
    size and rate limits, refused frames answered with error frames, one sender at a time."""

    def __init__(self, transport: FrameTransport) -> None:
        self.transport = transport
        self.bucket = TokenBucket()
        self.refused_in_a_row = 0
        # The last frame returned by ``receive_frame`` as received (JSON text or binary bytes).
        self.last_frame: str | bytes = ""
        self._send_lock = asyncio.Lock()
        # Set when an answer found the client gone. Frames it sent before leaving may still be
        # queued (an ack, then its close, read together): they are still received, and every
        # later answer raises ``WebSocketDisconnect`` as the first did.
        self.peer_gone = False
        self._direct: DirectBinary | None = None  # the transport, once ``take_binary`` took

    async def accept(self) -> None:
        await self.transport.accept()

    async def send(self, frame: dict[str, Any]) -> None:
        text = _JSON.encode(frame)
        async with self._send_lock:
            if self.peer_gone:
                raise WebSocketDisconnect(code=1006)
            try:
                await self.transport.send(text)
            except WebSocketDisconnect:
                self.peer_gone = True
                raise

    def take_binary(self, handler: Callable[[bytes], bool]) -> bool:
        """Hand binary frames to ``handler`` as they arrive if the transport can (else False: they
        come through ``serve``). The handler checks a frame with ``admits`` and answers it with
        ``send_now`` (or ``send``), then calls ``answered``; one that returns False leaves the
        frame to ``serve``, which checks and answers it as any other."""
        transport = self.transport
        if not isinstance(transport, DirectBinary):  # a runtime protocol check: slow, once here
            return False
        transport.take_binary(handler)
        self._direct = transport
        return True

    def admits(self, data: bytes) -> bool:
        """Whether a binary frame passes the rate and size limits (``receive_data``'s checks; a
        frame that does not is left untouched for ``serve`` to refuse)."""
        if self._check(data, binary=True) is not None:
            return False
        self.refused_in_a_row = 0
        self.last_frame = data
        return True

    def send_now(self, frames: Sequence[dict[str, Any]]) -> bool:
        """``send`` for each frame without waiting, or False (nothing sent) when it would have to
        wait: another sender holds the turn, or the kernel's buffer is full. Frames for a client
        that is gone are dropped (True), as ``serve`` drops an answer that finds it gone."""
        if self._send_lock.locked():
            return False
        if self.peer_gone:
            return True
        transport = self._direct
        assert transport is not None, "send_now without take_binary"
        try:
            return transport.send_now([_JSON.encode(frame) for frame in frames])
        except WebSocketDisconnect:
            self.peer_gone = True
            return True

    def answered(self) -> None:
        """The binary frame a ``take_binary`` handler took is answered: the next may come."""
        transport = self._direct
        assert transport is not None, "answered without take_binary"
        transport.answered()

    async def error(self, code: str, reason: str, ref: str | None = None) -> None:
        await self.send({"type": "error", "code": code, "reason": reason, "ref": ref})

    async def close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            await self.transport.close(code, reason[:120])

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
            # Not held while the next frame is awaited (about a second): a decoded binary frame
            # is a few dozen tracked objects (its column views), and thousands of connections'
            # would be walked by every young garbage-collector pass (docs/server.md, "After
            # session 8").
            del frame

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
            message = await self.transport.receive()
            refusal = self._check(message, binary)
            if refusal is None:
                self.refused_in_a_row = 0
                return message
            self.refused_in_a_row += 1
            if self.refused_in_a_row > MAX_REFUSED_IN_A_ROW:
                await self.close(CLOSE_POLICY, "too many refused frames")
                raise WebSocketDisconnect(CLOSE_POLICY)
            await self.error(refusal.code, refusal.reason)

    def _check(self, message: str | bytes, binary: bool) -> Refused | None:
        if not self.bucket.allow(time.monotonic()):
            return Refused("rate_limited", "too many frames; slow down (see docs/protocol.md)")
        if isinstance(message, bytes):
            if not binary:
                return Refused("bad_frame", "send JSON as text frames, not binary")
            over = len(message) > MAX_FRAME_BYTES
        else:
            over = utf8_size_over(message, MAX_FRAME_BYTES)
        if over:
            return Refused("too_large", f"frame over {MAX_FRAME_BYTES} bytes")
        return None
