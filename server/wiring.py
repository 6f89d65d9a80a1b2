"""Where the cores plug into the server: ``core_wiring`` builds the ``PipelineWiring`` the app uses
when the caller passes none (``aislecast serve``).

Positioning (``server.tracking``), zones (``server.store_zones``) and triggers
(``server.trigger_decisions``). The loaders read what the cores need from the database in the
shapes of CONTRACTS.md (``store.json`` zones, beacon positions), so the adapters only convert.
"""

from __future__ import annotations

from server.batch_tracking import StoreBatchTrackers
from server.database import Database
from server.pipeline import PipelineWiring
from server.store_zones import StoreZoneDetectors, store_zone_documents
from server.tracking import StoreTrackers, store_beacons, store_floors
from server.trigger_decisions import TriggersDecider

__all__ = ["core_wiring", "store_beacons", "store_floors", "store_zone_documents"]


TRACKERS = ("batched", "per_shopper")


def core_wiring(database: Database, tracker: str = "batched") -> PipelineWiring:
    """The production wiring: positioning (a batched tracker per store, or a ``Tracker`` per
    shopper), zones' detector per store and triggers' decision (each adapter's module says what
    it converts and caches)."""
    if tracker not in TRACKERS:
        raise ValueError(f"tracker must be one of {TRACKERS}, not {tracker!r}")
    trackers = StoreBatchTrackers(database) if tracker == "batched" else StoreTrackers(database)
    return PipelineWiring(
        decide=TriggersDecider(database),
        tracker_for=trackers,
        zone_detector_for=StoreZoneDetectors(database),
    )
