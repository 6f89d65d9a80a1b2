"""Signage screens: where they stand, which zone they serve, their default playlist."""

from __future__ import annotations

import anyio.from_thread
from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from server.api.deps import RuntimeDep, SessionDep, StoreDep
from server.api.helpers import get_or_404, reject_null
from server.api.routes.floors import floor_of_store
from server.clock import now_ms
from server.realtime.bus import screen_channel
from server.realtime.signage import screen_state_frame
from server.runtime import Runtime
from server.schemas.stores import ScreenCreate, ScreenPublic, ScreenUpdate
from server.tables import Screen, Zone

router = APIRouter(prefix="/stores/{store_id}/screens", tags=["screens"])


def _check_zone(session: SessionDep, store_id: int, zone_id: str | None) -> None:
    if zone_id is None:
        return
    zone = session.get(Zone, (store_id, zone_id))
    if zone is None or zone.deleted:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no zone {zone_id!r} here")


def _tell_screen(runtime: Runtime, screen: Screen) -> None:
    """A connected screen picks up the change at once (it runs in FastAPI's worker thread)."""
    frame = screen_state_frame(screen, now_ms())
    anyio.from_thread.run(runtime.bus.publish, screen_channel(screen.store_id, screen.id), frame)
    runtime.snapshots.invalidate(screen.store_id)


@router.get("")
def list_screens(store: StoreDep, session: SessionDep) -> list[ScreenPublic]:
    query = select(Screen).where(Screen.store_id == store.id).order_by(Screen.id)
    return [ScreenPublic.model_validate(s) for s in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_screen(store: StoreDep, body: ScreenCreate, session: SessionDep) -> ScreenPublic:
    floor_of_store(session, store.id, body.floor_id)
    _check_zone(session, store.id, body.zone_id)
    if session.get(Screen, (store.id, body.id)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"screen {body.id!r} exists in this store")
    screen = Screen(
        store_id=store.id, online=False, current=None, last_played=None, **body.model_dump()
    )
    session.add(screen)
    session.commit()
    return ScreenPublic.model_validate(screen)


@router.get("/{screen_id}")
def read_screen(store: StoreDep, screen_id: str, session: SessionDep) -> ScreenPublic:
    return ScreenPublic.model_validate(get_or_404(session, Screen, (store.id, screen_id), "screen"))


@router.patch("/{screen_id}")
def update_screen(
    store: StoreDep, screen_id: str, body: ScreenUpdate, session: SessionDep, runtime: RuntimeDep
) -> ScreenPublic:
    screen = get_or_404(session, Screen, (store.id, screen_id), "screen")
    changes = body.model_dump(exclude_unset=True)
    reject_null(changes, "floor_id", "name", "x", "y", "playlist")
    if "floor_id" in changes:
        floor_of_store(session, store.id, changes["floor_id"])
    if "zone_id" in changes:
        _check_zone(session, store.id, changes["zone_id"])
    for name, value in changes.items():
        setattr(screen, name, value)
    session.commit()
    _tell_screen(runtime, screen)
    return ScreenPublic.model_validate(screen)


@router.delete("/{screen_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_screen(store: StoreDep, screen_id: str, session: SessionDep) -> None:
    session.delete(get_or_404(session, Screen, (store.id, screen_id), "screen"))
    session.commit()
