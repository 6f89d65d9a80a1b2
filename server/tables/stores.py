"""The physical store: floors with their plan, zones (versioned), beacons and screens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.tables.base import Base, JsonDocument, Millis


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name; quiet hours and reports use it
    created_ms: Mapped[int] = mapped_column(Millis)


class Floor(Base):
    __tablename__ = "floors"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    width_m: Mapped[float]
    height_m: Mapped[float]
    # The plan image lives in the database so several hosts serve the same bytes without shared
    # disk.
    image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    image_type: Mapped[str | None] = mapped_column(String(32))
    created_ms: Mapped[int] = mapped_column(Millis)


class Zone(Base):
    """The current shape of a zone; every change is also kept in ``zone_versions``."""

    __tablename__ = "zones"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    floor_id: Mapped[int] = mapped_column(ForeignKey("floors.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    deleted: Mapped[bool] = mapped_column(default=False)
    # {"name","kind","polygon","categories","skus","facing_deg","view_distance_m"} as in store.json
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class ZoneVersion(Base):
    """Who changed a zone, when, and to what (restoring a version writes a new one)."""

    __tablename__ = "zone_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "zone_id"], ["zones.store_id", "zones.id"], ondelete="CASCADE"
        ),
    )

    store_id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete | restore
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_ms: Mapped[int] = mapped_column(Millis)
    floor_id: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class Beacon(Base):
    __tablename__ = "beacons"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(
        String(128), primary_key=True
    )  # f"{uuid}_{major}_{minor}_{mac}"
    floor_id: Mapped[int] = mapped_column(ForeignKey("floors.id", ondelete="CASCADE"), index=True)
    x: Mapped[float]
    y: Mapped[float]
    tx_power_dbm: Mapped[float | None]


class Screen(Base):
    """A signage screen, its default playlist and what it plays now (sent again on reconnect)."""

    __tablename__ = "screens"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    floor_id: Mapped[int] = mapped_column(ForeignKey("floors.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    x: Mapped[float]
    y: Mapped[float]
    facing_deg: Mapped[float | None]
    playlist: Mapped[list[Any]] = mapped_column(JsonDocument)
    # The pushed content the screen shows now, with its play id and until when (None: playlist).
    current: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # The screen's last proof of play {"content_id", "play_id", "started_ms", "duration_ms"}.
    last_played: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_ms: Mapped[int | None] = mapped_column(Millis)
