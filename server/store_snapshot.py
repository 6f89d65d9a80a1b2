"""A store's zones, screens and active campaigns, re-read every couple of seconds.

Staff edits must take effect without a restart (issue 8) while a shopper's every message must not
cost a query: each process re-reads a store at most once per ``SNAPSHOT_TTL_MS``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from server.database import Database
from server.tables import Campaign, Floor, Screen, Zone

# Edits reach every process within this long; a read of a store's rows costs about a millisecond.
SNAPSHOT_TTL_MS = 2000


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    id: str
    kind: str
    categories: tuple[str, ...]
    screen_id: str | None  # the screen standing in this zone, if any


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    loaded_ms: int
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    campaigns: tuple[dict[str, Any], ...] = ()
    floor_ids: tuple[int, ...] = ()  # in creation order; the first is the default floor


def load_snapshot(database: Database, store_id: int, now_ms: int) -> StoreSnapshot:
    with database.session() as session:
        zones = session.scalars(
            select(Zone).where(Zone.store_id == store_id, Zone.deleted.is_(False))
        ).all()
        screens = session.scalars(select(Screen).where(Screen.store_id == store_id)).all()
        campaigns = session.scalars(
            select(Campaign).where(Campaign.store_id == store_id, Campaign.status == "active")
        ).all()
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
                {"id": c.id, "name": c.name, "document": c.document} for c in campaigns
            ),
            floor_ids=tuple(floor_ids),
        )


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
