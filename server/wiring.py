"""Where the cores plug into the server: ``core_wiring`` builds the ``PipelineWiring`` the app uses
when the caller passes none (``aislecast serve``).

Until positioning, zones and triggers are merged it returns the inert wiring (readings stored,
fixes passed through, no offers). The loaders below read what the cores need from the database in
the shapes of CONTRACTS.md (``store.json`` zones, beacon positions), so the wiring only converts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.database import Database
from server.pipeline import PipelineWiring
from server.tables import Beacon, Floor, Zone


def store_zone_documents(session: Session, store_id: int) -> list[dict[str, Any]]:
    """The store's live zones as ``store.json`` zone objects (``id`` and ``floor_id`` added)."""
    zones = session.scalars(
        select(Zone).where(Zone.store_id == store_id, Zone.deleted.is_(False)).order_by(Zone.id)
    )
    return [{"id": z.id, "floor_id": z.floor_id, **z.document} for z in zones]


def store_beacons(session: Session, store_id: int) -> dict[str, tuple[float, float, float | None]]:
    """``{beacon_id: (x, y, tx_power_dbm)}``, the shape ``positioning.beacons.BeaconMap`` takes."""
    beacons = session.scalars(select(Beacon).where(Beacon.store_id == store_id))
    return {b.id: (b.x, b.y, b.tx_power_dbm) for b in beacons}


def store_floors(session: Session, store_id: int) -> list[tuple[int, str, float, float]]:
    """``(floor_id, name, width_m, height_m)`` of each floor."""
    floors = session.scalars(select(Floor).where(Floor.store_id == store_id).order_by(Floor.id))
    return [(f.id, f.name, f.width_m, f.height_m) for f in floors]


def core_wiring(database: Database) -> PipelineWiring:
    """The production wiring. The lead replaces the body once the cores are merged, e.g.::

    PipelineWiring(
        decide=triggers_decide_adapter,                       # DecisionRequest → triggers.decide
        tracker_for=lambda store_id, customer_id: TrackerAdapter(BeaconMap(...store_beacons)),
        zone_detector_for=detectors.for_store,                # ZoneEventDetector per store,
    )                                                         # rebuilt when zones change
    """
    _ = database
    return PipelineWiring()
