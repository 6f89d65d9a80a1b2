"""Zones: floor plans, zone polygons and the debounced enter/exit/dwell/facing events.

Pure: zones, estimates and times in, events out. No clocks, sockets or databases here.
"""

from zones.detector import ZoneEventDetector
from zones.events import ZoneEvent, ZoneEventKind, ZoneKind
from zones.geojson import zones_from_geojson, zones_to_geojson
from zones.history import ZoneHistory, ZoneVersion
from zones.lookup import PolygonIndex, ZoneIndex
from zones.mall import read_mall_floor, shop_zones
from zones.model import Floor, Zone, ZoneError
from zones.records import zone_from_dict, zone_to_dict
from zones.settings import ZoneSettings

__all__ = [
    "Floor",
    "PolygonIndex",
    "Zone",
    "ZoneError",
    "ZoneEvent",
    "ZoneEventDetector",
    "ZoneEventKind",
    "ZoneHistory",
    "ZoneIndex",
    "ZoneKind",
    "ZoneSettings",
    "ZoneVersion",
    "read_mall_floor",
    "shop_zones",
    "zone_from_dict",
    "zone_to_dict",
    "zones_from_geojson",
    "zones_to_geojson",
]
