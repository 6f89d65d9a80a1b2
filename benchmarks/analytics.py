"""Store analytics at a month's scale: heatmap and zone table over ~100 M packed positions.

A 50 m x 40 m store (2,000 m²), 3,000 visits a day for 30 days, positions at 1 Hz (2 % dropped),
generated day by day straight into the 16-byte packed form of ``server.positions_codec`` and cut
into one chunk per visit-minute as the server stores them, plus half of a 31st day ("today").
Times, side by side:

* in memory: the heatmap accumulated day by day from the packed chunks (generation not timed),
  and the zone table on one day's and on all 30 days' zone events;
* the server's real query path on SQLite and on PostgreSQL (127.0.0.1:5432, a database of its
  own, migrated with the server's migrations, dropped afterwards): the 30 closed days are rolled
  up by ``server.analytics_rollup.rollup_day``, then ``server.analytics_service.AnalyticsQuery``
  answers the heatmap and the zone table request for 30 days + today (rollups + today's raw rows
  up to noon). The day close reads a day's raw rows: its time is what a raw read costs a day.

Run: ``python benchmarks/analytics.py [--days N] [--no-postgres]``. Closing line
``analytics: heatmap_30d=X.Xs zones_30d=X.Xs bytes_per_visit_hour=N`` with the heatmap and zone
times of the real path (wall seconds, the slower database). In-memory rows are CPU seconds.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from aislecast.bench import cpu_timed, format_table  # noqa: E402
from server.analytics_rollup import rollup_day  # noqa: E402
from server.analytics_service import AnalyticsQuery  # noqa: E402
from server.database import Database, upgrade_to_head  # noqa: E402
from server.positions_codec import POINT_DTYPE  # noqa: E402
from server.tables import (  # noqa: E402
    Customer,
    Floor,
    PresenceRollupRow,
    Store,
    ZoneEventRollupRow,
)
from server.tables import Zone as ZoneRow  # noqa: E402
from zones.analytics import (  # noqa: E402
    CellGrid,
    PresenceAccumulator,
    VisitColumns,
    ZoneEventColumns,
    hold_seconds_chunked,
    zone_table,
)
from zones.analytics.columns import ENTER, EXIT, FACING, KIND_CODES  # noqa: E402
from zones.model import Zone  # noqa: E402
from zones.records import zone_to_dict  # noqa: E402

WIDTH_M, HEIGHT_M = 50.0, 40.0
VISITS_PER_DAY = 3_000
DAYS = 30
CUSTOMERS = 40_000  # a pool this size makes about a fifth of a month's visitors come back
MEDIAN_VISIT_S = 18 * 60
CONSENT_SHARE = 0.9
DROP_SHARE = 0.02  # estimates lost on the way (app in background, radio gaps)
TILE_X, TILE_Y = 5.0, 4.0  # one shelf zone in the middle of each 5 m x 4 m tile: 100 zones
SHELF_X, SHELF_Y = 2.5, 2.0
CHUNK_S = 60
MIN_STAY_S = 5
STORE_ID = 1
FLOOR_ID = 1
T0 = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000  # a UTC midnight: the store runs on UTC
SEED = 9
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
K = 5
TODAY_SO_FAR_MS = 12 * 3_600_000
T = TypeVar("T")

IntArray = NDArray[np.int64]


@dataclass
class Day:
    points: NDArray[np.void]  # POINT_DTYPE, chunks end to end
    chunk_visit: IntArray  # global visit number per chunk
    chunk_t_start_ms: IntArray
    chunk_n: IntArray
    visitor: IntArray  # per visit of the day
    started_ms: IntArray
    ended_ms: IntArray
    consent: NDArray[np.bool_]
    events: ZoneEventColumns


def store_zones() -> list[Zone]:
    zones = []
    for row in range(int(HEIGHT_M / TILE_Y)):
        for col in range(int(WIDTH_M / TILE_X)):
            x0 = col * TILE_X + (TILE_X - SHELF_X) / 2
            y0 = row * TILE_Y + (TILE_Y - SHELF_Y) / 2
            zones.append(
                Zone.from_coords(
                    f"z{row}{col}",
                    f"shelf {row}-{col}",
                    "shelf",
                    [
                        (x0, y0),
                        (x0 + SHELF_X, y0),
                        (x0 + SHELF_X, y0 + SHELF_Y),
                        (x0, y0 + SHELF_Y),
                    ],
                    categories=(f"cat{row}{col}",),
                )
            )
    return zones


def _reflect(p: NDArray[np.float64], size: float) -> NDArray[np.float64]:
    """Fold an unbounded walk into [0, size) like a ball bouncing off the walls."""
    folded = np.mod(p, 2 * size)
    return np.minimum(np.where(folded > size, 2 * size - folded, folded), size - 1e-3)


def generate_day(day: int) -> Day:
    rng = np.random.default_rng(SEED + day)
    n = VISITS_PER_DAY
    length_s = np.clip(rng.lognormal(np.log(MEDIAN_VISIT_S), 0.5, n), 120, 5400).astype(np.int64)
    day_ms = T0 + day * 86_400_000
    started = np.sort(day_ms + rng.integers(8 * 3600, 21 * 3600, n) * 1000)
    visit = np.repeat(np.arange(n), length_s)
    first = np.cumsum(length_s) - length_s
    second = np.arange(visit.size) - first[visit]
    t = started[visit] + second * 1000 + rng.integers(0, 40, visit.size)
    heading = np.cumsum(rng.normal(0.0, 0.35, visit.size))
    speed = np.where(rng.random(visit.size) < 0.45, 0.0, 0.8)
    steps_x = speed * np.cos(heading)
    steps_y = speed * np.sin(heading)
    walk_x, walk_y = np.cumsum(steps_x), np.cumsum(steps_y)
    x = _reflect(walk_x - walk_x[first][visit] + rng.uniform(0, WIDTH_M, n)[visit], WIDTH_M)
    y = _reflect(walk_y - walk_y[first][visit] + 1.0, HEIGHT_M)
    keep = (rng.random(visit.size) >= DROP_SHARE) | (second == 0)
    visit, second, t, x, y, heading = (a[keep] for a in (visit, second, t, x, y, heading))
    chunk_key = visit * 1000 + second // CHUNK_S
    starts = np.flatnonzero(np.r_[True, chunk_key[1:] != chunk_key[:-1]])
    chunk_n = np.diff(np.r_[starts, visit.size])
    points = np.empty(visit.size, dtype=POINT_DTYPE)
    points["dt_ms"] = t - np.repeat(t[starts], chunk_n)
    points["x"], points["y"] = x, y
    points["heading_cdeg"] = np.mod(np.degrees(heading), 360.0) * 100 % 36000
    points["accuracy_cm"] = rng.integers(80, 400, visit.size)
    events = zone_events(visit + day * n, t, x, y, rng)
    return Day(
        points=points,
        chunk_visit=visit[starts] + day * n,
        chunk_t_start_ms=t[starts],
        chunk_n=chunk_n,
        visitor=rng.integers(0, CUSTOMERS, n),
        started_ms=started,
        ended_ms=started + length_s * 1000,
        consent=rng.random(n) < CONSENT_SHARE,
        events=events,
    )


def zone_events(
    visit: IntArray,
    t: IntArray,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rng: np.random.Generator,
) -> ZoneEventColumns:
    """Enter/exit at every change of shelf zone within a visit, a facing on a tenth of stays."""
    col, row = (x // TILE_X).astype(np.int64), (y // TILE_Y).astype(np.int64)
    inside = (np.abs(x - (col + 0.5) * TILE_X) < SHELF_X / 2) & (
        np.abs(y - (row + 0.5) * TILE_Y) < SHELF_Y / 2
    )
    zone = np.where(inside, row * int(WIDTH_M / TILE_X) + col, -1)
    change = np.r_[True, (zone[1:] != zone[:-1]) | (visit[1:] != visit[:-1])]
    run = np.flatnonzero(change)
    run_end = np.r_[run[1:], visit.size] - 1
    # Like the detector's debounce: a stay shorter than MIN_STAY_S is a walk past, no event.
    in_zone = (zone[run] >= 0) & (t[run_end] - t[run] >= MIN_STAY_S * 1000)
    enters, exits = run[in_zone], run_end[in_zone]
    facing = enters[rng.random(enters.size) < 0.1]
    exit_t = np.minimum(t[np.minimum(exits + 1, visit.size - 1)], t[exits] + 1000)
    return ZoneEventColumns(
        visit=np.r_[visit[enters], visit[exits], visit[facing]],
        zone=np.r_[zone[enters], zone[exits], zone[facing]],
        kind=np.r_[
            np.full(enters.size, ENTER), np.full(exits.size, EXIT), np.full(facing.size, FACING)
        ].astype(np.int64),
        t_ms=np.r_[t[enters], exit_t, t[facing] + 500],
    )


def add_day_to_heatmap(
    heat: PresenceAccumulator,
    points: NDArray[np.void],
    chunk_visit: IntArray,
    chunk_t_start_ms: IntArray,
    chunk_n: IntArray,
    visitor_of_visit: IntArray,
) -> None:
    hold = hold_seconds_chunked(points["dt_ms"], chunk_t_start_ms, chunk_n, chunk_visit)
    heat.add(points["x"], points["y"], hold, np.repeat(visitor_of_visit[chunk_visit], chunk_n))


# ---- storage: the server's schema, written with plain DB-API bulk inserts ---------------------


def first_day() -> date:
    return date(1970, 1, 1) + timedelta(days=T0 // 86_400_000)


def seed_store(database: Database, zones: list[Zone]) -> None:
    """The store (UTC), its floor, its zones and the customer pool, through the ORM tables."""
    with database.session() as session:
        session.execute(
            insert(Store), [{"id": STORE_ID, "name": "bench", "timezone": "UTC", "created_ms": T0}]
        )
        session.execute(
            insert(Floor),
            [
                {
                    "id": FLOOR_ID,
                    "store_id": STORE_ID,
                    "name": "ground",
                    "width_m": WIDTH_M,
                    "height_m": HEIGHT_M,
                    "created_ms": T0,
                }
            ],
        )
        documents = []
        for zone in zones:
            document = zone_to_dict(zone)
            documents.append(
                {
                    "store_id": STORE_ID,
                    "id": document.pop("id"),
                    "floor_id": FLOOR_ID,
                    "version": 1,
                    "document": document,
                }
            )
        session.execute(insert(ZoneRow), documents)
        session.execute(
            insert(Customer),
            [{"id": f"customer-{c:06d}", "cap_ledger": {}} for c in range(CUSTOMERS)],
        )


def visit_rows(day: Day, day_index: int) -> Iterator[tuple[object, ...]]:
    for i in range(day.visitor.size):
        yield (
            f"visit-{day_index * VISITS_PER_DAY + i:08d}",
            STORE_ID,
            f"customer-{int(day.visitor[i]):06d}",
            int(day.started_ms[i]),
            int(day.ended_ms[i]),
            int(day.ended_ms[i]),
            "bench",
            "location_analytics" if day.consent[i] else "",
        )


def chunk_rows(day: Day) -> Iterator[tuple[object, ...]]:
    offsets = np.r_[0, np.cumsum(day.chunk_n)]
    blob = day.points.tobytes()
    size = POINT_DTYPE.itemsize
    ends = day.chunk_t_start_ms + day.points["dt_ms"][offsets[1:] - 1]
    for c in range(day.chunk_n.size):
        yield (
            f"visit-{int(day.chunk_visit[c]):08d}",
            STORE_ID,
            FLOOR_ID,
            int(day.chunk_t_start_ms[c]),
            int(ends[c]),
            int(day.chunk_n[c]),
            blob[offsets[c] * size : offsets[c + 1] * size],
        )


KIND_NAMES = {code: name for name, code in KIND_CODES.items()}


def event_rows(day: Day, zone_ids: list[str]) -> Iterator[tuple[object, ...]]:
    ev = day.events
    for i in range(ev.t_ms.size):
        yield (
            f"visit-{int(ev.visit[i]):08d}",
            STORE_ID,
            zone_ids[int(ev.zone[i])],
            KIND_NAMES[int(ev.kind[i])],
            int(ev.t_ms[i]),
            0.0,
        )


COLUMNS = {
    "visits": "id, store_id, customer_id, started_ms, last_seen_ms, ended_ms, app_version, "
    "consents",
    "position_chunks": "visit_id, store_id, floor_id, t_start_ms, t_end_ms, n_points, payload",
    "zone_events": "visit_id, store_id, zone_id, kind, t_ms, dwell_s",
}


class ServerDatabase:
    """One backend: migrated with the server's migrations, written over raw DB-API (the bulk
    load is not what is measured), read through the server's own query path."""

    def __init__(self, name: str, url: str, raw: sqlite3.Connection | psycopg.Connection) -> None:
        self.name = name
        self.database = Database.connect(url)
        upgrade_to_head(self.database.engine)
        self.raw = raw
        self.write_s = 0.0
        self.rollup_s = 0.0

    def write_day(self, day: Day, day_index: int, zone_ids: list[str]) -> None:
        start = time.perf_counter()
        rows = {
            "visits": visit_rows(day, day_index),
            "position_chunks": chunk_rows(day),
            "zone_events": event_rows(day, zone_ids),
        }
        cursor = self.raw.cursor()
        for table, table_rows in rows.items():
            if isinstance(self.raw, psycopg.Connection):
                with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:  # type: ignore[union-attr]
                    for row in table_rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(COLUMNS[table].split(",")))
                cursor.executemany(
                    f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", table_rows
                )
        self.raw.commit()
        self.write_s += time.perf_counter() - start

    def close_days(self, days: int) -> None:
        """The day-close job over the closed days (timed: it runs once a day per store)."""
        start = time.perf_counter()
        for d in range(days):
            with self.database.session() as session:
                rollup_day(session, STORE_ID, first_day() + timedelta(days=d), 0)
        self.rollup_s = time.perf_counter() - start

    def rollup_bytes(self) -> int:
        with self.database.session() as session:
            presence = session.scalar(
                select(
                    func.sum(
                        func.length(PresenceRollupRow.visitor_cells)
                        + func.length(PresenceRollupRow.seconds)
                        + func.length(PresenceRollupRow.facing)
                    )
                )
            )
            events = session.scalar(select(func.sum(func.length(ZoneEventRollupRow.events))))
        return int(presence or 0) + int(events or 0)

    def request(
        self, what: Callable[[AnalyticsQuery], T], to_ms: int, rollups: bool
    ) -> tuple[T, float]:
        """One request's work, wall seconds: a fresh session, visits loaded, then ``what``."""
        start = time.perf_counter()
        with self.database.session() as session:
            store = session.get(Store, STORE_ID)
            floor = session.get(Floor, FLOOR_ID)
            assert store is not None
            assert floor is not None
            query = AnalyticsQuery(session, store, floor, T0, to_ms, K, use_rollups=rollups)
            result = what(query)
        return result, time.perf_counter() - start

    def dispose(self) -> None:
        self.raw.close()
        self.database.dispose()


