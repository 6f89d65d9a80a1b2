"""The batched runner's tick after the push: zones, triggers and the commit, CPU per batch.

``server.batch_tracking.finish_tick`` is what a runner call does once the store's tracker has
pushed: each shopper's zone events, the decisions on their occasions, and one commit for the
buffers that filled. Here it runs without sockets or tracker on N simulated shoppers of the demo
store (seeded from the simulator's ``store.json`` with its zones and screens, and two signage
campaigns: ``near_screen`` and ``facing`` a screen), each with one estimate a second: their
visit's true pose (``simulator.live.load_cast``, K distinct visits, shopper i walks visit i mod K
at its own phase) plus seeded noise the size of the batched tracker's (σ 1.5 m, accuracy 2.1 m).
A second of load is cut into ticks of ``rows`` shoppers each (1,000 phones at 50 ticks a second
is 20 rows; 5,000 is 100). Raw frames are not kept (the ingest path's share). The garbage
collector is set as the served process sets it (``server.gc_tuning``; ``--gc-young-threshold 0``
leaves Python's own, as the benchmark ran before session 4).

Reports, per rows-per-tick, the process CPU µs per batch (best of the repeats; the first
simulated seconds warm caches and load profiles and are not counted), zone events and offers per
1,000 batches and the rows written. Closing line: ``tick: rows=N cpu_us_per_batch=X``.

    python benchmarks/server_tick.py [--shoppers 1000] [--seconds 70] [--rows 5 20 100]
                                     [--gc-young-threshold 50000]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this folder leads sys.path and its zones.py/triggers.py would hide the packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from positioning import Estimate  # noqa: E402
from server.batch_tracking import BatchJob, finish_tick  # noqa: E402
from server.database import Database, upgrade_to_head  # noqa: E402
from server.gc_tuning import SERVING_GC_YOUNG_THRESHOLD, tune_gc_for_serving  # noqa: E402
from server.pipeline import PipelineWiring, Shopper, ShopperPipeline  # noqa: E402
from server.realtime.frames import ReadingsBatch  # noqa: E402
from server.seed import seed_store  # noqa: E402
from server.store_snapshot import SnapshotCache  # noqa: E402
from server.store_zones import StoreZoneDetectors  # noqa: E402
from server.tables import Offer, PositionChunk, ZoneEventRow  # noqa: E402
from server.trigger_decisions import TriggersDecider  # noqa: E402
from server.visit_log import open_visit  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.store import store_to_dict  # noqa: E402

DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
WARMUP_S = 3  # simulated seconds before timing: profiles loaded, snapshots and detectors built
NOISE_M = 1.5  # per-axis error of the batched tracker's estimates (docs/server.md: median ≈ 2 m)
ACCURACY_M = 2.1  # the accuracy it claims
HEADING_NOISE_DEG = 15.0
T0_MS = 1_800_000_000_000
CAMPAIGNS = [
    {"name": "Screen welcome", "status": "active", "document": {
        "context": {"event": "near_screen"}, "channel": "signage", "holdout_share": 0.1,
        "content": {"title": "Fresh this week", "body": "Ask our staff for a tasting"}}},
    {"name": "Screen spotlight", "status": "active", "document": {
        "context": {"event": "facing", "zone_kinds": ["screen"]}, "channel": "signage",
        "holdout_share": 0.1, "content": {"title": "Today's offers", "body": "This week"}}},
]  # fmt: skip


class _Tracked:
    """A stand-in ``PositionSource``: the estimates come from the benchmark, not a tracker."""

    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        raise NotImplementedError


@dataclass
class Walks:
    """Per shopper, one noisy estimate a second: columns [shopper, second]."""

    t_ms: np.ndarray
    x: np.ndarray
    y: np.ndarray
    heading: np.ndarray


def make_walks(shoppers: int, seconds: int) -> Walks:
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds + 5)  # fmt: skip
    rng = np.random.default_rng(SEED)
    shape = (shoppers, seconds)
    phase = rng.integers(0, 1000, shoppers)
    t_ms = T0_MS + phase[:, None] + 1000 * np.arange(seconds)[None, :]
    x, y, heading = np.empty(shape), np.empty(shape), np.empty(shape)
    for i in range(shoppers):
        trajectory = cast.visits[i % DISTINCT_VISITS][1]
        at = trajectory.start_ms + (t_ms[i] - T0_MS).astype(float)
        x[i], y[i], heading[i] = trajectory.pose_at(at)
    x += rng.normal(0.0, NOISE_M, shape)
    y += rng.normal(0.0, NOISE_M, shape)
    heading = (heading + rng.normal(0.0, HEADING_NOISE_DEG, shape)) % 360.0
    return Walks(t_ms, x, y, heading)


def seed(database: Database, shoppers: int) -> tuple[int, list[str]]:
    """The demo store with the two signage campaigns, and ``shoppers`` customers."""
    cast = load_cast("demo", 1, SEED, 1, distinct_visits=1, max_visit_s=1)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "store.json").write_text(json.dumps(store_to_dict(cast.store)))
        (root / "campaigns.json").write_text(json.dumps(CAMPAIGNS))
        rows = "".join(f"s{i},female,30,gold,location_analytics\n" for i in range(shoppers))
        (root / "customers.csv").write_text("customer_id,gender,age,tier,consents\n" + rows)
        report = seed_store(database, root, T0_MS, issue_tokens=False)
    return report.store_id, [f"s{i}" for i in range(shoppers)]


def pipelines(database: Database, store_id: int, customers: list[str]) -> list[ShopperPipeline]:
    tracked = _Tracked()
    wiring = PipelineWiring(
        decide=TriggersDecider(database),
        tracker_for=lambda _store, _customer: tracked,
        zone_detector_for=StoreZoneDetectors(database),
    )
    snapshots = SnapshotCache(database)
    consents = frozenset({"location_analytics", "personalised_offers", "signage"})
    out = []
    with database.session() as session:
        visits = [open_visit(session, c, store_id, "bench", consents, T0_MS) for c in customers]
    for customer, visit in zip(customers, visits, strict=True):
        shopper = Shopper(customer, store_id, visit.id, consents)
        out.append(ShopperPipeline(shopper, database, wiring, snapshots, keep_raw_readings=False))
    return out


def tiny_batch() -> ReadingsBatch:
    """A frame for ``on_batch_estimates`` to count (its readings are not used here)."""
    return ReadingsBatch.model_validate(
        {"type": "readings", "accel": {"t_ms": [T0_MS], "x": [0.0], "y": [0.0], "z": [9.8]}}
    )


@dataclass
class Result:
    rows: int
    batches: int
    cpu_us_per_batch: float
    zone_events: int
    offers: int
    chunks: int


def run(
    database_url: str, shoppers: int, seconds: int, rows: int, gc_young_threshold: int = 0
) -> Result:
    database = Database.connect(database_url)
    upgrade_to_head(database.engine)
    store_id, customers = seed(database, shoppers)
    walks = make_walks(shoppers, seconds)
    lines = pipelines(database, store_id, customers)
    threshold = gc.get_threshold()
    if gc_young_threshold > 0:  # as the served app does once it has started
        tune_gc_for_serving(gc_young_threshold)
    batch = tiny_batch()
    cpu = 0.0
    batches = 0
    for second in range(seconds):
        order = np.argsort(walks.t_ms[:, second], kind="stable")
        start = time.process_time()
        for first in range(0, shoppers, rows):
            jobs, estimates = [], []
            for i in order[first : first + rows].tolist():
                t = int(walks.t_ms[i, second])
                estimate = Estimate(t, float(walks.x[i, second]), float(walks.y[i, second]),
                                    float(walks.heading[i, second]), ACCURACY_M)  # fmt: skip
                jobs.append(BatchJob(None, batch, lines[i], t + 50, ""))
                estimates.append([estimate])
            for step in finish_tick(jobs, estimates):
                if isinstance(step, Exception):
                    raise step
        if second >= WARMUP_S:
            cpu += time.process_time() - start
            batches += shoppers
    gc.set_threshold(*threshold)
    gc.unfreeze()
    for line in lines:
        line.flush_buffers()
    with database.session() as session:
        counts = [session.scalar(select(func.count()).select_from(table))
                  for table in (ZoneEventRow, Offer, PositionChunk)]  # fmt: skip
    database.dispose()
    events, offers, chunks = (int(c or 0) for c in counts)
    return Result(rows, batches, 1e6 * cpu / max(batches, 1), events, offers, chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=70)  # past a full chunk (60 estimates)
    parser.add_argument("--rows", type=int, nargs="+", default=[5, 20, 100])
    parser.add_argument("--gc-young-threshold", type=int, default=SERVING_GC_YOUNG_THRESHOLD,
                        help="0: Python's own collector settings")  # fmt: skip
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/tick.db"  # a fresh database per row count
            results.append(run(url, args.shoppers, args.seconds, rows, args.gc_young_threshold))
    print(format_table(
        ["rows/tick", "batches timed", "CPU µs/batch", "zone events", "offers", "chunks"],
        [[r.rows, r.batches, f"{r.cpu_us_per_batch:.0f}", r.zone_events, r.offers, r.chunks]
         for r in results],
    ))  # fmt: skip
    last = results[-1]
    print(f"tick: rows={last.rows} cpu_us_per_batch={last.cpu_us_per_batch:.0f}")


if __name__ == "__main__":
    main()
