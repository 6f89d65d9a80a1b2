"""Live mode: simulated phones connected to a running server over ``/ws/shopper``, like real apps.

Each phone walks its planned visit (the offline simulator's trajectory and sensors), streams one
``readings`` batch per simulated second, ``speed`` times faster than real time, sends ``app_open``
on arrival, acks every offer, opens and redeems some (``simulator.purchases``), reconnects with its
last seen ``seq`` when the connection drops, and says ``bye`` at the exit. Then, given the store's
point-of-sale token (``Till``), the store's till posts the shopper's basket over REST
(``POST /api/stores/{id}/purchases``): their shopping list's products, and each promoted product
the offer model puts in it (``simulator.purchases``: offered shoppers at P(buy | offered), the
others, hold-outs included, at the baseline rate). It measures what a tester needs: batch → ack
and batch → position latency, offers, baskets, errors, and how far each position the server
returned is from the true one.

Clock. The server refuses times more than 10 min old or 30 s ahead of its clock, but at speed K
the simulated clock runs ahead of the wall clock. Each phone therefore maps simulated time to wire
time as ``t_wire = t_sim − start_sim + start_wall − backdate``, with ``backdate`` just large enough
that its last batch is at most ``FUTURE_MARGIN_MS`` ahead when it is sent, so a visit at speed K
can last at most (10 min − margin)/(1 − 1/K) of simulated time: longer visits are cut there.

``run_phones`` (async) and ``simulate_live`` (blocking) return ``LiveStats``; the CLI and the
server load benchmark both use them.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from positioning.walkfile import WalkRow
from simulator.customers import CustomerBase, make_customer_base, read_customer_base
from simulator.phone import walk_windows
from simulator.purchases import (
    SKU_KEYS,
    BasketItem,
    baseline_draw,
    baseline_rate,
    category_affinity,
    discount_fraction,
    offer_category,
    respond_to_offer,
    shopping_list_items,
)
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.run import (
    FIRST_VISIT_MS,
    MIN_CUSTOMERS,
    SimulationSettings,
    resolve_store,
    simulate_visit,
    with_catalogue_skus,
)
from simulator.shopper import plan_visit
from simulator.store import Store
from simulator.walking import Trajectory
from simulator.wire import (
    Frame,
    ack_frame,
    binary_readings_frame,
    bye_frame,
    event_frame,
    fix_frame,
    hello_frame,
    readings_frames,
    samples_in,
)

APP_VERSION = "aislecast-sim/1.0"
# The server accepts times up to 10 min old and 30 s ahead (docs/protocol.md): keep a margin on
# both sides for the time a batch spends in flight and for clock steps.
MAX_BACKDATE_MS = 9 * 60 * 1000
FUTURE_MARGIN_MS = 20 * 1000
# After the last batch, wait this long for the last positions and the bye_ack.
DRAIN_S = 2.0
# Before checkout, wait up to this long for the answers to every batch sent (polled).
CHECKOUT_DRAIN_S, DRAIN_POLL_S = 10.0, 0.02
# Reconnect: wait, doubling up to the cap, and give up after this many failed attempts in a row.
RECONNECT_FIRST_S, RECONNECT_MAX_S, RECONNECT_ATTEMPTS = 0.2, 5.0, 8
# The accuracy a self-positioning app claims for its fixes.
FIX_ACCURACY_M = 1.0
# Batch send times kept per phone to match positions to the batch that produced them.
LATENCY_HISTORY = 120
# A till waits this long for the server to record a basket, and tries this many times (the
# basket id makes a retry safe: the server records a basket once).
TILL_TIMEOUT_S = 10.0
TILL_ATTEMPTS = 3


class LiveSetupError(ValueError):
    """The live run cannot start (no token for a shopper, bad tokens file); the message says why."""


class HelloRefused(RuntimeError):
    """The server did not welcome the phone (bad token or store): retrying will not help."""


@dataclass(frozen=True)
class LiveSettings:
    speed: float = 1.0
    # Cut every visit after this much simulated time (None: the whole visit, within the clock
    # limit above).
    max_visit_s: float | None = None
    # Seconds of wall time between phone starts (shoppers do not all walk in at once).
    stagger_s: float = 0.0
    max_stops: int = 4
    # Fault injection for testing the server's replay: the phone's socket is aborted the moment
    # its first offer arrives, before the app has seen or acked it.
    drop_on_first_offer: bool = False
    # An app that positions itself: one ``fix`` a second (its true pose, ``FIX_ACCURACY_M``)
    # instead of the sensors' readings, so where the server places it is exact.
    send_fixes: bool = False
    # Readings as the protocol's binary frame (MessagePack, raw little-endian columns) instead of
    # JSON text, as an app streaming 50 Hz sensors would (the default; False: JSON text).
    binary_readings: bool = True
    # The hello asks for one answer frame a batch (``answers: position``: the batch's first
    # position carries ``accepted``) instead of a ``readings_ack`` then the positions.
    ack_in_position: bool = True


@dataclass(frozen=True)
class Persona:
    customer_id: str
    token: str
    consents: tuple[str, ...]
    affinity: dict[str, float]


@dataclass
class OfferSeen:
    offer_id: str
    seq: int
    campaign_id: int | None
    zone_id: str | None
    content: dict[str, Any]
    received_sim_ms: int
    opened: bool = False
    redeemed: bool = False
    p_offered: float = 0.0  # the purchase model's P(buy | offered) and P(buy) without the offer
    p_baseline: float = 0.0
    promoted_sku: str | None = None
    buys: bool = False  # the model put the promoted product in this shopper's basket


@dataclass
class PhoneStats:
    index: int
    customer_id: str
    batches: int = 0
    samples_sent: int = 0
    batches_unacked: int = 0  # sent on a connection that dropped before their readings_ack
    samples_accepted: int = 0
    acks_in_position: int = 0  # batches acked by their position frame (hello ``answers``)
    ack_latency_ms: list[float] = field(default_factory=list)
    position_latency_ms: list[float] = field(default_factory=list)
    position_error_m: list[float] = field(default_factory=list)
    zones_seen: set[str] = field(default_factory=set)
    offers: list[OfferSeen] = field(default_factory=list)
    duplicate_offers: int = 0
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    positioning: str | None = None
    finished: bool = False
    basket: list[BasketItem] = field(default_factory=list)  # what the till posted at checkout
    basket_recorded: bool = False  # the server answered 201 (or 200: already recorded)


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


@dataclass
class LiveStats:
    phones: list[PhoneStats]
    wall_s: float
    interrupted: bool = False  # stopped by Ctrl-C: the figures cover what was done until then

    def summary(self) -> dict[str, Any]:
        """The overall figures: latencies (ms) and position error (m) as p50/p99, counts."""
        acks = [v for p in self.phones for v in p.ack_latency_ms]
        latency = [v for p in self.phones for v in p.position_latency_ms]
        error = [v for p in self.phones for v in p.position_error_m]
        offers = [o for p in self.phones for o in p.offers]
        return {
            "phones": len(self.phones),
            "finished": sum(p.finished for p in self.phones),
            "wall_s": round(self.wall_s, 2),
            "batches": sum(p.batches for p in self.phones),
            "samples_sent": sum(p.samples_sent for p in self.phones),
            "samples_accepted": sum(p.samples_accepted for p in self.phones),
            "batches_unacked": sum(p.batches_unacked for p in self.phones),
            "ack_p50_ms": _percentile(acks, 50),
            "ack_p99_ms": _percentile(acks, 99),
            "positions": len(latency),
            "position_p50_ms": _percentile(latency, 50),
            "position_p99_ms": _percentile(latency, 99),
            "error_p50_m": _percentile(error, 50),
            "error_p90_m": _percentile(error, 90),
            "offers": len(offers),
            "opened": sum(o.opened for o in offers),
            "redeemed": sum(o.redeemed for o in offers),
            "baskets": sum(p.basket_recorded for p in self.phones),
            # The purchase model's expected extra purchases caused by the offers received.
            "model_uplift": round(sum(o.p_offered - o.p_baseline for o in offers), 3),
            "duplicate_offers": sum(p.duplicate_offers for p in self.phones),
            "errors": sum(len(p.errors) for p in self.phones),
            "reconnects": sum(p.reconnects for p in self.phones),
        }


@dataclass(frozen=True)
class LiveCast:
    """The store, its customers and the visits to walk (from the same seed as the offline run)."""

    store: Store
    customers: CustomerBase
    # (customer id, true trajectory, the phone's windows of rows: ``walk_windows``' output, a
    # generator read once, or a list shared by several phones in load mode)
    visits: tuple[tuple[str, Trajectory, Iterable[tuple[int, list[WalkRow]]]], ...]
    # Per visit, the categories on the shopper's list (empty in load mode: not replanned).
    shopping_lists: tuple[tuple[str, ...], ...] = ()
    # Products the store's campaigns promote (``campaigns.json`` of a store folder): whether each
    # is in a basket is the offer model's call, with or without an offer.
    promoted_skus: tuple[str, ...] = ()


@dataclass(frozen=True)
class Till:
    """The store's point of sale: where and with which ``pos`` token baskets are posted."""

    server_url: str
    token: str


