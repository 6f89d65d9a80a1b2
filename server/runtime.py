"""Everything a running server holds, built in the app's lifespan (never at import)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.database import Database
from server.login_guard import LoginGuard
from server.pipeline import PipelineWiring
from server.realtime.bus import DeliveryBus
from server.realtime.leaves import LeaveBatcher
from server.settings import Settings
from server.store_snapshot import SnapshotCache


@dataclass
class Runtime:
    settings: Settings
    database: Database
    bus: DeliveryBus
    wiring: PipelineWiring
    snapshots: SnapshotCache
    login_guard: LoginGuard = field(default_factory=LoginGuard)
    # Disconnects written together (``server.realtime.leaves``).
    leaves: LeaveBatcher = field(default_factory=LeaveBatcher)
