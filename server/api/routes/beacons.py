"""Beacons of a store at their measured positions (floor metre frame)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from server.api.deps import SessionDep, StoreDep
from server.api.helpers import apply_update, get_or_404, reject_null
from server.api.routes.floors import floor_of_store
from server.schemas.stores import BeaconCreate, BeaconPublic, BeaconUpdate
from server.tables import Beacon

router = APIRouter(prefix="/stores/{store_id}/beacons", tags=["beacons"])


@router.get("")
def list_beacons(store: StoreDep, session: SessionDep) -> list[BeaconPublic]:
    query = select(Beacon).where(Beacon.store_id == store.id).order_by(Beacon.id)
    return [BeaconPublic.model_validate(b) for b in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_beacon(store: StoreDep, body: BeaconCreate, session: SessionDep) -> BeaconPublic:
    floor_of_store(session, store.id, body.floor_id)
    if session.get(Beacon, (store.id, body.id)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"beacon {body.id!r} exists in this store")
    beacon = Beacon(store_id=store.id, **body.model_dump())
    session.add(beacon)
    session.commit()
    return BeaconPublic.model_validate(beacon)


@router.patch("/{beacon_id}")
def update_beacon(
    store: StoreDep, beacon_id: str, body: BeaconUpdate, session: SessionDep
) -> BeaconPublic:
    beacon = get_or_404(session, Beacon, (store.id, beacon_id), "beacon")
    changes = apply_update(beacon, body)
    reject_null(changes, "floor_id", "x", "y")
    floor_of_store(session, store.id, beacon.floor_id)
    session.commit()
    return BeaconPublic.model_validate(beacon)


@router.delete("/{beacon_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_beacon(store: StoreDep, beacon_id: str, session: SessionDep) -> None:
    session.delete(get_or_404(session, Beacon, (store.id, beacon_id), "beacon"))
    session.commit()
