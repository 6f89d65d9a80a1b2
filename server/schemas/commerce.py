"""Products, customers, purchases, campaigns, offers and visits."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from server.schemas.common import ApiModel, Name

CampaignStatus = Literal["draft", "active", "paused", "ended"]


class ProductPublic(ApiModel):
    sku: str
    name: str
    category: str
    price: float


class CustomerPublic(ApiModel):
    id: str
    gender: str
    age: int | None
    tier: str
    consents: list[str]


class PurchasePublic(ApiModel):
    basket_id: str
    customer_id: str
    t_ms: int
    sku: str
    quantity: float
    price: float


class CampaignCreate(ApiModel):
    name: Name
    status: CampaignStatus = "draft"
    # The campaign as triggers reads it (audience, context, schedule, channel, content, caps, hold-
    # out).
    document: dict[str, Any] = Field(default_factory=dict)


class CampaignUpdate(ApiModel):
    name: Name | None = None
    status: CampaignStatus | None = None
    document: dict[str, Any] | None = None


class CampaignPublic(ApiModel):
    id: int
    store_id: int
    name: str
    status: str
    version: int
    document: dict[str, Any]
    created_ms: int
    updated_ms: int


class OfferPublic(ApiModel):
    id: str
    customer_id: str
    seq: int
    store_id: int
    visit_id: str | None
    campaign_id: int | None
    channel: str
    screen_id: str | None
    zone_id: str | None
    occasion: str
    content: dict[str, Any]
    explanation: str
    status: str
    issued_ms: int
    delivered_ms: int | None
    acked_ms: int | None
    opened_ms: int | None
    redeemed_ms: int | None


class VisitPublic(ApiModel):
    id: str
    store_id: int
    customer_id: str
    started_ms: int
    last_seen_ms: int
    ended_ms: int | None
    app_version: str
    consents: str
