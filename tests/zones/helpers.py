"""Domain assertions and builders shared by the zone tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from positioning import Estimate
from zones import Zone, ZoneEvent, ZoneEventDetector


def box_zone(zone_id: str, x0: float, y0: float, x1: float, y1: float, **fields: Any) -> Zone:
    """A rectangular shelf zone; edge 0 runs along y = y0 (seen from the south)."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return Zone.from_coords(zone_id, zone_id, "shelf", ring, **fields)


def assert_well_formed(events: Sequence[ZoneEvent]) -> None:
    """Per shopper and zone: enter, (dwell…), exit, enter, …; never two enters or a lone exit;
    visit_end only with no stay open; times never run backwards within a stay."""
    open_stays: dict[tuple[str, str], ZoneEvent] = {}
    last_t: dict[tuple[str, str], int] = defaultdict(lambda: -(2**62))
    for event in events:
        if event.kind == "visit_end":
            still_open = [k for k in open_stays if k[0] == event.shopper_id]
            assert not still_open, f"visit_end with stays open: {still_open}"
            continue
        assert event.zone_id is not None
        key = (event.shopper_id, event.zone_id)
        if event.kind == "facing":
            assert event.dwell_s >= 0
            continue
        assert event.t_ms >= last_t[key], f"time ran backwards in {key}: {event}"
        last_t[key] = event.t_ms
        if event.kind == "enter":
            assert key not in open_stays, f"two enters without an exit: {event}"
            open_stays[key] = event
        elif event.kind == "exit":
            assert key in open_stays, f"exit without an enter: {event}"
            entered = open_stays.pop(key)
            assert event.dwell_s == (event.t_ms - entered.t_ms) / 1000.0
        elif event.kind == "dwell":
            assert key in open_stays, f"dwell outside a stay: {event}"
            assert event.dwell_s == (event.t_ms - open_stays[key].t_ms) / 1000.0


def run_loop(detector: ZoneEventDetector, rows: Sequence[tuple[str, Estimate]]) -> list[ZoneEvent]:
    return [event for shopper, estimate in rows for event in detector.update(shopper, estimate)]


def kinds(events: Sequence[ZoneEvent]) -> list[str]:
    return [e.kind for e in events]
