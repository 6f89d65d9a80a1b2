"""Zones: floor plans, zone polygons and the debounced enter/exit/dwell/facing events."""

from zones.events import ZoneEvent, ZoneEventKind, ZoneKind

__all__ = ["ZoneEvent", "ZoneEventKind", "ZoneKind"]
