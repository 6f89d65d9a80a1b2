"""All REST routers joined in one place, under /api."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.routes import (
    activity,
    analytics,
    auth,
    beacons,
    campaigns,
    catalogue,
    floors,
    purchases,
    screens,
    stores,
    tokens,
    users,
    zones,
)

api_router = APIRouter(prefix="/api")
for module in (auth, users, tokens, stores, floors, zones, beacons, screens, catalogue, campaigns):
    api_router.include_router(module.router)
api_router.include_router(activity.router)
api_router.include_router(purchases.router)
api_router.include_router(analytics.router)
