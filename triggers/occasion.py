"""The moment a decision is asked for: one zone event or app event of one shopper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zones import ZoneEvent

OccasionKind = Literal["enter", "dwell", "facing", "near_screen", "app_open", "visit_end"]
OCCASION_KINDS: tuple[str, ...] = (
    "enter",
    "dwell",
    "facing",
    "near_screen",
    "app_open",
    "visit_end",
)


class OccasionError(ValueError):
    """An occasion that cannot be decided on (unknown kind, negative dwell)."""


@dataclass(frozen=True, slots=True)
class Occasion:
    """What the server hands the trigger layer, mapped from a zone event or an app event.

    ``zone_id``/``zone_kind``/``categories`` describe where the shopper is (None/empty for an
    ``app_open`` outside any zone or a ``visit_end``). ``screen_id`` is set when a signage screen
    is in front of the shopper; ``visit_id`` groups the occasions of one store visit.
    """

    kind: OccasionKind
    shopper_id: str
    store_id: str
    t_ms: int
    zone_id: str | None = None
    zone_kind: str | None = None
    categories: tuple[str, ...] = ()
    dwell_s: float = 0.0
    screen_id: str | None = None
    visit_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in OCCASION_KINDS:
            raise OccasionError(
                f"unknown occasion kind {self.kind!r}; expected one of {OCCASION_KINDS}"
            )
        if self.dwell_s < 0:
            raise OccasionError(f"dwell_s must be ≥ 0, got {self.dwell_s}")


def occasion_from_zone_event(
    event: ZoneEvent,
    store_id: str,
    *,
    zone_kind: str | None = None,
    categories: tuple[str, ...] = (),
    screen_id: str | None = None,
    visit_id: str | None = None,
) -> Occasion | None:
    """The occasion a zone event is, or None for an ``exit`` (nothing to decide on leaving a zone).

    Entering the space in front of a screen (a zone of kind ``screen``) is ``near_screen``.
    """
    if event.kind == "exit":
        return None
    kind: OccasionKind = event.kind
    if kind == "enter" and zone_kind == "screen":
        kind = "near_screen"
    return Occasion(
        kind,
        event.shopper_id,
        store_id,
        event.t_ms,
        event.zone_id,
        zone_kind,
        categories,
        event.dwell_s,
        screen_id,
        visit_id,
    )
