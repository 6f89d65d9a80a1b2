"""Tokens for shopper apps (admins, per customer), signage screens (store staff, per screen) and
points of sale (store staff, per store: the till posting baskets)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from server.api.deps import CurrentUser, SessionDep, accessible_store_ids, can_access_store
from server.api.helpers import get_or_404
from server.clock import now_ms
from server.schemas.accounts import TokenCreate, TokenCreated, TokenPublic
from server.security import new_token, token_digest
from server.tables import ApiToken, Customer, Screen, Store

router = APIRouter(prefix="/tokens", tags=["tokens"])
# Tokens bound to a store, which its staff may list and revoke (app tokens are admins' alone).
STORE_TOKEN_KINDS = ("screen", "pos")


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    if body.kind == "app":
        if user.role != "admin":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may issue app tokens")
        if body.customer_id is None or body.store_id is not None or body.screen_id is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "an app token names a customer_id only"
            )
        get_or_404(session, Customer, body.customer_id, "customer")
    elif body.kind == "pos":
        if body.store_id is None or body.screen_id is not None or body.customer_id is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "a pos token names a store_id only"
            )
        if not can_access_store(session, user, body.store_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"no access to store {body.store_id}")
        get_or_404(session, Store, body.store_id, "store")
    else:
        if body.store_id is None or body.screen_id is None or body.customer_id is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "a screen token names a store_id and a screen_id only",
            )
        if not can_access_store(session, user, body.store_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"no access to store {body.store_id}")
        get_or_404(session, Screen, (body.store_id, body.screen_id), "screen")
    secret = new_token()
    row = ApiToken(
        token_hash=token_digest(secret),
        kind=body.kind,
        label=body.label,
        customer_id=body.customer_id,
        store_id=body.store_id,
        screen_id=body.screen_id,
        created_ms=now_ms(),
    )
    session.add(row)
    session.commit()
    return TokenCreated(token=secret, **TokenPublic.model_validate(row).model_dump())


@router.get("")
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenPublic]:
    query = select(ApiToken).order_by(ApiToken.id)
    stores = accessible_store_ids(session, user)
    if stores is not None:
        query = query.where(ApiToken.kind.in_(STORE_TOKEN_KINDS), ApiToken.store_id.in_(stores))
    return [TokenPublic.model_validate(t) for t in session.scalars(query)]


@router.delete("/{token_id}")
def revoke_token(token_id: int, user: CurrentUser, session: SessionDep) -> TokenPublic:
    token = get_or_404(session, ApiToken, token_id, "token")
    allowed = user.role == "admin" or (
        token.kind in STORE_TOKEN_KINDS
        and token.store_id is not None
        and can_access_store(session, user, token.store_id)
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you may not revoke this token")
    if token.revoked_ms is None:
        token.revoked_ms = now_ms()
        session.commit()
    return TokenPublic.model_validate(token)
