"""``BatchTracker.push`` CPU per call: its fixed cost and its cost per row, before and after.

The phones are the simulator's, as in ``benchmarks/server_load.py``: ``DISTINCT_VISITS`` demo-store
visits sensed once (``simulator.live.load_cast`` in load mode), row i streams visit i mod K, one
``readings`` frame a second turned into a ``SensorBatch`` as the server turns it
(``server.batch_tracking.sensor_batch``). Every row pushes its next second together, for 1, 100
and 1,000 rows. "before" is the batched tracker at ``BEFORE_REV`` (its ``positioning/batch_*.py``
read with ``git show`` and imported under another package name), run side by side with the
working tree's in the same process, interleaved, so machine load hits both alike. Times are
process CPU seconds per push (median of the timed pushes).

    python benchmarks/batch_push.py [--rows 1 100 1000] [--seconds 12] [--before REV]

Closing line: ``batch_push: fixed=X.Xms per_row=XXus ratio_vs_before=X.X`` — fixed cost and cost
per row from a least-squares line through the row counts (after), and before/after CPU per push at
100 rows (the server's push size at 5,000 phones and a 20 ms tick).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
# One BLAS thread, as the server runs (docs/deploy.md): with a thread per core the fixer's
# matrix products spin threads that burn 5-10x the CPU on a busy 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from positioning import BeaconMap, FloorPlan, WalkableGrid  # noqa: E402
from positioning.batch_input import SensorBatch  # noqa: E402
from positioning.batch_tracker import BatchTracker  # noqa: E402
from server.batch_tracking import sensor_batch  # noqa: E402
from server.realtime.frames import ReadingsBatch  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.wire import readings_frames  # noqa: E402

# The batched tracker before session 4's push work (`pushrow`); session 3 compared against
# 0829632, its own starting point (docs/server.md, "Batched push cost").
BEFORE_REV = "1ae0512"
BATCH_MODULES = ("batch_ekf", "batch_motion", "batch_input", "batch_beacons", "batch_tracker")
DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
# Pushes before the timed ones: rows start their tracks (first fixes) and caches warm up.
WARMUP_PUSHES = 3
# The push size the ratio is quoted at: 5,000 phones a second in 20 ms ticks.
RATIO_ROWS = 100
REPO_ROOT = Path(__file__).resolve().parents[1]


def load_before(rev: str, folder: Path) -> ModuleType:
    """The ``batch_tracker`` module of ``rev``, its sibling batch modules imported from ``rev`` too
    (package ``positioning_before``); the other ``positioning`` modules are today's."""
    package = folder / "positioning_before"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in BATCH_MODULES:
        source = subprocess.run(["git", "show", f"{rev}:positioning/{name}.py"], cwd=REPO_ROOT,
                                check=True, capture_output=True, text=True).stdout  # fmt: skip
        for other in BATCH_MODULES:
            source = source.replace(f"positioning.{other} ", f"positioning_before.{other} ")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    return importlib.import_module("positioning_before.batch_tracker")


def visit_batches(seconds: int) -> tuple[list[list[SensorBatch]], BeaconMap, WalkableGrid]:
    """Per distinct visit, one ``SensorBatch`` per second; the store's beacons and floor."""
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds)  # fmt: skip
    visits = []
    for _cid, _trajectory, windows in cast.visits:
        frames = [f for _, rows in windows for f in readings_frames(rows)]
        visits.append([sensor_batch(ReadingsBatch.model_validate(f)) for f in frames])
    store = cast.store
    beacon_map = BeaconMap({b.id: (b.x, b.y, b.tx_power_dbm) for b in store.beacons})
    grid = WalkableGrid.from_plan(FloorPlan.rectangle("ground", store.width_m, store.height_m))
    return visits, beacon_map, grid


def push_cpu(trackers: dict[str, Any], visits: list[list[SensorBatch]], n: int) -> dict[str, float]:
    """Median CPU seconds per push of ``n`` rows, for each tracker, pushes interleaved."""
    rows = {name: [tracker.add() for _ in range(n)] for name, tracker in trackers.items()}
    seconds = min(len(v) for v in visits)
    times: dict[str, list[float]] = {name: [] for name in trackers}
    for second in range(seconds):
        batches = [visits[i % len(visits)][second] for i in range(n)]
        for name, tracker in trackers.items():
            start = time.process_time()
            tracker.push(rows[name], batches)
            if second >= WARMUP_PUSHES:
                times[name].append(time.process_time() - start)
    for name, tracker in trackers.items():
        for row in rows[name]:
            tracker.remove(row)
    return {name: float(np.median(t)) for name, t in times.items()}


def fit_line(counts: Sequence[int], cpu: Sequence[float]) -> tuple[float, float]:
    """(fixed s, s per row) of the least-squares line cpu = fixed + per_row · rows."""
    per_row, fixed = np.polyfit(np.asarray(counts, dtype=float), np.asarray(cpu), 1)
    return float(fixed), float(per_row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--before", default=BEFORE_REV)
    args = parser.parse_args()
    visits, beacon_map, grid = visit_batches(args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        before = load_before(args.before, Path(folder))
        trackers = {"before": before.BatchTracker(beacon_map, grid),
                    "after": BatchTracker(beacon_map, grid)}  # fmt: skip
        results = {n: push_cpu(trackers, visits, n) for n in args.rows}
    table = [
        [
            n,
            f"{r['before'] * 1e3:.2f}",
            f"{r['after'] * 1e3:.2f}",
            f"{r['before'] / n * 1e6:.0f}",
            f"{r['after'] / n * 1e6:.0f}",
            f"{r['before'] / r['after']:.1f}",
        ]
        for n, r in results.items()
    ]
    headers = ["rows", "before ms/push", "after ms/push", "before µs/row", "after µs/row",
               "before/after"]  # fmt: skip
    print(format_table(headers, table))
    fits = {name: fit_line(args.rows, [results[n][name] for n in args.rows]) for name in trackers}
    for name, (fixed, per_row) in fits.items():
        print(f"{name}: fixed {fixed * 1e3:.2f} ms, per row {per_row * 1e6:.0f} µs")
    at = RATIO_ROWS if RATIO_ROWS in results else args.rows[len(args.rows) // 2]
    ratio = results[at]["before"] / results[at]["after"]
    fixed, per_row = fits["after"]
    print(f"batch_push: fixed={fixed * 1e3:.1f}ms per_row={per_row * 1e6:.0f}us "
          f"ratio_vs_before={ratio:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
