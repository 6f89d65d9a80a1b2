"""Every threshold of the zone event detector, with the reason it has the value it has."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ZoneSettings:
    """Debounce and facing thresholds. Distances in metres, times in milliseconds."""

    # An estimate counts as *in* a zone only this deep inside its polygon. With the exit margin
    # it makes a 2 m hysteresis band, wider than the ±0.5–1 m jitter of a phone lying still.
    enter_margin_m: float = 0.5
    # A shopper inside counts as *out* only when an estimate lies at least this far outside the
    # polygon (or farther, see below). Standing at a shelf edge keeps them in.
    exit_margin_m: float = 1.5
    # An uncertain estimate must be farther out to count against presence: out means farther than
    # max(exit_margin_m, exit_accuracy_factor × accuracy_m), i.e. about one standard deviation.
    exit_accuracy_factor: float = 1.0
    # An estimate can enter a zone only if its accuracy is at most this many zone widths (the
    # zone's narrowest span): an error circle wider than the zone cannot place anyone in it, so a
    # 6 m-uncertain estimate does not enter a 2 m zone.
    enter_accuracy_ratio: float = 1.0
    # Estimates vaguer than this say only "somewhere in the store"; they are ignored entirely.
    max_accuracy_m: float = 15.0
    # Consecutive in-zone estimates must span this long before an enter fires, so one stray
    # estimate (a multipath jump across an aisle) does not enter and exit a zone.
    enter_confirm_ms: int = 1_000
    # After the first out estimate the shopper must stay out (no estimate back within the exit
    # margin) this long before the exit fires: a turned body or a pocketed phone gives short
    # excursions that should not end a stay.
    exit_grace_ms: int = 5_000
    # Dwell events fire once each when the stay reaches these many seconds …
    dwell_milestones_s: tuple[float, ...] = (10.0, 30.0, 60.0, 120.0, 300.0)
    # … and then every this many seconds more, so a long stay keeps reporting without a flood.
    dwell_repeat_s: float = 300.0
    # Facing: the heading must point within this many degrees of the direction toward the zone.
    # A phone held in front of the body points where the shopper looks, give or take the ±20–30°
    # of a walking heading estimate.
    facing_half_angle_deg: float = 35.0
    # Facing must last this long to fire: a glance while walking past is not attention.
    facing_min_ms: int = 2_000
    # A look survives gaps up to this long (a heading outlier, a missed estimate), then restarts.
    facing_grace_ms: int = 1_500
    # Fixes near the doors jump outside the walls: only a shopper seen outside the store outline
    # (beyond the exit margin) this long has left, and their visit ends.
    leave_grace_ms: int = 10_000
    # A shopper not heard from this long has left: ``expire`` ends their visit.
    visit_timeout_ms: int = 600_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values):
                raise ValueError(
                    f"ZoneSettings.{f.name} must be finite and non-negative: {value!r}"
                )
        if self.enter_accuracy_ratio <= 0:
            raise ValueError("ZoneSettings.enter_accuracy_ratio must be positive")
        if list(self.dwell_milestones_s) != sorted(set(self.dwell_milestones_s)):
            raise ValueError("ZoneSettings.dwell_milestones_s must be strictly increasing")
        if self.dwell_repeat_s <= 0:
            raise ValueError("ZoneSettings.dwell_repeat_s must be positive")

    def milestone_ms(self, k: int) -> int:
        """Stay length (whole ms, so comparisons with integer times are exact) of milestone k."""
        given = self.dwell_milestones_s
        if k < len(given):
            return round(1000.0 * given[k])
        last = given[-1] if given else 0.0
        return round(1000.0 * (last + (k - len(given) + 1) * self.dwell_repeat_s))

    def milestones_passed(self, stay_ms: int, k: int) -> int:
        """The first milestone index after ``k`` that a stay of ``stay_ms`` has not reached."""
        while self.milestone_ms(k) <= stay_ms:
            k += 1
        return k
