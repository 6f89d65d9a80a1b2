"""Where the cores plug into the server: ``core_wiring`` builds the ``PipelineWiring`` the app uses
when the caller passes none (``aislecast serve``).

Zones (``server.store_zones``) and triggers (``server.trigger_decisions``) are wired; positioning
is not yet. The loaders read what the cores need from the database in the shapes of CONTRACTS.md
(``store.json`` zones, beacon positions), so the adapters only convert.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.database import Database
from server.pipeline import PipelineWiring
from server.store_zones import StoreZoneDetectors, store_zone_documents
from server.tables import Beacon, Floor
from server.trigger_decisions import TriggersDecider

__all__ = ["core_wiring", "store_beacons", "store_floors", "store_zone_documents"]


def store_beacons(session: Session, store_id: int) -> dict[str, tuple[float, float, float | None]]:
    """``{beacon_id: (x, y, tx_power_dbm)}``, the shape ``positioning.beacons.BeaconMap`` takes."""
    beacons = session.scalars(select(Beacon).where(Beacon.store_id == store_id))
    return {b.id: (b.x, b.y, b.tx_power_dbm) for b in beacons}


def store_floors(session: Session, store_id: int) -> list[tuple[int, str, float, float]]:
    """``(floor_id, name, width_m, height_m)`` of each floor."""
    floors = session.scalars(select(Floor).where(Floor.store_id == store_id).order_by(Floor.id))
    return [(f.id, f.name, f.width_m, f.height_m) for f in floors]


def core_wiring(database: Database) -> PipelineWiring:
    """The production wiring: zones' detector per store and triggers' decision.

    Positioning's tracker is not wired yet: readings are stored and answered with
    ``positioning: not_wired``; apps that position themselves send fixes.
    """
    return PipelineWiring(
        decide=TriggersDecider(database),
        zone_detector_for=StoreZoneDetectors(database),
    )
