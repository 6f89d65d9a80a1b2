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
leaves Python's own, as the benchmark ran before session 4). ``--campaigns 0`` seeds no campaign,
as the load benchmark's store (no occasion is decided); ``--raw-frame-bytes N`` keeps each
batch's raw frame (N bytes, as received) as the server does, compressed by the process's
compressor thread (its CPU counts: process time).

``--push``: the whole runner call (``process_jobs``) instead, as the server makes it at
``readings-bin``: each shopper a row in the store's batched tracker (``StoreBatchTrackers``), each
batch the simulator's frame of the second (visit i mod K) sent as a binary frame, decoded as the
socket decodes it (``decode_binary_deferred``, not timed: its numbers are checked in the tick, since
session 8; before, the frame was decoded and checked whole here) and kept raw; the estimates are the
tracker's. BLAS runs one thread, as the served process is told to (``OPENBLAS_NUM_THREADS=1``,
docs/deploy.md; since session 8: OpenBLAS's own threads spun on the second core, counted in the
process's CPU).

Reports, per rows-per-tick, the process CPU µs per batch (of the median simulated second; the
first simulated seconds warm caches and load profiles and are not counted) and the tick thread's
alone, zone events and offers per
1,000 batches and the rows written. Closing line: ``tick: rows=N cpu_us_per_batch=X``.

    python benchmarks/server_tick.py [--shoppers 1000] [--seconds 70] [--rows 5 20 100]
                                     [--gc-young-threshold 50000] [--campaigns 2]
                                     [--raw-frame-bytes 0] [--push]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this folder leads sys.path and its zones.py/triggers.py would hide the packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import numpy as np  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from positioning import Estimate  # noqa: E402
from server.batch_tracking import (  # noqa: E402
    BatchJob,
    StoreBatchTrackers,
    finish_tick,
    process_jobs,
)
from server.database import Database, upgrade_to_head  # noqa: E402
from server.gc_tuning import SERVING_GC_YOUNG_THRESHOLD, tune_gc_for_serving  # noqa: E402
from server.pipeline import PipelineWiring, Shopper, ShopperPipeline  # noqa: E402
from server.realtime.frames import ReadingsBatch  # noqa: E402
from server.realtime.readings_binary import decode_binary_deferred  # noqa: E402
from server.seed import seed_store  # noqa: E402
from server.store_snapshot import SnapshotCache  # noqa: E402
from server.store_zones import StoreZoneDetectors  # noqa: E402
from server.tables import Offer, PositionChunk, ZoneEventRow  # noqa: E402
from server.trigger_decisions import TriggersDecider  # noqa: E402
from server.visit_log import open_visit  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.store import store_to_dict  # noqa: E402
from simulator.wire import binary_readings_frame, readings_frames  # noqa: E402

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


def seed(database: Database, shoppers: int, campaigns: int = 2) -> tuple[int, list[str]]:
    """The demo store with the first ``campaigns`` signage campaigns, and ``shoppers`` customers."""
    cast = load_cast("demo", 1, SEED, 1, distinct_visits=1, max_visit_s=1)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "store.json").write_text(json.dumps(store_to_dict(cast.store)))
        (root / "campaigns.json").write_text(json.dumps(CAMPAIGNS[:campaigns]))
        rows = "".join(f"s{i},female,30,gold,location_analytics\n" for i in range(shoppers))
        (root / "customers.csv").write_text("customer_id,gender,age,tier,consents\n" + rows)
        report = seed_store(database, root, T0_MS, issue_tokens=False)
    return report.store_id, [f"s{i}" for i in range(shoppers)]


