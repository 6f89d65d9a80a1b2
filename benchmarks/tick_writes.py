"""A runner tick's transaction: CPU per tick, ``VisitWrites.write`` against the Core inserts it
replaced, side by side on the same rows and database.

A tick at 1,000 phones (20 batches a call) commits about 20 raw frames (two shoppers' buffers of
ten), a few zone events and now and then a position chunk; here 20 raw frames of 3 KB, 3 zone
events and one chunk of 60 points. ``core inserts`` is session 3's ``VisitWrites.write``
(``session.execute(insert(table), rows)``); ``driver inserts`` is ``server.visit_log.insert_rows``
(one INSERT compiled per process, the rows handed to the driver's ``executemany``). Each variant
runs ``--ticks`` transactions per repeat, alternating; the best repeat counts. Thread CPU, so the
figure includes the driver's own work (SQLite's in-process insert, psycopg's encoding).

    python benchmarks/tick_writes.py [--database-url URL] [--ticks 50] [--repeats 7] [--segments]

Closing line: ``tick_writes: core_us=X driver_us=Y``.

``--segments`` (session 9): instead, a tick's raw frames written a row each (before session 9)
against one row per visit's ten frames (``ReadingBuffer.take_rows`` now:
``server.raw_frames_codec.pack_segment`` over the frames' payloads), ``SHOPPERS`` visits' buffers
a tick, CPU per frame; closing line ``tick_writes: row_each_us=X segment_us=Y`` (per frame).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this folder leads sys.path and its zones.py/triggers.py would hide the packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from server.database import Database, upgrade_to_head  # noqa: E402
from server.raw_frames_codec import pack_segment  # noqa: E402
from server.tables import Customer, Store, Visit  # noqa: E402
from server.visit_log import (  # noqa: E402
    POSITION_CHUNKS_TABLE,
    RAW_BATCH_COLUMNS,
    RAW_BATCHES_TABLE,
    READING_BATCHES_PER_WRITE,
    ZONE_EVENTS_TABLE,
    VisitWrites,
)

SHOPPERS = 20
RAW_FRAMES = 20
ZONE_EVENTS = 3
RAW_FRAME_BYTES = 3000  # a compressed 16 KB readings frame
T0_MS = 1_800_000_000_000

Rows = dict[str, list[dict[str, Any]]]


def seed(database: Database) -> tuple[int, list[str]]:
    visits = [f"v{i}" for i in range(SHOPPERS)]
    with database.session() as session:
        session.add(Store(id=1, name="bench", timezone="UTC", created_ms=T0_MS))
        session.flush()
        for i, visit in enumerate(visits):
            session.add(Customer(id=f"c{i}", gender="female", age=30, tier="gold"))
            session.flush()
            session.add(Visit(id=visit, store_id=1, customer_id=f"c{i}", started_ms=T0_MS,
                              last_seen_ms=T0_MS, app_version="b", consents=""))  # fmt: skip
    return 1, visits


def tick_rows(store_id: int, visits: list[str], k: int, payload: bytes) -> VisitWrites:
    t = T0_MS + 1000 * k
    raw = [(visits[i % SHOPPERS], store_id, t + i, t + i + 999, 300, payload)
           for i in range(RAW_FRAMES)]  # fmt: skip
    events = [{"visit_id": visits[i], "store_id": store_id, "zone_id": "dairy", "kind": "enter",
               "t_ms": t + i, "dwell_s": 0.0} for i in range(ZONE_EVENTS)]  # fmt: skip
    chunk = [{"visit_id": visits[0], "store_id": store_id, "floor_id": None, "t_start_ms": t,
              "t_end_ms": t + 59_000, "n_points": 60, "payload": payload[:960]}]  # fmt: skip
    return VisitWrites(zone_events=events, chunks=chunk, raw_batches=raw)


def core_inserts(database: Database, writes: VisitWrites) -> None:
    """Session 3's ``VisitWrites.write``: Core inserts through the ORM session."""
    with database.session() as session:
        session.execute(insert(ZONE_EVENTS_TABLE), writes.zone_events)
        session.execute(insert(POSITION_CHUNKS_TABLE), writes.chunks)
        raw = [dict(zip(RAW_BATCH_COLUMNS, row, strict=True)) for row in writes.raw_batches]
        session.execute(insert(RAW_BATCHES_TABLE), raw)  # its rows were dicts


