"""A recorded mall floor (``../shared/data/ilc/<site>/<floor>``) as a simulator store.

The floor folder gives the outline and the shops (obstacles). The recordings do not say where
their beacons or access points hang, so both go on grids over the corridors. Shop fronts
become "area" zones: a 3 m square of corridor in front of each shop, facing it, which shoppers
visit in place of shelves. Doors are not marked either: shoppers come in at the corridor spot
nearest the middle of the south edge and leave nearest the middle of the north edge.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import shapely
from shapely.ops import nearest_points

from positioning.floorplan import read_floor
from simulator.radio_plan import beacon_grid, wifi_grid
from simulator.store import Entrance, Store, StoreZone

# Malls deploy sparser than supermarkets: one beacon per 100 m² (the top of the usual
# 30–100 m² range) keeps ~400 beacons on a 240 m x 176 m floor.
ILC_BEACON_AREA_M2 = 100.0
# Mall corridors: one dual-band access point per 400 m² of corridor (the recordings hear dozens
# of APs, most of them the shops' own; ours stand in for the mall's network).
ILC_WIFI_AREA_M2 = 400.0
# Shops smaller than this are kiosks, pillars or drawing slivers: no zone.
MIN_SHOP_AREA_M2 = 20.0
SHOP_FRONT_SIZE_M = 3.0
# Shop fronts are looked for within this band of corridor outside the shop.
SHOP_FRONT_REACH_M = 4.0
# Keep shop fronts this far inside the corridor so standing spots are walkable.
CORRIDOR_MARGIN_M = 0.8


def ilc_store(
    floor_dir: Path | str, seed: int = 0, beacon_area_m2: float = ILC_BEACON_AREA_M2
) -> Store:
    """Load ``<site>/<floor>`` into a store with gridded beacons and shop-front zones."""
    floor_dir = Path(floor_dir)
    plan = read_floor(floor_dir)
    rng = np.random.default_rng([seed, 0x11C])
    walkable = plan.walkable
    corridor = walkable.buffer(-CORRIDOR_MARGIN_M)
    zones = []
    for i, shop in enumerate(plan.obstacles):
        if shop.polygon.area < MIN_SHOP_AREA_M2:
            continue
        band = corridor.intersection(shop.polygon.buffer(SHOP_FRONT_REACH_M))
        if band.is_empty:
            continue
        spot = nearest_points(band, shop.polygon.centroid)[0]
        face = nearest_points(shop.polygon, spot)[0]
        facing = math.degrees(math.atan2(face.y - spot.y, face.x - spot.x))
        half = SHOP_FRONT_SIZE_M / 2
        square = shapely.box(
            spot.x - half, spot.y - half, spot.x + half, spot.y + half
        ).intersection(walkable)
        if not isinstance(square, shapely.Polygon) or square.area < 1.0:
            continue
        zones.append(
            StoreZone(
                f"shop-{i}",
                f"front of {shop.name}",
                "area",
                square,
                facing_deg=round(facing, 1),
                view_distance_m=SHOP_FRONT_SIZE_M + 1.0,
            )
        )
    entrances = []
    for name, (x, y) in (
        ("south", (plan.width_m / 2, 0.0)),
        ("north", (plan.width_m / 2, plan.height_m)),
    ):
        door = nearest_points(corridor, shapely.Point(x, y))[0]
        entrances.append(Entrance(name, f"{name} door", float(door.x), float(door.y)))
    site = floor_dir.parent.name
    return Store(
        name=f"{site}-{floor_dir.name}",
        width_m=plan.width_m,
        height_m=plan.height_m,
        outline=plan.outline,
        obstacles=plan.obstacles,
        zones=tuple(zones),
        beacons=tuple(beacon_grid(walkable, beacon_area_m2, rng, major=2)),
        entrances=tuple(entrances),
        wifi=tuple(wifi_grid(walkable, ILC_WIFI_AREA_M2, rng)),
    )
