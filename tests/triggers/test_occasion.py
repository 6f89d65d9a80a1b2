from __future__ import annotations

import pytest

from triggers import Occasion, occasion_from_zone_event
from triggers.occasion import OccasionError
from zones import ZoneEvent


def test_zone_events_map_onto_occasions() -> None:
    dwell = ZoneEvent("dwell", "u1", "z3", 1_000, dwell_s=12.5)
    at = occasion_from_zone_event(
        dwell, "s1", zone_kind="shelf", categories=("coffee",), visit_id="v"
    )
    assert at == Occasion("dwell", "u1", "s1", 1_000, "z3", "shelf", ("coffee",), 12.5, None, "v")
    screen = ZoneEvent("enter", "u1", "z9", 2_000)
    near = occasion_from_zone_event(screen, "s1", zone_kind="screen", screen_id="scr1")
    assert near is not None
    assert (near.kind, near.screen_id) == ("near_screen", "scr1")
    assert occasion_from_zone_event(ZoneEvent("exit", "u1", "z3", 3_000), "s1") is None
    left = occasion_from_zone_event(ZoneEvent("visit_end", "u1", None, 4_000), "s1")
    assert left is not None
    assert left.kind == "visit_end"


@pytest.mark.parametrize(("kind", "dwell_s"), [("wave", 0.0), ("dwell", -1.0)])
def test_bad_occasions_are_refused(kind: str, dwell_s: float) -> None:
    with pytest.raises(OccasionError):
        Occasion(kind, "u1", "s1", 0, dwell_s=dwell_s)  # type: ignore[arg-type]
