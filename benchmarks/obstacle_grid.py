"""The server's tracker on the floor rectangle vs the floor minus its obstacle zones, side by side.

Run: ``python benchmarks/obstacle_grid.py [--shoppers N]``. Simulates N demo-store visits
(seeded), replays each walk's readings through ``positioning.Tracker`` exactly as the server
builds it (beacons only, no survey radio map; ``server.tracking.StoreTrackers``), once on the
rectangle (the server before obstacle zones) and once on the rectangle minus the demo's 53 shelf
units, and scores every ground-truth waypoint against the last estimate before it. Prints the
error table, the raster build cost of each grid, and the closing line
``obstacle_grid: rectangle p50=… p90=… obstacles p50=… p90=… inside_obstacles=…% -> …%``.
"""

from __future__ import annotations

import argparse
import tempfile
import zlib
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import shapely

from aislecast.bench import cpu_timed, format_table
from positioning import BeaconMap, Estimate, FloorPlan, Tracker, TrackerSettings, WalkableGrid
from positioning.scoring import score_walk
from positioning.walkfile import Walk, read_walk
from simulator import SimulationSettings, demo_store, simulate_to_folder

SEED = 11


def replay(walk: Walk, grid: WalkableGrid, beacons: BeaconMap) -> list[Estimate]:
    settings = replace(TrackerSettings(), seed=zlib.crc32(walk.name.encode("utf-8")))
    tracker = Tracker(None, grid, beacons, settings)
    estimates: list[Estimate] = []
    for reading in walk.readings:
        estimates += tracker.push(reading)
    return estimates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=6)
    args = parser.parse_args()
    store = demo_store(0)
    beacons = BeaconMap({b.id: (b.x, b.y, b.tx_power_dbm) for b in store.beacons})
    rectangle = FloorPlan.rectangle(store.name, store.width_m, store.height_m)
    with_obstacles = FloorPlan.rectangle(store.name, store.width_m, store.height_m, store.obstacles)
    grids: dict[str, WalkableGrid] = {}
    rows_build = []
    for name, plan in (("rectangle", rectangle), ("minus obstacles", with_obstacles)):
        grids[name], seconds = cpu_timed(partial(WalkableGrid.from_plan, plan))
        rows_build.append([name, f"{grids[name].free.mean():.0%}", f"{seconds * 1000:.1f}"])
    shelves = shapely.union_all([o.polygon for o in store.obstacles])
    with tempfile.TemporaryDirectory() as folder:
        simulate_to_folder(store, args.shoppers, SEED, folder, SimulationSettings(max_stops=4))
        walks = [read_walk(p) for p in sorted(Path(folder).glob("*/path_data_files/*.txt"))]
        results = {}
        for name, grid in grids.items():
            errors: list[float] = []
            inside = total = 0
            cpu = 0.0
            for walk in walks:
                estimates, seconds = cpu_timed(partial(replay, walk, grid, beacons))
                cpu += seconds
                errors += score_walk(estimates, walk.waypoints).position_m
                xy = np.array([(e.x, e.y) for e in estimates])
                inside += int(shapely.contains_xy(shelves, xy[:, 0], xy[:, 1]).sum())
                total += len(estimates)
            minutes = sum((w.waypoints[-1].t_ms - w.waypoints[0].t_ms) / 60_000 for w in walks)
            results[name] = (np.asarray(errors), inside / max(total, 1), cpu / minutes)
    print(f"Demo store, {len(walks)} simulated visits (seed {SEED}), beacons only, server tracker")
    print(format_table(["grid", "walkable share", "raster build ms"], rows_build))
    print()
    table = [
        [name, errors.size, f"{np.median(errors):.2f}", f"{np.percentile(errors, 90):.2f}",
         f"{share:.1%}", f"{cpu_per_min:.2f}"]
        for name, (errors, share, cpu_per_min) in results.items()
    ]  # fmt: skip
    headers = ["grid", "waypoints", "error p50 m", "error p90 m", "estimates on a shelf unit",
               "CPU s per walk min"]  # fmt: skip
    print(format_table(headers, table))
    (e0, s0, _), (e1, s1, _) = results.values()
    print(
        f"obstacle_grid: rectangle p50={np.median(e0):.2f}m p90={np.percentile(e0, 90):.2f}m "
        f"obstacles p50={np.median(e1):.2f}m p90={np.percentile(e1, 90):.2f}m "
        f"inside_obstacles={s0:.1%} -> {s1:.1%}"
    )


if __name__ == "__main__":
    main()
