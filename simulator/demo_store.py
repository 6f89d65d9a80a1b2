"""A seeded demo supermarket: entrance, gondola aisles with categories, checkouts, screens, radios.

Layout (48 m x 32 m, ~1,540 m², a mid-size supermarket): the entrance is at the south-west corner
and the exit at the south-east; four checkout counters stand between the exit and the sales
floor; ten double-sided gondolas run north-south between a front cross-aisle (y ≈ 9–11 m) and
a back cross-aisle (y ≈ 25–30 m); wall shelves line the west, north and east walls. Each gondola
face is split into two shelf segments, each holding one category. The seed shuffles which
category lands where (keeping fresh food near the entrance, frozen at the back, as stores do),
jitters the beacon grid and picks which aisle ends carry screens.
"""

from __future__ import annotations

import math
import re

import numpy as np
import shapely

from positioning.floorplan import Obstacle
from simulator.radio_plan import beacon_grid, wifi_grid
from simulator.store import Entrance, Screen, Store, StoreZone

WIDTH_M, HEIGHT_M = 48.0, 32.0
# Gondola geometry: 1.2 m deep double-sided units (0.6 m per face), 2.4 m aisles between them,
# the usual retail planning figures (aisles 2–2.7 m let two trolleys pass).
GONDOLA_DEPTH_M = 1.2
AISLE_WIDTH_M = 2.4
GONDOLA_COUNT = 10
GONDOLA_Y = (11.5, 25.0)
FIRST_GONDOLA_X = 5.4
WALL_SHELF_DEPTH_M = 0.8
# The shelf zone is the strip of aisle floor in front of a face where a shopper stands to browse.
SHELF_ZONE_DEPTH_M = 1.0
# A shopper in the strip sees the face from at most this far (strip depth plus arm's length).
VIEW_DISTANCE_M = 1.5
# The space in front of a screen from which shoppers see it: 2 m a side in an aisle; 4 m where
# the floor is open (entrance, checkout queue), as a screen is read from a few metres and a zone
# must be wider than a beacon-only position's accuracy (~3 m) for the zones core to let anyone
# enter it (``ZoneSettings.enter_accuracy_ratio``).
SCREEN_ZONE_SIZE_M = 2.0
OPEN_SCREEN_ZONE_SIZE_M = 4.0
# One beacon per this many m²: vendors recommend one per 30–100 m² for room/zone-level BLE
# positioning; 50 m² gives a ~7 m grid, the middle of that range.
BEACON_AREA_M2 = 50.0
WIFI_AREA_M2 = 400.0

FRESH = ("fruit & vegetables", "bakery", "flowers", "deli")
AMBIENT = (
    "breakfast & cereals",
    "pasta & rice",
    "canned food",
    "sauces & spices",
    "snacks",
    "sweets",
    "coffee & tea",
    "soft drinks",
    "water",
    "beer",
    "wine",
    "spirits",
    "baby",
    "pet food",
    "household",
    "cleaning",
    "personal care",
    "health & beauty",
    "paper goods",
    "baking",
    "international",
    "organic",
    "home & kitchen",
    "stationery",
    "toys",
    "seasonal",
    "health food",
    "tobacco & news",
    "batteries & electrical",
    "kitchen rolls",
    "hair care",
    "oral care",
)
Box = tuple[float, float, float, float]
# (shelf id, shelf footprint, browsing strip in front of it, direction a browser looks in)
Face = tuple[str, Box, Box, float]

CHILLED_FROZEN = (
    "dairy",
    "cheese",
    "meat",
    "fish",
    "frozen food",
    "ice cream",
    "ready meals",
    "eggs",
)


def _face_obstacle(shelf_id: str, box: Box, category: str) -> Obstacle:
    return Obstacle(
        id=shelf_id,
        name=f"{category} shelf",
        polygon=shapely.box(*box),
        properties={"kind": "shelf", "categories": [category]},
    )


def _shelf_zone(shelf_id: str, zone_box: Box, facing_deg: float, category: str) -> StoreZone:
    return StoreZone(
        id=f"zone-{shelf_id}",
        name=f"{category} ({shelf_id})",
        kind="shelf",
        polygon=shapely.box(*zone_box),
        categories=(category,),
        facing_deg=facing_deg,
        view_distance_m=VIEW_DISTANCE_M,
    )


