"""``/ws/live``: the staff live feed of one store — anonymised positions, zone events, offers."""

from __future__ import annotations

import asyncio
import contextlib

from anyio import to_thread
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.api.deps import can_access_store, user_for_token
from server.clock import now_ms
from server.realtime.asgi_transport import StarletteTransport
from server.realtime.bus import live_channel
from server.realtime.framed_socket import CLOSE_POLICY, FramedSocket
from server.realtime.frames import LIVE_FRAME, LiveHello
from server.realtime.limits import HELLO_TIMEOUT_S
from server.runtime import Runtime


def _allowed(runtime: Runtime, hello: LiveHello) -> str | None:
    """Why this staff token may not watch this store (None if it may)."""
    with runtime.database.session() as session:
        user = user_for_token(session, hello.token, now_ms())
        if user is None:
            return "staff token unknown or expired; log in again"
        if not can_access_store(session, user, hello.store_id):
            return f"you have no access to store {hello.store_id}"
    return None


async def live_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    socket = FramedSocket(StarletteTransport(websocket))
    await socket.accept()
    try:
        hello = await asyncio.wait_for(
            socket.receive_frame(LIVE_FRAME.validate_json), HELLO_TIMEOUT_S
        )
    except (TimeoutError, WebSocketDisconnect):
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_POLICY, "no hello")
        return
    refusal = await to_thread.run_sync(_allowed, runtime, hello)
    if refusal is not None:
        await socket.error("unauthorized", refusal, "hello")
        await socket.close(CLOSE_POLICY, refusal)
        return
    async with await runtime.bus.subscribe(live_channel(hello.store_id)) as subscription:
        await socket.send({"type": "welcome", "store_id": hello.store_id})
        receiver = asyncio.create_task(_drain(socket))
        try:
            while not receiver.done():
                getter = asyncio.create_task(subscription.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when="FIRST_COMPLETED")
                if getter in done:
                    await socket.send(getter.result())
                else:
                    getter.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiver


async def _drain(socket: FramedSocket) -> None:
    """The feed is one-way; anything the client sends is refused, and its leaving ends the feed."""
    while True:
        await socket.receive_text()
        await socket.error("read_only", "the live feed takes no frames after hello")
