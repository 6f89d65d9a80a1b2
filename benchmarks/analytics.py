"""Store analytics at a month's scale: heatmap and zone table over ~100 M packed positions.

A 50 m x 40 m store (2,000 m²), 3,000 visits a day for 30 days, positions at 1 Hz (2 % dropped),
generated day by day straight into the 16-byte packed form of ``server.positions_codec`` and cut
into one chunk per visit-minute as the server stores them. Times, side by side:

* in memory: the heatmap accumulated day by day from the packed chunks (generation not timed),
  and the zone table on one day's and on all 30 days' zone events;
* through SQLite (the server's ``visits`` and ``position_chunks`` tables, same columns and index)
  and PostgreSQL (127.0.0.1:5432, db ``test``, a schema of its own dropped afterwards): the 30-day
  heatmap read back day by day with the same pure functions.

Run: ``python benchmarks/analytics.py [--days N] [--no-postgres]``. Closing line
``analytics: heatmap_30d=X.Xs zones_30d=X.Xs bytes_per_visit_hour=N``. Heatmap and zone times
are process CPU seconds; database rows are wall seconds (they wait on I/O).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from aislecast.bench import cpu_timed, format_table  # noqa: E402
from server.positions_codec import POINT_DTYPE  # noqa: E402
from server.tables.activity import PositionChunk, Visit  # noqa: E402
from server.tables.base import Base  # noqa: E402
from server.tables.commerce import Customer  # noqa: E402
from server.tables.stores import Store  # noqa: E402
from zones.analytics import (  # noqa: E402
    CellGrid,
    PresenceAccumulator,
    PresenceHeatmap,
    PresenceRollup,
    VisitColumns,
    ZoneEventColumns,
    hold_seconds_chunked,
    zone_table,
)
from zones.analytics.columns import ENTER, EXIT, FACING  # noqa: E402
from zones.model import Zone  # noqa: E402

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
T0 = 1_780_000_000_000 - 1_780_000_000_000 % 86_400_000
SEED = 9
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_analytics"

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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- storage: the server's tables -------------------------------------------------------------


def create_tables(url: str, schema: str | None = None) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        if schema:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            connection.exec_driver_sql(f"SET search_path TO {schema}")
        names = (Store.__tablename__, Customer.__tablename__, Visit.__tablename__)
        tables = [Base.metadata.tables[name] for name in (*names, PositionChunk.__tablename__)]
        Base.metadata.create_all(connection, tables=tables)
        connection.execute(
            insert(Store),
            [{"id": STORE_ID, "name": "bench", "timezone": "Europe/Berlin", "created_ms": T0}],
        )
        connection.execute(
            insert(Customer),
            [{"id": f"customer-{c:06d}", "cap_ledger": {}} for c in range(CUSTOMERS)],
        )
    engine.dispose()


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
            None,
            int(day.chunk_t_start_ms[c]),
            int(ends[c]),
            int(day.chunk_n[c]),
            blob[offsets[c] * size : offsets[c + 1] * size],
        )


VISIT_INSERT = (
    "INSERT INTO visits (id, store_id, customer_id, started_ms, last_seen_ms, ended_ms, "
    "app_version, consents) VALUES ({})"
)
CHUNK_INSERT = (
    "INSERT INTO position_chunks (visit_id, store_id, floor_id, t_start_ms, t_end_ms, "
    "n_points, payload) VALUES ({})"
)
CHUNK_SELECT = (
    "SELECT visit_id, t_start_ms, n_points, payload FROM position_chunks "
    "WHERE store_id = {p} AND t_start_ms >= {p} AND t_start_ms < {p}"
)
VISIT_SELECT = (
    "SELECT id, customer_id FROM visits WHERE store_id = {p} AND started_ms >= {p} "
    "AND started_ms < {p}"
)


ROLLUP_TABLE = (
    "CREATE TABLE presence_rollups (store_id INTEGER NOT NULL, day_start_ms BIGINT NOT NULL, "
    "seconds {blob} NOT NULL, visitor_cells {blob} NOT NULL, "
    "off_floor_s DOUBLE PRECISION NOT NULL, PRIMARY KEY (store_id, day_start_ms))"
)
ROLLUP_SELECT = (
    "SELECT seconds, visitor_cells, off_floor_s FROM presence_rollups "
    "WHERE store_id = {p} AND day_start_ms >= {p} AND day_start_ms < {p}"
)


class ChunkStore:
    """Writes and reads the two tables over a DB-API connection (sqlite3 or psycopg)."""

    def __init__(self, connection: sqlite3.Connection | psycopg.Connection, mark: str) -> None:
        self.connection = connection
        self.mark = mark

    def read_cursor(self) -> sqlite3.Cursor | psycopg.Cursor[Any]:
        """PostgreSQL sends ``bytea`` as hex text unless asked for binary results: 2x the bytes
        and a decode per row."""
        if isinstance(self.connection, psycopg.Connection):
            return self.connection.cursor(binary=True)
        return self.connection.cursor()

    def create_rollup_table(self) -> None:
        blob = "BYTEA" if isinstance(self.connection, psycopg.Connection) else "BLOB"
        self.connection.execute(ROLLUP_TABLE.format(blob=blob))
        self.connection.commit()

    def write_rollup(self, rollup: PresenceRollup, day_index: int) -> None:
        marks = ", ".join([self.mark] * 5)
        self.connection.execute(
            f"INSERT INTO presence_rollups VALUES ({marks})",
            (
                STORE_ID,
                T0 + day_index * 86_400_000,
                rollup.seconds.tobytes(),
                rollup.visitor_cells.tobytes(),
                rollup.off_floor_s,
            ),
        )
        self.connection.commit()

    def heatmap_from_rollups(self, grid: CellGrid, days: int) -> PresenceHeatmap:
        """The same heatmap from one stored rollup a day (visitors numbered per store)."""
        heat = PresenceAccumulator(grid, CUSTOMERS)
        rows = self.read_cursor().execute(
            ROLLUP_SELECT.format(p=self.mark), (STORE_ID, T0, T0 + days * 86_400_000)
        )
        for seconds, visitor_cells, off_floor_s in rows.fetchall():
            heat.add_rollup(
                PresenceRollup(
                    np.frombuffer(seconds, np.float64),
                    np.frombuffer(visitor_cells, np.int64),
                    float(off_floor_s),
                )
            )
        return heat.result()

    def write_day(self, day: Day, day_index: int) -> None:
        cursor = self.connection.cursor()
        if isinstance(self.connection, psycopg.Connection):
            with cursor.copy(  # type: ignore[union-attr]
                "COPY visits (id, store_id, customer_id, started_ms, last_seen_ms, ended_ms, "
                "app_version, consents) FROM STDIN"
            ) as copy:
                for row in visit_rows(day, day_index):
                    copy.write_row(row)
            with cursor.copy(  # type: ignore[union-attr]
                "COPY position_chunks (visit_id, store_id, floor_id, t_start_ms, t_end_ms, "
                "n_points, payload) FROM STDIN"
            ) as copy:
                for row in chunk_rows(day):
                    copy.write_row(row)
        else:
            marks = ", ".join([self.mark] * 8)
            cursor.executemany(VISIT_INSERT.format(marks), visit_rows(day, day_index))
            cursor.executemany(CHUNK_INSERT.format(", ".join([self.mark] * 7)), chunk_rows(day))
        self.connection.commit()

    def heatmap(self, grid: CellGrid, days: int) -> PresenceHeatmap:
        """The presence heatmap of ``days`` days, read a day at a time."""
        cursor = self.read_cursor()
        visitor_of: dict[str, int] = {}
        visit_number: dict[str, int] = {}
        t_end = T0 + days * 86_400_000
        for visit_id, customer_id in cursor.execute(
            VISIT_SELECT.format(p=self.mark), (STORE_ID, T0, t_end)
        ):
            visit_number[visit_id] = len(visit_number)
            visitor_of[visit_id] = visitor_of.get(customer_id, len(visitor_of))
        owners = np.fromiter((visitor_of[v] for v in visit_number), np.int64, len(visit_number))
        heat = PresenceAccumulator(grid, int(owners.max()) + 1)
        for day in range(days):
            lo = T0 + day * 86_400_000
            rows = cursor.execute(CHUNK_SELECT.format(p=self.mark), (STORE_ID, lo, lo + 86_400_000))
            visit_ids, t_start, n_points, payloads = zip(*rows.fetchall(), strict=True)
            points = np.frombuffer(b"".join(payloads), dtype=POINT_DTYPE)
            chunk_visit = np.fromiter((visit_number[v] for v in visit_ids), np.int64)
            add_day_to_heatmap(
                heat,
                points,
                chunk_visit,
                np.asarray(t_start, np.int64),
                np.asarray(n_points, np.int64),
                owners,
            )
        return heat.result()


def timing_row(what: str, span: str, seconds: float, n_points: float) -> list[str]:
    return [what, span, f"{seconds:.2f}", f"{seconds / n_points * 1e9:.1f}"]


def postgres_size_and_drop(store: ChunkStore) -> int:
    """Bytes of ``position_chunks`` with its TOAST and indexes; then the schema is dropped."""
    row = store.connection.execute("SELECT pg_total_relation_size('position_chunks')").fetchone()
    size = int(row[0]) if row else 0
    store.connection.close()
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    engine.dispose()
    return size


def wall_timed(fn: Callable[[], PresenceHeatmap]) -> tuple[PresenceHeatmap, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    # The SQLite file (~2.3 GB for 30 days) lives in a folder removed however the run ends.
    with tempfile.TemporaryDirectory(prefix="aislecast-analytics-") as folder:
        run(Path(folder))


def run(workdir: Path) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    days = args.days
    grid = CellGrid(WIDTH_M, HEIGHT_M, cell_m=1.0)
    zones = store_zones()
    heat = PresenceAccumulator(grid, CUSTOMERS)
    sqlite_path = workdir / "analytics.sqlite"
    create_tables(f"sqlite:///{sqlite_path}")
    lite = sqlite3.connect(sqlite_path)
    lite.execute("PRAGMA journal_mode=WAL")
    lite.execute("PRAGMA synchronous=OFF")
    postgres = None
    if not args.no_postgres:
        create_tables("postgresql+psycopg://postgres@127.0.0.1:5432/test", PG_SCHEMA)
        pg = psycopg.connect(PG_URL, options=f"-c search_path={PG_SCHEMA}")
        postgres = ChunkStore(pg, "%s")
    sqlite_store = ChunkStore(lite, "?")
    stores = [sqlite_store] + ([postgres] if postgres is not None else [])
    for store in stores:
        store.create_rollup_table()
    heat_day_s: list[float] = []
    events: list[ZoneEventColumns] = []
    visit_parts: list[tuple[IntArray, IntArray, IntArray, NDArray[np.bool_]]] = []
    n_points = payload_bytes = 0
    visit_seconds = 0.0
    write_s = {"sqlite": 0.0, "postgres": 0.0}
    for d in range(days):
        day = generate_day(d)
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
        # Closing the day: its rollup, stored beside the chunks (not timed, done once a day).
        day_heat = PresenceAccumulator(grid, CUSTOMERS)
        add_day_to_heatmap(
            day_heat, day.points, day.chunk_visit, day.chunk_t_start_ms, day.chunk_n, owners
        )
        for store in stores:
            store.write_rollup(day_heat.rollup(), d)
        del day_heat
        start = time.perf_counter()
        sqlite_store.write_day(day, d)
        write_s["sqlite"] += time.perf_counter() - start
        if postgres is not None:
            start = time.perf_counter()
            postgres.write_day(day, d)
            write_s["postgres"] += time.perf_counter() - start
        print(f"day {d + 1}/{days}: {day.points.size:,} points", file=sys.stderr, flush=True)
    heatmap_memory, finish_s = cpu_timed(heat.result)
    heatmap_30d = sum(heat_day_s) + finish_s
    visits = VisitColumns(*(np.concatenate([p[i] for p in visit_parts]) for i in range(4)))
    all_events = ZoneEventColumns(
        *(
            np.concatenate([getattr(e, f) for e in events])
            for f in ("visit", "zone", "kind", "t_ms")
        )
    )
    table_1d, zones_1d = cpu_timed(lambda: zone_table(zones, events[0], visits))
    table_30d, zones_30d = cpu_timed(lambda: zone_table(zones, all_events, visits))
    lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sqlite_bytes = sqlite_path.stat().st_size
    heatmap_sqlite, sqlite_s = wall_timed(lambda: sqlite_store.heatmap(grid, days))
    assert np.allclose(heatmap_sqlite.seconds, heatmap_memory.seconds)
    rollup_sqlite, rollup_sqlite_s = wall_timed(
        lambda: sqlite_store.heatmap_from_rollups(grid, days)
    )
    assert np.allclose(rollup_sqlite.seconds, heatmap_memory.seconds)
    assert np.array_equal(rollup_sqlite.visitors, heatmap_memory.visitors)
    span = f"{days} days"
    rows = [
        timing_row("heatmap, in memory", "1 day", heat_day_s[0], n_points / days),
        timing_row("heatmap, in memory", span, heatmap_30d, n_points),
        timing_row("heatmap, read from SQLite (wall)", span, sqlite_s, n_points),
    ]
    rollup_rows = [
        timing_row("heatmap, daily rollups from SQLite (wall)", span, rollup_sqlite_s, n_points)
    ]
    pg_bytes = 0
    if postgres is not None:
        pg_store = postgres
        heatmap_pg, pg_s = wall_timed(lambda: pg_store.heatmap(grid, days))
        assert np.allclose(heatmap_pg.seconds, heatmap_memory.seconds)
        rollup_pg, rollup_pg_s = wall_timed(lambda: pg_store.heatmap_from_rollups(grid, days))
        assert np.allclose(rollup_pg.seconds, heatmap_memory.seconds)
        rows.append(timing_row("heatmap, read from PostgreSQL (wall)", span, pg_s, n_points))
        rollup_rows.append(
            timing_row("heatmap, daily rollups from PostgreSQL (wall)", span, rollup_pg_s, n_points)
        )
        pg_bytes = postgres_size_and_drop(pg_store)
    rows += rollup_rows
    n_events = int(all_events.t_ms.size)
    rows += [
        [
            "zone table",
            "1 day",
            f"{zones_1d:.2f}",
            f"{zones_1d / events[0].t_ms.size * 1e9:.1f} per event",
        ],
        [
            "zone table",
            f"{days} days",
            f"{zones_30d:.2f}",
            f"{zones_30d / n_events * 1e9:.1f} per event",
        ],
    ]
    lite.close()
    visit_hours = visit_seconds / 3600.0
    bytes_per_visit_hour = payload_bytes / visit_hours
    print(format_table(["what", "span", "seconds", "ns per point"], rows))
    print()
    storage = [
        ["packed payload", f"{payload_bytes / 1e9:.2f} GB", f"{bytes_per_visit_hour:,.0f}"],
        [
            "SQLite file (visits + chunks + indexes)",
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
    suppressed = heatmap_memory.n_suppressed
    print(
        f"{n_points:,} estimates, {visits.visitor.size:,} visits, {n_events:,} zone events; "
        f"database writes: SQLite {write_s['sqlite']:.0f} s, "
        f"PostgreSQL {write_s['postgres']:.0f} s; "
        f"heatmap cells suppressed: {suppressed}; zone rows suppressed: {table_30d.n_suppressed}; "
        f"median dwell of zone 0 on day 1: {table_1d.rows[0].median_dwell_s} s; "
        f"peak RSS {peak_rss_mb():,.0f} MB"
    )
    print(
        f"analytics: heatmap_30d={heatmap_30d:.1f}s zones_30d={zones_30d:.1f}s "
        f"bytes_per_visit_hour={bytes_per_visit_hour:.0f}"
    )


if __name__ == "__main__":
    main()
