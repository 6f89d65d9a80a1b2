"""One analytics request: a store, an optional floor, a range and an audience, turned into the
tables of ``server.analytics_views``. The REST routes and ``aislecast report`` both use this.

Ranges are store-local calendar days (``from`` and ``to`` inclusive, ``YYYY-MM-DD``) or Unix ms
(``to`` exclusive). A segment (customer tier) or a campaign's audience (shoppers who were offered
the campaign or held out from it) makes the view identified: consented visits only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.analytics_campaigns import campaign_table
from server.analytics_queries import (
    FloorHeatmaps,
    StoreActivity,
    floor_heatmaps,
    load_activity,
    visit_purchases,
)
from server.analytics_rollup import day_bounds
from server.analytics_views import (
    Table,
    campaign_rows,
    facing_table,
    paths_tables,
    presence_table,
    returning_rows,
    visit_length_rows,
    week_hour_rows,
    zone_rows,
)
from server.store_zones import store_zone_documents
from server.tables import Customer, Floor, Offer, Store
from zones.analytics import (
    PurchaseColumns,
    paths,
    returning_visitors,
    visit_lengths,
    week_hours,
    zone_table,
)
from zones.model import Zone, ZoneError
from zones.records import zone_from_dict

# The longest range one request may ask for: a year of days (a rollup a day keeps it fast).
MAX_RANGE_DAYS = 366
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AnalyticsRequestError(ValueError):
    """A bad range, floor, segment or campaign: the API answers 4xx with this reason."""


def parse_bound(text: str, time_zone: str, is_end: bool) -> int:
    """``YYYY-MM-DD`` (local day; an end date includes its day) or Unix ms."""
    text = text.strip()
    if _DAY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as error:
            raise AnalyticsRequestError(f"{text!r} is not a calendar date") from error
        return day_bounds(time_zone, day + timedelta(days=1) if is_end else day)[0]
    if text.isdigit():
        return int(text)
    raise AnalyticsRequestError(f"{text!r} is neither a date (YYYY-MM-DD) nor Unix milliseconds")


def parse_range(from_text: str, to_text: str, time_zone: str) -> tuple[int, int]:
    from_ms = parse_bound(from_text, time_zone, is_end=False)
    to_ms = parse_bound(to_text, time_zone, is_end=True)
    if to_ms <= from_ms:
        raise AnalyticsRequestError(f"the range {from_text} to {to_text} is empty or reversed")
    if to_ms - from_ms > MAX_RANGE_DAYS * 86_400_000 + 3_600_000:
        raise AnalyticsRequestError(f"a range may span at most {MAX_RANGE_DAYS} days")
    return from_ms, to_ms


def audience(
    session: Session, store_id: int, segment: str | None, campaign_id: int | None
) -> frozenset[str] | None:
    """The customers a segment (tier) and/or campaign audience keeps; None: everyone."""
    kept: frozenset[str] | None = None
    if segment is not None:
        kept = frozenset(session.scalars(select(Customer.id).where(Customer.tier == segment)))
    if campaign_id is not None:
        offered = frozenset(session.scalars(select(Offer.customer_id).where(
            Offer.store_id == store_id, Offer.campaign_id == campaign_id)))  # fmt: skip
        if not offered:
            raise AnalyticsRequestError(f"campaign {campaign_id} has no offers in store {store_id}")
        kept = offered if kept is None else kept & offered
    return kept


def analysed_zones(session: Session, store_id: int, floor_id: int | None) -> list[Zone]:
    zones = []
    for document in store_zone_documents(session, store_id):
        if floor_id is not None and document["floor_id"] != floor_id:
            continue
        try:
            zones.append(zone_from_dict(document))
        except ZoneError:
            continue  # a shape the core rejects has no events either
    return zones


@dataclass
class AnalyticsQuery:
    """What one request computes; tables are built on demand and share the loaded activity."""

    session: Session
    store: Store
    floor: Floor | None
    from_ms: int
    to_ms: int
    k: int
    customers_only: frozenset[str] | None = None
    use_rollups: bool = True

    def __post_init__(self) -> None:
        self.zones = analysed_zones(
            self.session, self.store.id, self.floor.id if self.floor else None
        )
        self._activity: StoreActivity | None = None
        self._maps: FloorHeatmaps | None = None
        self._purchases: PurchaseColumns | None = None

    @property
    def identified(self) -> bool:
        return self.customers_only is not None

    @property
    def activity(self) -> StoreActivity:
        if self._activity is None:
            self._activity = load_activity(
                self.session, self.store.id, self.from_ms, self.to_ms, [z.id for z in self.zones],
                self.customers_only, self.use_rollups, with_purchases=False,
            )  # fmt: skip
        return self._activity

    def _with_purchases(self) -> StoreActivity:
        """The activity with its purchases: only the zone table's conversion needs them."""
        a = self.activity
        if self._purchases is None:
            self._purchases = visit_purchases(
                self.session, a.customer_ids, a.visits, self.from_ms, self.to_ms
            )
        return replace(a, purchases=self._purchases)

    def heatmaps(self) -> FloorHeatmaps:
        if self.floor is None:
            raise AnalyticsRequestError("heatmaps need a floor: pass floor_id")
        if self._maps is None:
            self._maps = floor_heatmaps(
                self.session, self.store.id, self.store.timezone, self.floor, self.from_ms,
                self.to_ms, [z.id for z in self.zones], self.k, self.use_rollups,
                self.customers_only,
                self._activity.raw_days if self._activity is not None else None,
            )  # fmt: skip
        return self._maps

    def presence(self) -> Table:
        return presence_table(self.heatmaps())

    def facing(self, zone_id: str | None = None) -> Table:
        if zone_id is not None and zone_id not in {z.id for z in self.zones}:
            raise AnalyticsRequestError(f"no zone {zone_id!r} on this floor")
        return facing_table(self.heatmaps(), zone_id)

    def zones_table(self) -> Table:
        a = self._with_purchases()
        return zone_rows(zone_table(self.zones, a.events, a.visits, a.purchases, self.k,
                                    consented_only=self.identified))  # fmt: skip

    def paths(self) -> dict[str, Table]:
        a = self.activity
        return paths_tables(paths(self.zones, a.events, a.visits, self.k, self.identified))

    def week_hours(self) -> Table:
        a = self.activity
        return week_hour_rows(week_hours(a.visits, a.time_zone, self.k, self.identified))

    def visit_lengths(self) -> Table:
        return visit_length_rows(visit_lengths(self.activity.visits, self.k, self.identified))

    def returning(self) -> Table:
        return returning_rows(returning_visitors(self.activity.visits, self.k))

    def campaigns(self) -> Table:
        return campaign_rows(campaign_table(self.session, self.store.id, self.from_ms, self.to_ms,
                                            self.k))  # fmt: skip


def store_floor(session: Session, store_id: int, floor_id: int | None) -> Floor | None:
    if floor_id is None:
        return None
    floor = session.get(Floor, floor_id)
    if floor is None or floor.store_id != store_id:
        raise AnalyticsRequestError(f"store {store_id} has no floor {floor_id}")
    return floor
