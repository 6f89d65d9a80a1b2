"""Products, customers, purchases, campaigns, offers and visits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from server.schemas.common import ApiModel, Key, Name

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
    store_id: int | None = None
    visit_id: str | None = None


# A till's clock: Unix ms between 2001 and 2286 (a seconds or microseconds value is refused).
TillMillis = Annotated[int, Field(ge=1_000_000_000_000, le=9_999_999_999_999)]
VisitId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)]
# One basket, not a day's takings: a supermarket trolley has well under a thousand lines.
MAX_BASKET_LINES = 1000


class BasketLine(ApiModel):
    sku: Key
    quantity: float = Field(gt=0, le=10_000)
    price: float = Field(ge=0, le=1_000_000)  # unit price paid


class BasketCreate(ApiModel):
    """What a store's point of sale posts at checkout (``POST /api/stores/{id}/purchases``)."""

    basket_id: Key
    customer_id: Key
    t_ms: TillMillis
    lines: list[BasketLine] = Field(min_length=1, max_length=MAX_BASKET_LINES)
    visit_id: VisitId | None = None


class BasketRecorded(ApiModel):
    basket_id: str
    store_id: int
    customer_id: str
    visit_id: str | None  # the visit it was linked to (given, or the customer's visit found)
    t_ms: int
    lines: int
    total: float
    duplicate: bool  # the basket was already recorded: nothing was written


class UpliftInterval(ApiModel):
    treated_rate: float
    control_rate: float
    difference: float
    low: float
    high: float
    confidence: float


class CampaignUplift(ApiModel):
    """``triggers.measure.CampaignReport`` of one campaign, from the store's offers and baskets."""

    campaign_id: int
    name: str
    promoted_sku: str | None
    delivered: int
    opened: int
    redeemed: int
    conversion_rate: float
    average_order_value: float | None
    treated_shoppers: int
    holdout_shoppers: int
    uplift: UpliftInterval | None
    verdict: str
    method: str


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
