"""``/ws/screen``: signage screens (docs/protocol.md, "Signage screen").

A screen registers with its token and zone, gets its state (playlist and any content still running),
then receives ``content`` frames pushed for shoppers in front of it, and ``state`` frames when staff
change it. It reports proof of play. Nothing it receives names or identifies a shopper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.clock import now_ms
from server.offer_ledger import advance_status
from server.realtime.asgi_transport import StarletteTransport
from server.realtime.bus import Subscription, live_channel, screen_channel
from server.realtime.framed_socket import CLOSE_POLICY, FramedSocket, cancel_and_wait
from server.realtime.frames import SCREEN_FRAME, Played, Register
from server.realtime.limits import HELLO_TIMEOUT_S, timestamp_problem
from server.realtime.signage import screen_live_frame, screen_state_frame
from server.runtime import Runtime
from server.security import token_digest
from server.tables import ApiToken, Offer, Play, Screen

log = logging.getLogger(__name__)


class RegisterRefused(Exception):
    pass


def _register(runtime: Runtime, frame: Register, at_ms: int) -> tuple[int, str, dict[str, Any]]:
    with runtime.database.session() as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_digest(frame.token))
        )
        if token is None or token.kind != "screen" or token.revoked_ms is not None:
            raise RegisterRefused("unknown or revoked screen token")
        if token.store_id is None or token.screen_id is None:
            raise RegisterRefused("screen token without a screen")
        screen = session.get(Screen, (token.store_id, token.screen_id))
        if screen is None:
            raise RegisterRefused("the token's screen no longer exists")
        if frame.zone_id is not None and frame.zone_id != screen.zone_id:
            raise RegisterRefused(
                f"this screen belongs to zone {screen.zone_id!r}, not {frame.zone_id!r};"
                " staff move screens in the admin page"
            )
        screen.online = True
        screen.last_seen_ms = at_ms
        return screen.store_id, screen.id, screen_state_frame(screen, at_ms)


def _set_online(runtime: Runtime, store_id: int, screen_id: str, online: bool) -> None:
    with runtime.database.session() as session:
        screen = session.get(Screen, (store_id, screen_id))
        if screen is not None:
            screen.online = online
            screen.last_seen_ms = now_ms()


def _record_play(runtime: Runtime, store_id: int, screen_id: str, frame: Played) -> None:
    now = now_ms()
    with runtime.database.session() as session:
        if frame.play_id is not None:
            offer = session.get(Offer, frame.play_id)
            if offer is None or offer.screen_id != screen_id or offer.store_id != store_id:
                raise LookupError(f"play_id {frame.play_id!r} was not pushed to this screen")
            # Shown on the screen counts as delivered and seen (an "exposure" for attribution).
            advance_status(session, offer.customer_id, offer.id, "acked", now)
        screen = session.get(Screen, (store_id, screen_id))
        if screen is not None:
            screen.last_played = frame.model_dump(exclude={"type"})
            screen.last_seen_ms = now
        session.add(
            Play(
                store_id=store_id,
                screen_id=screen_id,
                offer_id=frame.play_id,
                content_id=frame.content_id,
                started_ms=frame.started_ms,
                duration_ms=frame.duration_ms,
                reported_ms=now,
            )
        )


class ScreenWatch:
    """What staff are told about one connected screen (``screen`` frames on ``/ws/live``)."""

    def __init__(self, runtime: Runtime, store_id: int, screen_id: str) -> None:
        self.runtime = runtime
        self.store_id = store_id
        self.screen_id = screen_id
        self.playing: dict[str, Any] | None = None  # pushed content on screen now, else None
        self.last_played: dict[str, Any] | None = None

    async def tell(self, online: bool = True) -> None:
        frame = screen_live_frame(self.screen_id, online, self.playing, self.last_played, now_ms())
        try:
            await self.runtime.bus.publish(live_channel(self.store_id), frame)
        except Exception:  # a notice to staff; the screens table is the record (polled by REST)
            log.warning("could not tell the live feed about screen %s", self.screen_id)

    async def sent(self, frame: dict[str, Any]) -> None:
        """The screen was sent ``frame``: pushed content or a new state changes what it shows."""
        if frame.get("type") == "content":
            self.playing = {k: frame.get(k) for k in ("play_id", "content", "until_ms")}
        elif frame.get("type") == "state":
            self.playing = frame.get("current")
        else:
            return
        await self.tell()

    async def played(self, frame: Played) -> None:
        """Proof of play arrives when an item leaves the screen: pushed content that left means
        the screen is back on its playlist."""
        self.last_played = frame.model_dump(exclude={"type"})
        if self.playing is not None and frame.play_id == self.playing.get("play_id"):
            self.playing = None
        await self.tell()


async def _forward(socket: FramedSocket, subscription: Subscription, watch: ScreenWatch) -> None:
    while True:
        frame = await subscription.get()
        try:
            await socket.send(frame)
        except (WebSocketDisconnect, RuntimeError):
            return
        await watch.sent(frame)


async def screen_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await serve_screen(FramedSocket(StarletteTransport(websocket)), runtime)


async def serve_screen(socket: FramedSocket, runtime: Runtime) -> None:
    """One screen's socket, on uvicorn's port or the phone port (``socket``'s transport)."""
    await socket.accept()
    try:
        store_id, screen_id, state = await asyncio.wait_for(
            _receive_register(socket, runtime), HELLO_TIMEOUT_S
        )
    except (TimeoutError, WebSocketDisconnect):
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_POLICY, "no register")
        return
    except RegisterRefused as refusal:
        await socket.error("unauthorized", str(refusal), "register")
        await socket.close(CLOSE_POLICY, str(refusal))
        return
    subscription = await runtime.bus.subscribe(screen_channel(store_id, screen_id))
    watch = ScreenWatch(runtime, store_id, screen_id)
    forwarder = asyncio.create_task(_forward(socket, subscription, watch))
    try:
        await socket.send(state)
        await watch.sent(state)

        async def answer(frame: Register | Played) -> None:
            if isinstance(frame, Register):
                await socket.error("already_registered", "this screen is registered", "register")
                return
            problem = timestamp_problem(frame.started_ms, now_ms())
            if problem is not None:
                await socket.error("bad_timestamp", problem, "played")
                return
            try:
                await to_thread.run_sync(_record_play, runtime, store_id, screen_id, frame)
            except LookupError as error:
                await socket.error("not_found", str(error), "played")
                return
            await watch.played(frame)  # before the ack: a screen already gone still played it
            await socket.send({"type": "played_ack", "content_id": frame.content_id})

        # A proof of play sent just before the screen left is still recorded (FramedSocket.serve).
        await socket.serve(answer, SCREEN_FRAME.validate_json)
    except WebSocketDisconnect:
        pass
    finally:
        await cancel_and_wait(forwarder)
        await subscription.close()
        await to_thread.run_sync(_set_online, runtime, store_id, screen_id, False)
        watch.playing = None
        await watch.tell(online=False)


async def _receive_register(
    socket: FramedSocket, runtime: Runtime
) -> tuple[int, str, dict[str, Any]]:
    while True:
        frame = await socket.receive_frame(SCREEN_FRAME.validate_json)
        if isinstance(frame, Register):
            return await to_thread.run_sync(_register, runtime, frame, now_ms())
        await socket.error("register_first", "send register before anything else", frame.type)