def planned_shopping_list(
    store: Store,
    grid: RouteGrid,
    customers: CustomerBase,
    index: int,
    seed: int,
    max_stops: int,
) -> tuple[str, ...]:
    """Shopper ``index``'s list, as ``simulate_visit`` planned it: ``plan_visit`` is the first
    to draw from ``default_rng([seed, index])``, so the same call gives the same visit."""
    customer = customers.customers[index % len(customers.customers)]
    rng = np.random.default_rng([seed, index])
    bought = customers.category_counts(customer.customer_id)
    visit = plan_visit(store, grid, customer.customer_id, bought, rng, max_stops=max_stops)
    return visit.shopping_list


def promoted_skus(folder: Path) -> tuple[str, ...]:
    """The products named by the campaigns of a store folder's ``campaigns.json`` (if any)."""
    path = folder / "campaigns.json"
    if not path.is_file():
        return ()
    try:
        campaigns = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise LiveSetupError(f"{path}: {error}") from None
    skus = []
    for campaign in campaigns if isinstance(campaigns, list) else []:
        content = (campaign.get("document") or {}).get("content") or {}
        skus += [content[k] for k in SKU_KEYS if isinstance(content.get(k), str)]
    return tuple(sorted(set(skus)))


def load_cast(
    store_spec: str,
    shoppers: int,
    seed: int,
    max_stops: int,
    ilc_root: Path | None = None,
    first_index: int = 0,
    distinct_visits: int | None = None,
    max_visit_s: float | None = None,
    layout: Store | None = None,
    shopper_indices: Sequence[int] | None = None,
) -> LiveCast:
    """Plan ``shoppers`` visits (shoppers ``first_index`` on, numbered as offline; or the first
    ``shoppers`` of ``shopper_indices`` when given: a demo choosing who walks).

    ``store_spec`` is ``demo``, ``ilc:…``, ``store.json``, or a ``simulate --out`` folder (its
    ``store.json`` and CSVs: the customers the server was seeded with).

    Load mode (``distinct_visits`` = K): only K visits are planned and sensed, once, up front
    (``max_visit_s`` of each); shopper i (customer i, their own token and consents) walks visit
    i mod K. Sensing costs ~3 ms per phone-second, so thousands of phones cannot each have
    their own; sharing leaves only the encoding per phone.

    ``layout`` (a store read from the server): walk it instead of ``store_spec``'s store; the
    customers still come from a ``simulate --out`` folder given as ``store_spec``."""
    folder = Path(store_spec)
    promoted: tuple[str, ...] = ()
    if folder.is_dir() and (folder / "store.json").is_file():
        store = layout or resolve_store(str(folder / "store.json"), seed)
        customers = read_customer_base(folder)
        promoted = promoted_skus(folder)
    else:
        store = layout or resolve_store(store_spec, seed, ilc_root)
        categories = sorted({c for z in store.zones for c in z.categories}) or ["general"]
        customers = make_customer_base(
            categories, max(MIN_CUSTOMERS, shoppers), FIRST_VISIT_MS, seed
        )
    if not customers.customers:
        raise LiveSetupError(f"{store_spec}: no customers to walk")
    store = with_catalogue_skus(store, customers)
    grid = RouteGrid.build(store.floor_plan().walkable)
    environment = RadioEnvironment.for_store(store, seed)
    settings = SimulationSettings(max_stops=max_stops)
    planned = shoppers if distinct_visits is None else max(1, min(shoppers, distinct_visits))
    indices = list(range(first_index, first_index + planned))
    if shopper_indices is not None:
        indices = list(shopper_indices[:planned])
    plans = [
        simulate_visit(store, grid, environment, customers, i, seed, settings) for i in indices
    ]
    if distinct_visits is None:
        lists = tuple(
            planned_shopping_list(store, grid, customers, i, seed, max_stops) for i in indices
        )
        return LiveCast(store, customers, tuple(
            (cid, trajectory, walk_windows(trajectory, phone)) for cid, trajectory, phone in plans
        ), lists, promoted)  # fmt: skip
    windows = None if max_visit_s is None else int(np.ceil(max_visit_s))
    shared = [
        (trajectory, list(islice(walk_windows(trajectory, phone), windows)))
        for _cid, trajectory, phone in plans
    ]
    everyone = customers.customers
    visits = tuple(
        (everyone[(first_index + i) % len(everyone)].customer_id, *shared[i % planned])
        for i in range(shoppers)
    )
    return LiveCast(store, customers, visits, promoted_skus=promoted)


