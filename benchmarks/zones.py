"""Zone lookup and event detector throughput: 1,000 zones on 200 m x 200 m, 100,000 estimates.

Run: ``python benchmarks/zones.py``. Prints two tables (lookup variants side by side, detector
forms side by side) and the closing line ``zones: lookup=N pts/s events=N est/s vs_loop=Nx``
where ``vs_loop`` is the vectorised lookup's speed over the per-point STRtree loop. Times are
process CPU seconds (best of a few repeats), so other jobs on the machine disturb them less.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on the import path and its name would hide the
# ``zones`` package it measures; take the folder off before importing the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402 (after the path fix above)
import shapely  # noqa: E402

from aislecast.bench import cpu_timed, format_table  # noqa: E402
from positioning.estimate import Estimate  # noqa: E402
from zones.detector import ZoneEventDetector  # noqa: E402
from zones.lookup import ZoneIndex  # noqa: E402
from zones.model import Zone  # noqa: E402

FLOOR_M = 200.0
N_ZONES = 1_000
N_SHOPPERS = 1_000
ESTIMATES_PER_SHOPPER = 100  # 100,000 estimates in all, one a second per shopper
LOOP_SAMPLE = 10_000  # the per-point STRtree loop and the per-estimate detector run on a sample
NAIVE_SAMPLE = 500  # the loop over all 1,000 polygons is ~1,000x slower still
REPEATS = 3
SEED = 7
T0 = 1_700_000_000_000
# The store outline: the detector also watches for shoppers leaving it (visit_end).
STORE = shapely.box(0.0, 0.0, FLOOR_M, FLOOR_M)


def make_zones(rng: np.random.Generator) -> list[Zone]:
    """Rotated shelf-sized rectangles: a third seen from one edge, a sixth from all round."""
    zones = []
    for i in range(N_ZONES):
        cx, cy = rng.uniform(5, FLOOR_M - 5, 2)
        w, h = rng.uniform(1.2, 5.0, 2)
        a = math.radians(rng.uniform(0, 180))
        corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
        ring = [
            [cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a)]
            for px, py in corners
        ]
        roll = rng.uniform()
        fields: dict[str, object] = {}
        if roll < 1 / 3:
            fields = {"facing_edge": int(rng.integers(4)), "view_distance_m": 3.0}
        elif roll < 1 / 2:
            fields = {"view_distance_m": 2.5}
        zones.append(Zone.from_coords(f"z{i}", f"zone {i}", "shelf", ring, **fields))
    return zones


def make_estimates(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Shoppers walking (1 m/s, turning now and then, pausing) with noisy 1 Hz estimates.

    Rows are in arrival order: each second every shopper reports once.
    """
    steps = ESTIMATES_PER_SHOPPER
    heading = np.cumsum(rng.normal(0, 25, (steps, N_SHOPPERS)), axis=0) + rng.uniform(
        0, 360, N_SHOPPERS
    )
    moving = rng.uniform(size=(steps, N_SHOPPERS)) < 0.6  # 40 % of seconds spent browsing
    speed = np.where(moving, 1.0, 0.0)
    theta = np.radians(heading)
    start = rng.uniform(0, FLOOR_M, (2, N_SHOPPERS))
    x = np.abs((start[0] + np.cumsum(speed * np.cos(theta), axis=0)) % (2 * FLOOR_M) - FLOOR_M)
    y = np.abs((start[1] + np.cumsum(speed * np.sin(theta), axis=0)) % (2 * FLOOR_M) - FLOOR_M)
    accuracy = rng.uniform(0.5, 3.0, (steps, N_SHOPPERS))
    t = T0 + 1000 * np.arange(steps)[:, None] + rng.integers(0, 1000, (steps, N_SHOPPERS))
    return {
        "shopper": np.tile(np.asarray([f"s{i}" for i in range(N_SHOPPERS)]), steps),
        "t_ms": t.ravel().astype(np.int64),
        "x": (x + rng.normal(0, 0.5, x.shape)).ravel(),
        "y": (y + rng.normal(0, 0.5, y.shape)).ravel(),
        "heading": ((heading + rng.normal(0, 15, heading.shape)) % 360).ravel(),
        "accuracy": accuracy.ravel(),
    }


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    return min(cpu_timed(fn)[1] for _ in range(repeats))


