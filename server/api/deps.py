"""Request dependencies as named aliases; permission checks live here, not in the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import now_ms
from server.runtime import Runtime
from server.security import token_digest
from server.settings import Settings, get_settings
from server.tables import ApiToken, StaffSession, Store, User, UserStore

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/auth/login")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_db(runtime: RuntimeDep) -> Iterator[Session]:
    """A session per request; routes commit what they write, anything else is rolled back."""
    with runtime.database.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def user_for_token(session: Session, token: str, at_ms: int) -> User | None:
    row = session.get(StaffSession, token_digest(token))
    if row is None or row.expires_ms <= at_ms:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in first: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(session, credentials.credentials, now_ms())
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "token unknown or expired; log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def can_access_store(session: Session, user: User, store_id: int) -> bool:
    if user.role == "admin":
        return True
    link = session.get(UserStore, (user.id, store_id))
    return link is not None


def accessible_store_ids(session: Session, user: User) -> list[int] | None:
    """The stores a user may see; None means all of them (admins)."""
    if user.role == "admin":
        return None
    return list(session.scalars(select(UserStore.store_id).where(UserStore.user_id == user.id)))


def get_store(
    store_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, user: CurrentUser
) -> Store:
    """The store in the path, if it exists and this user may work on it."""
    store = session.get(Store, store_id)
    if store is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no store {store_id}")
    if not can_access_store(session, user, store_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"you have no access to store {store_id}")
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def get_till_store(
    store_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Store:
    """The store in the path, for its point of sale (a ``pos`` token of this store) or for staff
    who may work on it."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send 'Authorization: Bearer <pos token or staff token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    store = session.get(Store, store_id)
    if store is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no store {store_id}")
    till = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_digest(credentials.credentials))
    )
    if till is not None:
        if till.kind != "pos" or till.revoked_ms is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not a valid point-of-sale token")
        if till.store_id != store_id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this pos token is for store {till.store_id}"
            )
        return store
    user = user_for_token(session, credentials.credentials, now_ms())
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "token unknown, expired or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not can_access_store(session, user, store_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"you have no access to store {store_id}")
    return store


TillStoreDep = Annotated[Store, Depends(get_till_store)]