def read_tokens(path: Path | str) -> tuple[int, dict[str, str]]:
    """``(store_id, {customer_id: app token})`` from ``aislecast seed --tokens-out``'s file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return int(document["store_id"]), {str(k): str(v) for k, v in document["app"].items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LiveSetupError(f"tokens file {path}: {error}") from None


def read_pos_token(path: Path | str) -> str | None:
    """The store's point-of-sale token from the same file (``"pos"``), if it has one."""
    try:
        token = json.loads(Path(path).read_text(encoding="utf-8")).get("pos")
    except (OSError, ValueError, AttributeError) as error:
        raise LiveSetupError(f"tokens file {path}: {error}") from None
    return token if isinstance(token, str) and token else None


def personas(cast: LiveCast, tokens: dict[str, str]) -> list[Persona]:
    by_id = {c.customer_id: c for c in cast.customers.customers}
    out = []
    for customer_id, _trajectory, _windows in cast.visits:
        if customer_id not in tokens:
            raise LiveSetupError(f"no app token for customer {customer_id} in the tokens file")
        customer = by_id[customer_id]
        affinity = category_affinity(cast.customers, customer_id)
        out.append(Persona(customer_id, tokens[customer_id], customer.consents, affinity))
    return out


def http_url(server_url: str) -> str:
    """``ws://h:p/ws/shopper`` / ``http://h:p/`` → ``http://h:p``."""
    url = server_url.rstrip("/").removesuffix("/ws/shopper")
    for ws, http in (("wss://", "https://"), ("ws://", "http://")):
        if url.startswith(ws):
            url = http + url.removeprefix(ws)
    return url


