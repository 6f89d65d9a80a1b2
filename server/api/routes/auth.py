"""Staff login: a bearer token per session, only its hash stored."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import delete, select

from server.api.deps import CurrentUser, RuntimeDep, SessionDep, SettingsDep
from server.api.routes.users import user_public
from server.clock import now_ms
from server.schemas.accounts import LoginRequest, LoginResponse, UserPublic
from server.security import new_token, token_digest, verify_password
from server.tables import StaffSession, User

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
def login(
    body: LoginRequest, session: SessionDep, settings: SettingsDep, runtime: RuntimeDep
) -> LoginResponse:
    email, now = body.email.lower(), now_ms()
    wait_ms = runtime.login_guard.blocked_for_ms(email, now)
    if wait_ms > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins; try again in {wait_ms // 1000 + 1} s",
        )
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.active or not verify_password(user.password_hash, body.password):
        runtime.login_guard.failed(email, now)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password")
    runtime.login_guard.succeeded(email)
    token = new_token()
    expires_ms = now + round(settings.staff_session_ttl_s * 1000)
    session.execute(delete(StaffSession).where(StaffSession.expires_ms <= now))
    session.add(
        StaffSession(token_hash=token_digest(token), user_id=user.id, expires_ms=expires_ms)
    )
    session.commit()
    return LoginResponse(token=token, expires_ms=expires_ms, user=user_public(session, user))


@router.get("/me")
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    return user_public(session, user)
