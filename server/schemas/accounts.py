"""Staff accounts, logins and tokens for apps and screens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from server.schemas.common import ApiModel, Key

Role = Literal["admin", "staff"]
# Long enough to resist guessing with Argon2 in the way; no other composition rules (NIST 800-63B).
# One @ with something on both sides: deliverability is the mail system's problem, not ours.
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class LoginRequest(ApiModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UserPublic(ApiModel):
    id: int
    email: str
    role: Role
    active: bool
    store_ids: list[int]


class LoginResponse(ApiModel):
    token: str
    expires_ms: int
    user: UserPublic


class UserCreate(ApiModel):
    email: Email
    password: Password
    role: Role = "staff"
    store_ids: list[int] = Field(default_factory=list, max_length=1000)


class UserUpdate(ApiModel):
    password: Password | None = None
    role: Role | None = None
    active: bool | None = None
    store_ids: list[int] | None = Field(default=None, max_length=1000)


class TokenCreate(ApiModel):
    """An app token names its customer; a screen token names its store and screen; a ``pos``
    token (a store's point of sale, posting baskets) names its store."""

    kind: Literal["app", "screen", "pos"]
    label: Annotated[str, StringConstraints(max_length=200)] = ""
    customer_id: Key | None = None
    store_id: int | None = None
    screen_id: Key | None = None


class TokenPublic(ApiModel):
    id: int
    kind: str
    label: str
    customer_id: str | None
    store_id: int | None
    screen_id: str | None
    created_ms: int
    revoked_ms: int | None


class TokenCreated(TokenPublic):
    token: str  # shown once; only its hash is stored