def bench_lookup(zones: list[Zone], x: np.ndarray, y: np.ndarray) -> list[list[object]]:
    index = ZoneIndex(zones)
    n = x.size
    grid_s = best_of(lambda: index.contains_pairs(x, y))
    tree_s = best_of(lambda: index.contains_pairs_strtree(x, y))
    loop_s = best_of(lambda: index.contains_loop_strtree(x[:LOOP_SAMPLE], y[:LOOP_SAMPLE]), 1)
    naive_s = best_of(lambda: index.contains_loop_naive(x[:NAIVE_SAMPLE], y[:NAIVE_SAMPLE]), 1)
    rates = {
        "grid + contains_xy (vectorised)": n / grid_s,
        "STRtree query (vectorised)": n / tree_s,
        "per-point STRtree loop": LOOP_SAMPLE / loop_s,
        "naive loop over all polygons": NAIVE_SAMPLE / naive_s,
    }
    counted = {"per-point STRtree loop": LOOP_SAMPLE, "naive loop over all polygons": NAIVE_SAMPLE}
    fastest = rates["grid + contains_xy (vectorised)"]
    return [
        [name, counted.get(name, n), f"{rate:,.0f}", f"{fastest / rate:,.1f}x"]
        for name, rate in rates.items()
    ]


def bench_events(zones: list[Zone], est: dict[str, np.ndarray]) -> list[list[object]]:
    n = est["t_ms"].size
    columns = (est["shopper"], est["t_ms"], est["x"], est["y"], est["heading"], est["accuracy"])

    def one_batch() -> int:
        return len(ZoneEventDetector(zones, outline=STORE).update_batch(*columns))

    def every(seconds: int) -> Callable[[], int]:
        """Feed the rows in batches of ``seconds`` seconds of every shopper's estimates."""
        size = seconds * N_SHOPPERS

        def run() -> int:
            detector = ZoneEventDetector(zones, outline=STORE)
            return sum(
                len(detector.update_batch(*(c[a : a + size] for c in columns)))
                for a in range(0, n, size)
            )

        return run

    sample = [
        (
            str(est["shopper"][k]),
            Estimate(
                int(est["t_ms"][k]),
                float(est["x"][k]),
                float(est["y"][k]),
                float(est["heading"][k]),
                float(est["accuracy"][k]),
            ),
        )
        for k in range(LOOP_SAMPLE)
    ]

    def loop() -> int:
        detector = ZoneEventDetector(zones, outline=STORE)
        return sum(len(detector.update(s, e)) for s, e in sample)

    build_s = best_of(lambda: ZoneEventDetector(zones, outline=STORE))
    rows = []
    for name, fn, count in [
        ("update_batch, one batch of 100,000", one_batch, n),
        ("update_batch, a batch per 10 s (10,000)", every(10), n),
        ("update_batch, a batch per second (1,000)", every(1), n),
        ("update per estimate (loop)", loop, LOOP_SAMPLE),
    ]:
        events, _ = cpu_timed(fn)
        seconds = best_of(fn, REPEATS if count == n else 1) - build_s
        rows.append([name, count, events, f"{count / seconds:,.0f}"])
    return rows


def main() -> None:
    rng = np.random.default_rng(SEED)
    zones = make_zones(rng)
    est = make_estimates(rng)
    lookup = bench_lookup(zones, est["x"], est["y"])
    print(
        f"Lookup: {N_ZONES:,} zones on {FLOOR_M:.0f} m x {FLOOR_M:.0f} m, {est['x'].size:,} points"
    )
    print(format_table(["variant", "points", "points/s", "grid is faster by"], lookup))
    events = bench_events(zones, est)
    print()
    print(f"Event detector: {N_SHOPPERS:,} shoppers x {ESTIMATES_PER_SHOPPER} estimates (1 Hz)")
    print(format_table(["form", "estimates", "events", "estimates/s"], events))
    lookup_rate = float(str(lookup[0][2]).replace(",", ""))
    loop_rate = float(str(lookup[2][2]).replace(",", ""))
    events_rate = float(str(events[0][3]).replace(",", ""))
    print(
        f"zones: lookup={lookup_rate:.0f} pts/s events={events_rate:.0f} est/s "
        f"vs_loop={lookup_rate / loop_rate:.0f}x"
    )


if __name__ == "__main__":
    main()
