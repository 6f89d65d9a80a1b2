"""Small builders shared by the trigger tests: a store, shoppers, campaigns and occasions."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from triggers import (
    Campaign,
    CapLedger,
    Content,
    Context,
    Decision,
    FrequencyPolicy,
    Occasion,
    Purchase,
    ShopperProfile,
    StoreSettings,
    decide,
)
from triggers.profiles import DAY_MS

ALL_CONSENTS = frozenset({"location_analytics", "personalised_offers", "signage"})
STORE = StoreSettings("s1", "Europe/London", policy=FrequencyPolicy(quiet_period_s=600))


def ms(year: int, month: int, day: int, hour: int = 12, minute: int = 0, tz: str = "UTC") -> int:
    """Unix ms of a wall-clock time in ``tz``."""
    wall = dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))
    return int(wall.timestamp() * 1000)


NOW = ms(2026, 3, 3, 14, 0, "Europe/London")  # a Tuesday afternoon


def bought(
    shopper: str, sku: str, days_ago: float, *, price: float = 2.0, category: str = ""
) -> Purchase:
    t = int(NOW - days_ago * DAY_MS)
    return Purchase(shopper, sku, 1, price, t, f"{shopper}-{t}", category or f"cat-{sku}")


def shopper(
    shopper_id: str = "u1",
    *,
    gender: str = "female",
    age: int | None = 30,
    tier: str = "member",
    consents: frozenset[str] = ALL_CONSENTS,
    purchases: tuple[Purchase, ...] = (),
) -> ShopperProfile:
    return ShopperProfile(shopper_id, gender, age, tier, consents, purchases)


def campaign(cid: str = "c1", event: str = "enter", **fields: Any) -> Campaign:
    context = fields.pop("context", Context(event))
    content = fields.pop("content", Content(title=f"offer {cid}", coupon_code=f"CODE-{cid}"))
    return Campaign(
        id=cid,
        name=fields.pop("name", f"campaign {cid}"),
        context=context,
        content=content,
        **fields,
    )


def occasion(
    kind: str = "enter", shopper_id: str = "u1", t_ms: int = NOW, **fields: Any
) -> Occasion:
    fields.setdefault("zone_id", "z1")
    fields.setdefault("zone_kind", "shelf")
    fields.setdefault("categories", ("coffee",))
    fields.setdefault("visit_id", "v1")
    return Occasion(kind, shopper_id, "s1", t_ms, **fields)


def decide_and_record(
    ledger: CapLedger,
    profile: ShopperProfile,
    campaigns: list[Campaign],
    at: Occasion,
    store: StoreSettings = STORE,
) -> Decision:
    decision = decide(at, profile, campaigns, ledger, store, at.t_ms)
    ledger.record(decision)
    return decision