def shopper_url(server_url: str) -> str:
    """``http://h:p`` / ``ws://h:p`` (with or without the path) → ``ws://h:p/ws/shopper``."""
    url = server_url.rstrip("/")
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(http):
            url = ws + url.removeprefix(http)
    return url if url.endswith("/ws/shopper") else url + "/ws/shopper"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class LivePhone:
    """One simulated app: a visit, a socket (reconnected as needed) and its statistics."""

    def __init__(
        self,
        index: int,
        persona: Persona,
        trajectory: Trajectory,
        windows: Iterable[tuple[int, list[WalkRow]]],
        store_id: int,
        url: str,
        settings: LiveSettings,
        category_of_sku: dict[str, str],
        seed: int,
        on_batch: Callable[[PhoneStats], None] | None = None,
        checkout: Checkout | None = None,
    ) -> None:
        self.persona, self.trajectory, self.windows = persona, trajectory, windows
        self.store_id, self.url, self.settings = store_id, url, settings
        self.category_of_sku, self.seed, self.on_batch = category_of_sku, seed, on_batch
        self.checkout = checkout
        self.stats = PhoneStats(index, persona.customer_id)
        speed = max(settings.speed, 1.0)
        lead_per_sim_ms = 1.0 - 1.0 / speed  # simulated time gained on the wall clock
        limit_ms = (MAX_BACKDATE_MS + FUTURE_MARGIN_MS) / lead_per_sim_ms if speed > 1 else None
        duration = trajectory.end_ms - trajectory.start_ms
        if settings.max_visit_s is not None:
            duration = min(duration, int(settings.max_visit_s * 1000))
        if limit_ms is not None:
            duration = min(duration, int(limit_ms))
        self.end_sim_ms = trajectory.start_ms + duration
        self.backdate_ms = int(np.clip(duration * lead_per_sim_ms - FUTURE_MARGIN_MS, 0,
                                       MAX_BACKDATE_MS))  # fmt: skip
        self.start_wall_s = 0.0
        self.offset_ms = 0
        self.last_seen_seq: int | None = None
        self.seen_ids: set[str] = set()
        self.dropped_once = False
        self.arrived = False
        self.left = False  # said bye: an offer arriving now finds the shopper gone
        # (sim time due, frame) actions the app will take: opening and redeeming offers.
        self.actions: list[tuple[int, Frame]] = []
        self.sent_batches: deque[tuple[int, float]] = deque(maxlen=LATENCY_HISTORY)
        self.unacked_batches: deque[float] = deque()
        self.bye_acked = asyncio.Event()

    # -- clocks ---------------------------------------------------------------------------------
    def sim_now_ms(self) -> int:
        elapsed = (time.monotonic() - self.start_wall_s) * self.settings.speed
        return self.trajectory.start_ms + int(elapsed * 1000)

    def to_wire(self, t_sim_ms: int) -> int:
        return t_sim_ms + self.offset_ms

    async def _sleep_until_sim(self, t_sim_ms: int) -> None:
        due_s = self.start_wall_s + (t_sim_ms - self.trajectory.start_ms) / 1000.0 / (
            self.settings.speed
        )
        delay = due_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    # -- the run ------------------------------------------------------------------------------
    def _windows(self) -> Iterator[tuple[int, list[Frame]]]:
        for t1, rows in self.windows:
            if t1 - 1000 >= self.end_sim_ms:
                return
            if self.settings.send_fixes:
                x, y, heading = self.trajectory.pose_at(np.array([float(t1 - 1)]))
                pose = float(x[0]), float(y[0]), float(heading[0])
                yield t1, [fix_frame(self.to_wire(t1 - 1), *pose, FIX_ACCURACY_M)]
            else:
                yield t1, readings_frames(rows, self.offset_ms)

    async def run(self) -> PhoneStats:
        self.start_wall_s = time.monotonic()
        self.offset_ms = wall_ms() - self.trajectory.start_ms - self.backdate_ms
        windows = self._windows()
        pending: list[Frame] = []
        failures = 0
        while True:
            try:
                async with connect(self.url, max_size=2**20, open_timeout=10) as ws:
                    await self._hello(ws)
                    failures = 0
                    done = await self._session(ws, windows, pending)
                    if done:
                        self.stats.finished = True
                        if self.checkout is not None:
                            await self.checkout.pay(self)
                        return self.stats
            except HelloRefused as error:
                self.stats.errors.append(str(error))
                return self.stats
            except (ConnectionClosed, OSError, InvalidHandshake, TimeoutError) as error:
                failures += 1
                if failures > RECONNECT_ATTEMPTS:
                    self.stats.errors.append(f"gave up reconnecting: {error!r}")
                    return self.stats
                self.stats.reconnects += 1
                await asyncio.sleep(min(RECONNECT_MAX_S, RECONNECT_FIRST_S * 2 ** (failures - 1)))

    async def _hello(self, ws: ClientConnection) -> None:
        p = self.persona
        answers = "position" if self.settings.ack_in_position else None
        await ws.send(json.dumps(hello_frame(p.token, self.store_id, APP_VERSION, p.consents,
                                             self.last_seen_seq, answers)))  # fmt: skip
        welcome = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if welcome.get("type") != "welcome":
            raise HelloRefused(f"hello refused: {welcome}")
        self.stats.positioning = welcome.get("positioning")

    async def _session(
        self, ws: ClientConnection, windows: Iterator[tuple[int, list[Frame]]], pending: list[Frame]
    ) -> bool:
        """Stream until the visit ends (True) or the connection drops (raises)."""
        # Batches the last connection sent but the server never acknowledged: the protocol has
        # no batch ids to resend them safely, so they count as lost.
        self.stats.batches_unacked += len(self.unacked_batches)
        self.unacked_batches.clear()
        receiver = asyncio.create_task(self._receive(ws))
        try:
            if not self.arrived:
                # A slow connect must not date the app's opening after the visit's end (nor
                # further ahead of the wall clock than the visit's last batch).
                opened = min(self.sim_now_ms(), self.end_sim_ms)
                await self._send(ws, event_frame("app_open", self.to_wire(opened)))
                self.arrived = True
            while pending:  # the batch the last connection could not send
                await self._send_batch(ws, pending[0])
                pending.pop(0)
            for t1, frames in windows:
                pending.extend(frames)
                await self._sleep_until_sim(t1)
                if receiver.done():
                    receiver.result()  # raises the connection's end
                await self._send_due_actions(ws, t1)
                while pending:
                    await self._send_batch(ws, pending[0])
                    pending.pop(0)
                if self.on_batch is not None:
                    self.on_batch(self.stats)
            # The visit is over: the server answers what the phone sent (offers come before
            # the answers to later batches), then what is left to do happens at the till.
            await self._drain()
            await self._send_due_actions(ws, None)
            self.left = True
            await self._send(ws, bye_frame(self.to_wire(self.end_sim_ms)))
            try:
                await asyncio.wait_for(self.bye_acked.wait(), timeout=DRAIN_S)
            except TimeoutError:
                self.stats.errors.append("no bye_ack")
            return True
        finally:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)

    async def _drain(self) -> None:
        """Wait (at most ``CHECKOUT_DRAIN_S``) until every batch sent has its ``readings_ack``:
        a server slowed down by the speed-up must not deliver the offer after the shopper left."""
        deadline = time.monotonic() + CHECKOUT_DRAIN_S
        while self.unacked_batches and time.monotonic() < deadline:
            await asyncio.sleep(DRAIN_POLL_S)

    async def _send(self, ws: ClientConnection, frame: Frame) -> None:
        await ws.send(json.dumps(frame, separators=(",", ":")))

    async def _send_batch(self, ws: ClientConnection, frame: Frame) -> None:
        if self.settings.binary_readings and frame["type"] == "readings":
            await ws.send(binary_readings_frame(frame))
        else:
            await self._send(ws, frame)
        sent = time.monotonic()
        self.stats.batches += 1
        if frame["type"] == "fix":  # answered by its position, not by a readings_ack
            self.sent_batches.append((frame["t_ms"], sent))
            return
        last_t = max(max(s["t_ms"]) for k, s in frame.items() if k != "type")
        self.sent_batches.append((last_t, sent))
        self.unacked_batches.append(sent)
        self.stats.samples_sent += samples_in(frame)

    async def _send_due_actions(self, ws: ClientConnection, until_sim_ms: int | None) -> None:
        """Offer events due by ``until_sim_ms`` (all of them when None: the visit ended)."""
        self.actions.sort(key=lambda action: action[0])
        while self.actions and (until_sim_ms is None or self.actions[0][0] <= until_sim_ms):
            due, frame = self.actions.pop(0)
            frame["t_ms"] = self.to_wire(min(due, self.end_sim_ms))
            await self._send(ws, frame)

    # -- what the server sends -----------------------------------------------------------------
    async def _receive(self, ws: ClientConnection) -> None:
        async for message in ws:
            frame = json.loads(message)
            kind = frame.get("type")
            now = time.monotonic()
            if "accepted" in frame:  # a readings_ack, or a position carrying the batch's ack
                self.stats.samples_accepted += int(frame["accepted"])
                self.stats.acks_in_position += kind == "position"
                if self.unacked_batches:
                    self.stats.ack_latency_ms.append((now - self.unacked_batches.popleft()) * 1e3)
            if kind == "position":
                self._on_position(frame, now)
            elif kind == "offer":
                await self._on_offer(ws, frame)
            elif kind == "error":
                self.stats.errors.append(f"{frame.get('code')}: {frame.get('reason')}")
            elif kind == "bye_ack":
                self.bye_acked.set()

    def _on_position(self, frame: Frame, now: float) -> None:
        t_wire = int(frame["t_ms"])
        # The batch that carried this time: the first sent whose last sample is at or after it.
        times = [t for t, _ in self.sent_batches]
        k = bisect.bisect_left(times, t_wire)
        if k < len(self.sent_batches):
            self.stats.position_latency_ms.append((now - self.sent_batches[k][1]) * 1e3)
        x, y, _heading = self.trajectory.pose_at(np.array([float(t_wire - self.offset_ms)]))
        self.stats.position_error_m.append(
            float(np.hypot(float(frame["x"]) - x[0], float(frame["y"]) - y[0]))
        )
        if frame.get("zone_id"):
            self.stats.zones_seen.add(str(frame["zone_id"]))

    async def _on_offer(self, ws: ClientConnection, frame: Frame) -> None:
        if self.settings.drop_on_first_offer and not self.dropped_once:
            # The radio died as the offer arrived: the app never saw it, nothing was acked.
            self.dropped_once = True
            ws.transport.abort()
            return
        seq, offer_id = int(frame["seq"]), str(frame["id"])
        await self._send(ws, ack_frame(seq))
        self.last_seen_seq = max(seq, self.last_seen_seq or 0)
        if offer_id in self.seen_ids:
            self.stats.duplicate_offers += 1
            return
        self.seen_ids.add(offer_id)
        now_sim = self.sim_now_ms()
        content = frame.get("content") or {}
        offer = OfferSeen(offer_id, seq, frame.get("campaign_id"), frame.get("zone_id"),
                          content, now_sim)  # fmt: skip
        self.stats.offers.append(offer)
        category = offer_category(content, self.category_of_sku)
        affinity = self.persona.affinity.get(category, 0.0) if category else 0.0
        rng = np.random.default_rng([self.seed, self.stats.index, seq])
        sku = next((content[k] for k in SKU_KEYS if isinstance(content.get(k), str)), None)
        u_baseline = None
        if sku is not None:
            u_baseline = baseline_draw(self.seed, self.persona.customer_id, sku)
        response = respond_to_offer(affinity, discount_fraction(content), rng, u_baseline)
        offer.promoted_sku = sku
        if self.left:
            # Too late (the server was slow): the shopper is at the till or gone; the offer
            # changes nothing, they buy the product at the baseline rate.
            offer.p_offered = offer.p_baseline = response.p_baseline
            offer.buys = u_baseline is not None and u_baseline < response.p_baseline
            return
        offer.p_offered, offer.p_baseline = response.p_offered, response.p_baseline
        offer.buys = response.buys
        if response.open_after_s is not None:
            offer.opened = True
            due = now_sim + int(response.open_after_s * 1000)
            self.actions.append((due, event_frame("offer_opened", 0, offer_id)))
        if response.redeem_after_s is not None:
            offer.redeemed = True
            due = now_sim + int(response.redeem_after_s * 1000)
            self.actions.append((due, event_frame("offer_redeemed", 0, offer_id)))


