from __future__ import annotations

from pathlib import Path

from zones.demo import demo_store, demo_walk
from zones.plot import events_with_places, save_floor_picture


def test_demo_walk_fires_every_kind_of_event_and_renders(tmp_path: Path) -> None:
    floor = demo_store()
    events, places = events_with_places(floor, demo_walk(), "demo")
    assert {e.kind for e in events} == {"enter", "exit", "dwell", "facing"}
    assert {e.zone_id for e in events if e.kind == "facing"} == {"cereal", "screen"}
    path = save_floor_picture(
        tmp_path / "floor.png",
        [{"floor": floor, "events": events, "event_xy": places, "margins": True}],
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
