"""Read a store's stored activity for a time range into the pure analytics columns (issue 9).

Visits overlapping ``[from_ms, to_ms)`` are numbered ``0..n-1`` in start order and their
customers ``0..m-1`` (visitors: k-anonymity counts people). Zone events and purchases come as
columns over those numbers; positions are read a day at a time from the packed chunks and added
to a ``PresenceAccumulator``, so a month never sits in memory as points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from server.positions_codec import POINT_DTYPE
from server.tables.activity import PositionChunk, Visit, ZoneEventRow
from server.tables.commerce import Product, Purchase
from zones.analytics import (
    DEFAULT_K_ANONYMITY,
    DEFAULT_MAX_GAP_S,
    CellGrid,
    PresenceAccumulator,
    PresenceHeatmap,
    PurchaseColumns,
    VisitColumns,
    ZoneEventColumns,
    hold_seconds_chunked,
)

LOCATION_CONSENT = "location_analytics"
# A till receipt reaches us after the app's last message of the visit: a purchase up to this long
# after the visit's last sign of life still belongs to it.
PURCHASE_GRACE_MS = 15 * 60_000
# Positions are read in windows this long, so memory holds one day of points at a time.
READ_WINDOW_MS = 86_400_000


class RangeError(ValueError):
    """The asked time range is empty or reversed."""


@dataclass(frozen=True)
class StoreActivity:
    visit_ids: tuple[str, ...]
    customer_ids: tuple[str, ...]
    zone_ids: tuple[str, ...]  # what ``events.zone`` indexes
    visits: VisitColumns
    events: ZoneEventColumns
    purchases: PurchaseColumns


def _check_range(from_ms: int, to_ms: int) -> None:
    if to_ms <= from_ms:
        raise RangeError(f"empty time range: from {from_ms} is not before to {to_ms}")


def load_activity(
    session: Session, store_id: int, from_ms: int, to_ms: int, zone_ids: Sequence[str]
) -> StoreActivity:
    """Visits overlapping the range, their zone events (zones outside ``zone_ids`` dropped) and the
    purchases their customers made during them (matched by customer and time)."""
    _check_range(from_ms, to_ms)
    visit_rows = session.execute(
        select(Visit.id, Visit.customer_id, Visit.started_ms, Visit.last_seen_ms, Visit.ended_ms,
               Visit.consents)
        .where(Visit.store_id == store_id, Visit.started_ms < to_ms, Visit.last_seen_ms >= from_ms)
        .order_by(Visit.started_ms, Visit.id)
    ).all()  # fmt: skip
    visit_number = {row.id: i for i, row in enumerate(visit_rows)}
    customer_number: dict[str, int] = {}
    for row in visit_rows:
        customer_number.setdefault(row.customer_id, len(customer_number))
    ended = [row.ended_ms if row.ended_ms is not None else row.last_seen_ms for row in visit_rows]
    visits = VisitColumns.of(
        [customer_number[row.customer_id] for row in visit_rows],
        [row.started_ms for row in visit_rows],
        ended,
        [LOCATION_CONSENT in row.consents.split(";") for row in visit_rows],
    )
    zone_number = {zone_id: i for i, zone_id in enumerate(zone_ids)}
    event_rows = session.execute(
        select(ZoneEventRow.visit_id, ZoneEventRow.zone_id, ZoneEventRow.kind, ZoneEventRow.t_ms)
        .where(ZoneEventRow.store_id == store_id, ZoneEventRow.t_ms >= from_ms,
               ZoneEventRow.t_ms < to_ms)
    ).all()  # fmt: skip
    kept = [
        row
        for row in event_rows
        if row.visit_id in visit_number and (row.zone_id is None or row.zone_id in zone_number)
    ]
    events = ZoneEventColumns.of(
        [visit_number[row.visit_id] for row in kept],
        [zone_number[row.zone_id] if row.zone_id is not None else -1 for row in kept],
        [row.kind for row in kept],
        [row.t_ms for row in kept],
    )
    return StoreActivity(
        tuple(visit_number),
        tuple(customer_number),
        tuple(zone_ids),
        visits,
        events,
        _visit_purchases(session, visit_rows, ended, from_ms, to_ms),
    )


def _visit_purchases(
    session: Session, visit_rows: Sequence[object], ended: Sequence[int], from_ms: int, to_ms: int
) -> PurchaseColumns:
    by_customer: dict[str, list[tuple[int, int, int]]] = {}
    for i, (row, end) in enumerate(zip(visit_rows, ended, strict=True)):
        by_customer.setdefault(row.customer_id, []).append((row.started_ms, end, i))  # type: ignore[attr-defined]
    if not by_customer:
        return PurchaseColumns.empty()
    rows = session.execute(
        select(Purchase.customer_id, Purchase.t_ms, Product.category)
        .join(Product, Product.sku == Purchase.sku)
        .where(and_(Purchase.customer_id.in_(list(by_customer)), Purchase.t_ms >= from_ms,
                    Purchase.t_ms < to_ms + PURCHASE_GRACE_MS))
    ).all()  # fmt: skip
    visit, t_ms, category = [], [], []
    for row in rows:
        for started, end, i in by_customer[row.customer_id]:
            if started <= row.t_ms <= end + PURCHASE_GRACE_MS:
                visit.append(i)
                t_ms.append(row.t_ms)
                category.append(row.category)
                break
    return PurchaseColumns.of(visit, t_ms, category)


def presence_heatmap_between(
    session: Session,
    activity: StoreActivity,
    store_id: int,
    floor_id: int | None,
    grid: CellGrid,
    from_ms: int,
    to_ms: int,
    k: int = DEFAULT_K_ANONYMITY,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> PresenceHeatmap:
    """The presence heatmap of the chunks starting in the range (a chunk is at most a minute)."""
    _check_range(from_ms, to_ms)
    visit_number = {visit_id: i for i, visit_id in enumerate(activity.visit_ids)}
    heat = PresenceAccumulator(grid, len(activity.customer_ids))
    for lo in range(from_ms, to_ms, READ_WINDOW_MS):
        rows = session.execute(
            select(PositionChunk.visit_id, PositionChunk.t_start_ms, PositionChunk.n_points,
                   PositionChunk.payload)
            .where(PositionChunk.store_id == store_id, PositionChunk.floor_id == floor_id
                   if floor_id is not None else PositionChunk.floor_id.is_(None),
                   PositionChunk.t_start_ms >= lo,
                   PositionChunk.t_start_ms < min(lo + READ_WINDOW_MS, to_ms))
        ).all()  # fmt: skip
        rows = [row for row in rows if row.visit_id in visit_number and row.n_points > 0]
        if not rows:
            continue
        points = np.frombuffer(b"".join(row.payload for row in rows), dtype=POINT_DTYPE)
        chunk_visit = np.asarray([visit_number[row.visit_id] for row in rows], dtype=np.int64)
        chunk_n = np.asarray([row.n_points for row in rows], dtype=np.int64)
        hold = hold_seconds_chunked(
            points["dt_ms"], [row.t_start_ms for row in rows], chunk_n, chunk_visit, max_gap_s
        )
        owners = activity.visits.visitor[np.repeat(chunk_visit, chunk_n)]
        heat.add(points["x"], points["y"], hold, owners)
    return heat.result(k)
