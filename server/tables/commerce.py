"""What is sold and to whom: products, customers (shoppers), purchases, campaigns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.tables.base import Base, BigId, JsonDocument, Millis


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(120), index=True)
    price: Mapped[float]


class Customer(Base):
    """A shopper known to the retailer; their app token points here."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gender: Mapped[str] = mapped_column(String(8), default="unknown")
    age: Mapped[int | None]
    tier: Mapped[str] = mapped_column(String(32), default="")
    consents: Mapped[str] = mapped_column(String(200), default="")  # ";"-separated purposes
    # Last offer sequence number issued to this shopper; incremented in the offer's transaction.
    offer_seq: Mapped[int] = mapped_column(BigId, default=0)
    # The triggers cap ledger, stored verbatim so caps survive restarts and span processes.
    cap_ledger: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


class Purchase(Base):
    """One line of a basket. ``store_id`` and ``visit_id`` are known for baskets a store's till
    posted (``POST /api/stores/{id}/purchases``) and for CSV rows that name them; loyalty history
    imported without them has neither."""

    __tablename__ = "purchases"
    __table_args__ = (
        Index("ix_purchases_customer_t", "customer_id", "t_ms"),
        Index("ix_purchases_store_basket", "store_id", "basket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    basket_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    t_ms: Mapped[int] = mapped_column(Millis)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[float]
    price: Mapped[float]  # unit price paid
    # Kept when the store or visit goes (purchases are the retailer's records, not the visit's).
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    visit_id: Mapped[str | None] = mapped_column(
        ForeignKey("visits.id", ondelete="SET NULL"), index=True
    )


class Campaign(Base):
    """A campaign as the JSON document triggers reads; the server stores and versions it."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # draft | active | paused | ended
    version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_ms: Mapped[int] = mapped_column(Millis)
    updated_ms: Mapped[int] = mapped_column(Millis)
