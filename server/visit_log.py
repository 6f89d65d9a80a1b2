"""Writes what a shopper's visit produced: visits, zone and app events, positions, raw readings."""

from __future__ import annotations

import collections
import threading
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, Table, func, insert, select, update
from sqlalchemy.orm import Session

from positioning import Estimate
from server.offer_ledger import advance_status
from server.positions_codec import PointRow, pack_rows, point_row
from server.raw_frames_codec import encode_frame, pack_segment
from server.realtime.frames import CountedReadings
from server.tables import (
    AppEvent,
    Base,
    Customer,
    PositionChunk,
    Product,
    Purchase,
    RawReadingBatch,
    Visit,
    ZoneEventRow,
)
from zones import ZoneEvent

if TYPE_CHECKING:
    from server.pipeline import ProfileRecord, Shopper

# A shopper who reconnects within this long continues their visit (a lift, a dead spot, a phone
# call).
VISIT_RESUME_WINDOW_MS = 30 * 60 * 1000
# One packed chunk holds about a minute of 1 Hz positions: few rows, and little lost in a crash.
POSITIONS_PER_CHUNK = 60
# Raw batches (about one a second) written together: ten seconds of them, one row (a segment).
READING_BATCHES_PER_WRITE = 10

# Multi-row inserts go to the tables (SQLAlchemy Core), not the mapped classes: ``insert(Model)``
# with a list of rows takes the ORM's bulk path, ≈ 40 µs more per statement for the same rows
# (a tick-like transaction of 5 zone events and 12 raw frames: 427 → 321 µs of CPU, SQLite).
ZONE_EVENTS_TABLE = Base.metadata.tables[ZoneEventRow.__tablename__]
POSITION_CHUNKS_TABLE = Base.metadata.tables[PositionChunk.__tablename__]
RAW_BATCHES_TABLE = Base.metadata.tables[RawReadingBatch.__tablename__]
# A raw-frame segment's row, as ``ReadingBuffer.take_rows`` gives it (a tuple, not a dict).
RAW_BATCH_COLUMNS = ("visit_id", "store_id", "t_first_ms", "t_last_ms", "n_readings", "payload")
# The purchase history a decision sees: enough for a year of weekly shops.
PROFILE_PURCHASE_LIMIT = 2000


@lru_cache(maxsize=64)
def _insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, bool]:
    """The INSERT of ``columns`` into ``table`` as the driver's SQL, and whether it takes
    positional parameters (SQLite's ``?``) rather than named ones (psycopg's ``%(name)s``)."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    return str(compiled), bool(compiled.positional)


def insert_tuples(
    session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``insert_rows`` for rows already as tuples in the order of ``columns`` (one a raw frame:
    a tuple costs ≈ 0.1 µs where the dict and the tuple taken from it cost ≈ 1.5)."""
    if not rows:
        return
    connection = session.connection()
    sql, positional = _insert_sql(table, columns, connection.dialect)
    if positional:
        connection.exec_driver_sql(sql, list(rows))
    else:
        connection.exec_driver_sql(sql, [dict(zip(columns, row, strict=True)) for row in rows])


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows (all with the same keys, plain ints, floats, strings, bytes and None) in one driver
    ``executemany`` of an INSERT compiled once per process, inside the session's transaction.

    ``session.execute(insert(table), rows)`` costs more per tick than the insert itself: the ORM's
    statement handling, the compile-cache lookup and a bind-processing pass over every value of
    every row (a tick of 20 raw frames, 3 zone events and a chunk: 456 → 385 µs of CPU on SQLite,
    795 → 628 µs on PostgreSQL, ``benchmarks/tick_writes.py``). The columns here need no
    conversion: the drivers take these Python values as they are."""
    if not rows:
        return
    connection = session.connection()
    columns = tuple(rows[0])
    sql, positional = _insert_sql(table, columns, connection.dialect)
    if positional:
        connection.exec_driver_sql(sql, [tuple(row[c] for c in columns) for row in rows])
    else:
        connection.exec_driver_sql(sql, list(rows))


class OfferNotFound(LookupError):
    """An app referred to an offer that is not theirs or does not exist."""


def open_visit(
    session: Session,
    customer_id: str,
    store_id: int,
    app_version: str,
    consents: frozenset[str],
    now_ms: int,
) -> Visit:
    """Resume the shopper's recent open visit to this store, else close it and start anew."""
    open_visits = session.scalars(
        select(Visit).where(
            Visit.customer_id == customer_id, Visit.store_id == store_id, Visit.ended_ms.is_(None)
        )
    ).all()
    resumed: Visit | None = None
    for visit in open_visits:
        if resumed is None and now_ms - visit.last_seen_ms <= VISIT_RESUME_WINDOW_MS:
            resumed = visit
        else:
            visit.ended_ms = visit.last_seen_ms
    consents_text = ";".join(sorted(consents))
    if resumed is not None:
        resumed.last_seen_ms = now_ms
        resumed.app_version = app_version
        resumed.consents = consents_text
        return resumed
    visit = Visit(
        id=str(uuid.uuid4()),
        store_id=store_id,
        customer_id=customer_id,
        started_ms=now_ms,
        last_seen_ms=now_ms,
        app_version=app_version,
        consents=consents_text,
    )
    session.add(visit)
    return visit


