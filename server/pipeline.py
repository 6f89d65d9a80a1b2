"""The seam between the sockets and the pure cores: one ``ShopperPipeline`` per connected shopper.

    readings batch ─▶ PositionSource (positioning.Tracker) ─┐
    ready fix ─────────────────────────────────────────────┴▶ Estimate
    Estimate ─▶ ZoneEventSource (zones detector) ─▶ ZoneEvent ─▶ Occasion
    Occasion ─▶ DecideFn (triggers.decide) ─▶ offers persisted ─▶ returned for push

The websocket handler owns the socket and the bus; this class owns the order of the steps and the
database writes, and runs in a worker thread (``anyio.to_thread``) so its synchronous SQL never
blocks the event loop. The three cores come in through ``PipelineWiring``: until the lead wires
positioning, zones and triggers, readings are stored and acknowledged, fixes pass through without
zones, and no offers are made. Tests inject fakes through the same wiring (no patching).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from positioning import Estimate
from server.database import Database
from server.offer_ledger import IssuedOffer, issue_offers, load_cap_ledger
from server.realtime.frames import CountedReadings, ReadingsBatch
from server.realtime.readings_binary import list_columns
from server.store_snapshot import CampaignCounts, SnapshotCache, StoreSnapshot
from server.visit_log import (
    READING_BATCHES_PER_WRITE,
    PositionBuffer,
    ReadingBuffer,
    VisitWrites,
    load_profile,
    record_app_event,
    record_zone_events,
    staggered,
)
from triggers.occasion import Occasion, OccasionKind, occasion_from_zone_event
from zones import ZoneEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shopper:
    """Who is on this connection (from the hello and their token)."""

    customer_id: str
    store_id: int
    visit_id: str
    consents: frozenset[str]


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    customer_id: str
    sku: str
    quantity: float
    price: float
    t_ms: int
    basket_id: str
    category: str


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """What ``triggers.profiles.ShopperProfile`` needs; consents as the app declared them now."""

    shopper_id: str
    gender: str
    age: int | None
    tier: str
    consents: frozenset[str]
    purchases: tuple[PurchaseRecord, ...]
    visit_count: int = 0  # visits to any store, this one included


@dataclass(frozen=True, slots=True)
class OfferDraft:
    """One offer a decision chose. ``screen_id`` defaults to the occasion's screen for signage."""

    channel: Literal["app", "signage"]
    content: dict[str, Any]
    campaign_id: int | None = None
    screen_id: str | None = None
    explanation: str = ""
    # How long a screen shows signage content before going back to its playlist.
    display_s: float = 15.0
    # Hold-out: the shopper would have got this but is in the control group. Stored with status
    # "held_out" for uplift measurement, never sent.
    held_out: bool = False


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    occasion: Occasion
    profile: ProfileRecord
    campaigns: tuple[dict[str, Any], ...]  # active campaigns: {"id", "name", "document"}
    cap_ledger: dict[str, Any]  # as the previous decision returned it (persisted per shopper)
    now_ms: int
    store_timezone: str = "UTC"  # IANA name, for schedules, opening and quiet hours
    # Per active campaign, offers so far across all shoppers, for budgets: {id: CampaignCounts}.
    campaign_counts: dict[int, CampaignCounts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionResult:
    offers: tuple[OfferDraft, ...] = ()
    cap_ledger: dict[str, Any] = field(default_factory=dict)


DecideFn = Callable[[DecisionRequest], DecisionResult]
# Whether deciding on the occasion, with these active campaigns, could send or log anything. A
# ``DecideFn`` with such a ``could_offer`` method is asked first (``TriggersDecider``).
MayOfferFn = Callable[[Occasion, tuple[dict[str, Any], ...]], bool]


class UnknownFloor(LookupError):
    """A fix named a floor the store does not have."""


class PositionSource(Protocol):
    """One shopper's tracker (``positioning.tracker.Tracker`` behind an adapter)."""

    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        """Estimates from about a second of readings (columns per sensor, each in time order)."""
        ...


class ZoneEventSource(Protocol):
    """A store's zone detector (``zones.detector.ZoneEventDetector``)."""

    def update(self, shopper_id: str, estimate: Estimate) -> list[ZoneEvent]: ...

    def end_visit(self, shopper_id: str, t_ms: int) -> list[ZoneEvent]: ...


def no_offers(request: DecisionRequest) -> DecisionResult:
    """The decision until triggers is wired: nothing is offered, the ledger is kept as it was."""
    return DecisionResult(offers=(), cap_ledger=request.cap_ledger)


def any_occasion(_occasion: Occasion, _campaigns: tuple[dict[str, Any], ...]) -> bool:
    """Without a cheaper test from the decision's side, every occasion is decided."""
    return True


def no_tracker(_store_id: int, _customer_id: str) -> PositionSource | None:
    return None


def no_zone_detector(_store_id: int) -> ZoneEventSource | None:
    return None


@dataclass(frozen=True)
class PipelineWiring:
    """What the lead replaces to plug the cores in (see docs/architecture.md, "The seam")."""

    decide: DecideFn = no_offers
    tracker_for: Callable[[int, str], PositionSource | None] = no_tracker
    zone_detector_for: Callable[[int], ZoneEventSource | None] = no_zone_detector

    @property
    def may_offer(self) -> MayOfferFn:
        """The decision's ``could_offer`` if it has one: an occasion it answers False for is not
        decided (no transaction, no ledger read or write). Else every occasion is decided."""
        could_offer: MayOfferFn = getattr(self.decide, "could_offer", any_occasion)
        return could_offer


@dataclass
class PositionUpdate:
    estimate: Estimate
    zone_id: str | None


@dataclass
class PipelineStep:
    """What one message produced, already persisted, for the handler to send and publish."""

    positions: list[PositionUpdate] = field(default_factory=list)
    zone_events: list[ZoneEvent] = field(default_factory=list)
    offers: list[IssuedOffer] = field(default_factory=list)
    readings_accepted: int = 0
    positioning_wired: bool = False


@dataclass
class Positioned:
    """One batch of a runner call before anything is written: the step (its offers still to
    come) and the occasions its zone events are, to decide once the tick's rows are committed."""

    step: PipelineStep
    occasions: list[Occasion] = field(default_factory=list)


# The detector of a store is shared by its shoppers' pipelines, which run in worker threads.
_DETECTOR_LOCKS: dict[int, threading.Lock] = {}
_DETECTOR_LOCKS_GUARD = threading.Lock()


def detector_lock(store_id: int) -> threading.Lock:
    with _DETECTOR_LOCKS_GUARD:
        return _DETECTOR_LOCKS.setdefault(store_id, threading.Lock())


class ShopperPipeline:
    """Readings or fixes in, positions, zone events and persisted offers out, for one shopper."""

    def __init__(
        self,
        shopper: Shopper,
        database: Database,
        wiring: PipelineWiring,
        snapshots: SnapshotCache,
        keep_raw_readings: bool = True,
    ) -> None:
        self.shopper = shopper
        self.keep_raw_readings = keep_raw_readings
        self.database = database
        self.wiring = wiring
        self.snapshots = snapshots
        self.tracker = wiring.tracker_for(shopper.store_id, shopper.customer_id)
        self.detector = wiring.zone_detector_for(shopper.store_id)
        self.current_zone: str | None = None
        self.positions = PositionBuffer(shopper.visit_id, shopper.store_id)
        # The raw frames' first write staggered by shopper (``staggered``); a position chunk is
        # one small row a minute, cheap even when thousands are written together.
        self.raw_readings = ReadingBuffer(
            shopper, first_write=staggered(READING_BATCHES_PER_WRITE, shopper.customer_id)
        )
        self._profile: ProfileRecord | None = None

    # ---- inputs -------------------------------------------------------------------------------

    def on_readings(
        self, batch: ReadingsBatch, now_ms: int, frame_text: str | bytes = ""
    ) -> PipelineStep:
        """A batch of sensor readings; ``frame_text`` is the frame as received (JSON text or a
        binary frame's bytes), kept for replay."""
        source = self.tracker
        estimates = [] if source is None else source.push_batch(list_columns(batch))
        return self.on_batch_estimates(batch, estimates, now_ms, frame_text)

    def on_batch_estimates(
        self,
        batch: ReadingsBatch,
        estimates: Sequence[Estimate],
        now_ms: int,
        frame_text: str | bytes = "",
    ) -> PipelineStep:
        """What follows positioning for one batch, everything written before it returns: raw
        frame kept, zones, triggers."""
        self._keep_raw(batch, frame_text)
        if self.tracker is None:
            self._flush_full()
            return PipelineStep(readings_accepted=batch.count(), positioning_wired=False)
        self._default_floor(now_ms)
        step = self._on_estimates(estimates, now_ms)
        step.readings_accepted = batch.count()
        step.positioning_wired = True
        return step

    def on_tick_batch(
        self,
        batch: CountedReadings,
        estimates: Sequence[Estimate],
        zone_events: Sequence[Sequence[ZoneEvent]],
        now_ms: int,
        frame_text: str | bytes = "",
    ) -> Positioned:
        """One batch of a runner call (its estimates from the store's batched tracker, and
        ``zone_events[k]`` those of ``estimates[k]`` from the store's detector): nothing is
        written and nothing decided; the caller commits the tick's zone events and full buffers
        (``write_tick``), then decides the occasions (``decide``). The raw frame is queued for
        the compressor without waking it: the caller wakes it once for the tick."""
        self._keep_raw(batch, frame_text, wake=False)
        if self.tracker is None:
            return Positioned(PipelineStep(readings_accepted=batch.count()))
        self._default_floor(now_ms)
        positioned = self._positioned(estimates, zone_events, now_ms)
        positioned.step.readings_accepted = batch.count()
        positioned.step.positioning_wired = True
        return positioned

    def _keep_raw(self, batch: CountedReadings, frame_text: str | bytes, wake: bool = True) -> None:
        if self.keep_raw_readings:
            self.raw_readings.add(batch, frame_text, wake)

    def _default_floor(self, now_ms: int) -> None:
        if self.positions.floor_id is None:  # trackers work on the store's first floor for now
            floor_ids = self.snapshots.get(self.shopper.store_id, now_ms).floor_ids
            self.positions.floor_id = next(iter(floor_ids), None)

    def on_fix(self, fix: Estimate, now_ms: int, floor_id: int | None = None) -> PipelineStep:
        """A position the app computed; ``floor_id`` None means the store's first floor."""
        self._move_to_floor(self.fix_floor(floor_id, now_ms))
        return self._on_estimates([fix], now_ms)

    def fix_floor(self, floor_id: int | None, now_ms: int) -> int | None:
        """The floor a fix is on (None: the store's first); raises ``UnknownFloor`` for a floor
        the store does not have. Changes nothing, so a runner can check before the tick."""
        snapshot = self.snapshots.get(self.shopper.store_id, now_ms)
        if floor_id is not None and floor_id not in snapshot.floor_ids:
            raise UnknownFloor(f"no floor {floor_id} in store {self.shopper.store_id}")
        return floor_id if floor_id is not None else next(iter(snapshot.floor_ids), None)

    def on_tick_fix(
        self,
        floor_id: int | None,
        fixes: Sequence[Estimate],
        zone_events: Sequence[Sequence[ZoneEvent]],
        now_ms: int,
    ) -> Positioned:
        """A fix of a runner call (``floor_id`` from ``fix_floor``, ``zone_events[k]`` those of
        ``fixes[k]`` from the store's detector): like ``on_tick_batch``, nothing of the tick is
        written and nothing decided here (only a chunk cut by a change of floor)."""
        self._move_to_floor(floor_id)
        return self._positioned(fixes, zone_events, now_ms)

    def _move_to_floor(self, floor_id: int | None) -> None:
        if self.positions.on_other_floor(floor_id):
            self.flush_buffers()  # a chunk holds one floor: the other floor's is cut first
        self.positions.floor_id = floor_id

    def on_app_event(self, kind: str, t_ms: int, offer_id: str | None, now_ms: int) -> PipelineStep:
        with self.database.session() as session:
            record_app_event(session, self.shopper, kind, t_ms, offer_id, now_ms)
        if kind != "app_open":
            return PipelineStep()
        occasion = self._occasion("app_open", t_ms)
        return PipelineStep(offers=self.decide([occasion], now_ms))

    def end_visit(self, t_ms: int, now_ms: int) -> PipelineStep:
        """The shopper left: exits and ``visit_end`` from the detector, or a bare visit_end."""
        events: list[ZoneEvent] = []
        if self.detector is not None:
            with detector_lock(self.shopper.store_id):
                events = self.detector.end_visit(self.shopper.customer_id, t_ms)
        if not any(e.kind == "visit_end" for e in events):
            events.append(ZoneEvent("visit_end", self.shopper.customer_id, None, t_ms))
        self.flush_buffers()
        self._record_zone_events(events)
        occasions = self._occasions(events, now_ms)
        return PipelineStep(zone_events=events, offers=self.decide(occasions, now_ms))

    def flush_buffers(self) -> None:
        """Write the buffered positions and raw readings (on a timer of their own size, and at
        the end of the connection)."""
        if self.positions.pending() or self.raw_readings.pending():
            with self.database.session() as session:
                self.positions.flush(session)
                self.raw_readings.flush(session)

    def _flush_full(self) -> None:
        """Write each buffer that filled (a chunk is cut when it is full, not when the other is)."""
        positions, raw = self.positions.full(), self.raw_readings.full()
        if positions or raw:
            with self.database.session() as session:
                if positions:
                    self.positions.flush(session)
                if raw:
                    self.raw_readings.flush(session)

    # ---- steps --------------------------------------------------------------------------------

    def _on_estimates(self, estimates: Sequence[Estimate], now_ms: int) -> PipelineStep:
        positioned = self._positioned(estimates, [self._zone_events(e) for e in estimates], now_ms)
        self._record_zone_events(positioned.step.zone_events)
        positioned.step.offers = self.decide(positioned.occasions, now_ms)
        self._flush_full()
        return positioned.step

    def _positioned(
        self,
        estimates: Sequence[Estimate],
        zone_events: Sequence[Sequence[ZoneEvent]],
        now_ms: int,
    ) -> Positioned:
        """Positions with the zone each leaves the shopper in, the buffer extended, occasions."""
        if len(estimates) == 1 and not zone_events[0]:
            return self._positioned_quietly(estimates[0])
        return self._positioned_each(estimates, zone_events, now_ms)

    def _positioned_quietly(self, estimate: Estimate) -> Positioned:
        """``_positioned_each`` for a tick's usual batch, one estimate and no zone event: the
        shopper stays in their zone and there is no occasion (fewer objects and no loops)."""
        step = PipelineStep([PositionUpdate(estimate, self.current_zone)])
        step.positioning_wired = self.tracker is not None
        if "location_analytics" in self.shopper.consents:
            self.positions.extend((estimate,))
        return Positioned(step)

    def _positioned_each(
        self,
        estimates: Sequence[Estimate],
        zone_events: Sequence[Sequence[ZoneEvent]],
        now_ms: int,
    ) -> Positioned:
        step = PipelineStep(positioning_wired=self.tracker is not None)
        for estimate, events in zip(estimates, zone_events, strict=True):
            for event in events:
                if event.kind in ("enter", "dwell", "facing"):
                    self.current_zone = event.zone_id
                elif event.kind == "exit" and event.zone_id == self.current_zone:
                    self.current_zone = None
            step.zone_events.extend(events)
            step.positions.append(PositionUpdate(estimate, self.current_zone))
        if "location_analytics" in self.shopper.consents:
            self.positions.extend(estimates)
        occasions = self._occasions(step.zone_events, now_ms) if step.zone_events else []
        return Positioned(step, occasions)

    def _zone_events(self, estimate: Estimate) -> list[ZoneEvent]:
        if self.detector is None:
            return []
        with detector_lock(self.shopper.store_id):
            return self.detector.update(self.shopper.customer_id, estimate)

    def _record_zone_events(self, events: Sequence[ZoneEvent]) -> None:
        if events:
            with self.database.session() as session:
                record_zone_events(session, self.shopper, events)

    def decide(self, occasions: Sequence[Occasion], now_ms: int) -> list[IssuedOffer]:
        """Decide each occasion in its own transaction (zone events already committed).

        Each decision's offers and the cap ledger it returns are committed together, so a restart
        never sees offers without the caps they used up, nor caps without their offers. An
        occasion no active campaign could answer (``PipelineWiring.may_offer``) is not decided:
        its decision would send nothing and leave the ledger as it is.
        """
        if not occasions:
            return []
        snapshot = self.snapshots.get(self.shopper.store_id, now_ms)
        occasions = [o for o in occasions if self.wiring.may_offer(o, snapshot.campaigns)]
        if not occasions:
            return []
        profile = self._load_profile()
        issued: list[IssuedOffer] = []
        for occasion in occasions:
            try:
                with self.database.session() as session:
                    ledger = load_cap_ledger(session, self.shopper.customer_id)
                    request = DecisionRequest(
                        occasion,
                        profile,
                        snapshot.campaigns,
                        ledger,
                        now_ms,
                        snapshot.timezone,
                        snapshot.campaign_counts,
                    )
                    result = self.wiring.decide(request)
                    issued += issue_offers(session, self.shopper, occasion, result, now_ms)
            except Exception:
                # A failing decision (a campaign the decision code cannot handle) costs this
                # occasion its offers, not the shopper's connection or the other occasions.
                log.exception("decision for %s of %s failed", occasion.kind, occasion.shopper_id)
        return issued

    def _load_profile(self) -> ProfileRecord:
        if self._profile is None:
            with self.database.session() as session:
                self._profile = load_profile(session, self.shopper)
        return self._profile

    def _occasion(self, kind: OccasionKind, t_ms: int, **where: Any) -> Occasion:
        return Occasion(
            kind=kind,
            shopper_id=self.shopper.customer_id,
            store_id=str(self.shopper.store_id),
            t_ms=t_ms,
            visit_id=self.shopper.visit_id,
            **where,
        )

    def _occasions(self, events: Sequence[ZoneEvent], now_ms: int) -> list[Occasion]:
        snapshot = self.snapshots.get(self.shopper.store_id, now_ms)
        return [o for e in events if (o := self._occasion_for(e, snapshot)) is not None]

    def _occasion_for(self, event: ZoneEvent, snapshot: StoreSnapshot) -> Occasion | None:
        """Zone events onto occasions (triggers' mapping: entering a screen's zone is
        ``near_screen``, exits are none), with the zone's kind, categories and screen."""
        zone = snapshot.zones.get(event.zone_id or "")
        return occasion_from_zone_event(
            event,
            str(self.shopper.store_id),
            zone_kind=None if zone is None else zone.kind,
            categories=() if zone is None else zone.categories,
            screen_id=None if zone is None else zone.screen_id,
            visit_id=self.shopper.visit_id,
        )


def write_tick(
    database: Database, parts: Sequence[tuple[ShopperPipeline, PipelineStep]]
) -> list[Exception | None]:
    """One transaction for a runner call: every shopper's zone events, then each position and
    raw-reading buffer that filled (one commit a tick instead of one per shopper with events).

    If it fails, each shopper's rows (zone events, chunk, raw frames) are written on their own, so
    one bad row fails its shopper's frame only and the others' rows are kept. Per part, None or
    the error that kept its rows out."""
    shares: list[VisitWrites | None] = []  # None: nothing of this shopper's this tick (most)
    for pipeline, step in parts:
        chunk, raw = pipeline.positions.full(), pipeline.raw_readings.full()
        if not (step.zone_events or chunk or raw):
            shares.append(None)
            continue
        writes = VisitWrites()
        writes.add_zone_events(pipeline.shopper, step.zone_events)
        if chunk:
            writes.add_chunk(pipeline.positions)
        if raw:
            writes.add_raw(pipeline.raw_readings)
        shares.append(writes)
    everything = VisitWrites.joined([w for w in shares if w is not None])
    try:
        if everything:
            with database.session() as session:
                everything.write(session)
        return [None] * len(parts)
    except Exception:
        log.exception("the commit of a tick failed; its shoppers' rows go one by one")
    errors: list[Exception | None] = []
    for share in shares:
        try:
            if share:
                with database.session() as session:
                    share.write(session)
            errors.append(None)
        except Exception as error:
            errors.append(error)
    return errors