@dataclass
class Checkout:
    """One shopper's checkout: the till, their list, and the store's promoted products."""

    till: Till
    customers: CustomerBase
    shopping_list: tuple[str, ...]
    promoted_skus: tuple[str, ...]
    client: httpx.AsyncClient

    def basket(self, phone: LivePhone) -> list[BasketItem]:
        """The shopping list's products, then each promoted product the offer model puts in."""
        customer_id, seed = phone.persona.customer_id, phone.seed
        offers = [o for o in phone.stats.offers if o.promoted_sku is not None]
        decided = frozenset(self.promoted_skus) | {str(o.promoted_sku) for o in offers}
        rng = np.random.default_rng([seed, zlib.crc32(customer_id.encode()), 0xBA5CE7])
        items = shopping_list_items(self.customers, customer_id, self.shopping_list, decided, rng)
        price_of = {p.sku: p.price for p in self.customers.products}
        for sku in sorted(decided & price_of.keys()):
            mine = [o for o in offers if o.promoted_sku == sku]
            if mine:
                if not any(o.buys for o in mine):
                    continue
                redeemed = next((o for o in mine if o.redeemed), None)
                discount = discount_fraction(redeemed.content) if redeemed else 0.0
                items.append(BasketItem(sku, 1, round(price_of[sku] * (1.0 - discount), 2)))
                continue
            affinity = phone.persona.affinity.get(phone.category_of_sku.get(sku, ""), 0.0)
            if baseline_draw(seed, customer_id, sku) < baseline_rate(affinity):
                items.append(BasketItem(sku, 1, price_of[sku]))
        return items

    async def pay(self, phone: LivePhone) -> None:
        """Post the basket as the store's till would (wall-clock time); nothing bought, no post."""
        items = self.basket(phone)
        phone.stats.basket = items
        if not items:
            return
        body = {
            "basket_id": f"sim-{uuid.uuid4().hex}",
            "customer_id": phone.persona.customer_id,
            "t_ms": wall_ms(),
            "lines": [{"sku": i.sku, "quantity": i.quantity, "price": i.price} for i in items],
        }
        url = f"{http_url(self.till.server_url)}/api/stores/{phone.store_id}/purchases"
        headers = {"Authorization": f"Bearer {self.till.token}"}
        for attempt in range(TILL_ATTEMPTS):
            try:
                response = await self.client.post(url, json=body, headers=headers)
                break
            except httpx.TransportError as error:
                if attempt + 1 == TILL_ATTEMPTS:
                    phone.stats.errors.append(f"basket not posted: {error!r}")
                    return
        if response.status_code in (200, 201):
            phone.stats.basket_recorded = True
        else:
            phone.stats.errors.append(f"basket refused: {response.status_code} {response.text}")


