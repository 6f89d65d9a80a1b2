"""Read a store's activity for a time range into the pure analytics columns (issue 9).

Visits overlapping ``[from_ms, to_ms)`` are read raw (a few thousand a day) and numbered
``0..n-1`` in start order, their customers ``0..m-1`` (visitors: k-anonymity counts people).
Zone events and positions are read a store-local day at a time: whole days that have a rollup
(``server.analytics_rollup``) come from it, the rest (today, a partial first or last day, a day
not rolled up yet) from the raw rows through the same day functions, so both paths agree.
Restricting to a set of customers (a segment, a campaign's audience) reads raw positions: the
presence rollup holds no per-person seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from server.analytics_rollup import (
    DayEvents,
    DayPresence,
    DaySpan,
    day_events,
    day_presence,
    day_spans,
    floor_grid,
    stored_events,
    stored_presence,
)
from server.tables import Floor, PresenceRollupRow, Store, ZoneEventRollupRow
from server.tables.activity import Visit
from server.tables.commerce import Product, Purchase
from zones.analytics import (
    DEFAULT_K_ANONYMITY,
    FacingHeatmap,
    PresenceHeatmap,
    PurchaseColumns,
    VisitColumns,
    ZoneEventColumns,
    facing_heatmap_of_cells,
)

LOCATION_CONSENT = "location_analytics"
# A till receipt reaches us after the app's last message of the visit: a purchase up to this long
# after the visit's last sign of life still belongs to it.
PURCHASE_GRACE_MS = 15 * 60_000


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
    time_zone: str
    customers_only: frozenset[str] | None = None  # a segment or audience, None for everyone
    days_from_rollups: int = 0
    # The events of the days read raw (by ISO day), kept for the facing heatmap's positions.
    raw_days: dict[str, DayEvents] = field(default_factory=dict)


def check_range(from_ms: int, to_ms: int) -> None:
    if to_ms <= from_ms:
        raise RangeError(f"empty time range: from {from_ms} is not before to {to_ms}")


def _numbers(ids: Iterable[str], known: dict[str, int]) -> NDArray[np.int64]:
    """Each id's number in ``known``, -1 for ids it does not hold."""
    return np.asarray([known.get(i, -1) for i in ids], dtype=np.int64)


def _stored_rows(
    session: Session, table: type[ZoneEventRollupRow] | type[PresenceRollupRow],
    store_id: int, spans: Sequence[DaySpan], *where: object,
) -> dict[str, object]:  # fmt: skip
    whole = [span.day.isoformat() for span in spans if span.whole]
    if not whole:
        return {}
    rows = session.scalars(
        select(table).where(table.store_id == store_id, table.day.in_(whole), *where)  # type: ignore[arg-type]
    ).all()
    return {row.day: row for row in rows}  # type: ignore[attr-defined]


def load_activity(
    session: Session,
    store_id: int,
    from_ms: int,
    to_ms: int,
    zone_ids: Sequence[str],
    customers_only: frozenset[str] | None = None,
    use_rollups: bool = True,
    with_purchases: bool = True,
) -> StoreActivity:
    """Visits overlapping the range, their zone events (zones outside ``zone_ids`` dropped) and
    (``with_purchases``) the purchases their customers made during them."""
    check_range(from_ms, to_ms)
    store = session.get(Store, store_id)
    if store is None:
        raise LookupError(f"no store {store_id}")
    visit_rows = session.execute(
        select(Visit.id, Visit.customer_id, Visit.started_ms, Visit.last_seen_ms, Visit.ended_ms,
               Visit.consents)
        .where(Visit.store_id == store_id, Visit.started_ms < to_ms, Visit.last_seen_ms >= from_ms)
        .order_by(Visit.started_ms, Visit.id)
    ).all()  # fmt: skip
    if customers_only is not None:
        visit_rows = [row for row in visit_rows if row.customer_id in customers_only]
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
    spans = day_spans(store.timezone, from_ms, to_ms)
    stored = _stored_rows(session, ZoneEventRollupRow, store_id, spans) if use_rollups else {}
    zone_number = {zone_id: i for i, zone_id in enumerate(zone_ids)}
    parts = []
    raw_days: dict[str, DayEvents] = {}
    for span in spans:
        stored_row = stored.get(span.day.isoformat())
        if stored_row is not None:
            day = stored_events(stored_row)  # type: ignore[arg-type]
        else:
            day = raw_days[span.day.isoformat()] = day_events(
                session, store_id, span.lo_ms, span.hi_ms
            )
        parts.append(_renumbered(day, visit_number, zone_number))
    events = ZoneEventColumns(*(np.concatenate([p[i] for p in parts]) for i in range(4)))
    return StoreActivity(
        tuple(visit_number), tuple(customer_number), tuple(zone_ids), visits, events,
        visit_purchases(session, tuple(customer_number), visits, from_ms, to_ms)
        if with_purchases
        else PurchaseColumns.empty(),
        store.timezone,
        customers_only, len(stored), raw_days,
    )  # fmt: skip