def pipelines(
    database: Database,
    store_id: int,
    customers: list[str],
    keep_raw: bool = False,
    batched: bool = False,
) -> list[ShopperPipeline]:
    """A pipeline per customer; ``batched``: each a row of the store's batched tracker (else the
    estimates come from the benchmark)."""
    tracked = _Tracked()
    wiring = PipelineWiring(
        decide=TriggersDecider(database),
        tracker_for=StoreBatchTrackers(database) if batched else lambda _s, _c: tracked,
        zone_detector_for=StoreZoneDetectors(database),
    )
    snapshots = SnapshotCache(database)
    consents = frozenset({"location_analytics", "personalised_offers", "signage"})
    out = []
    with database.session() as session:
        visits = [open_visit(session, c, store_id, "bench", consents, T0_MS) for c in customers]
    for customer, visit in zip(customers, visits, strict=True):
        shopper = Shopper(customer, store_id, visit.id, consents)
        out.append(ShopperPipeline(shopper, database, wiring, snapshots, keep_raw))
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
    thread_us_per_batch: float  # the tick's thread alone (not the raw frames' compressor)
    zone_events: int
    offers: int
    chunks: int


def visit_frames(seconds: int) -> list[list[bytes]]:
    """Per distinct visit, one binary readings frame a second (the simulator's phones)."""
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds + 5)  # fmt: skip
    visits = []
    for _customer, _trajectory, windows in cast.visits:
        frames = [f for _, rows in windows for f in readings_frames(rows)]
        visits.append([binary_readings_frame(f) for f in frames[:seconds]])
    return visits


def run_push(
    database_url: str, shoppers: int, seconds: int, rows: int, gc_young_threshold: int = 0,
    campaigns: int = 2,
) -> Result:  # fmt: skip
    """``process_jobs`` on the simulator's frames: push, zones, triggers, raw frames, commit."""
    database = Database.connect(database_url)
    upgrade_to_head(database.engine)
    store_id, customers = seed(database, shoppers, campaigns)
    visits = visit_frames(seconds)
    seconds = min(seconds, *(len(v) for v in visits))
    lines = pipelines(database, store_id, customers, keep_raw=True, batched=True)
    threshold = gc.get_threshold()
    if gc_young_threshold > 0:
        tune_gc_for_serving(gc_young_threshold)
    cpu: list[float] = []  # per timed simulated second
    thread_cpu: list[float] = []
    batches = 0
    for second in range(seconds):
        jobs = []
        for i, line in enumerate(lines):
            data = visits[i % DISTINCT_VISITS][second]
            batch = decode_binary_deferred(data)
            # The server's clock, one for the tick (the visits' frames have times of their own).
            now = T0_MS + 1000 * second
            jobs.append(BatchJob(line.tracker, batch, line, now, data))  # type: ignore[arg-type]
        start, thread_start = time.process_time(), time.thread_time()
        for first in range(0, shoppers, rows):
            for step in process_jobs(jobs[first : first + rows]):
                if isinstance(step, Exception):
                    raise step
        if second >= WARMUP_S:
            cpu.append(time.process_time() - start)
            thread_cpu.append(time.thread_time() - thread_start)
            batches += shoppers
    return _finish(database, lines, threshold, batches, rows, cpu, thread_cpu)


def _finish(
    database: Database, lines: list[ShopperPipeline], threshold: tuple[int, int, int],
    batches: int, rows: int, cpu: list[float], thread_cpu: list[float],
) -> Result:  # fmt: skip
    """The counts written, and CPU per batch from the median simulated second (robust to the
    bursts of a shared machine's load)."""
    gc.set_threshold(*threshold)
    gc.unfreeze()
    for line in lines:
        line.flush_buffers()
    with database.session() as session:
        counts = [session.scalar(select(func.count()).select_from(table))
                  for table in (ZoneEventRow, Offer, PositionChunk)]  # fmt: skip
    database.dispose()
    events, offers, chunks = (int(c or 0) for c in counts)
    per_batch = 1e6 * len(cpu) / max(batches, 1)  # a second's CPU over its batches
    median_cpu, median_thread = float(np.median(cpu)), float(np.median(thread_cpu))
    return Result(rows, batches, median_cpu * per_batch, median_thread * per_batch, events, offers,
                  chunks)  # fmt: skip


