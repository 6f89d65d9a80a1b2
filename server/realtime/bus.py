"""Delivery fan-out between connections: in memory for one process, Redis pub/sub for several.

Channels are named for their audience: ``shopper:{customer_id}``, ``screen:{store_id}:{screen_id}``,
``live:{store_id}``. Messages are JSON objects. Nothing is stored here: the database is the record,
the bus only tells the process that holds a socket that there is something to send (offers are re-
read from the database on arrival, so a lost bus message delays nothing that a reconnect would not
replay).

``publish_soon`` is for the high-rate, best-effort staff live feed (a position per shopper and
second): it does not wait, and over Redis every message published so in one turn of the event loop
goes out as one Redis message per channel (a JSON list the readers deal out one by one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)

# A subscriber that falls this far behind is slow or stuck; newer messages are dropped for it
# (the database still holds them) rather than growing memory without bound.
SUBSCRIBER_QUEUE_LIMIT = 1000


def shopper_channel(customer_id: str) -> str:
    return f"shopper:{customer_id}"


def screen_channel(store_id: int, screen_id: str) -> str:
    return f"screen:{store_id}:{screen_id}"


def live_channel(store_id: int) -> str:
    return f"live:{store_id}"


class Subscription:
    """One listener's queue on one channel; leave it with ``close()`` (or ``async with``)."""

    def __init__(self, bus: DeliveryBus, channel: str) -> None:
        self.bus = bus
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_QUEUE_LIMIT)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    async def close(self) -> None:
        await self.bus.unsubscribe(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class DeliveryBus:
    """In-process fan-out; the base for ``RedisBus``."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.clear()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._dispatch(channel, message)

    def publish_soon(self, channel: str, message: dict[str, Any]) -> None:
        """Publish without waiting (in one process: at once). Messages published so on one
        channel keep their order among themselves, not against ``publish``."""
        self._dispatch(channel, message)

    def watched(self, channel: str) -> bool:
        """Whether a message on ``channel`` can reach anyone (in one process: a listener here),
        so a publisher may skip building messages nobody would get."""
        return channel in self._listeners

    async def subscribe(self, channel: str) -> Subscription:
        subscription = Subscription(self, channel)
        self._listeners[channel].add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        listeners = self._listeners.get(subscription.channel)
        if listeners is not None:
            listeners.discard(subscription)
            if not listeners:
                del self._listeners[subscription.channel]

    def _dispatch(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._listeners.get(channel, ())):
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("dropping a message for a stuck subscriber on %s", channel)


class RedisBus(DeliveryBus):
    """Fan-out across processes: publish goes through Redis, a reader task dispatches locally."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        super().__init__()
        self._redis: Redis = Redis.from_url(redis_url)
        self._prefix = prefix
        self._pubsub: PubSub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._soon: dict[str, list[dict[str, Any]]] = {}
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # A pattern nobody publishes to keeps the pubsub connection open before the first
        # subscriber.
        await self._pubsub.subscribe(self._prefix + "__keepalive__")
        self._reader = asyncio.create_task(self._read_forever())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender  # what was queued before the close still goes out
        await self._pubsub.aclose()
        await self._redis.aclose()
        await super().close()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(message))

    def watched(self, channel: str) -> bool:
        """Always: another process's listeners are not known here."""
        return True

    def publish_soon(self, channel: str, message: dict[str, Any]) -> None:
        """Queued for one Redis message per channel and turn of the event loop. A publish per
        position took a pooled connection each: 1,000 shoppers ran the pool out ("Too many
        connections") and failed their frames; now one sender publishes, one channel at a time."""
        self._soon.setdefault(channel, []).append(message)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_soon())

    async def _send_soon(self) -> None:
        # Started with call_soon semantics: the frames of every connection woken in the same turn
        # (a runner tick's answers) are queued before the first publish.
        while self._soon:
            queued, self._soon = self._soon, {}
            for channel, messages in queued.items():
                try:
                    await self._redis.publish(self._prefix + channel, json.dumps(messages))
                except Exception:  # best effort, like a subscriber's full queue: log and go on
                    log.exception("could not publish %d messages on %s", len(messages), channel)

    async def subscribe(self, channel: str) -> Subscription:
        async with self._lock:
            first = channel not in self._listeners
            subscription = await super().subscribe(channel)
            if first:
                await self._pubsub.subscribe(self._prefix + channel)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        async with self._lock:
            await super().unsubscribe(subscription)
            if subscription.channel not in self._listeners:
                await self._pubsub.unsubscribe(self._prefix + subscription.channel)

    async def _read_forever(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not kill delivery for the whole process
                log.exception("redis pub/sub read failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode("utf-8").removeprefix(self._prefix)
            data = json.loads(message["data"])
            for one in data if isinstance(data, list) else [data]:  # a list: ``publish_soon``'s
                self._dispatch(channel, one)


def make_bus(redis_url: str | None, prefix: str) -> DeliveryBus:
    return DeliveryBus() if redis_url is None else RedisBus(redis_url, prefix)
