"""A shopper's visit: which shelves their purchase history sends them to, in which order.

The shopping list is drawn from the customer's own basket history: categories weighted by how
many items they bought there (plus a small prior, so now and then they try something new).
Each listed category sends them to a shelf zone carrying it; they also stop at a screen they
pass with some probability and at the odd shelf on impulse. They walk the stops in a
nearest-next order from the entrance (how people work through a list), then queue at a
checkout, pay and leave through the exit.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import shapely

from simulator.routes import RouteGrid
from simulator.store import Store, StoreError, StoreZone
from simulator.walking import Gait, Stop, Trajectory, build_trajectory, make_gait

# List length: 2 + Poisson(3) categories, at most 10 (a top-up shop to a weekly shop).
LIST_BASE, LIST_POISSON_MEAN, LIST_MAX = 2, 3.0, 10
# Weight of a never-bought category relative to one bought item.
NEW_CATEGORY_PRIOR = 0.3
# Browsing time at a listed shelf: log-normal, median 12 s (in-store studies put shelf
# dwell at a few seconds to half a minute), capped at 90 s.
BROWSE_MEDIAN_S, BROWSE_SIGMA, BROWSE_MAX_S = 12.0, 0.6, 90.0
# Unplanned stops: chance per visit of each impulse stop, and their short dwell.
IMPULSE_STOPS_MEAN = 1.0
IMPULSE_DWELL_S = (3.0, 8.0)
# A screen catches a shopper's attention with this probability; they watch for 3–8 s.
SCREEN_STOP_P, SCREEN_DWELL_S = 0.3, (3.0, 8.0)
# Checkout: queueing median 40 s (log-normal), paying 20–60 s.
QUEUE_MEDIAN_S, QUEUE_SIGMA, QUEUE_MAX_S = 40.0, 0.7, 180.0
PAY_S = (20.0, 60.0)
# The queue forms this far back from the middle of the checkout lane.
QUEUE_BACKOFF_M = 2.0


@dataclass(frozen=True)
class Visit:
    """A planned visit: the shopper, where they come in, and the legs they walk."""

    shopper_id: str
    gait: Gait
    start: tuple[float, float]
    legs: tuple[tuple[np.ndarray, Stop], ...]
    shopping_list: tuple[str, ...]

    def trajectory(self, start_ms: int, rng: np.random.Generator) -> Trajectory:
        return build_trajectory(self.start, list(self.legs), self.gait, start_ms, rng)


def shopping_list(
    bought: Counter[str], available: list[str], rng: np.random.Generator, max_items: int = LIST_MAX
) -> list[str]:
    """Categories to buy: ∝ items bought there + a small prior, without repeats."""
    if not available:
        return []
    weights = np.array([bought.get(c, 0) + NEW_CATEGORY_PRIOR for c in available], dtype=float)
    size = min(len(available), max_items, LIST_BASE + int(rng.poisson(LIST_POISSON_MEAN)))
    picked = rng.choice(len(available), size=size, replace=False, p=weights / weights.sum())
    return [available[i] for i in picked]


def _spot(zone: StoreZone, grid: RouteGrid, rng: np.random.Generator) -> tuple[float, float]:
    """A standing spot inside the zone (a random point of it), moved into walkable clear space."""
    min_x, min_y, max_x, max_y = zone.polygon.bounds
    for _ in range(20):
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if zone.polygon.contains(shapely.Point(x, y)):
            return grid.clear_point(float(x), float(y))
    centre = zone.polygon.representative_point()
    return grid.clear_point(centre.x, centre.y)


def _browse_dwell(rng: np.random.Generator) -> float:
    return float(min(BROWSE_MAX_S, BROWSE_MEDIAN_S * math.exp(BROWSE_SIGMA * rng.normal())))


def _nearest_next(start: tuple[float, float], stops: list[Stop]) -> list[Stop]:
    """Order stops greedily: always the nearest one next (straight-line distance)."""
    ordered, left, here = [], list(stops), start
    while left:
        k = min(
            range(len(left)), key=lambda i: math.hypot(left[i].x - here[0], left[i].y - here[1])
        )
        ordered.append(left.pop(k))
        here = (ordered[-1].x, ordered[-1].y)
    return ordered


def _checkout_stops(
    store: Store, grid: RouteGrid, exit_xy: tuple[float, float], rng: np.random.Generator
) -> list[Stop]:
    lanes = [z for z in store.zones if z.kind == "checkout"]
    if not lanes:
        return []
    lane = lanes[int(rng.integers(len(lanes)))]
    centre = lane.polygon.centroid
    # Queue behind the lane, on the side away from the exit (shoppers pass through toward it).
    away = np.array([centre.x - exit_xy[0], centre.y - exit_xy[1]])
    away /= max(float(np.hypot(*away)), 1e-9)
    qx, qy = grid.clear_point(
        centre.x + QUEUE_BACKOFF_M * away[0], centre.y + QUEUE_BACKOFF_M * away[1]
    )
    px, py = grid.clear_point(centre.x, centre.y)
    queue_s = float(min(QUEUE_MAX_S, QUEUE_MEDIAN_S * math.exp(QUEUE_SIGMA * rng.normal())))
    return [
        Stop(qx, qy, lane.facing_deg, queue_s, "queue", lane.id),
        Stop(px, py, lane.facing_deg, float(rng.uniform(*PAY_S)), "pay", lane.id),
    ]


def plan_visit(
    store: Store,
    grid: RouteGrid,
    shopper_id: str,
    bought: Counter[str],
    rng: np.random.Generator,
    *,
    max_stops: int = LIST_MAX,
) -> Visit:
    """Plan one visit for a customer whose history is ``bought`` (items per category)."""
    if not store.entrances:
        raise StoreError(f"store {store.name!r} has no entrance to come in by")
    entrance, exit_ = store.entrances[0], store.entrances[-1]
    start = grid.clear_point(entrance.x, entrance.y)
    exit_xy = grid.clear_point(exit_.x, exit_.y)
    shelves = [z for z in store.zones if z.kind == "shelf"] or [
        z for z in store.zones if z.kind == "area" and z.facing_deg is not None
    ]
    categories = sorted({c for z in shelves for c in z.categories})
    stops: list[Stop] = []
    listed = shopping_list(bought, categories, rng, max_stops)
    for category in listed:
        carrying = [z for z in shelves if category in z.categories]
        zone = carrying[int(rng.integers(len(carrying)))]
        stops.append(
            Stop(*_spot(zone, grid, rng), zone.facing_deg, _browse_dwell(rng), "browse", zone.id)
        )
    impulses = (
        int(rng.poisson(IMPULSE_STOPS_MEAN))
        if categories
        else LIST_BASE + int(rng.poisson(LIST_POISSON_MEAN))
    )
    for _ in range(min(impulses, max(0, max_stops - len(stops)))):
        if not shelves:
            break
        zone = shelves[int(rng.integers(len(shelves)))]
        dwell = float(rng.uniform(*IMPULSE_DWELL_S)) if categories else _browse_dwell(rng)
        stops.append(Stop(*_spot(zone, grid, rng), zone.facing_deg, dwell, "browse", zone.id))
    for screen in store.screens:
        if rng.random() < SCREEN_STOP_P and len(stops) < max_stops:
            zone = store.zone(screen.zone_id)
            stops.append(
                Stop(
                    *_spot(zone, grid, rng),
                    zone.facing_deg,
                    float(rng.uniform(*SCREEN_DWELL_S)),
                    "screen",
                    zone.id,
                )
            )
    ordered = _nearest_next(start, stops)
    ordered += _checkout_stops(store, grid, exit_xy, rng)
    ordered.append(Stop(exit_xy[0], exit_xy[1], None, 1.0, "leave", None))
    legs = []
    here = start
    for stop in ordered:
        legs.append((grid.route(here, (stop.x, stop.y)), stop))
        here = (stop.x, stop.y)
    return Visit(shopper_id, make_gait(rng), start, tuple(legs), tuple(listed))