def timing_row(what: str, span: str, seconds: float, n_points: float) -> list[str]:
    return [what, span, f"{seconds:.2f}", f"{seconds / n_points * 1e9:.1f}"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    # The SQLite file (~2.5 GB for 30 days) lives in a folder removed however the run ends; the
    # PostgreSQL database is dropped however the run ends.
    pg_name = f"bench_analytics_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="aislecast-analytics-") as folder:
        try:
            run(Path(folder), pg_name)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def run(workdir: Path, pg_name: str) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    days = args.days
    grid = CellGrid(WIDTH_M, HEIGHT_M, cell_m=1.0)
    zones = store_zones()
    zone_ids = [z.id for z in zones]
    heat = PresenceAccumulator(grid, CUSTOMERS)
    sqlite_path = workdir / "analytics.sqlite"
    lite = sqlite3.connect(sqlite_path)
    lite.execute("PRAGMA journal_mode=WAL")
    backends = [ServerDatabase("SQLite", f"sqlite:///{sqlite_path}", lite)]
    if not args.no_postgres:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
        backends.append(ServerDatabase("PostgreSQL", url, psycopg.connect(url)))
    for backend in backends:
        seed_store(backend.database, zones)
    heat_day_s: list[float] = []
    events: list[ZoneEventColumns] = []
    visit_parts: list[tuple[IntArray, IntArray, IntArray, NDArray[np.bool_]]] = []
    n_points = payload_bytes = 0
    visit_seconds = 0.0
    for d in range(days + 1):  # the last one is "today", half a day so far
        day = generate_day(d)
        if d == days:
            today_points = int(
                (day.chunk_n[day.chunk_t_start_ms < T0 + d * 86_400_000 + TODAY_SO_FAR_MS]).sum()
            )
            for backend in backends:
                backend.write_day(day, d, zone_ids)
            break
        owners = np.concatenate([p[0] for p in visit_parts] + [day.visitor])
        _, seconds = cpu_timed(
            partial(
                add_day_to_heatmap,
                heat,
                day.points,
                day.chunk_visit,
                day.chunk_t_start_ms,
                day.chunk_n,
                owners,
            )
        )
        heat_day_s.append(seconds)
        events.append(day.events)
        visit_parts.append((day.visitor, day.started_ms, day.ended_ms, day.consent))
        n_points += day.points.size
        payload_bytes += day.points.nbytes
        visit_seconds += float((day.ended_ms - day.started_ms).sum()) / 1000.0
        for backend in backends:
            backend.write_day(day, d, zone_ids)
        print(f"day {d + 1}/{days}: {day.points.size:,} points", file=sys.stderr, flush=True)
    heatmap_memory, finish_s = cpu_timed(heat.result)
    heatmap_30d_memory = sum(heat_day_s) + finish_s
    visits = VisitColumns(*(np.concatenate([p[i] for p in visit_parts]) for i in range(4)))
    all_events = ZoneEventColumns(
        *(
            np.concatenate([getattr(e, f) for e in events])
            for f in ("visit", "zone", "kind", "t_ms")
        )
    )
    table_1d, zones_1d = cpu_timed(lambda: zone_table(zones, events[0], visits))
    table_30d, zones_30d_memory = cpu_timed(lambda: zone_table(zones, all_events, visits))
    lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sqlite_bytes = sqlite_path.stat().st_size
    span = f"{days} days"
    closed_ms = T0 + days * 86_400_000
    # "Today" is the day after the closed ones, read raw up to noon (the store opens at 8).
    now_ms = closed_ms + TODAY_SO_FAR_MS
    rows = [
        timing_row("heatmap, in memory (CPU)", "1 day", heat_day_s[0], n_points / days),
        timing_row("heatmap, in memory (CPU)", span, heatmap_30d_memory, n_points),
    ]
    zone_rows = [
        [
            "zone table, in memory (CPU)",
            "1 day",
            f"{zones_1d:.2f}",
            f"{zones_1d / events[0].t_ms.size * 1e9:.1f} per event",
        ],
        [
            "zone table, in memory (CPU)",
            span,
            f"{zones_30d_memory:.2f}",
            f"{zones_30d_memory / all_events.t_ms.size * 1e9:.1f} per event",
        ],
    ]
    worst_heat = worst_zones = 0.0
    notes = []
    for backend in backends:
        backend.close_days(days)
        maps, rolled_s = backend.request(lambda q: q.heatmaps(), closed_ms, rollups=True)
        # The month from rollups is the in-memory month (same seconds, same cells hidden).
        assert maps.days_from_rollups == days
        assert np.allclose(maps.presence.seconds, heatmap_memory.seconds)
        assert np.array_equal(maps.presence.suppressed, heatmap_memory.suppressed)
        live_maps, heat_s = backend.request(lambda q: q.heatmaps(), now_ms, rollups=True)
        assert live_maps.days_from_rollups == days
        table, zones_s = backend.request(lambda q: q.zones_table(), now_ms, rollups=True)
        assert len(table.rows) == len(zones)
        worst_heat, worst_zones = max(worst_heat, heat_s), max(worst_zones, zones_s)
        rows += [
            timing_row(
                f"day close (rollup_day), {backend.name} (wall)",
                "1 day",
                backend.rollup_s / days,
                n_points / days,
            ),
            timing_row(f"heatmap, rollups from {backend.name} (wall)", span, rolled_s, n_points),
            timing_row(
                f"heatmap, {backend.name}: rollups + today raw (wall)",
                f"{span} + today",
                heat_s,
                n_points + today_points,
            ),
        ]
        zone_rows.append(
            [
                f"zone table, {backend.name}: rollups + today raw (wall)",
                f"{span} + today",
                f"{zones_s:.2f}",
                f"{zones_s / all_events.t_ms.size * 1e9:.1f} per event",
            ]
        )
        notes.append(
            f"{backend.name}: bulk writes {backend.write_s:.0f} s, day close "
            f"{backend.rollup_s / days:.2f} s a day, "
            f"rollups {backend.rollup_bytes() / days / 1e6:.1f} MB a day"
        )
    pg_bytes = 0
    if len(backends) > 1:
        row = backends[1].raw.execute("SELECT pg_total_relation_size('position_chunks')").fetchone()
        pg_bytes = int(row[0]) if row else 0
    for backend in backends:
        backend.dispose()
    visit_hours = visit_seconds / 3600.0
    bytes_per_visit_hour = payload_bytes / visit_hours
    print(format_table(["what", "span", "seconds", "ns per point"], rows + zone_rows))
    print()
    storage = [
        ["packed payload", f"{payload_bytes / 1e9:.2f} GB", f"{bytes_per_visit_hour:,.0f}"],
        [
            "SQLite file (visits, chunks, events, rollups, indexes)",
            f"{sqlite_bytes / 1e9:.2f} GB",
            f"{sqlite_bytes / visit_hours:,.0f}",
        ],
    ]
    if pg_bytes:
        storage.append(
            [
                "PostgreSQL position_chunks (+ TOAST, indexes)",
                f"{pg_bytes / 1e9:.2f} GB",
                f"{pg_bytes / visit_hours:,.0f}",
            ]
        )
    print(format_table(["storage", "size", "bytes per visit-hour"], storage))
    print()
    print(
        f"{n_points:,} estimates (+ {today_points:,} today), {visits.visitor.size:,} visits, "
        f"{all_events.t_ms.size:,} zone events; {'; '.join(notes)}; "
        f"heatmap cells suppressed: {heatmap_memory.n_suppressed}; "
        f"zone rows suppressed: {table_30d.n_suppressed}; "
        f"median dwell of zone 0 on day 1: {table_1d.rows[0].median_dwell_s} s; "
        f"peak RSS {peak_rss_mb():,.0f} MB"
    )
    print(
        f"analytics: heatmap_30d={worst_heat:.1f}s zones_30d={worst_zones:.1f}s "
        f"bytes_per_visit_hour={bytes_per_visit_hour:.0f}"
    )


if __name__ == "__main__":
    main()
