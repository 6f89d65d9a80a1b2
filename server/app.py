"""The FastAPI application factory. Nothing is built at import: ``create_app`` returns an app whose
lifespan connects the database, migrates it, and starts the delivery bus.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.analytics_rollup import ROLLUP_EVERY_S, rollup_loop
from server.api.main import api_router
from server.clock import now_ms
from server.database import Database, upgrade_to_head
from server.gc_tuning import tune_gc_for_serving
from server.pipeline import PipelineWiring
from server.realtime.bus import make_bus
from server.realtime.framed_socket import cancel_and_wait, validation_reason
from server.realtime.live import live_socket
from server.realtime.phone_port import start_phone_port
from server.realtime.screen import screen_socket
from server.realtime.shopper import shopper_socket
from server.retention import retention_loop
from server.runtime import Runtime
from server.security import hash_password
from server.settings import Settings, get_settings
from server.store_snapshot import SnapshotCache
from server.tables import User
from server.wiring import core_wiring

API_DESCRIPTION = (
    "Aislecast trigger server. Staff REST API under `/api`: log in at `/api/auth/login`, then send "
    "`Authorization: Bearer <token>`. The websockets `/ws/shopper`, `/ws/screen` and `/ws/live` "
    "are described in docs/protocol.md."
)


def bootstrap_admin(database: Database, settings: Settings) -> None:
    """Create the first admin from the settings when there is no user at all."""
    if not settings.bootstrap_admin_email or not settings.bootstrap_admin_password:
        return
    with database.session() as session:
        if session.scalar(select(User.id).limit(1)) is None:
            session.add(
                User(
                    email=settings.bootstrap_admin_email.lower(),
                    password_hash=hash_password(settings.bootstrap_admin_password),
                    role="admin",
                    active=True,
                    created_ms=now_ms(),
                )
            )


async def _integrity_error(_request: Request, error: Exception) -> JSONResponse:
    """A uniqueness or reference the route did not foresee: the client's conflict, not a crash."""
    reason = str(getattr(error, "orig", error)).splitlines()[0][:300]
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": f"conflicts with stored data: {reason}"},
    )


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    """A model built inside a route (a merged PATCH) failed: the client's input is bad."""
    reason = validation_reason(error) if isinstance(error, ValidationError) else str(error)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": reason}
    )


async def _request_invalid(_request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own 422, minus the echoed input: a NaN in it would make the reply itself fail."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    detail = [{"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"]} for p in problems]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": detail}
    )


def create_app(settings: Settings | None = None, wiring: PipelineWiring | None = None) -> FastAPI:
    """The server. ``settings`` default to the environment; ``wiring`` plugs in the cores."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or get_settings()
        database = Database.connect(resolved.database_url)
        if resolved.migrate_on_startup:
            await to_thread.run_sync(upgrade_to_head, database.engine)
        await to_thread.run_sync(bootstrap_admin, database, resolved)
        bus = make_bus(resolved.redis_url, resolved.redis_prefix)
        await bus.start()
        app.state.runtime = Runtime(
            resolved,
            database,
            bus,
            wiring or core_wiring(database, resolved.tracker),
            SnapshotCache(database),
        )
        retention = asyncio.create_task(
            retention_loop(database, resolved.position_retention_days, resolved.retention_sweep_s)
        )
        rollups = asyncio.create_task(rollup_loop(database, ROLLUP_EVERY_S))
        if resolved.gc_young_threshold > 0:
            tune_gc_for_serving(resolved.gc_young_threshold)
        phones = None
        try:
            if resolved.phone_port is not None:
                phones = await start_phone_port(
                    app.state.runtime, resolved.phone_host, resolved.phone_port
                )
            app.state.phone_port = phones
            yield
        finally:
            if phones is not None:  # its sockets' handlers still use the bus and the database
                await phones.close()
            await cancel_and_wait(rollups)
            await cancel_and_wait(retention)
            await bus.close()
            database.dispose()

    app = FastAPI(
        title="Aislecast", version="0.1.0", description=API_DESCRIPTION, lifespan=lifespan
    )
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    app.include_router(api_router)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_api_websocket_route("/ws/shopper", shopper_socket)
    app.add_api_websocket_route("/ws/screen", screen_socket)
    app.add_api_websocket_route("/ws/live", live_socket)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _mount_admin_page(app)
    return app


# Built by `make admin` (npm ci && vite build); a server without it still serves the API.
ADMIN_DIST = Path(__file__).parent / "admin" / "dist"


def _mount_admin_page(app: FastAPI) -> None:
    """The staff page at /admin and the signage player at /screen?token=…"""
    if not ADMIN_DIST.is_dir():
        return
    app.mount("/admin", StaticFiles(directory=ADMIN_DIST, html=True), name="admin")

    @app.get("/screen", include_in_schema=False)
    def screen_player(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/admin/screen.html?{request.url.query}")
