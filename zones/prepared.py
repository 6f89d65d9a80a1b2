"""Zones made ready for the detector: indexes and per-zone thresholds computed once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from zones.facing import view_area
from zones.lookup import PolygonIndex
from zones.model import Zone, ZoneError
from zones.settings import ZoneSettings


class PreparedZones:
    """The geometry the detector tests estimates against, shared by its loop and batch forms.

    - ``near``: the zone polygons, queried within a distance (an estimate near enough to stay in);
    - ``inner``: each polygon shrunk by ``enter_margin_m`` (an estimate deep enough to enter;
      empty for a facing-only shelf thinner than twice the margin);
    - ``enter_max_accuracy_m``: the worst accuracy that may enter each zone;
    - ``view``: where each zone with a viewing distance is seen from, and ``facing_deg`` the
      direction to look in (NaN: toward the zone's nearest point).
    """

    def __init__(self, zones: Sequence[Zone], settings: ZoneSettings) -> None:
        self.zones = tuple(zones)
        ids = [z.id for z in self.zones]
        if len(set(ids)) != len(ids):
            raise ZoneError("zone ids must be unique among the zones a detector watches")
        self.zone_ids = ids
        self.index_of = {zone_id: j for j, zone_id in enumerate(ids)}
        self.near = PolygonIndex([z.polygon for z in self.zones])
        inner = [z.polygon.buffer(-settings.enter_margin_m) for z in self.zones]
        for zone, shrunk in zip(self.zones, inner, strict=True):
            # A shelf thinner than the margins is still seen (facing), just never entered.
            if shrunk.is_empty and not zone.sees_facing:
                raise ZoneError(
                    f"zone {zone.id!r}: narrower than twice enter_margin_m "
                    f"({settings.enter_margin_m} m), so no estimate could ever enter it; "
                    "widen it or give it a view_distance_m to use it for facing only"
                )
        self.inner = np.asarray(inner, dtype=object)
        shapely.prepare(self.inner)
        self.enter_max_accuracy_m: NDArray[np.float64] = np.asarray(
            [settings.enter_accuracy_ratio * z.width_m for z in self.zones], dtype=np.float64
        )
        views = [(j, view_area(z)) for j, z in enumerate(self.zones)]
        seen = [(j, area) for j, area in views if area is not None and not area.is_empty]
        self.view_zone: NDArray[np.int64] = np.asarray([j for j, _ in seen], dtype=np.int64)
        self.view = PolygonIndex([area for _, area in seen])
        self.facing_deg: NDArray[np.float64] = np.asarray(
            [np.nan if z.facing_deg is None else z.facing_deg for z in self.zones], dtype=np.float64
        )
        self.view_distance_m: NDArray[np.float64] = np.asarray(
            [np.nan if z.view_distance_m is None else z.view_distance_m for z in self.zones],
            dtype=np.float64,
        )