def touch_visit(session: Session, visit_id: str, now_ms: int, ended: bool = False) -> None:
    values: dict[str, int] = {"last_seen_ms": now_ms}
    if ended:
        values["ended_ms"] = now_ms
    session.execute(update(Visit).where(Visit.id == visit_id).values(**values))


def record_zone_events(session: Session, shopper: Shopper, events: Sequence[ZoneEvent]) -> None:
    """Store the events; a ``visit_end`` among them also closes the visit at its time."""
    writes = VisitWrites()
    writes.add_zone_events(shopper, events)
    writes.write(session)


@dataclass
class VisitWrites:
    """Rows of many shoppers' visits for one transaction: one multi-row insert per table (a
    runner tick's zone events and full position chunks) instead of an ORM object per row."""

    zone_events: list[dict[str, Any]] = field(default_factory=list)
    visit_ends: list[tuple[str, int]] = field(default_factory=list)  # (visit id, ended_ms)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    raw_batches: list[tuple[Any, ...]] = field(default_factory=list)  # RAW_BATCH_COLUMNS
    last_seen: list[tuple[str, int]] = field(default_factory=list)  # (visit id, last_seen_ms)

    @classmethod
    def joined(cls, parts: Sequence[VisitWrites]) -> VisitWrites:
        """All the parts' rows, in order, for one transaction."""
        return cls(
            [row for p in parts for row in p.zone_events],
            [end for p in parts for end in p.visit_ends],
            [row for p in parts for row in p.chunks],
            [row for p in parts for row in p.raw_batches],
            [seen for p in parts for seen in p.last_seen],
        )

    def add_zone_events(self, shopper: Shopper, events: Sequence[ZoneEvent]) -> None:
        for e in events:
            if e.kind == "visit_end":
                self.visit_ends.append((shopper.visit_id, e.t_ms))
            self.zone_events.append(
                {
                    "visit_id": shopper.visit_id,
                    "store_id": shopper.store_id,
                    "zone_id": e.zone_id,
                    "kind": e.kind,
                    "t_ms": e.t_ms,
                    "dwell_s": e.dwell_s,
                }
            )

    def add_chunk(self, positions: PositionBuffer) -> None:
        """The buffer's estimates as one chunk (the buffer is emptied)."""
        row = positions.take_chunk()
        if row is not None:
            self.chunks.append(row)

    def add_raw(self, readings: ReadingBuffer) -> None:
        """The buffer's raw frames (the buffer is emptied)."""
        self.raw_batches.extend(readings.take_rows())

    def __bool__(self) -> bool:
        return bool(self.zone_events or self.chunks or self.raw_batches or self.last_seen)

    def write(self, session: Session) -> None:
        for visit_id, ended_ms in self.visit_ends:
            session.execute(update(Visit).where(Visit.id == visit_id).values(ended_ms=ended_ms))
        insert_rows(session, ZONE_EVENTS_TABLE, self.zone_events)
        insert_rows(session, POSITION_CHUNKS_TABLE, self.chunks)
        insert_tuples(session, RAW_BATCHES_TABLE, RAW_BATCH_COLUMNS, self.raw_batches)
        for visit_id, seen_ms in self.last_seen:
            touch_visit(session, visit_id, seen_ms)


