"""Close a store day into rollups, and read a day's pieces from raw rows (issue 9).

A day is a store-local calendar day (``Store.timezone``). ``day_pieces`` reads one day's zone
events and, per floor, its presence and facing from the raw tables; ``rollup_day`` stores those
pieces (idempotent: a second run replaces the rows), and the range queries in
``server.analytics_queries`` read stored pieces for closed days and raw pieces for the rest
(today, partial days, days not yet rolled up). The same function builds both, so a month from
rollups equals the month from raw rows.

Exact, not sketched: dwell medians and p90s come from the day's packed zone events (4-21 bytes
each, ~1.5 MB a day at 100 k events), distinct people from the (visitor, cell) pairs, with the
visitors named by customer id so a shopper seen on two days is one person over the range.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from anyio import to_thread
from numpy.typing import NDArray
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.clock import now_ms
from server.database import Database
from server.positions_codec import POINT_DTYPE
from server.tables import (
    Floor,
    PositionChunk,
    PresenceRollupRow,
    Store,
    Visit,
    ZoneEventRollupRow,
    ZoneEventRow,
)
from zones.analytics import (
    DEFAULT_MAX_GAP_S,
    KIND_CODES,
    CellGrid,
    PresenceAccumulator,
    PresenceRollup,
    chunk_point_columns,
    hold_seconds_chunked,
    positions_at,
)

log = logging.getLogger(__name__)

EVENT_DTYPE = np.dtype([("visit", "<i4"), ("zone", "<i4"), ("kind", "u1"), ("t_ms", "<i8")])
FACING_DTYPE = np.dtype([("zone", "<i4"), ("cell", "<i4"), ("customer", "<i4")])
# Heatmap cells are a square metre: shelves are ~1 m deep, and the tracker's error is ~1-2 m.
CELL_M = 1.0
# Chunks of a visit still open at midnight are flushed within a minute; receipts within 15 min.
# A day is closed (rolled up) an hour after it ends.
DAY_CLOSE_GRACE_MS = 3_600_000
# The periodic job looks this many days back for closed days without rollups (a server that was
# down for a week catches up; older days stay raw until ``aislecast db rollup`` is run).
ROLLUP_LOOKBACK_DAYS = 7
# How often the server looks for newly closed days (each pass is a few indexed selects).
ROLLUP_EVERY_S = 900.0
_FACING = KIND_CODES["facing"]


def pack_ids(ids: Sequence[str]) -> bytes:
    return zlib.compress("\n".join(ids).encode())


def unpack_ids(blob: bytes) -> tuple[str, ...]:
    text = zlib.decompress(blob).decode()
    return tuple(text.split("\n")) if text else ()


def day_bounds(time_zone: str, day: date) -> tuple[int, int]:
    """[local midnight, next local midnight) in Unix ms (23 or 25 hours on DST days)."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def local_day(time_zone: str, t_ms: int) -> date:
    return datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(ZoneInfo(time_zone)).date()


@dataclass(frozen=True)
class DaySpan:
    """A piece of a range inside one local day; ``whole`` when it covers the day."""

    day: date
    lo_ms: int
    hi_ms: int
    whole: bool


def day_spans(time_zone: str, from_ms: int, to_ms: int) -> list[DaySpan]:
    spans: list[DaySpan] = []
    day = local_day(time_zone, from_ms)
    while True:
        start, end = day_bounds(time_zone, day)
        if start >= to_ms:
            return spans
        lo, hi = max(start, from_ms), min(end, to_ms)
        spans.append(DaySpan(day, lo, hi, lo == start and hi == end))
        day += timedelta(days=1)


@dataclass(frozen=True)
class DayEvents:
    """A span's zone events; ``events['visit']``/``['zone']`` index the id lists (-1: no zone)."""

    visit_ids: tuple[str, ...]
    zone_ids: tuple[str, ...]
    events: NDArray[np.void]


