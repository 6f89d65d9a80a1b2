"""Staff accounts (admins only): roles and which stores each may work on."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.api.deps import AdminUser, SessionDep
from server.api.helpers import get_or_404
from server.clock import now_ms
from server.schemas.accounts import UserCreate, UserPublic, UserUpdate
from server.security import hash_password
from server.tables import Store, User, UserStore

router = APIRouter(prefix="/users", tags=["users"])


def user_public(session: Session, user: User) -> UserPublic:
    store_ids = session.scalars(select(UserStore.store_id).where(UserStore.user_id == user.id))
    return UserPublic(
        id=user.id,
        email=user.email,
        role=user.role,  # type: ignore[arg-type]
        active=user.active,
        store_ids=sorted(store_ids),
    )


def _set_stores(session: Session, user_id: int, store_ids: list[int]) -> None:
    known = set(session.scalars(select(Store.id).where(Store.id.in_(store_ids))))
    missing = sorted(set(store_ids) - known)
    if missing:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no such stores: {missing}")
    session.execute(delete(UserStore).where(UserStore.user_id == user_id))
    session.add_all(UserStore(user_id=user_id, store_id=s) for s in sorted(set(store_ids)))


@router.get("")
def list_users(_admin: AdminUser, session: SessionDep) -> list[UserPublic]:
    return [user_public(session, u) for u in session.scalars(select(User).order_by(User.id))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, _admin: AdminUser, session: SessionDep) -> UserPublic:
    email = body.email.lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a user {email} exists already")
    user = User(
        email=email,
        password_hash=hash_password(body.password),
        role=body.role,
        active=True,
        created_ms=now_ms(),
    )
    session.add(user)
    session.flush()
    _set_stores(session, user.id, body.store_ids)
    session.commit()
    return user_public(session, user)


@router.patch("/{user_id}")
def update_user(
    user_id: int, body: UserUpdate, admin: AdminUser, session: SessionDep
) -> UserPublic:
    user = get_or_404(session, User, user_id, "user")
    if user.id == admin.id and (body.role == "staff" or body.active is False):
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot demote or deactivate yourself")
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    if body.role is not None:
        user.role = body.role
    if body.active is not None:
        user.active = body.active
    if body.store_ids is not None:
        _set_stores(session, user.id, body.store_ids)
    session.commit()
    return user_public(session, user)