def raw_frame(size: int, index: int) -> bytes:
    """A stand-in for a received frame of ``size`` bytes (seeded; 4 bits of entropy a byte)."""
    rng = np.random.default_rng(index)
    return rng.integers(0, 16, size, dtype=np.uint8).tobytes()


def run(
    database_url: str,
    shoppers: int,
    seconds: int,
    rows: int,
    gc_young_threshold: int = 0,
    campaigns: int = 2,
    raw_frame_bytes: int = 0,
) -> Result:
    database = Database.connect(database_url)
    upgrade_to_head(database.engine)
    store_id, customers = seed(database, shoppers, campaigns)
    walks = make_walks(shoppers, seconds)
    lines = pipelines(database, store_id, customers, keep_raw=raw_frame_bytes > 0)
    frames = [raw_frame(raw_frame_bytes, k) for k in range(8)] if raw_frame_bytes else [b""]
    threshold = gc.get_threshold()
    if gc_young_threshold > 0:  # as the served app does once it has started
        tune_gc_for_serving(gc_young_threshold)
    batch = tiny_batch()
    cpu: list[float] = []  # per timed simulated second
    thread_cpu: list[float] = []
    batches = 0
    for second in range(seconds):
        order = np.argsort(walks.t_ms[:, second], kind="stable")
        start, thread_start = time.process_time(), time.thread_time()
        for first in range(0, shoppers, rows):
            jobs, estimates = [], []
            for i in order[first : first + rows].tolist():
                t = int(walks.t_ms[i, second])
                estimate = Estimate(t, float(walks.x[i, second]), float(walks.y[i, second]),
                                    float(walks.heading[i, second]), ACCURACY_M)  # fmt: skip
                frame = frames[i % len(frames)]
                jobs.append(BatchJob(None, batch, lines[i], t + 50, frame))
                estimates.append([estimate])
            for step in finish_tick(jobs, estimates):
                if isinstance(step, Exception):
                    raise step
        if second >= WARMUP_S:
            cpu.append(time.process_time() - start)
            thread_cpu.append(time.thread_time() - thread_start)
            batches += shoppers
    return _finish(database, lines, threshold, batches, rows, cpu, thread_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=70)  # past a full chunk (60 estimates)
    parser.add_argument("--rows", type=int, nargs="+", default=[5, 20, 100])
    parser.add_argument("--gc-young-threshold", type=int, default=SERVING_GC_YOUNG_THRESHOLD,
                        help="0: Python's own collector settings")  # fmt: skip
    parser.add_argument("--campaigns", type=int, default=len(CAMPAIGNS), choices=range(3),
                        help="0: none, as the load benchmark's store")  # fmt: skip
    parser.add_argument("--raw-frame-bytes", type=int, default=0,
                        help="keep raw frames of this size (0: none)")  # fmt: skip
    parser.add_argument("--push", action="store_true",
                        help="the whole runner call on the simulator's frames")  # fmt: skip
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/tick.db"  # a fresh database per row count
            if args.push:
                results.append(run_push(url, args.shoppers, args.seconds, rows,
                                        args.gc_young_threshold, args.campaigns))  # fmt: skip
            else:
                results.append(run(url, args.shoppers, args.seconds, rows,
                                   args.gc_young_threshold, args.campaigns,
                                   args.raw_frame_bytes))  # fmt: skip
    print(format_table(
        ["rows/tick", "batches timed", "CPU µs/batch", "thread µs/batch", "zone events", "offers",
         "chunks"],
        [[r.rows, r.batches, f"{r.cpu_us_per_batch:.0f}", f"{r.thread_us_per_batch:.0f}",
          r.zone_events, r.offers, r.chunks] for r in results],
    ))  # fmt: skip
    last = results[-1]
    print(f"tick: rows={last.rows} cpu_us_per_batch={last.cpu_us_per_batch:.0f}")


if __name__ == "__main__":
    main()
