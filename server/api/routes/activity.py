"""What happened: offers and their outcomes, visits. Read-only; the websockets write them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from server.api.deps import SessionDep, StoreDep
from server.schemas.commerce import OfferPublic, VisitPublic
from server.tables import Offer, Visit

router = APIRouter(prefix="/stores/{store_id}", tags=["activity"])

Limit = Annotated[int, Query(ge=1, le=10_000)]
Since = Annotated[int, Query(ge=0, description="Unix ms, inclusive")]


@router.get("/offers")
def list_offers(
    store: StoreDep,
    session: SessionDep,
    since_ms: Since = 0,
    channel: Literal["app", "signage"] | None = None,
    campaign_id: int | None = None,
    limit: Limit = 1000,
) -> list[OfferPublic]:
    query = (
        select(Offer)
        .where(Offer.store_id == store.id, Offer.issued_ms >= since_ms)
        .order_by(Offer.issued_ms, Offer.id)
        .limit(limit)
    )
    if channel is not None:
        query = query.where(Offer.channel == channel)
    if campaign_id is not None:
        query = query.where(Offer.campaign_id == campaign_id)
    return [OfferPublic.model_validate(o) for o in session.scalars(query)]


@router.get("/visits")
def list_visits(
    store: StoreDep,
    session: SessionDep,
    since_ms: Since = 0,
    limit: Limit = 1000,
    open_only: Annotated[bool, Query(description="only visits not yet ended")] = False,
) -> list[VisitPublic]:
    """Visits of the store; ``open_only`` lists who may be in the store now."""
    query = (
        select(Visit)
        .where(Visit.store_id == store.id, Visit.started_ms >= since_ms)
        .order_by(Visit.started_ms)
        .limit(limit)
    )
    if open_only:
        query = query.where(Visit.ended_ms.is_(None))
    return [VisitPublic.model_validate(v) for v in session.scalars(query)]
