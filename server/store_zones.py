"""One ``zones.detector.ZoneEventDetector`` per store, rebuilt when staff change the store's zones.

The pipeline holds a store's ``StoreZoneDetector`` for the whole connection; the detector inside
is swapped when the store's zone versions change, so a zone drawn or moved over REST (in this
process or another) takes effect within ``ZONE_CHECK_MS`` without a restart. Shoppers' presence
is not carried across a rebuild: a shopper standing in a zone enters it again (the caps keep that
from costing a second offer of the same campaign).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from positioning import Estimate
from positioning.floorplan import Obstacle
from server.clock import now_ms
from server.database import Database
from server.store_snapshot import SNAPSHOT_TTL_MS
from server.tables import Zone as ZoneRow
from zones import ZoneEvent
from zones.detector import ZoneEventDetector
from zones.events import OBSTACLE
from zones.model import Zone, ZoneError, zone_obstacles
from zones.records import zone_from_dict

log = logging.getLogger(__name__)

# How stale a store's zones may be: the same as the store snapshot (kinds and categories of the
# zones the occasions name), so the two never disagree for longer than that.
ZONE_CHECK_MS = SNAPSHOT_TTL_MS

# From this many estimates at once the detector's batch form is cheaper than its loop (demo store,
# 73 zones, CPU per estimate: loop 18 µs; batch 37 µs at 5 rows, 21 at 10, 14 at 20, 6 at 100).
BATCH_MIN_ROWS = 12

ZoneSignature = tuple[tuple[str, int], ...]  # (zone id, version) of the live zones, sorted


def store_zone_documents(session: Session, store_id: int) -> list[dict[str, Any]]:
    """The store's live zones as ``store.json`` zone objects (``id`` and ``floor_id`` added)."""
    zones = session.scalars(
        select(ZoneRow)
        .where(ZoneRow.store_id == store_id, ZoneRow.deleted.is_(False))
        .order_by(ZoneRow.id)
    )
    return [{"id": z.id, "floor_id": z.floor_id, **z.document} for z in zones]


def _signature(database: Database, store_id: int) -> ZoneSignature:
    with database.session() as session:
        rows = session.execute(
            select(ZoneRow.id, ZoneRow.version)
            .where(ZoneRow.store_id == store_id, ZoneRow.deleted.is_(False))
            .order_by(ZoneRow.id)
        ).all()
    return tuple((str(zone_id), int(version)) for zone_id, version in rows)


def load_store_zones(database: Database, store_id: int) -> list[Zone]:
    """The store's live zones as ``zones.Zone``; a stored zone the core rejects is left out (and
    logged) rather than taking the whole store's detector down."""
    with database.session() as session:
        documents = store_zone_documents(session, store_id)
    zones = []
    for document in documents:
        try:
            zones.append(zone_from_dict(document))
        except ZoneError as error:
            log.warning("store %s: zone %s skipped: %s", store_id, document.get("id"), error)
    return zones


def floor_obstacle_documents(
    database: Database, store_id: int, floor_id: int
) -> tuple[ZoneSignature, list[dict[str, Any]]]:
    """The floor's live obstacle zones: their (id, version) signature — what a cache of anything
    built from them keys on — and their documents (``id`` added)."""
    with database.session() as session:
        rows = session.scalars(
            select(ZoneRow)
            .where(
                ZoneRow.store_id == store_id,
                ZoneRow.floor_id == floor_id,
                ZoneRow.deleted.is_(False),
            )
            .order_by(ZoneRow.id)
        ).all()
        # The kind lives in the JSON document; a store has tens of zones, so filter here.
        kept = [row for row in rows if row.document.get("kind") == OBSTACLE]
        signature = tuple((str(row.id), int(row.version)) for row in kept)
        return signature, [{"id": row.id, **row.document} for row in kept]


def obstacles_of(store_id: int, documents: list[dict[str, Any]]) -> tuple[Obstacle, ...]:
    """Obstacle documents as positioning's ``Obstacle``s; one the core rejects is skipped."""
    zones = []
    for document in documents:
        try:
            zones.append(zone_from_dict(document))
        except ZoneError as error:
            log.warning("store %s: obstacle %s skipped: %s", store_id, document.get("id"), error)
    return zone_obstacles(zones)


class StoreZoneDetector:
    """The pipeline's ``ZoneEventSource`` for one store. Calls are serialised per store by the
    pipeline; the rebuild check has a lock of its own because it is also reached from tests."""

    def __init__(self, database: Database, store_id: int) -> None:
        self.database = database
        self.store_id = store_id
        self._lock = threading.Lock()
        self._checked_ms: int | None = None
        self._signature: ZoneSignature | None = None
        self._detector = ZoneEventDetector([])

    def _current(self) -> ZoneEventDetector:
        now = now_ms()
        with self._lock:
            if self._checked_ms is not None and now - self._checked_ms < ZONE_CHECK_MS:
                return self._detector
            self._checked_ms = now
            signature = _signature(self.database, self.store_id)
            if signature != self._signature:
                self._detector = ZoneEventDetector(load_store_zones(self.database, self.store_id))
                self._signature = signature
            return self._detector

    def update(self, shopper_id: str, estimate: Estimate) -> list[ZoneEvent]:
        return self._current().update(shopper_id, estimate)

    def update_many(
        self, shopper_ids: Sequence[str], estimates: Sequence[Estimate]
    ) -> list[ZoneEvent]:
        """The events of several estimates in one call, equal to ``update`` on each in turn."""
        detector = self._current()
        if len(estimates) < BATCH_MIN_ROWS:
            return [e for s, est in zip(shopper_ids, estimates, strict=True)
                    for e in detector.update(s, est)]  # fmt: skip
        return detector.update_batch(
            shopper_ids,
            [e.t_ms for e in estimates],
            [e.x for e in estimates],
            [e.y for e in estimates],
            [e.heading_deg for e in estimates],
            [e.accuracy_m for e in estimates],
        )

    def end_visit(self, shopper_id: str, t_ms: int) -> list[ZoneEvent]:
        return self._current().end_visit(shopper_id, t_ms)


class StoreZoneDetectors:
    """``zone_detector_for``: the one detector of each store, made on first use."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._detectors: dict[int, StoreZoneDetector] = {}
        self._lock = threading.Lock()

    def __call__(self, store_id: int) -> StoreZoneDetector:
        with self._lock:
            detector = self._detectors.get(store_id)
            if detector is None:
                detector = self._detectors[store_id] = StoreZoneDetector(self.database, store_id)
            return detector