def record_app_event(
    session: Session, shopper: Shopper, kind: str, t_ms: int, offer_id: str | None, now_ms: int
) -> None:
    """Store the event; ``offer_opened``/``offer_redeemed`` also move the offer's status forward."""
    if kind in ("offer_opened", "offer_redeemed"):
        if offer_id is None:
            raise OfferNotFound(f"{kind} needs the offer_id it refers to")
        status = "opened" if kind == "offer_opened" else "redeemed"
        if not advance_status(session, shopper.customer_id, offer_id, status, now_ms):
            raise OfferNotFound(f"no offer {offer_id!r} for this shopper")
    session.add(AppEvent(visit_id=shopper.visit_id, kind=kind, offer_id=offer_id, t_ms=t_ms))


@dataclass(frozen=True, slots=True)
class Compressed:
    """A raw frame's stored payload (``server.raw_frames_codec``)."""

    payload: bytes


@dataclass(slots=True)  # no ``__dict__``: one object fewer a frame for the collector to walk
class RawFrame:
    """One received readings frame waiting to be written: ``data`` is the frame as received (JSON
    text, or a binary frame's bytes) until the compressor (or a flush that got there first)
    replaces it by its ``Compressed`` payload."""

    t_first_ms: int
    t_last_ms: int
    n_readings: int
    data: str | bytes | Compressed

    def payload(self) -> bytes:
        """The compressed bytes, compressing now if nobody has yet.

        ``data`` is read and written as one attribute (atomic under the GIL): two threads may
        both compress a frame, and both write the same bytes; the frame is dropped either way.
        """
        data = self.data
        if not isinstance(data, Compressed):
            data = self.data = Compressed(encode_frame(data))
        return data.payload


class RawFrameCompressor:
    """A thread that compresses raw frames as they arrive, off the event loop and the tick.

    The codec releases the GIL while it compresses, so this uses a core the event loop does not.
    Frames it has not reached yet are compressed by whoever flushes them (``RawFrame.payload``):
    a compressor that falls behind costs time, never a frame. Started at the first frame.
    """

    def __init__(self) -> None:
        # deque.append and popleft are atomic under the GIL. The thread is woken once per burst
        # (a tick adds hundreds of frames), not once per frame: a wake-up per ``put`` cost ≈ 9 µs
        # a batch of the tick's GIL time (a futex call, then the woken thread asking for the GIL).
        self._frames: collections.deque[RawFrame] = collections.deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, frame: RawFrame) -> None:
        """Queue the frame and wake the thread."""
        self.submit_later(frame)
        self.wake()

    def submit_later(self, frame: RawFrame) -> None:
        """Queue the frame; the caller wakes the thread (``wake``) once its burst is queued.

        A runner tick queues a frame per shopper: waking the thread at each one (it drains the
        deque faster than the tick fills it, so the event is clear again at the next frame) made
        the compressor ask for the GIL once per frame, in the middle of the tick."""
        if self._thread is None:
            self._start()
        self._frames.append(frame)

    def wake(self) -> None:
        """Wake the thread if frames wait (a frame appended after its drain: the next wake)."""
        if self._frames and not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="raw-frames", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        # Cleared before draining: a frame appended after the clear is either drained now or
        # sets the event again, so none waits for a later burst.
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._frames:
                self._frames.popleft().payload()


# One per process: shoppers' frames share its thread.
RAW_FRAME_COMPRESSOR = RawFrameCompressor()


def staggered(size: int, key: str) -> int:
    """The size of a visit's first raw-frame write, 1 to ``size`` frames by its shopper's id
    (``key``). Shoppers who connect together (a store's opening, a load test) would otherwise
    fill their buffers in the same tick, and again every ``size`` seconds: 5,000 buffers written
    at once held the server 1–2 s (docs/server.md, "After session 8"). Staggered once, they
    stay apart."""
    return 1 + zlib.crc32(key.encode()) % size


