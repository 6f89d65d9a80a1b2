"""Where the cores plug into the server: ``core_wiring`` builds the ``PipelineWiring`` the app uses
when the caller passes none (``aislecast serve``).

Positioning (``server.tracking``), zones (``server.store_zones``) and triggers
(``server.trigger_decisions``). The loaders read what the cores need from the database in the
shapes of CONTRACTS.md (``store.json`` zones, beacon positions), so the adapters only convert.
"""

from __future__ import annotations

from server.database import Database
from server.pipeline import PipelineWiring
from server.store_zones import StoreZoneDetectors, store_zone_documents
from server.tracking import StoreTrackers, store_beacons, store_floors
from server.trigger_decisions import TriggersDecider

__all__ = ["core_wiring", "store_beacons", "store_floors", "store_zone_documents"]


def core_wiring(database: Database) -> PipelineWiring:
    """The production wiring: a positioning tracker per shopper, zones' detector per store and
    triggers' decision (each adapter's module says what it converts and caches)."""
    return PipelineWiring(
        decide=TriggersDecider(database),
        tracker_for=StoreTrackers(database),
        zone_detector_for=StoreZoneDetectors(database),
    )
