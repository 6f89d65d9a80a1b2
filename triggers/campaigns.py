"""Campaigns: where and when they apply, to whom, through which channel, with what content.

A campaign is a plain dataclass that round-trips through a JSON dict (:meth:`Campaign.to_dict`,
:meth:`Campaign.from_dict`); reading a bad dict raises :class:`CampaignError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from triggers.audience import AudienceError, AudienceRule, parse_audience
from triggers.occasion import OCCASION_KINDS, Occasion
from triggers.schedule import Schedule, ScheduleError

Channel = Literal["app", "signage", "both"]
CHANNELS: tuple[str, ...] = ("app", "signage", "both")


class CampaignError(ValueError):
    """A campaign that cannot be read; the message names the campaign and field."""


@dataclass(frozen=True, slots=True)
class Context:
    """The occasions a campaign answers: one event kind, optionally narrowed to places.

    Each non-empty set must match: the zone id in ``zone_ids``, the zone kind in ``zone_kinds``,
    one of the zone's categories in ``categories``; empty sets match any place.
    ``min_dwell_s`` applies to ``dwell`` events.
    """

    event: str
    min_dwell_s: float = 0.0
    zone_ids: frozenset[str] = frozenset()
    zone_kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    store_ids: frozenset[str] = frozenset()

    def applies_to_place(self, occasion: Occasion) -> bool:
        """Right event kind and place (what the index narrows on)."""
        return (
            occasion.kind == self.event
            and (not self.zone_ids or occasion.zone_id in self.zone_ids)
            and (not self.zone_kinds or occasion.zone_kind in self.zone_kinds)
            and (not self.categories or not self.categories.isdisjoint(occasion.categories))
        )

    def why_not_now(self, occasion: Occasion) -> str | None:
        """For an occasion at the right place: None when it fits, else why not in words."""
        if self.store_ids and occasion.store_id not in self.store_ids:
            return f"it does not run in store {occasion.store_id}"
        if self.event == "dwell" and occasion.dwell_s < self.min_dwell_s:
            return (
                f"the shopper has stayed {occasion.dwell_s:.0f} s of the "
                f"{self.min_dwell_s:g} s it waits for"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"event": self.event}
        if self.min_dwell_s:
            body["min_dwell_s"] = self.min_dwell_s
        for key in ("zone_ids", "zone_kinds", "categories", "store_ids"):
            values = getattr(self, key)
            if values:
                body[key] = sorted(values)
        return body


@dataclass(frozen=True, slots=True)
class Content:
    """What the shopper sees. ``promoted_sku`` is the product the offer is for (if fixed);
    ``expires_ms`` is when the coupon stops being valid (no offer is sent after it)."""

    title: str
    body: str = ""
    image_url: str = ""
    coupon_code: str = ""
    expires_ms: int | None = None
    promoted_sku: str | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """Campaign-wide limits; None = unlimited."""

    max_issued: int | None = None
    max_redeemed: int | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Fill the offer's product from co-purchases.

    ``anchor_sku``: recommend what goes with this product ("related product B" to A); without
    it, anchor on what the shopper bought in the last ``anchor_days``. Products the shopper
    bought in the last ``exclude_owned_days`` are never recommended.
    """

    anchor_sku: str | None = None
    anchor_days: float = 30.0
    exclude_owned_days: float = 14.0


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    name: str
    context: Context
    content: Content
    channel: Channel = "app"
    schedule: Schedule = field(default_factory=Schedule)
    audience: AudienceRule | None = None
    priority: int = 0
    budget: Budget = field(default_factory=Budget)
    # At most this many offers of this campaign per shopper per store day (None = no limit).
    per_shopper_per_day: int | None = 1
    holdout_share: float = 0.0
    recommendation: Recommendation | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise CampaignError("campaign id is empty")
        if self.channel not in CHANNELS:
            raise CampaignError(f"campaign {self.id}: channel {self.channel!r} not in {CHANNELS}")
        cap = self.per_shopper_per_day
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise CampaignError(
                f"campaign {self.id}: per_shopper_per_day must be a whole number ≥ 1 or null"
            )
        if not 0.0 <= self.holdout_share < 1.0:
            raise CampaignError(f"campaign {self.id}: holdout_share must be in [0, 1)")
        if self.context.event not in OCCASION_KINDS:
            raise CampaignError(
                f"campaign {self.id}: event {self.context.event!r} not in {OCCASION_KINDS}"
            )

    @property
    def personalised(self) -> bool:
        """Chosen from personal data (an audience or a recommendation): needs consent."""
        return self.audience is not None or self.recommendation is not None

    @property
    def uses_app(self) -> bool:
        return self.channel in ("app", "both")

    @property
    def uses_signage(self) -> bool:
        return self.channel in ("signage", "both")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "context": self.context.to_dict(),
            "content": {k: getattr(self.content, k) for k in Content.__slots__},
            "channel": self.channel,
            "schedule": self.schedule.to_dict(),
            "audience": None if self.audience is None else self.audience.to_dict(),
            "priority": self.priority,
            "budget": {
                "max_issued": self.budget.max_issued,
                "max_redeemed": self.budget.max_redeemed,
            },
            "per_shopper_per_day": self.per_shopper_per_day,
            "holdout_share": self.holdout_share,
            "recommendation": None,
        }
        if self.recommendation is not None:
            r = self.recommendation
            body["recommendation"] = {
                "anchor_sku": r.anchor_sku,
                "anchor_days": r.anchor_days,
                "exclude_owned_days": r.exclude_owned_days,
            }
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Campaign:
        cid = str(body.get("id", ""))
        where = f"campaign {cid or '?'}"
        try:
            return cls(
                id=cid,
                name=str(body.get("name", cid)),
                context=_context(_section(body, "context", where), where),
                content=_built(Content, _section(body, "content", where), f"{where} content"),
                channel=body.get("channel", "app"),
                schedule=Schedule.from_dict(body.get("schedule") or {}),
                audience=None
                if body.get("audience") is None
                else parse_audience(body["audience"], f"{where} audience"),
                priority=int(body.get("priority", 0)),
                budget=_built(Budget, body.get("budget") or {}, f"{where} budget"),
                per_shopper_per_day=body.get("per_shopper_per_day", 1),
                holdout_share=float(body.get("holdout_share", 0.0)),
                recommendation=None
                if body.get("recommendation") is None
                else _built(Recommendation, body["recommendation"], f"{where} recommendation"),
            )
        except (ScheduleError, TypeError, ValueError) as err:
            if isinstance(err, CampaignError | AudienceError):
                raise
            raise CampaignError(f"{where}: {err}") from None

    def with_priority(self, priority: int) -> Campaign:
        return replace(self, priority=priority)


def _section(body: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise CampaignError(f"{where}: {key!r} must be an object")
    return value


def _built(kind: Any, body: Any, where: str) -> Any:
    if not isinstance(body, Mapping):
        raise CampaignError(f"{where}: must be an object")
    unknown = set(body) - set(kind.__slots__)
    if unknown:
        raise CampaignError(f"{where}: unknown keys {sorted(unknown)}")
    return kind(**body)


def _context(body: Mapping[str, Any], where: str) -> Context:
    unknown = set(body) - set(Context.__slots__)
    if unknown:
        raise CampaignError(f"{where} context: unknown keys {sorted(unknown)}")
    if "event" not in body:
        raise CampaignError(f"{where} context: needs 'event'")
    sets = {
        k: frozenset(body.get(k, ())) for k in ("zone_ids", "zone_kinds", "categories", "store_ids")
    }
    return Context(event=body["event"], min_dwell_s=float(body.get("min_dwell_s", 0.0)), **sets)