def _renumbered(
    day: DayEvents, visit_number: dict[str, int], zone_number: dict[str, int]
) -> tuple[NDArray[np.int64], ...]:
    """A day's events over the range's visit and zone numbers; unknown visits and zones dropped
    (``visit_end`` keeps zone -1)."""
    visit = _numbers(day.visit_ids, visit_number)[day.events["visit"]]
    zone_of = np.append(_numbers(day.zone_ids, zone_number), -1)  # index -1 → -1
    zone = zone_of[day.events["zone"]]
    keep = (visit >= 0) & ((zone >= 0) | (day.events["zone"] < 0))
    return (
        visit[keep],
        zone[keep],
        day.events["kind"][keep].astype(np.int64),
        day.events["t_ms"][keep].astype(np.int64),
    )


def visit_purchases(
    session: Session, customer_ids: Sequence[str], visits: VisitColumns, from_ms: int, to_ms: int
) -> PurchaseColumns:
    """Purchases in the range (plus the grace) matched to the visit their customer was on.

    Read by time and matched here: an ``IN`` list of a month's customers would be tens of
    thousands of parameters."""
    if not len(visits):
        return PurchaseColumns.empty()
    number = {customer: i for i, customer in enumerate(customer_ids)}
    by_customer: dict[int, list[tuple[int, int, int]]] = {}
    for i, (who, started, ended) in enumerate(
        zip(visits.visitor.tolist(), visits.started_ms.tolist(), visits.ended_ms.tolist(),
            strict=True)
    ):  # fmt: skip
        by_customer.setdefault(who, []).append((started, ended, i))
    rows = session.execute(
        select(Purchase.customer_id, Purchase.t_ms, Product.category)
        .join(Product, Product.sku == Purchase.sku)
        .where(and_(Purchase.t_ms >= from_ms, Purchase.t_ms < to_ms + PURCHASE_GRACE_MS))
    ).all()  # fmt: skip
    visit, t_ms, category = [], [], []
    for row in rows:
        who = number.get(row.customer_id)
        for started, end, i in by_customer.get(who, ()) if who is not None else ():
            if started <= row.t_ms <= end + PURCHASE_GRACE_MS:
                visit.append(i)
                t_ms.append(row.t_ms)
                category.append(row.category)
                break
    return PurchaseColumns.of(visit, t_ms, category)


@dataclass(frozen=True)
class FloorHeatmaps:
    presence: PresenceHeatmap
    facing: FacingHeatmap
    days_from_rollups: int
    n_points_raw: int


