"""What a tracker emits: where a shopper stands and which way they face, at one instant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Estimate:
    """A position estimate in a floor's local metre frame.

    Frame: origin at the floor plan's south-west corner, +x east, +y north.
    Heading: degrees, 0 = +x, counter-clockwise (90 = north), in [0, 360).
    ``accuracy_m`` is the radius within which the shopper stands with about 68 % confidence
    (one standard deviation of the horizontal error, not a bound).
    """

    t_ms: int
    x: float
    y: float
    heading_deg: float
    accuracy_m: float
