"""Who may do what: staff accounts, their store access, login sessions, app and screen tokens."""

from __future__ import annotations

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from server.tables.base import Base, BigId, Millis


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # "admin" sees every store; "staff" only theirs
    active: Mapped[bool] = mapped_column(default=True)
    created_ms: Mapped[int] = mapped_column(Millis)


class UserStore(Base):
    """A staff member's access to one store."""

    __tablename__ = "user_stores"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )


class StaffSession(Base):
    """A bearer token from /api/auth/login; only its SHA-256 is stored."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_ms: Mapped[int] = mapped_column(Millis)


class ApiToken(Base):
    """A token for a shopper app (bound to a customer) or a signage screen (bound to a screen)."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "screen_id"], ["screens.store_id", "screens.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "app" | "screen"
    label: Mapped[str] = mapped_column(String(200), default="")
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    screen_id: Mapped[str | None] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(Millis)
    revoked_ms: Mapped[int | None] = mapped_column(Millis)
