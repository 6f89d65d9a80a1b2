"""Zones of a store, versioned: every create, update, delete and restore writes a version."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import CurrentUser, SessionDep, StoreDep
from server.api.helpers import get_or_404
from server.api.routes.floors import floor_of_store
from server.clock import now_ms
from server.schemas.stores import ZoneCreate, ZonePublic, ZoneShape, ZoneUpdate, ZoneVersionPublic
from server.tables import Floor, User, Zone, ZoneVersion
from server.zone_shapes import zone_model_problem, zone_shape_problem

router = APIRouter(prefix="/stores/{store_id}/zones", tags=["zones"])


def _check_shape(shape: ZoneShape, floor: Floor, zone_id: str) -> None:
    problem = zone_shape_problem(shape.polygon, floor.width_m, floor.height_m)
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"floor {floor.id}: {problem}")
    problem = zone_model_problem(zone_id, shape.model_dump())
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


def _public(zone: Zone) -> ZonePublic:
    return ZonePublic(
        id=zone.id, store_id=zone.store_id, floor_id=zone.floor_id, version=zone.version,
        **zone.document,
    )  # fmt: skip


def _write_version(session: Session, zone: Zone, action: str, author: User) -> None:
    session.add(
        ZoneVersion(
            store_id=zone.store_id,
            zone_id=zone.id,
            version=zone.version,
            action=action,
            author_user_id=author.id,
            created_ms=now_ms(),
            floor_id=zone.floor_id,
            document=zone.document,
        )
    )


def _live_zone(session: Session, store_id: int, zone_id: str) -> Zone:
    zone = get_or_404(session, Zone, (store_id, zone_id), "zone")
    if zone.deleted:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"zone {zone_id!r} was deleted")
    return zone


@router.get("")
def list_zones(store: StoreDep, session: SessionDep) -> list[ZonePublic]:
    query = select(Zone).where(Zone.store_id == store.id, Zone.deleted.is_(False)).order_by(Zone.id)
    return [_public(z) for z in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_zone(
    store: StoreDep, body: ZoneCreate, user: CurrentUser, session: SessionDep
) -> ZonePublic:
    floor = floor_of_store(session, store.id, body.floor_id)
    zone_id = body.id or f"z-{uuid.uuid4().hex[:10]}"
    _check_shape(body, floor, zone_id)
    if session.get(Zone, (store.id, zone_id)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"zone {zone_id!r} exists in this store")
    document = ZoneShape.model_validate(body.model_dump(exclude={"id", "floor_id"})).model_dump()
    zone = Zone(store_id=store.id, id=zone_id, floor_id=floor.id, version=1, document=document)
    session.add(zone)
    session.flush()
    _write_version(session, zone, "create", user)
    session.commit()
    return _public(zone)


@router.get("/{zone_id}")
def read_zone(store: StoreDep, zone_id: str, session: SessionDep) -> ZonePublic:
    return _public(_live_zone(session, store.id, zone_id))


@router.patch("/{zone_id}")
def update_zone(
    store: StoreDep, zone_id: str, body: ZoneUpdate, user: CurrentUser, session: SessionDep
) -> ZonePublic:
    zone = _live_zone(session, store.id, zone_id)
    changes = body.model_dump(exclude_unset=True)
    floor_id = changes.pop("floor_id", None) or zone.floor_id
    merged: dict[str, Any] = {**zone.document, **changes}
    shape = ZoneShape.model_validate(merged)
    _check_shape(shape, floor_of_store(session, store.id, floor_id), zone.id)
    zone.floor_id = floor_id
    zone.document = shape.model_dump()
    zone.version += 1
    _write_version(session, zone, "update", user)
    session.commit()
    return _public(zone)


@router.delete("/{zone_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_zone(store: StoreDep, zone_id: str, user: CurrentUser, session: SessionDep) -> None:
    """A soft delete: the history stays and the zone can be restored."""
    zone = _live_zone(session, store.id, zone_id)
    zone.deleted = True
    zone.version += 1
    _write_version(session, zone, "delete", user)
    session.commit()


@router.get("/{zone_id}/versions")
def list_zone_versions(
    store: StoreDep, zone_id: str, session: SessionDep
) -> list[ZoneVersionPublic]:
    get_or_404(session, Zone, (store.id, zone_id), "zone")
    query = (
        select(ZoneVersion)
        .where(ZoneVersion.store_id == store.id, ZoneVersion.zone_id == zone_id)
        .order_by(ZoneVersion.version)
    )
    return [ZoneVersionPublic.model_validate(v) for v in session.scalars(query)]


@router.post("/{zone_id}/versions/{version}/restore")
def restore_zone_version(
    store: StoreDep, zone_id: str, version: int, user: CurrentUser, session: SessionDep
) -> ZonePublic:
    zone = get_or_404(session, Zone, (store.id, zone_id), "zone")
    old = get_or_404(session, ZoneVersion, (store.id, zone_id, version), "zone version")
    if old.action == "delete":
        raise HTTPException(status.HTTP_409_CONFLICT, "that version is a deletion; pick another")
    floor_of_store(session, store.id, old.floor_id)
    zone.floor_id = old.floor_id
    zone.document = dict(old.document)
    zone.deleted = False
    zone.version += 1
    _write_version(session, zone, "restore", user)
    session.commit()
    return _public(zone)