def _gondola_faces() -> list[Face]:
    """(shelf id, shelf box, zone box, facing) for every gondola face segment, west to east."""
    faces = []
    y0, y1 = GONDOLA_Y
    mid = (y0 + y1) / 2
    d = SHELF_ZONE_DEPTH_M
    for g in range(GONDOLA_COUNT):
        x0 = FIRST_GONDOLA_X + g * (GONDOLA_DEPTH_M + AISLE_WIDTH_M)
        xm, x1 = x0 + GONDOLA_DEPTH_M / 2, x0 + GONDOLA_DEPTH_M
        for half, (ya, yb) in enumerate(((y0, mid), (mid, y1)), start=1):
            # The west face is seen from the aisle to its west, looking east (0°), and so on.
            faces.append((f"G{g + 1}W{half}", (x0, ya, xm, yb), (x0 - d, ya, x0, yb), 0.0))
            faces.append((f"G{g + 1}E{half}", (xm, ya, x1, yb), (x1, ya, x1 + d, yb), 180.0))
    return faces


def _wall_faces() -> list[Face]:
    d, w = SHELF_ZONE_DEPTH_M, WALL_SHELF_DEPTH_M
    faces = []
    for i, (ya, yb) in enumerate(((11.0, 19.0), (19.0, 27.0)), start=1):
        faces.append((f"W{i}", (0.0, ya, w, yb), (w, ya, w + d, yb), 180.0))
        faces.append(
            (f"E{i}", (WIDTH_M - w, ya, WIDTH_M, yb), (WIDTH_M - w - d, ya, WIDTH_M - w, yb), 0.0)
        )
    for i in range(5):
        xa = 4.0 + 8.0 * i
        faces.append(
            (
                f"N{i + 1}",
                (xa, HEIGHT_M - w, xa + 8.0, HEIGHT_M),
                (xa, HEIGHT_M - w - d, xa + 8.0, HEIGHT_M - w),
                90.0,
            )
        )
    return faces


def _gondola_number(shelf_id: str) -> int | None:
    match = re.fullmatch(r"G(\d+)[WE]\d", shelf_id)
    return int(match.group(1)) if match else None


def _assign_categories(faces: list[Face], rng: np.random.Generator) -> list[str]:
    """Fresh food west and in aisles 1–2, chilled and frozen east and north, ambient between."""
    gondolas = [_gondola_number(f[0]) for f in faces]
    west = [i for i, f in enumerate(faces) if f[0][0] == "W" or gondolas[i] in (1, 2)]
    cold = [i for i, f in enumerate(faces) if f[0][0] in "EN" or gondolas[i] == GONDOLA_COUNT]
    middle = [i for i in range(len(faces)) if i not in west and i not in cold]
    categories = [""] * len(faces)
    for slots, pool in ((west, FRESH), (cold, CHILLED_FROZEN), (middle, AMBIENT)):
        order = rng.permutation(len(pool))
        for k, slot in enumerate(slots):
            categories[slot] = pool[order[k % len(pool)]]
    return categories


def _checkouts() -> tuple[list[Obstacle], list[StoreZone]]:
    counters, zones = [], []
    for i, x in enumerate((27.0, 30.5, 34.0, 37.5), start=1):
        counters.append(
            Obstacle(
                f"checkout-{i}",
                f"checkout {i}",
                shapely.box(x, 3.5, x + 0.9, 6.5),
                {"kind": "checkout"},
            )
        )
        # The lane beside the counter; the cashier's belt is to the lane's west.
        zones.append(
            StoreZone(
                id=f"zone-checkout-{i}",
                name=f"checkout {i}",
                kind="checkout",
                polygon=shapely.box(x + 0.9, 3.5, x + 2.4, 6.5),
                facing_deg=180.0,
                view_distance_m=1.5,
            )
        )
    return counters, zones


