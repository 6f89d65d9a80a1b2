"""Accuracy and CPU of the server's two trackers on the same simulated walks in the demo store.

Each walk is a ``simulator`` visit (a few shelves, the phone's sensors and beacons, truth known),
cut into the app's one-second ``readings`` frames (``simulator.wire``) and converted as the server
converts them: per reading for the per-shopper ``Tracker`` (``server.tracking.batch_readings``),
as arrays for the store's ``BatchTracker`` (``server.batch_tracking.sensor_batch``), which takes
every walk's batch of the same second in one push, as the server does for shoppers at once.
Both get the store's inputs as ``StoreTrackers.radio()`` builds them (beacons, the floor's
rectangle; no Wi-Fi map on the server). Error: the last estimate of each batch — what the app
shows until the next — against the true position at its time.

    python benchmarks/tracker_accuracy.py [--walks 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this folder leads sys.path and its triggers.py and zones.py would hide the
# packages the server imports: drop the folder first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from positioning import (  # noqa: E402
    BeaconMap,
    Estimate,
    FloorPlan,
    Tracker,
    TrackerSettings,
    WalkableGrid,
)
from positioning.batch_tracker import BatchTracker  # noqa: E402
from server.batch_tracking import sensor_batch  # noqa: E402
from server.realtime.frames import ReadingsBatch  # noqa: E402
from server.tracking import batch_readings  # noqa: E402
from simulator import demo_store, walk_windows  # noqa: E402
from simulator.customers import make_customer_base  # noqa: E402
from simulator.radio import RadioEnvironment  # noqa: E402
from simulator.routes import RouteGrid  # noqa: E402
from simulator.run import (  # noqa: E402
    FIRST_VISIT_MS,
    MIN_CUSTOMERS,
    SimulationSettings,
    simulate_visit,
)
from simulator.walking import Trajectory  # noqa: E402
from simulator.wire import readings_frames  # noqa: E402

STOPS_PER_VISIT = 3


@dataclass
class SimulatedWalk:
    trajectory: Trajectory
    batches: list[ReadingsBatch]


def simulated_walks(
    count: int, seed: int = 0
) -> tuple[list[SimulatedWalk], BeaconMap, WalkableGrid]:
    store = demo_store(seed)
    categories = sorted({c for z in store.zones for c in z.categories})
    customers = make_customer_base(categories, MIN_CUSTOMERS, FIRST_VISIT_MS, seed)
    routes = RouteGrid.build(store.floor_plan().walkable)
    environment = RadioEnvironment.for_store(store, seed)
    settings = SimulationSettings(max_stops=STOPS_PER_VISIT)
    walks = []
    for index in range(count):
        _, trajectory, phone = simulate_visit(
            store, routes, environment, customers, index, seed, settings
        )
        frames = [f for _, rows in walk_windows(trajectory, phone) for f in readings_frames(rows)]
        walks.append(SimulatedWalk(trajectory, [ReadingsBatch.model_validate(f) for f in frames]))
    beacon_map = BeaconMap({b.id: (b.x, b.y, b.tx_power_dbm) for b in store.beacons})
    grid = WalkableGrid.from_plan(FloorPlan.rectangle("ground", store.width_m, store.height_m))
    return walks, beacon_map, grid


def _errors(walk: SimulatedWalk, last: list[Estimate | None]) -> list[tuple[float, float]]:
    """(error m, claimed accuracy_m) of each estimate."""
    found = [e for e in last if e is not None]
    t_ms = np.array([e.t_ms for e in found], dtype=float)
    x, y, _ = walk.trajectory.pose_at(t_ms)
    error = np.hypot(np.array([e.x for e in found]) - x, np.array([e.y for e in found]) - y)
    return list(zip(error.tolist(), [e.accuracy_m for e in found], strict=True))


def per_shopper(walks: list[SimulatedWalk], beacon_map: BeaconMap,
                grid: WalkableGrid) -> tuple[list[tuple[float, float]], float, int]:  # fmt: skip
    """(error, accuracy) pairs, CPU seconds and batches of one ``Tracker`` per walk."""
    errors: list[tuple[float, float]] = []
    cpu, batches = 0.0, 0
    for i, walk in enumerate(walks):
        tracker = Tracker(None, grid, beacon_map, TrackerSettings(seed=i))
        last: list[Estimate | None] = []
        start = time.process_time()
        for batch in walk.batches:
            out = [e for reading in batch_readings(batch) for e in tracker.push(reading)]
            last.append(out[-1] if out else None)
        cpu += time.process_time() - start
        batches += len(walk.batches)
        errors += _errors(walk, last)
    return errors, cpu, batches


def batched(walks: list[SimulatedWalk], beacon_map: BeaconMap,
            grid: WalkableGrid) -> tuple[list[tuple[float, float]], float, int]:  # fmt: skip
    """(error, accuracy) pairs, CPU seconds and batches of one ``BatchTracker`` for every walk."""
    tracker = BatchTracker(beacon_map, grid)
    rows = [tracker.add() for _ in walks]
    last: list[list[Estimate | None]] = [[] for _ in walks]
    cpu, batches = 0.0, 0
    for second in range(max(len(w.batches) for w in walks)):
        now = [i for i, w in enumerate(walks) if second < len(w.batches)]
        start = time.process_time()
        arrays = [sensor_batch(walks[i].batches[second]) for i in now]
        out = tracker.push([rows[i] for i in now], arrays)
        cpu += time.process_time() - start
        batches += len(now)
        for i, found in zip(now, out, strict=True):
            last[i].append(found[-1] if found else None)
    errors = [e for walk, found in zip(walks, last, strict=True) for e in _errors(walk, found)]
    return errors, cpu, batches


def accuracy_table(count: int, seed: int = 0) -> str:
    walks, beacon_map, grid = simulated_walks(count, seed)
    rows = []
    for name, run in (("per_shopper", per_shopper), ("batched", batched)):
        errors, cpu, batches = run(walks, beacon_map, grid)
        e, accuracy = np.array(errors).T
        # An honest accuracy_m is about one standard deviation: ~68 % of errors within it.
        within = 100.0 * np.mean(e <= accuracy)
        rows.append([name, count, batches, f"{np.median(e):.2f}", f"{np.percentile(e, 90):.2f}",
                     f"{np.median(accuracy):.2f}", f"{within:.0f}",
                     f"{1e6 * cpu / batches:.0f}"])  # fmt: skip
    header = ["tracker", "walks", "batches", "median m", "p90 m", "accuracy_m median",
              "within accuracy_m %", "CPU µs/batch"]  # fmt: skip
    return format_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--walks", type=int, default=6)
    args = parser.parse_args()
    print(accuracy_table(args.walks))


if __name__ == "__main__":
    main()
