"""Replay of real mall walks: surveyed waypoints interpolated into an estimate stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from positioning import Estimate
from zones import ZoneEventDetector
from zones.mall import read_mall_floor, read_waypoints

from .helpers import assert_well_formed

WALKS_PER_FLOOR = 4
ESTIMATE_EVERY_MS = 500  # a tracker's output rate
NOISE_M = 0.3  # position noise added to the interpolated ground truth
ACCURACY_M = 1.5


def _waypoints(walk: Path) -> np.ndarray:
    return np.asarray(read_waypoints(walk), dtype=np.float64)


def _track(waypoints: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    t = np.arange(waypoints[0, 0], waypoints[-1, 0], ESTIMATE_EVERY_MS).astype(np.int64)
    x = np.interp(t, waypoints[:, 0], waypoints[:, 1])
    y = np.interp(t, waypoints[:, 0], waypoints[:, 2])
    heading = np.degrees(np.arctan2(np.gradient(y), np.gradient(x))) % 360.0
    rng = np.random.default_rng(seed)
    noisy_x, noisy_y = x + rng.normal(0, NOISE_M, t.size), y + rng.normal(0, NOISE_M, t.size)
    return t, x, y, noisy_x, noisy_y, heading


def _true_visits(polygon: shapely.Polygon, x: np.ndarray, y: np.ndarray, reach_m: float) -> int:
    """How many times the true track comes within ``reach_m`` of the zone."""
    near = shapely.dwithin(polygon, shapely.points(x, y), reach_m)
    return int(np.count_nonzero(np.diff(np.r_[0, near.astype(int)]) == 1))


@pytest.mark.ilc
def test_replaying_real_mall_walks_gives_a_plausible_event_log(ilc_floor_dirs: list[Path]) -> None:
    for floor_dir in ilc_floor_dirs:
        floor = read_mall_floor(floor_dir, view_distance_m=4.0)
        walks = sorted((floor_dir / "path_data_files").glob("*.txt"))[:WALKS_PER_FLOOR]
        enters = 0
        for seed, walk in enumerate(walks):
            waypoints = _waypoints(walk)
            if len(waypoints) < 2:
                continue
            t, x, y, nx, ny, heading = _track(waypoints, seed)
            loop_detector, batch_detector = (
                ZoneEventDetector.for_floor(floor),
                ZoneEventDetector.for_floor(floor),
            )
            shopper = [walk.stem] * t.size
            batch = batch_detector.update_batch(
                shopper, t, nx, ny, heading, np.full(t.size, ACCURACY_M)
            )
            loop = [
                event
                for k in range(t.size)
                for event in loop_detector.update(
                    walk.stem, Estimate(int(t[k]), nx[k], ny[k], heading[k], ACCURACY_M)
                )
            ]
            assert batch == loop
            events = batch + batch_detector.end_visit(walk.stem, int(t[-1]))
            assert_well_formed(events)
            by_zone = {z.id: z for z in floor.zones}
            for event in events:
                if event.kind != "enter":
                    continue
                enters += 1
                zone = by_zone[str(event.zone_id)]
                # No enter without the real walk passing the zone, and none from noise flapping.
                n_enters = sum(e.kind == "enter" and e.zone_id == zone.id for e in events)
                assert n_enters <= _true_visits(zone.polygon, x, y, reach_m=1.0), zone.name
            # Every zone the walk crosses deep inside for several seconds is entered.
            deep = shapely.contains_xy(
                np.asarray([z.polygon.buffer(-1.5) for z in floor.zones])[:, None],
                x[None, :],
                y[None, :],
            )
            entered = {e.zone_id for e in events if e.kind == "enter"}
            for j in np.flatnonzero(deep.sum(axis=1) * ESTIMATE_EVERY_MS >= 4_000):
                assert floor.zones[j].id in entered, floor.zones[j].name
        assert enters > 0, f"no zone entered on {floor_dir}"