def _screens(
    rng: np.random.Generator, faces: list[Face], categories: list[str]
) -> tuple[list[Screen], list[StoreZone]]:
    """Screens at the south ends of some gondolas (seen from the front cross-aisle), at the
    entrance, beside the checkout queue and above two shelves."""
    screens: list[Screen] = []
    zones: list[StoreZone] = []

    def add(
        name: str,
        x: float,
        y: float,
        display_deg: float,
        categories_: tuple[str, ...],
        size: float = SCREEN_ZONE_SIZE_M,
    ) -> None:
        sid = f"screen-{len(screens) + 1}"
        # The viewers stand in front of the display, so the zone is offset along the display
        # direction and a viewer faces the opposite way.
        cx = x + math.cos(math.radians(display_deg)) * (size / 2 + 0.1)
        cy = y + math.sin(math.radians(display_deg)) * (size / 2 + 0.1)
        zone = StoreZone(
            id=f"zone-{sid}",
            name=f"{name} screen",
            kind="screen",
            polygon=shapely.box(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2),
            categories=categories_,
            facing_deg=(display_deg + 180.0) % 360.0,
            view_distance_m=size + 1.0,
        )
        screens.append(Screen(sid, f"{name} screen", zone.id, x, y, display_deg))
        zones.append(zone)

    add("entrance", 4.0, 6.0, 0.0, (), OPEN_SCREEN_ZONE_SIZE_M)
    add("checkout queue", 42.0, 9.0, 180.0, (), OPEN_SCREEN_ZONE_SIZE_M)
    ends = sorted(rng.choice(GONDOLA_COUNT, size=3, replace=False).tolist())
    for g in ends:
        x = FIRST_GONDOLA_X + g * (GONDOLA_DEPTH_M + AISLE_WIDTH_M) + GONDOLA_DEPTH_M / 2
        face = next(i for i, f in enumerate(faces) if f[0] == f"G{g + 1}W1")
        add(f"aisle {g + 1} end", x, GONDOLA_Y[0], 270.0, (categories[face],))
    gondola_faces = [i for i, f in enumerate(faces) if f[0].startswith("G")]
    for i in sorted(rng.choice(gondola_faces, size=2, replace=False).tolist()):
        shelf_id, _, (x0, y0, x1, y1), facing = faces[i]
        # On the shelf face: the browsing strip's edge on the shelf side, displaying outward.
        x = (x0 + x1) / 2 + math.cos(math.radians(facing)) * (x1 - x0) / 2
        y = (y0 + y1) / 2
        add(f"{categories[i]} shelf ({shelf_id})", x, y, (facing + 180.0) % 360.0, (categories[i],))
    return screens, zones


def demo_store(seed: int = 0, *, name: str = "demo-supermarket", with_wifi: bool = True) -> Store:
    """The demo supermarket for ``seed`` (same seed, same store)."""
    rng = np.random.default_rng([seed, 0xD3])
    faces = _gondola_faces() + _wall_faces()
    categories = _assign_categories(faces, rng)
    obstacles = [_face_obstacle(f[0], f[1], c) for f, c in zip(faces, categories, strict=True)]
    zones = [_shelf_zone(f[0], f[2], f[3], c) for f, c in zip(faces, categories, strict=True)]
    counters, checkout_zones = _checkouts()
    obstacles += counters
    zones += checkout_zones
    for a in range(GONDOLA_COUNT + 1):
        x0 = FIRST_GONDOLA_X - AISLE_WIDTH_M + a * (GONDOLA_DEPTH_M + AISLE_WIDTH_M)
        zones.append(
            StoreZone(
                f"aisle-{a + 1}",
                f"aisle {a + 1}",
                "area",
                shapely.box(
                    max(x0, WALL_SHELF_DEPTH_M), GONDOLA_Y[0], x0 + AISLE_WIDTH_M, GONDOLA_Y[1]
                ),
            )
        )
    zones.append(StoreZone("entrance", "entrance", "entrance", shapely.box(1.0, 0.0, 7.0, 3.0)))
    zones.append(StoreZone("exit", "exit", "entrance", shapely.box(41.0, 0.0, 47.0, 3.0)))
    screens, screen_zones = _screens(rng, faces, categories)
    zones += screen_zones
    outline = shapely.box(0.0, 0.0, WIDTH_M, HEIGHT_M)
    # Beacons hang from the ceiling, over aisles and shelves alike; APs likewise.
    beacons = beacon_grid(outline, BEACON_AREA_M2, rng, major=1)
    wifi = wifi_grid(outline, WIFI_AREA_M2, rng) if with_wifi else []
    return Store(
        name=name,
        width_m=WIDTH_M,
        height_m=HEIGHT_M,
        outline=outline,
        obstacles=tuple(obstacles),
        zones=tuple(zones),
        beacons=tuple(beacons),
        screens=tuple(screens),
        entrances=(Entrance("entrance", "entrance", 4.0, 1.0), Entrance("exit", "exit", 44.0, 1.0)),
        wifi=tuple(wifi),
    )