class ReadingBuffer:
    """Raw readings frames of one visit, compressed in the background and written several at a
    time (one multi-row insert).

    One commit per batch would be a commit per shopper per second (an fsync each on SQLite); raw
    readings are for replay, not for delivery, so a crash may cost the last few seconds of them.
    """

    def __init__(
        self,
        shopper: Shopper,
        compressor: RawFrameCompressor | None = None,
        first_write: int = READING_BATCHES_PER_WRITE,
    ) -> None:
        """``first_write``: frames before the first write (``staggered``), then
        ``READING_BATCHES_PER_WRITE`` each."""
        self.shopper = shopper
        self.compressor = compressor or RAW_FRAME_COMPRESSOR
        self._frames: list[RawFrame] = []
        self._write_at = first_write

    def add(self, batch: CountedReadings, frame_text: str | bytes, wake: bool = True) -> None:
        """Keep the frame exactly as received (JSON text or binary bytes), with its time span.
        ``wake`` False: the compressor is woken by the caller (``RawFrameCompressor.wake``)."""
        first, last = batch.time_span()
        frame = RawFrame(first, last, batch.count(), frame_text)
        self._frames.append(frame)
        if wake:
            self.compressor.submit(frame)
        else:
            self.compressor.submit_later(frame)

    def pending(self) -> int:
        return len(self._frames)

    def full(self) -> bool:
        return len(self._frames) >= self._write_at

    def room(self) -> int:
        """Frames still to come before the buffer is full."""
        return max(0, self._write_at - len(self._frames))

    def take_rows(self) -> list[tuple[Any, ...]]:
        """The buffered frames as one ``raw_reading_batches`` row (a segment:
        ``server.raw_frames_codec``), a tuple in the order of ``RAW_BATCH_COLUMNS``; none when
        the buffer is empty (it is emptied)."""
        frames, self._frames = self._frames, []
        self._write_at = READING_BATCHES_PER_WRITE
        if not frames:
            return []
        payload = pack_segment(
            [(f.t_first_ms, f.t_last_ms, f.n_readings, f.payload()) for f in frames]
        )
        first = min([f.t_first_ms for f in frames])
        last = max([f.t_last_ms for f in frames])
        count = sum([f.n_readings for f in frames])
        return [(self.shopper.visit_id, self.shopper.store_id, first, last, count, payload)]

    def flush(self, session: Session) -> None:
        insert_tuples(session, RAW_BATCHES_TABLE, RAW_BATCH_COLUMNS, self.take_rows())


def load_profile(session: Session, shopper: Shopper) -> ProfileRecord:
    from server.pipeline import ProfileRecord, PurchaseRecord

    customer = session.get(Customer, shopper.customer_id)
    rows = session.execute(
        select(Purchase, Product.category)
        .join(Product, Product.sku == Purchase.sku, isouter=True)
        .where(Purchase.customer_id == shopper.customer_id)
        .order_by(Purchase.t_ms.desc())
        .limit(PROFILE_PURCHASE_LIMIT)
    ).all()
    purchases = tuple(
        PurchaseRecord(p.customer_id, p.sku, p.quantity, p.price, p.t_ms, p.basket_id, cat or "")
        for p, cat in rows
    )
    return ProfileRecord(
        shopper_id=shopper.customer_id,
        gender="unknown" if customer is None else customer.gender,
        age=None if customer is None else customer.age,
        tier="" if customer is None else customer.tier,
        consents=shopper.consents,
        purchases=purchases,
        visit_count=session.scalar(
            select(func.count()).select_from(Visit).where(Visit.customer_id == shopper.customer_id)
        )
        or 0,
    )


class PositionBuffer:
    """Estimates of one visit waiting to be written as one packed chunk."""

    def __init__(self, visit_id: str, store_id: int, floor_id: int | None = None) -> None:
        self.visit_id = visit_id
        self.store_id = store_id
        self.floor_id = floor_id
        self._estimates: list[PointRow] = []  # rows, not ``Estimate``s: see ``PointRow``

    def extend(self, estimates: Sequence[Estimate]) -> None:
        self._estimates.extend([point_row(e) for e in estimates])

    def on_other_floor(self, floor_id: int | None) -> bool:
        """True when the next estimates belong to another floor (the chunk must be cut first)."""
        return floor_id != self.floor_id and bool(self._estimates)

    def pending(self) -> int:
        return len(self._estimates)

    def full(self) -> bool:
        return len(self._estimates) >= POSITIONS_PER_CHUNK

    def take_chunk(self) -> dict[str, Any] | None:
        """The buffered estimates as one ``position_chunks`` row (None if there are none); the
        buffer is emptied."""
        rows = sorted(self._estimates, key=lambda row: row[0])
        self._estimates = []
        if not rows:
            return None
        t_start = rows[0][0]
        return {
            "visit_id": self.visit_id,
            "store_id": self.store_id,
            "floor_id": self.floor_id,
            "t_start_ms": t_start,
            "t_end_ms": rows[-1][0],
            "n_points": len(rows),
            "payload": pack_rows(rows, t_start),
        }

    def flush(self, session: Session) -> None:
        row = self.take_chunk()
        if row is not None:
            insert_rows(session, POSITION_CHUNKS_TABLE, [row])