def floor_heatmaps(
    session: Session,
    store_id: int,
    time_zone: str,
    floor: Floor,
    from_ms: int,
    to_ms: int,
    zone_ids: Sequence[str],
    k: int = DEFAULT_K_ANONYMITY,
    use_rollups: bool = True,
    customers_only: frozenset[str] | None = None,
    raw_days: dict[str, DayEvents] | None = None,
) -> FloorHeatmaps:
    """Presence and facing heatmaps of the chunks starting in the range (a chunk ≤ a minute).

    Seconds add up day by day. Distinct visitors per cell do not, but each day's count bounds the
    range's: ``max_d n_d ≤ n ≤ Σ_d n_d``. A cell with ``max ≥ k`` is shown and one with ``Σ < k``
    hidden without further work; only cells in between (few shoppers, perhaps the same ones on
    several days) read the days' exact (visitor, cell) keys and count people across days. So the
    k-anonymity decision is exact, and ``visitors`` is exact where it decides and a lower bound
    (the busiest day's count) where ``max ≥ k`` already settled it.
    """
    check_range(from_ms, to_ms)
    grid = floor_grid(floor)
    spans = day_spans(time_zone, from_ms, to_ms)
    stored: dict[str, object] = {}
    if use_rollups and customers_only is None:
        stored = _stored_rows(session, PresenceRollupRow, store_id, spans,
                              PresenceRollupRow.floor_id == floor.id)  # fmt: skip
    pieces: list[DayPresence] = []
    n_raw, n_stored = 0, 0
    for span in spans:
        row = stored.get(span.day.isoformat())
        if row is not None and _same_grid(row, grid):  # type: ignore[arg-type]
            pieces.append(stored_presence(row))  # type: ignore[arg-type]
            n_stored += 1
            continue
        events = (raw_days or {}).get(span.day.isoformat()) or day_events(
            session, store_id, span.lo_ms, span.hi_ms
        )
        pieces.append(day_presence(session, store_id, floor.id, grid, span.lo_ms, span.hi_ms,
                                   events, customers_only=customers_only))  # fmt: skip
        n_raw += pieces[-1].n_points
    customers: dict[str, int] = {}
    for piece in pieces:
        for customer in piece.customer_ids:
            customers.setdefault(customer, len(customers))
    seconds = np.zeros(grid.n_cells)
    lower = np.zeros(grid.n_cells, dtype=np.int64)
    upper = np.zeros(grid.n_cells, dtype=np.int64)
    for piece in pieces:
        seconds += piece.seconds
        np.maximum(lower, piece.cell_visitors, out=lower)
        upper += piece.cell_visitors
    visitors = lower.copy()
    undecided = (lower < k) & (upper >= k)
    if undecided.any():
        visitors[undecided] = _exact_visitors(pieces, customers, undecided, grid.n_cells)
    presence = PresenceHeatmap(
        grid=grid,
        seconds=seconds.reshape(grid.ny, grid.nx),
        visitors=visitors.reshape(grid.ny, grid.nx),
        k=k,
        off_floor_s=sum(piece.off_floor_s for piece in pieces),
    )
    zone_number = {z: i for i, z in enumerate(zone_ids)}
    facing: list[tuple[NDArray[np.int64], ...]] = []
    for piece in pieces:
        who = _numbers(piece.customer_ids, customers)[piece.facing["customer"]]
        zone = _numbers(piece.facing_zone_ids, zone_number)[piece.facing["zone"]]
        keep = zone >= 0
        facing.append((zone[keep], piece.facing["cell"][keep].astype(np.int64), who[keep]))
    zone, cell, who = (np.concatenate([f[i] for f in facing]) for i in range(3))
    return FloorHeatmaps(
        presence,
        facing_heatmap_of_cells(grid, tuple(zone_ids), zone, cell, who, k),
        n_stored,
        n_raw,
    )


def _exact_visitors(
    pieces: Sequence[DayPresence],
    customers: dict[str, int],
    cells: NDArray[np.bool_],
    n_cells: int,
) -> NDArray[np.int64]:
    """Distinct people per cell over all pieces, for the flagged cells (in flat order)."""
    keys = []
    for piece in pieces:
        local, cell = np.divmod(piece.visitor_cells(), n_cells)
        chosen = cells[cell]
        who = _numbers(piece.customer_ids, customers)[local[chosen]]
        keys.append(who * n_cells + cell[chosen])
    distinct = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
    return np.bincount(distinct % n_cells, minlength=n_cells)[cells]


def _same_grid(row: PresenceRollupRow, grid: object) -> bool:
    return (row.width_m, row.height_m, row.cell_m) == (
        grid.width_m, grid.height_m, grid.cell_m,  # type: ignore[attr-defined]
    )  # fmt: skip
