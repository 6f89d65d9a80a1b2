"""A store's point of sale posts baskets; staff read the store's baskets and campaigns' uplift."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import select

from server.analytics_campaigns import ATTRIBUTION_WINDOW_MS
from server.api.deps import SessionDep, StoreDep, TillStoreDep
from server.baskets import BasketRejected, record_basket
from server.schemas.commerce import BasketCreate, BasketRecorded, CampaignUplift, PurchasePublic
from server.tables import Purchase
from server.uplift_report import store_uplift
from triggers.profiles import DAY_MS

router = APIRouter(prefix="/stores/{store_id}", tags=["purchases"])


@router.post(
    "/purchases",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the basket was already recorded (same id): nothing written"},
        409: {"description": "the basket id is taken by a different basket"},
        422: {"description": "unknown customer, SKU (with its line) or visit"},
    },
)
def post_basket(
    body: BasketCreate, store: TillStoreDep, session: SessionDep, response: Response
) -> BasketRecorded:
    """Record a basket at checkout (``pos`` token of this store, or its staff). Idempotent by
    basket id; linked to the customer's visit (given, or found: docs/server.md)."""
    try:
        recorded = record_basket(session, store.id, body)
    except BasketRejected as error:
        code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, str(error)) from None
    if recorded.duplicate:
        response.status_code = status.HTTP_200_OK
    else:
        session.commit()
    return recorded


@router.get("/purchases")
def list_store_purchases(
    store: StoreDep,
    session: SessionDep,
    from_ms: int = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PurchasePublic]:
    query = (
        select(Purchase)
        .where(Purchase.store_id == store.id, Purchase.t_ms >= from_ms)
        .order_by(Purchase.t_ms, Purchase.id)
        .limit(limit)
        .offset(offset)
    )
    return [PurchasePublic.model_validate(p) for p in session.scalars(query)]


@router.get("/uplift")
def campaigns_uplift(
    store: StoreDep,
    session: SessionDep,
    window_days: Annotated[float, Query(gt=0, le=365)] = ATTRIBUTION_WINDOW_MS / DAY_MS,
) -> list[CampaignUplift]:
    """Per campaign: delivered, opened, redeemed, and the uplift of the promoted product's
    purchase rate over the hold-out with its interval (``triggers.measure``)."""
    return store_uplift(session, store.id, int(window_days * DAY_MS))