async def run_phones(
    server_url: str,
    cast: LiveCast,
    tokens: dict[str, str],
    store_id: int,
    settings: LiveSettings,
    seed: int = 0,
    on_batch: Callable[[PhoneStats], None] | None = None,
    stop_after_s: float | None = None,
    till: Till | None = None,
) -> LiveStats:
    """Run every visit of ``cast`` as a phone against the server; the stats when all are done
    (or after ``stop_after_s`` of wall time: phones still walking are stopped, unfinished).
    With a ``till``, each shopper who finishes their visit pays: the till posts their basket."""
    async with httpx.AsyncClient(timeout=TILL_TIMEOUT_S) as client:
        return await _run_phones(server_url, cast, tokens, store_id, settings, seed, on_batch,
                                 stop_after_s, till, client)  # fmt: skip


async def _run_phones(
    server_url: str,
    cast: LiveCast,
    tokens: dict[str, str],
    store_id: int,
    settings: LiveSettings,
    seed: int,
    on_batch: Callable[[PhoneStats], None] | None,
    stop_after_s: float | None,
    till: Till | None,
    client: httpx.AsyncClient,
) -> LiveStats:
    url = shopper_url(server_url)
    category_of_sku = {p.sku: p.category for p in cast.customers.products}

    def checkout(i: int) -> Checkout | None:
        if till is None:
            return None
        listed = cast.shopping_lists[i] if i < len(cast.shopping_lists) else ()
        return Checkout(till, cast.customers, listed, cast.promoted_skus, client)

    phones = [
        LivePhone(i, persona, trajectory, windows, store_id, url, settings, category_of_sku,
                  seed, on_batch, checkout(i))
        for i, (persona, (_cid, trajectory, windows)) in enumerate(
            zip(personas(cast, tokens), cast.visits, strict=True)
        )
    ]  # fmt: skip

    async def start(phone: LivePhone) -> PhoneStats:
        await asyncio.sleep(phone.stats.index * settings.stagger_s)
        return await phone.run()

    started = time.monotonic()
    tasks = [asyncio.create_task(start(phone)) for phone in phones]
    interrupted = False
    try:
        _done, still_walking = await asyncio.wait(tasks, timeout=stop_after_s)
    except asyncio.CancelledError:
        # Ctrl-C (asyncio.run cancels this task): stop every phone and report what was done.
        interrupted, still_walking = True, set(tasks)
    for task in still_walking:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - started
    return LiveStats([phone.stats for phone in phones], elapsed, interrupted)


def simulate_live(
    server_url: str,
    cast: LiveCast,
    tokens: dict[str, str],
    store_id: int,
    settings: LiveSettings,
    seed: int = 0,
    on_batch: Callable[[PhoneStats], None] | None = None,
    stop_after_s: float | None = None,
    till: Till | None = None,
) -> LiveStats:
    """Blocking ``run_phones``: the load generator's entry point."""
    phones = run_phones(
        server_url, cast, tokens, store_id, settings, seed, on_batch, stop_after_s, till
    )
    return asyncio.run(phones)


def batches_planned(cast: LiveCast, settings: LiveSettings) -> int:
    """Batches the run will send (for a progress bar's total)."""
    total = 0
    for _cid, trajectory, _windows in cast.visits:
        duration_s = (trajectory.end_ms - trajectory.start_ms) / 1000.0
        if settings.max_visit_s is not None:
            duration_s = min(duration_s, settings.max_visit_s)
        total += int(np.ceil(duration_s))
    return total
