"""``/ws/shopper``: one connection per shopper app (docs/protocol.md, "Shopper app").

Order of work for every offer: the pipeline commits it, then it is published on the shopper's
channel, then whichever process holds the shopper's socket reads every unsent offer from the
database and sends them in sequence order. Sending only what is above the connection's high-water
mark means an offer is sent at most once per connection; the app's ``last_seen_seq`` in its hello
carries that mark across reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from starlette.websockets import WebSocket, WebSocketDisconnect

from positioning import Estimate
from server.batch_tracking import BatchJob, BatchSlot, FixJob, batch_runner
from server.clock import now_ms
from server.offer_ledger import (
    IssuedOffer,
    ack_offer,
    ack_through,
    app_offer_frame,
    mark_delivered,
    pending_app_offers,
)
from server.pipeline import (
    PipelineStep,
    PositionUpdate,
    Shopper,
    ShopperPipeline,
    UnknownFloor,
)
from server.realtime.asgi_transport import StarletteTransport
from server.realtime.bus import Subscription, live_channel, screen_channel, shopper_channel
from server.realtime.framed_socket import CLOSE_POLICY, BadFrame, FramedSocket, cancel_and_wait
from server.realtime.frames import (
    Ack,
    AppEventFrame,
    Bye,
    Fix,
    Hello,
    ReadingsBatch,
)
from server.realtime.limits import HELLO_TIMEOUT_S, timestamp_problem
from server.realtime.readings_binary import (
    BinaryReadings,
    decode_binary_deferred,
    decode_binary_readings,
)
from server.realtime.readings_wire import decode_shopper_frame
from server.realtime.signage import content_frame
from server.runtime import Runtime
from server.security import pseudonym, token_digest
from server.tables import ApiToken, Customer, Store
from server.visit_log import OfferNotFound, open_visit, touch_visit

log = logging.getLogger(__name__)


class HelloRefused(Exception):
    pass


@dataclass
class Connected:
    shopper: Shopper
    pipeline: ShopperPipeline
    live_name: str  # the shopper's pseudonym on the staff live feed
    # The hello's ``answers``: True when the first ``position`` of a batch carries its ack.
    ack_in_position: bool = False


def _authenticate(runtime: Runtime, hello: Hello, at_ms: int) -> tuple[Shopper, int]:
    """Token → customer; opens (or resumes) the visit and applies the hello's cumulative ack.

    Returns the shopper and the highest offer sequence number issued to them so far.
    """
    consents = frozenset(hello.consents)
    with runtime.database.session() as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_digest(hello.token))
        )
        if token is None or token.kind != "app" or token.revoked_ms is not None:
            raise HelloRefused("unknown or revoked app token")
        customer = None if token.customer_id is None else session.get(Customer, token.customer_id)
        if customer is None:
            raise HelloRefused("the token's customer no longer exists")
        if session.get(Store, hello.store_id) is None:
            raise HelloRefused(f"no store {hello.store_id}")
        visit = open_visit(session, customer.id, hello.store_id, hello.app_version, consents, at_ms)
        if hello.last_seen_seq is not None:
            ack_through(session, customer.id, hello.last_seen_seq, at_ms)
        return Shopper(customer.id, hello.store_id, visit.id, consents), customer.offer_seq


class ShopperConnection:
    """One shopper app's socket, on uvicorn's port or the phone port (``socket``'s transport)."""

    def __init__(self, socket: FramedSocket, runtime: Runtime) -> None:
        self.socket = socket
        self.runtime = runtime
        self.connected: Connected | None = None
        self.sent_through_seq = 0  # highest offer seq sent on this connection
        self._delivery_lock = asyncio.Lock()
        self._answering: set[asyncio.Task[None]] = set()  # direct frames answered by a task

    async def run(self) -> None:
        await self.socket.accept()
        try:
            hello = await asyncio.wait_for(self._receive_hello(), HELLO_TIMEOUT_S)
        except (TimeoutError, WebSocketDisconnect):
            with contextlib.suppress(Exception):
                await self.socket.close(CLOSE_POLICY, "no hello")
            return
        try:
            shopper, last_seq = await to_thread.run_sync(
                _authenticate, self.runtime, hello, now_ms()
            )
        except HelloRefused as refusal:
            await self.socket.error("unauthorized", str(refusal), "hello")
            await self.socket.close(CLOSE_POLICY, str(refusal))
            return
        # Built in a worker thread: the wiring's factories may read the store from the database.
        pipeline = await to_thread.run_sync(
            lambda: ShopperPipeline(
                shopper,
                self.runtime.database,
                self.runtime.wiring,
                self.runtime.snapshots,
                keep_raw_readings=self.runtime.settings.keep_raw_readings,
            )
        )
        live_name = pseudonym(self.runtime.settings.secret_key, shopper.visit_id)
        self.connected = Connected(shopper, pipeline, live_name, hello.answers == "position")
        # An app claiming more than was ever issued (a reinstall against a reset server) must not
        # block the offers still to come: its mark is capped at what exists.
        self.sent_through_seq = min(hello.last_seen_seq or 0, last_seq)
        subscription = await self.runtime.bus.subscribe(shopper_channel(shopper.customer_id))
        delivery = asyncio.create_task(self._deliver_on_notice(subscription))
        try:
            await self.socket.send(
                {
                    "type": "welcome",
                    "visit_id": shopper.visit_id,
                    "last_seq": last_seq,
                    "positioning": "server" if pipeline.tracker is not None else "not_wired",
                }
            )
            await self._deliver_pending()  # replay what the app has not acknowledged
            await self._serve(self.connected)
        except WebSocketDisconnect:
            pass
        finally:
            await cancel_and_wait(delivery)
            await subscription.close()
            if self.connected is not None:
                await self.runtime.leaves.leave(self.connected.pipeline, now_ms())

    async def _receive_hello(self) -> Hello:
        while True:
            frame = await self.socket.receive_frame(decode_shopper_frame, decode_binary_readings)
            if isinstance(frame, Hello):
                return frame
            await self.socket.error("hello_first", "send a hello before anything else", frame.type)

    async def _serve(self, connected: Connected) -> None:
        """Every frame until the client leaves, even after an answer found it gone (an ack sent
        just before the close still counts: ``FramedSocket.serve``)."""

        async def answer(frame: Any) -> None:
            await self._answer(connected, frame)

        # On the phone port a binary readings frame skips the coroutines below: ``_direct``.
        self.socket.take_binary(partial(self._direct, connected))
        # A binary readings frame's numbers are checked later: by the runner's tick, with the
        # tick's other binary frames (``server.tick_readings``), or in ``_readings``.
        await self.socket.serve(answer, decode_shopper_frame, decode_binary_deferred)

    async def _answer(self, connected: Connected, frame: Any) -> None:
        """Handle one frame; a failure is this frame's error frame, not the connection's end."""
        await self._guarded(self._handle(connected, frame), frame.type)

    async def _guarded(self, work: Awaitable[None], kind: str) -> None:
        try:
            await work
        except WebSocketDisconnect:
            raise
        except (OfferNotFound, UnknownFloor) as error:
            await self.socket.error("not_found", str(error), kind)
        except BadFrame as error:  # a binary frame's numbers: the error ``receive_frame`` sends
            await self.socket.error("bad_frame", error.reason)
        except Exception:
            log.exception("shopper frame %s failed", kind)
            await self.socket.error("server_error", "could not process this frame", kind)

    def _direct(self, connected: Connected, data: bytes) -> bool:
        """A binary readings frame as it arrives, on the event loop, when the runner serves this
        shopper: checked, queued for the runner's next call and answered from its future's
        callback (``_answer_direct``) — what ``serve`` → ``_handle`` → ``_readings`` →
        ``_answer_readings`` do, without a task step, future and coroutine chain each way
        (docs/server.md, "Session 11"). False leaves the frame to ``serve``: a frame over the
        limits, or a shopper the runner does not serve."""
        socket = self.socket
        runner = batch_runner(self.runtime.wiring.tracker_for)
        slot = connected.pipeline.tracker
        if runner is None or not (slot is None or isinstance(slot, BatchSlot)):
            return False
        if socket.peer_gone or not socket.admits(data):
            return False
        now = now_ms()
        try:
            frame = decode_binary_deferred(data)
            problem = _timestamp_problem(frame, now)
        except BadFrame as error:
            self._answer_later(socket.error("bad_frame", error.reason))
            return True
        if problem is not None:
            self._answer_later(socket.error("bad_timestamp", problem, frame.type))
            return True
        job = BatchJob(slot, frame, connected.pipeline, now, data)
        runner.enqueue(job).add_done_callback(partial(self._answer_direct, connected))
        return True

    def _answer_direct(self, connected: Connected, done: asyncio.Future[PipelineStep]) -> None:
        """The runner's step for a ``_direct`` frame: its answer sent now when nothing needs
        waiting for; offers (published and awaited), errors, a full write buffer: by a task."""
        if not done.cancelled() and done.exception() is None and not done.result().offers:
            try:
                sent = self._answer_now(connected, done.result())
            except Exception:
                log.exception("shopper frame readings failed")
                self._answer_later(
                    self.socket.error("server_error", "could not answer", "readings")
                )
                return
            if sent:
                self.socket.answered()
                return

        async def answer() -> None:
            await self._answer_readings(connected, await done)

        self._answer_later(self._guarded(answer(), "readings"))

    def _answer_now(self, connected: Connected, step: PipelineStep) -> bool:
        """``_answer_readings`` without waiting, for a step without offers; False: nothing sent
        (the socket's turn is taken or its buffer full)."""
        positions = [_position_frame(update) for update in step.positions]
        if not self.socket.send_now(_readings_frames(connected, step, positions)):
            return False
        self._publish_live(connected, step, positions)
        return True

    def _answer_later(self, answer: Awaitable[None]) -> None:
        """A ``_direct`` frame answered by a task; the next frame waits for it."""

        async def answering() -> None:
            try:
                with contextlib.suppress(WebSocketDisconnect):
                    await answer
            finally:
                self.socket.answered()

        task = asyncio.get_running_loop().create_task(answering())
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _handle(self, connected: Connected, frame: Any) -> None:
        now = now_ms()
        problem = _timestamp_problem(frame, now)
        if problem is not None:
            await self.socket.error("bad_timestamp", problem, frame.type)
            return
        pipeline = connected.pipeline
        if isinstance(frame, Hello):
            await self.socket.error(
                "already_hello", "this connection is already introduced", "hello"
            )
        elif isinstance(frame, (ReadingsBatch, BinaryReadings)):
            step = await self._readings(pipeline, frame, now)
            await self._answer_readings(connected, step)
        elif isinstance(frame, Fix):
            step = await self._fix(pipeline, frame, now)
            await self._after(connected, step)
        elif isinstance(frame, AppEventFrame):
            step = await to_thread.run_sync(
                pipeline.on_app_event, frame.kind, frame.t_ms, frame.offer_id, now
            )
            await self.socket.send({"type": "event_ack", "kind": frame.kind})
            await self._after(connected, step)
        elif isinstance(frame, Ack):
            await self._ack(connected, frame.seq, now)
        elif isinstance(frame, Bye):
            step = await to_thread.run_sync(pipeline.end_visit, frame.t_ms, now)
            await self._after(connected, step)
            await to_thread.run_sync(self._end_visit, connected, now)
            await self.socket.send({"type": "bye_ack", "visit_id": connected.shopper.visit_id})

    async def _readings(
        self, pipeline: ShopperPipeline, batch: ReadingsBatch | BinaryReadings, now: int
    ) -> PipelineStep:
        """Through the batched runner when the wiring is batched (one worker call and at most one
        commit for every pending batch of the process, tracked or only stored; a binary frame's
        numbers checked there), else in a worker thread of its own (the per-shopper tracker).
        A binary frame that fails raises ``BadFrame``."""
        text = self.socket.last_frame  # JSON text or binary bytes, kept as received
        runner = batch_runner(self.runtime.wiring.tracker_for)
        slot = pipeline.tracker
        if runner is not None and (slot is None or isinstance(slot, BatchSlot)):
            return await runner.submit(BatchJob(slot, batch, pipeline, now, text))
        checked = batch.checked() if isinstance(batch, BinaryReadings) else batch
        return await to_thread.run_sync(pipeline.on_readings, checked, now, text)

    async def _fix(self, pipeline: ShopperPipeline, frame: Fix, now: int) -> PipelineStep:
        """Through the batched runner when there is one (the fix joins the tick's zone call,
        commit and decisions), else in a worker thread of its own."""
        estimate = Estimate(frame.t_ms, frame.x, frame.y, frame.heading_deg, frame.accuracy_m)
        runner = batch_runner(self.runtime.wiring.tracker_for)
        if runner is not None:
            return await runner.submit(FixJob(pipeline, estimate, frame.floor_id, now))
        return await to_thread.run_sync(pipeline.on_fix, estimate, now, frame.floor_id)

    async def _ack(self, connected: Connected, seq: int, now: int) -> None:
        def ack() -> bool:
            with self.runtime.database.session() as db:
                return ack_offer(db, connected.shopper.customer_id, seq, now)

        if not await to_thread.run_sync(ack):
            await self.socket.error("not_found", f"no app offer with seq {seq} for you", "ack")

    async def _answer_readings(self, connected: Connected, step: PipelineStep) -> None:
        """The batch's answer (``_readings_frames``), then what it committed published."""
        positions = [_position_frame(update) for update in step.positions]
        for frame in _readings_frames(connected, step, positions):
            await self.socket.send(frame)
        await self._publish(connected, step, positions)

    async def _after(self, connected: Connected, step: PipelineStep) -> None:
        """Send positions, then tell everyone concerned about what the step committed."""
        frames = [_position_frame(update) for update in step.positions]
        for frame in frames:
            await self.socket.send(frame)
        await self._publish(connected, step, frames)

    async def _publish(
        self, connected: Connected, step: PipelineStep, positions: list[dict[str, Any]]
    ) -> None:
        """Offers to the shopper's and screens' channels (awaited: they carry delivery), and
        the step to the staff live feed (``publish_soon``: best effort, one bus message a turn)."""
        bus = self.runtime.bus
        store_id = connected.shopper.store_id
        if any(o.channel == "app" for o in step.offers):
            await bus.publish(shopper_channel(connected.shopper.customer_id), {"type": "offers"})
        for offer in step.offers:
            if offer.channel == "signage" and offer.screen_id is not None:
                frame = content_frame(offer.id, offer.content, offer.until_ms)
                await bus.publish(screen_channel(store_id, offer.screen_id), frame)
            bus.publish_soon(live_channel(store_id), _live_offer(offer))
        self._publish_live(connected, step, positions)

    def _publish_live(
        self, connected: Connected, step: PipelineStep, positions: list[dict[str, Any]]
    ) -> None:
        """The step's positions and zone events to the staff live feed, if anyone watches."""
        bus = self.runtime.bus
        store_id = connected.shopper.store_id
        shows_live = "location_analytics" in connected.shopper.consents
        if not shows_live or not bus.watched(live_channel(store_id)):
            return  # no live frame to build: nobody watches this store's feed
        floor_id = connected.pipeline.positions.floor_id  # staff watch one floor at a time
        for position in positions:  # the frames the shopper got, not built again
            frame = {**position, "shopper": connected.live_name, "floor_id": floor_id}
            bus.publish_soon(live_channel(store_id), frame)
        for event in step.zone_events:
            bus.publish_soon(
                live_channel(store_id),
                {
                    "type": "zone_event",
                    "shopper": connected.live_name,
                    "floor_id": floor_id,
                    "kind": event.kind,
                    "zone_id": event.zone_id,
                    "t_ms": event.t_ms,
                    "dwell_s": event.dwell_s,
                },
            )

    async def _deliver_on_notice(self, subscription: Subscription) -> None:
        while True:
            await subscription.get()
            try:
                await self._deliver_pending()
            except (WebSocketDisconnect, RuntimeError):
                return  # the socket is gone; the offers stay unacked and are replayed later

    async def _deliver_pending(self) -> None:
        """Send every committed, unacked app offer above the high-water mark, in order."""
        if self.connected is None:
            return
        customer_id = self.connected.shopper.customer_id
        async with self._delivery_lock:

            def load() -> list[dict[str, Any]]:
                with self.runtime.database.session() as db:
                    offers = pending_app_offers(db, customer_id, self.sent_through_seq, now_ms())
                    return [app_offer_frame(o) for o in offers]

            frames = await to_thread.run_sync(load)
            sent: list[str] = []
            for frame in frames:
                await self.socket.send(frame)
                self.sent_through_seq = frame["seq"]
                sent.append(frame["id"])

            def delivered() -> None:
                with self.runtime.database.session() as db:
                    mark_delivered(db, sent, now_ms())

            if sent:
                await to_thread.run_sync(delivered)

    def _end_visit(self, connected: Connected, now: int) -> None:
        with self.runtime.database.session() as db:
            touch_visit(db, connected.shopper.visit_id, now, ended=True)


def _timestamp_problem(frame: Any, now: int) -> str | None:
    if isinstance(frame, (ReadingsBatch, BinaryReadings)):
        first, last = frame.time_span()  # each series is in time order: its ends suffice
        problem = timestamp_problem(first, now) or timestamp_problem(last, now)
        if problem is not None and isinstance(frame, BinaryReadings):
            frame.checked()  # a frame with bad numbers is a bad_frame (raises), as it was
        return problem
    t_ms = getattr(frame, "t_ms", None)
    return None if t_ms is None else timestamp_problem(t_ms, now)


def _readings_frames(
    connected: Connected, step: PipelineStep, positions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A readings batch's answer: ``readings_ack`` then its positions, or (hello ``answers:
    position``) the ack's fields in the first position: one frame a batch, not two."""
    accepted = step.readings_accepted
    positioning = "server" if step.positioning_wired else "not_wired"
    if connected.ack_in_position and positions:
        first = {**positions[0], "accepted": accepted, "positioning": positioning}
        return [first, *positions[1:]]
    ack = {"type": "readings_ack", "accepted": accepted, "positioning": positioning}
    return [ack, *positions]


def _position_frame(update: PositionUpdate) -> dict[str, Any]:
    e = update.estimate
    return {
        "type": "position",
        "t_ms": e.t_ms,
        "x": e.x,
        "y": e.y,
        "heading_deg": e.heading_deg,
        "accuracy_m": e.accuracy_m,
        "zone_id": update.zone_id,
    }


def _live_offer(offer: IssuedOffer) -> dict[str, Any]:
    """An offer on the staff live feed: campaign and place, no shopper identity."""
    return {
        "type": "offer",
        "campaign_id": offer.campaign_id,
        "channel": offer.channel,
        "zone_id": offer.zone_id,
        "screen_id": offer.screen_id,
        "t_ms": offer.issued_ms,
    }


async def shopper_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await ShopperConnection(FramedSocket(StarletteTransport(websocket)), runtime).run()
