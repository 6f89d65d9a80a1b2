"""Daily rollups give the raw computation's figures, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.analytics_queries import floor_heatmaps
from server.analytics_rollup import closed_days_to_roll, day_bounds, rollup_day
from server.analytics_service import AnalyticsQuery
from server.database import Database
from server.tables import Customer, Floor, PresenceRollupRow, Store, ZoneEventRollupRow
from tests.server.analytics_seed import (
    DAYS,
    FIRST_CELL_S,
    FIRST_DAY,
    LONER_S,
    SECOND_CELL_S,
    SHOPPERS,
    TIME_ZONE,
    Seeded,
    add_days,
    add_store,
    add_visit,
)

K = 5


def _range() -> tuple[int, int]:
    lo, _ = day_bounds(TIME_ZONE, FIRST_DAY)
    _, hi = day_bounds(TIME_ZONE, FIRST_DAY + timedelta(days=DAYS - 1))
    return lo, hi


def test_rollups_equal_the_raw_computation(database: Database) -> None:
    with database.session() as session:
        seeded = add_store(session, created_ms=_range()[0] - 86_400_000)
        add_days(session, seeded)
    with database.session() as session:  # the first two days close; the third stays raw
        for d in range(DAYS - 1):
            rollup_day(session, seeded.store_id, FIRST_DAY + timedelta(days=d), 0)
    with database.session() as session:  # idempotent: a second run replaces, never adds
        rollup_day(session, seeded.store_id, FIRST_DAY, 0)
        assert session.scalar(select(func.count()).select_from(ZoneEventRollupRow)) == DAYS - 1
        assert session.scalar(select(func.count()).select_from(PresenceRollupRow)) == DAYS - 1
    from_ms, to_ms = _range()
    results = {}
    with database.session() as session:
        store = session.get(Store, seeded.store_id)
        floor = session.get(Floor, seeded.floor_id)
        assert store is not None
        assert floor is not None
        for use_rollups in (True, False):
            query = AnalyticsQuery(
                session, store, floor, from_ms, to_ms, K, use_rollups=use_rollups
            )
            results[use_rollups] = (
                query.heatmaps(),
                query.zones_table(),
                query.paths()["transitions"],
                query.activity,
            )
    (maps, zones, transitions, activity), (raw_maps, raw_zones, raw_transitions, _) = (
        results[True],
        results[False],
    )
    assert maps.days_from_rollups == DAYS - 1
    assert raw_maps.days_from_rollups == 0
    assert activity.days_from_rollups == DAYS - 1
    # Heatmap mass and where it lies: per walk 60 s in cell (0, 0) and 29 s in (1, 0).
    walks = DAYS * len(SHOPPERS)
    heat = maps.presence
    assert heat.seconds.sum() == pytest.approx(walks * (FIRST_CELL_S + SECOND_CELL_S) + LONER_S)
    assert heat.seconds[0, 0] == pytest.approx(walks * FIRST_CELL_S)
    assert heat.seconds[0, 1] == pytest.approx(walks * SECOND_CELL_S)
    # Distinct people over the days, not visits: six shoppers came three times each.
    assert heat.visitors[0, 0] == len(SHOPPERS)
    assert heat.suppressed[8, 8]
    assert heat.n_suppressed == 1
    np.testing.assert_array_equal(heat.seconds, raw_maps.presence.seconds)
    np.testing.assert_array_equal(heat.visitors, raw_maps.presence.visitors)
    np.testing.assert_array_equal(maps.facing.moments, raw_maps.facing.moments)
    assert maps.facing.moments[1].sum() == walks  # zone b, faced once a walk, where they stood
    assert maps.facing.moments[1, 0, 0] == walks
    # Dwell and transitions from the rolled-up events.
    assert zones.rows == raw_zones.rows
    b = zones.as_json()["rows"][1]
    assert (b["zone_id"], b["visitors"], b["entries"], b["median_dwell_s"], b["p90_dwell_s"]) == (
        "b",
        len(SHOPPERS),
        walks,
        30.0,
        30.0,
    )
    assert transitions.rows == raw_transitions.rows
    assert transitions.rows == [["a > b", walks, len(SHOPPERS)], ["b > c", walks, len(SHOPPERS)]]


def test_a_partial_day_is_read_raw_beside_whole_days(database: Database) -> None:
    with database.session() as session:
        seeded = add_store(session, created_ms=_range()[0] - 86_400_000)
        add_days(session, seeded)
    with database.session() as session:
        for d in range(DAYS):
            rollup_day(session, seeded.store_id, FIRST_DAY + timedelta(days=d), 0)
    lo, hi = _range()
    half_day = lo + 10 * 3_600_000 + 3 * 120_000  # the first day's shoppers 3.. only
    with database.session() as session:
        floor = session.get(Floor, seeded.floor_id)
        assert floor is not None
        maps = floor_heatmaps(session, seeded.store_id, TIME_ZONE, floor, half_day, hi, ["b"], K)
    assert maps.days_from_rollups == DAYS - 1
    walks = (DAYS - 1) * len(SHOPPERS) + len(SHOPPERS) - 3
    assert maps.presence.seconds[0, 0] == pytest.approx(walks * FIRST_CELL_S)


def test_the_day_close_job_picks_closed_days_once(database: Database) -> None:
    lo, hi = _range()
    with database.session() as session:
        seeded = add_store(session, created_ms=lo)
        store = session.get(Store, seeded.store_id)
        assert store is not None
        # Two hours after the last day ended: all three days are closed and not rolled up.
        days = closed_days_to_roll(session, store, hi + 2 * 3_600_000)
        assert days == [FIRST_DAY + timedelta(days=d) for d in range(DAYS)]
        # Half an hour after: the last day is still within its grace.
        assert len(closed_days_to_roll(session, store, hi + 1_800_000)) == DAYS - 1
        rollup_day(session, seeded.store_id, FIRST_DAY, 0)
        assert FIRST_DAY not in closed_days_to_roll(session, store, hi + 2 * 3_600_000)


def _add_standers(session: Session, seeded: Seeded, day: int, people: list[str], x: float) -> None:
    lo, _ = day_bounds(TIME_ZONE, FIRST_DAY + timedelta(days=day))
    for i, customer_id in enumerate(people):
        if session.get(Customer, customer_id) is None:
            session.add(Customer(id=customer_id, consents="location_analytics", cap_ledger={}))
            session.flush()
        add_visit(session, seeded, f"{customer_id}-d{day}", customer_id,
                  lo + 15 * 3_600_000 + i * 60_000, walk=False, spot=(x, 6.5))  # fmt: skip


def test_the_same_few_shoppers_on_several_days_stay_hidden(database: Database) -> None:
    """Three people in a cell on each of two days are three, not six: still below k = 5, so the
    cell stays hidden, although the days' counts add up past k. Three others on day two make
    six different people in the next cell, which is shown. Rollups and raw rows agree."""
    with database.session() as session:
        seeded = add_store(session, created_ms=_range()[0] - 86_400_000)
        regulars = ["reg-0", "reg-1", "reg-2"]
        for day in (0, 1):
            _add_standers(session, seeded, day, regulars, x=5.5)
        _add_standers(session, seeded, 0, ["new-0", "new-1", "new-2"], x=3.5)
        _add_standers(session, seeded, 1, ["new-3", "new-4", "new-5"], x=3.5)
    with database.session() as session:
        for d in range(2):
            rollup_day(session, seeded.store_id, FIRST_DAY + timedelta(days=d), 0)
    lo, hi = _range()
    with database.session() as session:
        floor = session.get(Floor, seeded.floor_id)
        assert floor is not None
        maps = {
            rollups: floor_heatmaps(
                session, seeded.store_id, TIME_ZONE, floor, lo, hi, [], K, use_rollups=rollups
            ).presence
            for rollups in (True, False)
        }
    for heat in maps.values():
        assert heat.visitors[6, 5] == 3
        assert heat.suppressed[6, 5]
        assert heat.visitors[6, 3] == 6
        assert not heat.suppressed[6, 3]
        assert heat.seconds[6, 5] == pytest.approx(2 * 3 * LONER_S)