@dataclass(frozen=True)
class DayPresence:
    """A span's presence on one floor: seconds and distinct visitors per cell, and the distinct
    (visitor, cell) keys, decoded only when asked (``visitor_cells``); visitors in the keys and in
    ``facing`` index ``customer_ids``."""

    customer_ids: tuple[str, ...]
    seconds: NDArray[np.float64]
    cell_visitors: NDArray[np.int64]
    off_floor_s: float
    facing_zone_ids: tuple[str, ...]
    facing: NDArray[np.void]
    n_points: int
    keys: NDArray[np.int64] | bytes  # packed (``pack_keys``) until first used

    def visitor_cells(self) -> NDArray[np.int64]:
        return unpack_keys(self.keys) if isinstance(self.keys, bytes) else self.keys

    def rollup(self) -> PresenceRollup:
        return PresenceRollup(self.seconds, self.visitor_cells(), self.off_floor_s)


def _numbering(values: Sequence[str]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for value in values:
        numbers.setdefault(value, len(numbers))
    return numbers


def _numbered(values: Sequence[str]) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    """Distinct values (sorted) and each value's index among them: one ``np.unique``."""
    if not values:
        return (), np.zeros(0, dtype=np.int64)
    distinct, index = np.unique(np.asarray(values, dtype=np.str_), return_inverse=True)
    return tuple(distinct.tolist()), index.astype(np.int64)


def day_events(session: Session, store_id: int, lo_ms: int, hi_ms: int) -> DayEvents:
    rows = session.execute(
        select(ZoneEventRow.visit_id, ZoneEventRow.zone_id, ZoneEventRow.kind, ZoneEventRow.t_ms)
        .where(ZoneEventRow.store_id == store_id, ZoneEventRow.t_ms >= lo_ms,
               ZoneEventRow.t_ms < hi_ms)
    ).all()  # fmt: skip
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    visit_ids, visit = _numbered(columns[0])
    # "" stands for no zone (visit_end): it sorts first, so zone numbers shift down by one.
    zone_names, zone = _numbered([z or "" for z in columns[1]])
    if zone_names and zone_names[0] == "":
        zone_names, zone = zone_names[1:], zone - 1
    kinds, kind_index = _numbered(columns[2])
    kind_code = np.asarray([KIND_CODES.get(k, -1) for k in kinds], dtype=np.int64)  # type: ignore[call-overload]
    code = kind_code[kind_index] if kinds else kind_index
    known = code >= 0
    events = np.zeros(int(known.sum()), dtype=EVENT_DTYPE)
    events["visit"] = visit[known]
    events["zone"] = zone[known]
    events["kind"] = code[known]
    events["t_ms"] = np.asarray(columns[3], dtype=np.int64)[known]
    return DayEvents(visit_ids, zone_names, events)


def day_presence(
    session: Session,
    store_id: int,
    floor_id: int,
    grid: CellGrid,
    lo_ms: int,
    hi_ms: int,
    events: DayEvents,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    customers_only: frozenset[str] | None = None,
) -> DayPresence:
    """Seconds and distinct visitors per cell of the chunks starting in ``[lo, hi)``, and where
    each facing event of the span stood (the visit's last estimate at or before it)."""
    rows = session.execute(
        select(PositionChunk.visit_id, Visit.customer_id, PositionChunk.t_start_ms,
               PositionChunk.n_points, PositionChunk.payload)
        .join(Visit, Visit.id == PositionChunk.visit_id)
        .where(PositionChunk.store_id == store_id, PositionChunk.floor_id == floor_id,
               PositionChunk.t_start_ms >= lo_ms, PositionChunk.t_start_ms < hi_ms,
               PositionChunk.n_points > 0)
    ).all()  # fmt: skip
    if customers_only is not None:
        rows = [row for row in rows if row.customer_id in customers_only]
    customers = _numbering([row.customer_id for row in rows])
    visits = _numbering([row.visit_id for row in rows])
    accumulator = PresenceAccumulator(grid, len(customers))
    facing = np.zeros(0, dtype=FACING_DTYPE)
    if rows:
        points = np.frombuffer(b"".join(row.payload for row in rows), dtype=POINT_DTYPE)
        chunk_visit = np.asarray([visits[row.visit_id] for row in rows], dtype=np.int64)
        chunk_start = np.asarray([row.t_start_ms for row in rows], dtype=np.int64)
        chunk_n = np.asarray([row.n_points for row in rows], dtype=np.int64)
        customer_of_visit = np.zeros(len(visits), dtype=np.int64)
        customer_of_visit[chunk_visit] = [customers[row.customer_id] for row in rows]
        hold = hold_seconds_chunked(points["dt_ms"], chunk_start, chunk_n, chunk_visit, max_gap_s)
        point_visit = np.repeat(chunk_visit, chunk_n)
        accumulator.add(points["x"], points["y"], hold, customer_of_visit[point_visit])
        facing = _facing_cells(grid, events, visits, customer_of_visit, points, chunk_start,
                               chunk_n, chunk_visit)  # fmt: skip
    n_points = sum(row.n_points for row in rows)
    rollup = accumulator.rollup()
    return DayPresence(
        tuple(customers), rollup.seconds, accumulator.visitors_per_cell().astype(np.int64),
        rollup.off_floor_s, events.zone_ids, facing, n_points, rollup.visitor_cells,
    )  # fmt: skip


def _facing_cells(
    grid: CellGrid,
    events: DayEvents,
    visits: dict[str, int],
    customer_of_visit: NDArray[np.int64],
    points: NDArray[np.void],
    chunk_start: NDArray[np.int64],
    chunk_n: NDArray[np.int64],
    chunk_visit: NDArray[np.int64],
) -> NDArray[np.void]:
    ev = events.events[(events.events["kind"] == _FACING) & (events.events["zone"] >= 0)]
    # The events' visit numbers are the events' own; renumber to this floor's chunks' visits.
    local = np.asarray([visits.get(v, -1) for v in events.visit_ids], dtype=np.int64)
    ev_visit = local[ev["visit"]] if ev.size else np.zeros(0, np.int64)
    ev = ev[ev_visit >= 0]
    ev_visit = ev_visit[ev_visit >= 0]
    t, point_visit = chunk_point_columns(points["dt_ms"], chunk_start, chunk_n, chunk_visit)
    x, y, found = positions_at(ev["t_ms"], ev_visit, t, points["x"], points["y"], point_visit)
    cell = grid.cell_of(x[found], y[found])
    on_floor = cell >= 0
    facing = np.zeros(int(on_floor.sum()), dtype=FACING_DTYPE)
    facing["zone"] = ev["zone"][found][on_floor]
    facing["cell"] = cell[on_floor]
    facing["customer"] = customer_of_visit[ev_visit[found][on_floor]]
    return facing


def floor_grid(floor: Floor) -> CellGrid:
    return CellGrid(floor.width_m, floor.height_m, CELL_M)


@dataclass(frozen=True)
class RolledUp:
    store_id: int
    day: date
    n_events: int
    n_points: int
    floors: int


def rollup_day(session: Session, store_id: int, day: date, at_ms: int) -> RolledUp:
    """Store the day's pieces for the store and each of its floors, replacing earlier rows."""
    store = session.get(Store, store_id)
    if store is None:
        raise LookupError(f"no store {store_id}")
    lo, hi = day_bounds(store.timezone, day)
    events = day_events(session, store_id, lo, hi)
    key = day.isoformat()
    session.execute(delete(ZoneEventRollupRow).where(
        ZoneEventRollupRow.store_id == store_id, ZoneEventRollupRow.day == key))  # fmt: skip
    session.execute(delete(PresenceRollupRow).where(
        PresenceRollupRow.store_id == store_id, PresenceRollupRow.day == key))  # fmt: skip
    session.add(
        ZoneEventRollupRow(
            store_id=store_id, day=key, day_start_ms=lo, day_end_ms=hi,
            visit_ids=pack_ids(events.visit_ids), zone_ids=pack_ids(events.zone_ids),
            events=events.events.tobytes(), n_events=int(events.events.size), created_ms=at_ms,
        )
    )  # fmt: skip
    floors = session.scalars(select(Floor).where(Floor.store_id == store_id)).all()
    n_points = 0
    for floor in floors:
        grid = floor_grid(floor)
        piece = day_presence(session, store_id, floor.id, grid, lo, hi, events)
        n_points += piece.n_points
        session.add(
            PresenceRollupRow(
                store_id=store_id, floor_id=floor.id, day=key, day_start_ms=lo, day_end_ms=hi,
                width_m=grid.width_m, height_m=grid.height_m, cell_m=grid.cell_m,
                customer_ids=pack_ids(piece.customer_ids),
                seconds=piece.seconds.astype("<f8").tobytes(),
                cell_visitors=piece.cell_visitors.astype("<i4").tobytes(),
                visitor_cells=pack_keys(piece.visitor_cells()),
                off_floor_s=piece.off_floor_s,
                facing_zone_ids=pack_ids(piece.facing_zone_ids), facing=piece.facing.tobytes(),
                n_points=piece.n_points, created_ms=at_ms,
            )
        )  # fmt: skip
    session.flush()
    return RolledUp(store_id, day, int(events.events.size), n_points, len(floors))


def pack_keys(keys: NDArray[np.int64]) -> bytes:
    """Sorted distinct keys as zlib-compressed uint32 gaps: ~6x smaller than the int64s (a day's
    visitors stand in neighbouring cells, so the gaps are small), and exact."""
    gaps = np.diff(np.sort(keys), prepend=0)
    if gaps.size and gaps.max() > np.iinfo(np.uint32).max:
        raise ValueError("visitor-cell keys too sparse for 32-bit gaps")
    return zlib.compress(gaps.astype("<u4").tobytes(), 1)


def unpack_keys(blob: bytes) -> NDArray[np.int64]:
    return np.cumsum(np.frombuffer(zlib.decompress(blob), dtype="<u4"), dtype=np.int64)


def stored_presence(row: PresenceRollupRow) -> DayPresence:
    return DayPresence(
        unpack_ids(row.customer_ids), np.frombuffer(row.seconds, dtype="<f8").astype(np.float64),
        np.frombuffer(row.cell_visitors, dtype="<i4").astype(np.int64), row.off_floor_s,
        unpack_ids(row.facing_zone_ids), np.frombuffer(row.facing, dtype=FACING_DTYPE),
        row.n_points, row.visitor_cells,
    )  # fmt: skip


def stored_events(row: ZoneEventRollupRow) -> DayEvents:
    return DayEvents(
        unpack_ids(row.visit_ids), unpack_ids(row.zone_ids),
        np.frombuffer(row.events, dtype=EVENT_DTYPE),
    )  # fmt: skip


def closed_days_to_roll(
    session: Session, store: Store, at_ms: int, lookback_days: int = ROLLUP_LOOKBACK_DAYS
) -> list[date]:
    """Closed days of the last ``lookback_days`` (since the store exists) without a rollup."""
    today = local_day(store.timezone, at_ms)
    first = max(local_day(store.timezone, store.created_ms), today - timedelta(lookback_days))
    done = set(session.scalars(select(ZoneEventRollupRow.day).where(
        ZoneEventRollupRow.store_id == store.id)))  # fmt: skip
    days = []
    day = first
    while day < today:
        if (
            day.isoformat() not in done
            and day_bounds(store.timezone, day)[1] + (DAY_CLOSE_GRACE_MS) <= at_ms
        ):
            days.append(day)
        day += timedelta(days=1)
    return days


def rollup_closed_days(database: Database, at_ms: int) -> list[RolledUp]:
    """One pass of the day-close job over every store; one transaction per store-day."""
    with database.session() as session:
        stores = session.scalars(select(Store)).all()
        plan = [(s.id, day) for s in stores for day in closed_days_to_roll(session, s, at_ms)]
    done = []
    for store_id, day in plan:
        with database.session() as session:
            done.append(rollup_day(session, store_id, day, at_ms))
    return done


async def rollup_loop(database: Database, every_s: float) -> None:
    while True:
        try:
            done = await to_thread.run_sync(rollup_closed_days, database, now_ms())
            for rolled in done:
                log.info("analytics rollup: %s", rolled)
        except Exception:  # a failed rollup is retried next pass; the raw rows are still there
            log.exception("analytics rollup failed")
        await asyncio.sleep(every_s)
