"""Per-store settings the decision reads: time zone, opening hours and the frequency policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from triggers.schedule import OpeningHours, ScheduleError, TimeWindow, store_zone


@dataclass(frozen=True, slots=True)
class FrequencyPolicy:
    """One budget per shopper across app and signage: an offer on either channel counts once.

    Defaults: two offers a visit and three a day keep a weekly shopper from feeling chased; a
    quarter of an hour between offers lets the shopper act on one before the next arrives.
    """

    max_per_visit: int = 2
    max_per_day: int = 3
    quiet_period_s: float = 900.0
    # Store-local windows with no offers at all (e.g. early morning, late evening).
    quiet_hours: tuple[TimeWindow, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreSettings:
    store_id: str
    timezone: str = "UTC"
    opening_hours: OpeningHours | None = None
    policy: FrequencyPolicy = field(default_factory=FrequencyPolicy)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", store_zone(self.timezone))

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> StoreSettings:
        """``{"store_id", "timezone", "opening_hours": {"mon": ["08:00-20:00"]},
        "policy": {"max_per_visit", "max_per_day", "quiet_period_s", "quiet_hours": [...]}}``."""
        policy = dict(body.get("policy") or {})
        unknown = set(policy) - set(FrequencyPolicy.__slots__)
        if unknown:
            raise ScheduleError(f"unknown policy keys {sorted(unknown)}")
        quiet = tuple(TimeWindow.parse(w) for w in policy.pop("quiet_hours", ()))
        hours = body.get("opening_hours")
        return cls(
            store_id=str(body["store_id"]),
            timezone=str(body.get("timezone", "UTC")),
            opening_hours=None if hours is None else OpeningHours.from_dict(hours),
            policy=FrequencyPolicy(**policy, quiet_hours=quiet),
        )

    def to_dict(self) -> dict[str, Any]:
        p = self.policy
        return {
            "store_id": self.store_id,
            "timezone": self.timezone,
            "opening_hours": None if self.opening_hours is None else self.opening_hours.to_dict(),
            "policy": {
                "max_per_visit": p.max_per_visit,
                "max_per_day": p.max_per_day,
                "quiet_period_s": p.quiet_period_s,
                "quiet_hours": [str(w).replace("–", "-") for w in p.quiet_hours],
            },
        }
