"""A small demo grocery and a shopper's walk through it, for pictures, docs and smoke tests."""

from __future__ import annotations

import itertools
import math

import numpy as np

from positioning.floorplan import FloorPlan
from zones.model import Floor, Zone


def demo_store() -> Floor:
    """A 30 m x 20 m grocery: two aisles of shelves seen from the aisle, a screen, door, tills."""

    def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]

    zones = [
        Zone.from_coords("door", "Entrance", "entrance", box(0.5, 8, 3, 12)),
        Zone.from_coords("tills", "Checkout", "checkout", box(4, 0.5, 12, 3)),
        Zone.from_coords("aisle1", "Aisle 1", "area", box(8, 6, 26, 9)),
        Zone.from_coords("aisle2", "Aisle 2", "area", box(8, 12, 26, 15)),
        Zone.from_coords(
            "screen", "Screen", "screen", box(27, 10, 28, 13), facing_deg=0.0, view_distance_m=5.0
        ),
    ]
    # Shelves 1.2 m deep, seen from the aisle: edge 2 runs along their north side, edge 0 south.
    shelves = [
        ("cereal", "Cereal", (8, 4.8, 16, 6), 2, ("breakfast",)),
        ("coffee", "Coffee", (17, 4.8, 26, 6), 2, ("hot drinks",)),
        ("dairy", "Dairy", (8, 9, 17, 10.2), 0, ("milk", "cheese")),
        ("snacks", "Snacks", (8, 10.8, 17, 12), 2, ("snacks",)),
    ]
    zones += [
        Zone.from_coords(
            zone_id,
            name,
            "shelf",
            box(*corners),
            facing_edge=edge,
            view_distance_m=2.5,
            categories=categories,
        )
        for zone_id, name, corners, edge, categories in shelves
    ]
    return Floor(FloorPlan.rectangle("demo grocery", 30.0, 20.0), tuple(zones))


def demo_walk(seed: int = 3) -> tuple[np.ndarray, ...]:
    """A shopper's estimates through the demo store: ``t_ms, x, y, heading_deg, accuracy_m``."""
    # Waypoints (x, y, seconds to stay): in at the door, browse aisle 1, look at the screen, pay.
    stops = [
        (1.5, 10, 0),
        (1.6, 10.2, 3),
        (6, 7.5, 0),
        (12, 7.2, 14),
        (21, 7.2, 6),
        (24, 11, 0),
        (25, 11.5, 6),
        (20, 13.5, 4),
        (10, 13.5, 0),
        (7, 4, 0),
        (8, 1.8, 8),
        (1.5, 10, 3),
        (-3, 10, 0),
    ]
    rng = np.random.default_rng(seed)
    t, x, y = [0.0], [stops[0][0]], [stops[0][1]]
    for (x0, y0, _), (x1, y1, stay) in itertools.pairwise(stops):
        steps = max(int(math.hypot(x1 - x0, y1 - y0) / 0.6), 1)  # 1.2 m/s, 2 estimates a second
        for k in range(1, steps + 1):
            t.append(t[-1] + 0.5)
            x.append(x0 + (x1 - x0) * k / steps)
            y.append(y0 + (y1 - y0) * k / steps)
        for _ in range(int(stay * 2)):
            t.append(t[-1] + 0.5)
            x.append(x1)
            y.append(y1)
    ta, xa, ya = np.asarray(t), np.asarray(x), np.asarray(y)
    heading = np.degrees(np.arctan2(np.gradient(ya), np.gradient(xa))) % 360.0
    # Browsing stops face the shelf or screen they are at.
    heading[(np.abs(xa - 12) < 0.01) & (np.abs(ya - 7.2) < 0.01)] = 270.0
    heading[(np.abs(xa - 25) < 0.01) & (np.abs(ya - 11.5) < 0.01)] = 0.0
    t_ms = (1_700_000_000_000 + 1000 * ta).astype(np.int64)
    noisy_x = xa + rng.normal(0, 0.35, xa.size)
    noisy_y = ya + rng.normal(0, 0.35, ya.size)
    return t_ms, noisy_x, noisy_y, heading, np.full(xa.size, 1.0)
