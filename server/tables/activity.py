"""What happened in the store: visits, zone and app events, offers, plays, positions, readings.

Positions are the bulk (issue 9: ~100 M estimates a month). They are stored as packed chunks, one
row per visit and minute (``PositionChunk``), not one row per point: 16 bytes a point plus one row
header a minute instead of ~100 bytes of row overhead and index per point.
``server.positions_codec`` packs and unpacks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.tables.base import Base, BigId, JsonDocument, Millis


class Visit(Base):
    """One shopper's stay in one store, from the app's hello to visit_end or a long silence."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_store_started", "store_id", "started_ms"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    started_ms: Mapped[int] = mapped_column(Millis)
    last_seen_ms: Mapped[int] = mapped_column(Millis)
    ended_ms: Mapped[int | None] = mapped_column(Millis)
    app_version: Mapped[str] = mapped_column(String(40))
    consents: Mapped[str] = mapped_column(String(200))  # as the app declared them in its hello


class ZoneEventRow(Base):
    __tablename__ = "zone_events"
    __table_args__ = (Index("ix_zone_events_store_t", "store_id", "t_ms"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int]
    zone_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    t_ms: Mapped[int] = mapped_column(Millis)
    dwell_s: Mapped[float] = mapped_column(default=0.0)


class AppEvent(Base):
    __tablename__ = "app_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # app_open | offer_opened | offer_redeemed
    offer_id: Mapped[str | None] = mapped_column(String(36))
    t_ms: Mapped[int] = mapped_column(Millis)


class Offer(Base):
    """An offer issued to a shopper (app) or shown for them on a screen (signage).

    Status only moves forward: issued → delivered → acked → opened → redeemed; or "held_out"
    (the campaign's control group: recorded, never sent).
    """

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("customer_id", "seq"),
        Index("ix_offers_store_issued", "store_id", "issued_ms"),
        Index("ix_offers_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigId)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    visit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    campaign_id: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(8))  # app | signage
    screen_id: Mapped[str | None] = mapped_column(String(64))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    occasion: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    explanation: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(12))
    issued_ms: Mapped[int] = mapped_column(Millis)
    delivered_ms: Mapped[int | None] = mapped_column(Millis)
    acked_ms: Mapped[int | None] = mapped_column(Millis)
    opened_ms: Mapped[int | None] = mapped_column(Millis)
    redeemed_ms: Mapped[int | None] = mapped_column(Millis)


class Play(Base):
    """Proof of play: a screen says it showed something, from when, for how long."""

    __tablename__ = "plays"
    __table_args__ = (Index("ix_plays_store_started", "store_id", "started_ms"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int]
    screen_id: Mapped[str] = mapped_column(String(64))
    offer_id: Mapped[str | None] = mapped_column(String(36))
    content_id: Mapped[str] = mapped_column(String(128))
    started_ms: Mapped[int] = mapped_column(Millis)
    duration_ms: Mapped[int]
    reported_ms: Mapped[int] = mapped_column(Millis)


class PositionChunk(Base):
    """Up to a minute of one visit's positions, packed (see ``server.positions_codec``)."""

    __tablename__ = "position_chunks"
    __table_args__ = (Index("ix_position_chunks_store_t", "store_id", "t_start_ms"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int]
    floor_id: Mapped[int | None]
    t_start_ms: Mapped[int] = mapped_column(Millis)
    t_end_ms: Mapped[int] = mapped_column(Millis)
    n_points: Mapped[int]
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class RawReadingBatch(Base):
    """Raw sensor batches of one visit: the ``readings`` frames as the app sent them, compressed
    (Zstandard; zlib in older rows), since session 9 several frames a row (a segment; one a row
    before), kept for replay under the positions' retention. Read a row's frames with
    ``server.raw_frames_codec.stored_frames``; the row's times and count span them."""

    __tablename__ = "reading_batches"
    __table_args__ = (Index("ix_reading_batches_store_t", "store_id", "t_first_ms"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int]
    t_first_ms: Mapped[int] = mapped_column(Millis)
    t_last_ms: Mapped[int] = mapped_column(Millis)
    n_readings: Mapped[int]
    payload: Mapped[bytes] = mapped_column(LargeBinary)
