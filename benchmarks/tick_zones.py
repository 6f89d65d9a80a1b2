"""A runner tick's zone events: CPU per estimate of ``tick_zone_events`` and of the store
detector's ``update_many`` it calls, per tick size.

The walks of ``benchmarks/server_tick.py`` (N shoppers of the demo store, one noisy estimate a
second each) are cut into ticks of ``rows`` shoppers; each second goes once through a store
detector's ``update_many`` and once through ``tick_zone_events`` (its own detector, same estimates),
so the difference is what the tick adds around the zones core. Thread CPU, the first seconds not
counted (new shoppers, detector built); the garbage collector set as the served app sets it
(``server.gc_tuning``: at Python's own threshold its passes over the walks and the detector's
state land on whichever call allocates, ≈ 6 µs an estimate at 300 rows).

    python benchmarks/tick_zones.py [--shoppers 1000] [--seconds 30] [--rows 20 100 300]

Closing line: ``tick_zones: rows=N us_per_estimate=X`` (``tick_zone_events`` at the last size).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this folder leads sys.path and its zones.py/triggers.py would hide the packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))  # benchmarks.server_tick, from any working directory

import numpy as np  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from benchmarks.server_tick import ACCURACY_M, make_walks, seed  # noqa: E402
from positioning import Estimate  # noqa: E402
from server.database import Database, upgrade_to_head  # noqa: E402
from server.gc_tuning import SERVING_GC_YOUNG_THRESHOLD, tune_gc_for_serving  # noqa: E402
from server.pipeline import Shopper  # noqa: E402
from server.store_zones import StoreZoneDetector  # noqa: E402
from server.tick_zones import tick_zone_events  # noqa: E402

WARMUP_S = 3


@dataclass
class Member:
    """What ``tick_zone_events`` reads of a ``ShopperPipeline``."""

    shopper: Shopper
    detector: StoreZoneDetector


def run(database: Database, store_id: int, customers: list[str], seconds: int, rows: int
        ) -> tuple[float, float, int]:  # fmt: skip
    walks = make_walks(len(customers), seconds)
    alone, ticked = StoreZoneDetector(database, store_id), StoreZoneDetector(database, store_id)
    members = [Member(Shopper(c, store_id, "bench", frozenset()), ticked) for c in customers]
    threshold = gc.get_threshold()
    tune_gc_for_serving(SERVING_GC_YOUNG_THRESHOLD)
    cpu_alone = cpu_ticked = 0.0
    counted = events = 0
    for second in range(seconds):
        order = np.argsort(walks.t_ms[:, second], kind="stable").tolist()
        ticks = []
        for first in range(0, len(customers), rows):
            idx = order[first : first + rows]
            ticks.append((idx, [Estimate(int(walks.t_ms[i, second]), float(walks.x[i, second]),
                                         float(walks.y[i, second]),
                                         float(walks.heading[i, second]), ACCURACY_M)
                                for i in idx]))  # fmt: skip
        start = time.thread_time()
        for idx, estimates in ticks:
            alone.update_many([customers[i] for i in idx], estimates)
        middle = time.thread_time()
        for idx, estimates in ticks:
            found = tick_zone_events([members[i] for i in idx], [[e] for e in estimates])
            events += sum(len(e[0]) for e in found if not isinstance(e, Exception))
        end = time.thread_time()
        if second >= WARMUP_S:
            cpu_alone += middle - start
            cpu_ticked += end - middle
            counted += len(customers)
    gc.set_threshold(*threshold)
    gc.unfreeze()
    return 1e6 * cpu_alone / counted, 1e6 * cpu_ticked / counted, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rows", type=int, nargs="+", default=[20, 100, 300])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        database = Database.connect(f"sqlite:///{folder}/zones.db")
        upgrade_to_head(database.engine)
        store_id, customers = seed(database, args.shoppers)
        for rows in args.rows:
            results.append((rows, *run(database, store_id, customers, args.seconds, rows)))
        database.dispose()
    print(format_table(
        ["rows/tick", "update_many µs/estimate", "tick_zone_events µs/estimate", "events"],
        [[rows, f"{alone:.1f}", f"{ticked:.1f}", events]
         for rows, alone, ticked, events in results],
    ))  # fmt: skip
    rows, _, ticked, _ = results[-1]
    print(f"tick_zones: rows={rows} us_per_estimate={ticked:.1f}")


if __name__ == "__main__":
    main()
