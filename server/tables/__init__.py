"""SQLAlchemy 2.0 typed tables. API schemas live apart, in ``server.schemas``."""

from server.tables.accounts import ApiToken, StaffSession, User, UserStore
from server.tables.activity import (
    AppEvent,
    Offer,
    Play,
    PositionChunk,
    RawReadingBatch,
    Visit,
    ZoneEventRow,
)
from server.tables.analytics import PresenceRollupRow, ZoneEventRollupRow
from server.tables.base import Base
from server.tables.commerce import Campaign, Customer, Product, Purchase
from server.tables.stores import Beacon, Floor, Screen, Store, Zone, ZoneVersion

__all__ = [
    "ApiToken",
    "AppEvent",
    "Base",
    "Beacon",
    "Campaign",
    "Customer",
    "Floor",
    "Offer",
    "Play",
    "PositionChunk",
    "PresenceRollupRow",
    "Product",
    "Purchase",
    "RawReadingBatch",
    "Screen",
    "StaffSession",
    "Store",
    "User",
    "UserStore",
    "Visit",
    "Zone",
    "ZoneEventRollupRow",
    "ZoneEventRow",
    "ZoneVersion",
]
