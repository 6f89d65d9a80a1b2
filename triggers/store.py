"""Per-store settings the decision reads: time zone, opening hours and the frequency policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from triggers.schedule import OpeningHours, TimeWindow, store_zone


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