def driver_inserts(database: Database, writes: VisitWrites) -> None:
    with database.session() as session:
        writes.write(session)


def raw_row_each(
    database: Database, store_id: int, visits: list[str], t_ms: int, payload: bytes
) -> None:
    """A tick of SHOPPERS full buffers, a row per frame (before session 9)."""
    rows = [(visit, store_id, t_ms + k, t_ms + k + 999, 300, payload)
            for visit in visits for k in range(READING_BATCHES_PER_WRITE)]  # fmt: skip
    with database.session() as session:
        VisitWrites(raw_batches=rows).write(session)


def raw_segments(
    database: Database, store_id: int, visits: list[str], t_ms: int, payload: bytes
) -> None:
    """The same tick, a row per buffer (one segment of its frames, as ``take_rows`` packs it)."""
    frames = [(t_ms + k, t_ms + k + 999, 300, payload) for k in range(READING_BATCHES_PER_WRITE)]
    rows = [(visit, store_id, t_ms, t_ms + 9999, 3000, pack_segment(frames)) for visit in visits]
    with database.session() as session:
        VisitWrites(raw_batches=rows).write(session)


def compare_segments(database: Database, ticks: int, repeats: int) -> dict[str, float]:
    """CPU µs per raw frame of each way, best of ``repeats``."""
    store_id, visits = seed(database)
    payload = np.random.default_rng(0).bytes(RAW_FRAME_BYTES)
    variants = {"a row per frame": raw_row_each, "a row per buffer (segment)": raw_segments}
    best = {name: float("inf") for name in variants}
    t_ms = T0_MS
    frames = ticks * SHOPPERS * READING_BATCHES_PER_WRITE
    for _ in range(repeats):
        for name, write in variants.items():
            start = time.thread_time()
            for _ in range(ticks):
                t_ms += 10_000
                write(database, store_id, visits, t_ms, payload)
            best[name] = min(best[name], (time.thread_time() - start) / frames * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--ticks", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--segments", action="store_true", help="raw rows: a row a frame or a buffer"
    )
    args = parser.parse_args()
    if args.segments:
        with tempfile.TemporaryDirectory() as folder:
            database = Database.connect(args.database_url or f"sqlite:///{folder}/writes.db")
            upgrade_to_head(database.engine)
            found = compare_segments(database, args.ticks, args.repeats)
            backend = database.engine.dialect.name
            database.dispose()
        table = [[backend, name, f"{us:.1f}"] for name, us in found.items()]
        print(format_table(["database", "raw frames written as", "CPU µs/frame"], table))
        each, segment = found.values()
        print(f"tick_writes: row_each_us={each:.1f} segment_us={segment:.1f}")
        return
    with tempfile.TemporaryDirectory() as folder:
        database = Database.connect(args.database_url or f"sqlite:///{folder}/writes.db")
        upgrade_to_head(database.engine)
        store_id, visits = seed(database)
        payload = np.random.default_rng(0).bytes(RAW_FRAME_BYTES)
        variants: dict[str, Callable[[Database, VisitWrites], None]] = {
            "core inserts": core_inserts,
            "driver inserts": driver_inserts,
        }
        best = {name: float("inf") for name in variants}
        k = 0
        for _ in range(args.repeats):
            for name, write in variants.items():
                ticks = [tick_rows(store_id, visits, k + i, payload) for i in range(args.ticks)]
                k += args.ticks
                start = time.thread_time()
                for writes in ticks:
                    write(database, writes)
                cpu = (time.thread_time() - start) / args.ticks
                best[name] = min(best[name], cpu * 1e6)
        backend = database.engine.dialect.name
        database.dispose()
    rows = RAW_FRAMES + ZONE_EVENTS + 1
    print(format_table(
        ["database", "variant", "rows/tick", "CPU µs/tick", "CPU µs/row"],
        [[backend, name, rows, f"{us:.0f}", f"{us / rows:.1f}"] for name, us in best.items()],
    ))  # fmt: skip
    print(f"tick_writes: core_us={best['core inserts']:.0f} "
          f"driver_us={best['driver inserts']:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
