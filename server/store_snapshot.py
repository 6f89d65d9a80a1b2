"""A store's zones, screens and active campaigns, re-read every couple of seconds.

Staff edits must take effect without a restart (issue 8) while a shopper's every message must not
cost a query: each process re-reads a store at most once per ``SNAPSHOT_TTL_MS``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.database import Database
from server.tables import Campaign, Floor, Offer, Screen, Store, Zone

# Edits reach every process within this long; a read of a store's rows costs about a millisecond.
SNAPSHOT_TTL_MS = 2000


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    id: str
    kind: str
    categories: tuple[str, ...]
    screen_id: str | None  # the screen standing in this zone, if any


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """Offers of one campaign so far, all shoppers (budgets are per campaign, not per shopper)."""

    issued: int = 0  # sent or shown (hold-outs excluded)
    redeemed: int = 0
    held_out: int = 0


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    loaded_ms: int
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    campaigns: tuple[dict[str, Any], ...] = ()
    floor_ids: tuple[int, ...] = ()  # in creation order; the first is the default floor
    timezone: str = "UTC"
    campaign_counts: dict[int, CampaignCounts] = field(default_factory=dict)


def load_snapshot(database: Database, store_id: int, now_ms: int) -> StoreSnapshot:
    with database.session() as session:
        zones = session.scalars(
            select(Zone).where(Zone.store_id == store_id, Zone.deleted.is_(False))
        ).all()
        screens = session.scalars(select(Screen).where(Screen.store_id == store_id)).all()
        campaigns = session.scalars(
            select(Campaign).where(Campaign.store_id == store_id, Campaign.status == "active")
        ).all()
        store = session.get(Store, store_id)
        counts = _campaign_counts(session, [c.id for c in campaigns])
        floor_ids = session.scalars(
            select(Floor.id).where(Floor.store_id == store_id).order_by(Floor.id)
        ).all()
        screen_by_zone = {s.zone_id: s.id for s in screens if s.zone_id is not None}
        return StoreSnapshot(
            loaded_ms=now_ms,
            zones={
                z.id: ZoneInfo(
                    z.id,
                    str(z.document.get("kind", "area")),
                    tuple(z.document.get("categories", ())),
                    screen_by_zone.get(z.id),
                )
                for z in zones
            },
            campaigns=tuple(
                {"id": c.id, "name": c.name, "version": c.version, "document": c.document}
                for c in campaigns
            ),
            floor_ids=tuple(floor_ids),
            timezone="UTC" if store is None else store.timezone,
            campaign_counts=counts,
        )


def _campaign_counts(session: Session, campaign_ids: list[int]) -> dict[int, CampaignCounts]:
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Offer.campaign_id, Offer.status, func.count())
        .where(Offer.campaign_id.in_(campaign_ids))
        .group_by(Offer.campaign_id, Offer.status)
    ).all()
    tallies: dict[int, dict[str, int]] = {c: {} for c in campaign_ids}
    for campaign_id, status, n in rows:
        if campaign_id is not None:
            tallies[campaign_id][status] = int(n)
    return {
        c: CampaignCounts(
            issued=sum(n for s, n in t.items() if s != "held_out"),
            redeemed=t.get("redeemed", 0),
            held_out=t.get("held_out", 0),
        )
        for c, t in tallies.items()
    }


class SnapshotCache:
    def __init__(self, database: Database, ttl_ms: int = SNAPSHOT_TTL_MS) -> None:
        self.database = database
        self.ttl_ms = ttl_ms
        self._snapshots: dict[int, StoreSnapshot] = {}
        self._lock = threading.Lock()

    def get(self, store_id: int, now_ms: int) -> StoreSnapshot:
        snapshot = self._snapshots.get(store_id)
        if snapshot is None or now_ms - snapshot.loaded_ms >= self.ttl_ms:
            snapshot = load_snapshot(self.database, store_id, now_ms)
            with self._lock:
                self._snapshots[store_id] = snapshot
        return snapshot

    def invalidate(self, store_id: int) -> None:
        with self._lock:
            self._snapshots.pop(store_id, None)
