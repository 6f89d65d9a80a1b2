"""Stores: admins create them; staff see the ones they work in."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from server.api.deps import AdminUser, CurrentUser, SessionDep, StoreDep, accessible_store_ids
from server.api.helpers import apply_update, reject_null
from server.clock import now_ms
from server.schemas.stores import StoreCreate, StorePublic, StoreUpdate
from server.tables import Store

router = APIRouter(prefix="/stores", tags=["stores"])


@router.get("")
def list_stores(user: CurrentUser, session: SessionDep) -> list[StorePublic]:
    query = select(Store).order_by(Store.id)
    allowed = accessible_store_ids(session, user)
    if allowed is not None:
        query = query.where(Store.id.in_(allowed))
    return [StorePublic.model_validate(s) for s in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_store(body: StoreCreate, _admin: AdminUser, session: SessionDep) -> StorePublic:
    store = Store(name=body.name, timezone=body.timezone, created_ms=now_ms())
    session.add(store)
    session.commit()
    return StorePublic.model_validate(store)


@router.get("/{store_id}")
def read_store(store: StoreDep) -> StorePublic:
    return StorePublic.model_validate(store)


@router.patch("/{store_id}")
def update_store(store: StoreDep, body: StoreUpdate, session: SessionDep) -> StorePublic:
    reject_null(apply_update(store, body), "name", "timezone")
    session.commit()
    return StorePublic.model_validate(store)


@router.delete("/{store_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_store(store: StoreDep, _admin: AdminUser, session: SessionDep) -> None:
    session.delete(store)
    session.commit()
