"""Store analytics on small synthetic visits whose answers are known by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from zones.analytics import (
    CellGrid,
    PresenceAccumulator,
    PurchaseColumns,
    VisitColumns,
    ZoneEventColumns,
    chunk_point_columns,
    enter_exit_dwell_s,
    facing_heatmap,
    hold_seconds,
    hold_seconds_chunked,
    paths,
    positions_at,
    presence_heatmap,
    returning_visitors,
    visit_lengths,
    week_hours,
    zone_table,
)
from zones.events import ZoneKind
from zones.model import Zone

T0 = 1_780_000_000_000


def _zone(
    zone_id: str, x0: float, kind: ZoneKind = "shelf", categories: tuple[str, ...] = ()
) -> Zone:
    return Zone.from_coords(
        zone_id,
        zone_id.upper(),
        kind,
        [(x0, 0), (x0 + 2, 0), (x0 + 2, 2), (x0, 2)],
        categories=categories,
    )


ZONES = [
    _zone("door", 0, "entrance"),
    _zone("milk", 2, categories=("dairy",)),
    _zone("bread", 4, categories=("bakery",)),
    _zone("till", 6, "checkout"),
]


def _visits(
    n: int, consent: list[bool] | None = None, visitor: list[int] | None = None
) -> VisitColumns:
    return VisitColumns.of(
        visitor if visitor is not None else list(range(n)),
        [T0 + i * 1000 for i in range(n)],
        [T0 + i * 1000 + 600_000 for i in range(n)],
        consent if consent is not None else [True] * n,
    )


def test_hold_seconds_caps_gaps_and_stops_at_each_visit_end() -> None:
    t = [0, 1000, 3000, 60_000, 0, 500]
    visit = [0, 0, 0, 0, 1, 1]
    hold = hold_seconds(t, visit, max_gap_s=5.0)
    assert hold.tolist() == [1.0, 2.0, 5.0, 0.0, 0.5, 0.0]


def test_hold_seconds_refuses_points_out_of_time_order() -> None:
    with pytest.raises(ValueError, match="time order"):
        hold_seconds([0, 2000, 1000], [0, 0, 0])


def test_heatmap_mass_is_total_capped_time_in_the_right_cells() -> None:
    grid = CellGrid(10.0, 5.0, cell_m=1.0)
    # 3 s in cell (0, 0), then a 30 s silence in cell (2, 0) that counts for the 5 s cap.
    t = [0, 1000, 2000, 3000, 33_000]
    x = [0.5, 0.5, 0.5, 2.5, 2.5]
    y = [0.5, 0.5, 0.5, 0.5, 0.5]
    heat = presence_heatmap(grid, t, x, y, [0] * 5, [0], k=1, max_gap_s=5.0)
    assert heat.seconds.sum() == pytest.approx(3.0 + 5.0)
    assert heat.seconds[0, 0] == pytest.approx(3.0)
    assert heat.seconds[0, 2] == pytest.approx(5.0)
    assert heat.visitors[0, 0] == 1
    assert heat.visitors[0, 2] == 1
    assert heat.n_suppressed == 0


def test_fast_heatmap_equals_a_per_point_loop() -> None:
    rng = np.random.default_rng(3)
    grid = CellGrid(12.0, 7.0, cell_m=0.5)
    n_visits = 40
    sizes = rng.integers(1, 60, n_visits)
    visit = np.repeat(np.arange(n_visits), sizes)
    t = np.concatenate([np.cumsum(rng.integers(200, 9000, s)) for s in sizes])
    x = rng.uniform(-1.0, 13.0, visit.size)  # some points off the floor
    y = rng.uniform(0.0, 7.0, visit.size)
    owner = rng.integers(0, 15, n_visits)
    heat = presence_heatmap(grid, t, x, y, visit, owner, k=3, max_gap_s=4.0)
    seconds = np.zeros((grid.ny, grid.nx))
    people: dict[tuple[int, int], set[int]] = {}
    off_floor = 0.0
    for i in range(visit.size):
        last = i + 1 == visit.size or visit[i + 1] != visit[i]
        hold = 0.0 if last else min((t[i + 1] - t[i]) / 1000.0, 4.0)
        col, row = int(x[i] // 0.5), int(y[i] // 0.5)
        if not (0 <= col < grid.nx and 0 <= row < grid.ny):
            off_floor += hold
            continue
        seconds[row, col] += hold
        people.setdefault((row, col), set()).add(int(owner[visit[i]]))
    np.testing.assert_allclose(heat.seconds, seconds)
    assert heat.off_floor_s == pytest.approx(off_floor)
    for (row, col), who in people.items():
        assert heat.visitors[row, col] == len(who)
        assert heat.suppressed[row, col] == (len(who) < 3)


def test_k_anonymity_hides_cells_with_few_visitors_and_says_so() -> None:
    grid = CellGrid(4.0, 1.0)
    # Five people pass cell 0; only visitor 4 ever reaches cell 3.
    visit = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
    t = [0, 1000] * 4 + [0, 1000, 2000]
    x = [0.5, 0.5] * 4 + [0.5, 0.5, 3.5]
    heat = presence_heatmap(grid, t, x, [0.5] * 11, visit, [0, 1, 2, 3, 4], k=5)
    assert heat.suppressed[0].tolist() == [False, False, False, True]
    assert np.isnan(heat.shown_s[0, 3])
    assert heat.shown_s[0, 0] == pytest.approx(6.0)
    assert heat.n_suppressed == 1
    assert "1 cells hidden" in heat.note
    assert "5" in heat.note
    # The same person returning in five visits is still one visitor: hidden.
    same_person = presence_heatmap(grid, t, x, [0.5] * 11, visit, [7] * 5, k=5)
    assert same_person.suppressed[0, 0]


def test_packed_chunks_give_the_points_times_and_visits() -> None:
    t, visit = chunk_point_columns(
        [0, 1000, 0, 0, 500], [T0, T0 + 60_000, T0 + 5], [2, 1, 2], [3, 3, 9]
    )
    assert (t - T0).tolist() == [0, 1000, 60_000, 5, 505]
    assert visit.tolist() == [3, 3, 3, 9, 9]
    with pytest.raises(ValueError, match="chunks hold"):
        chunk_point_columns([0, 1], [T0], [3], [0])


def _walk_events() -> ZoneEventColumns:
    """Visit 0: door → milk (30 s) → bread (10 s) → till, faces milk, buys dairy.
    Visit 1: door → milk (90 s) → till. Visit 2: door → bread (50 s), left without checkout."""
    rows = [
        (0, 0, "enter", 0), (0, 0, "exit", 5_000), (0, 1, "enter", 5_000),
        (0, 1, "facing", 10_000), (0, 1, "exit", 35_000), (0, 2, "enter", 35_000),
        (0, 2, "exit", 45_000), (0, 3, "enter", 45_000),
        (1, 0, "enter", 0), (1, 1, "enter", 3_000), (1, 1, "exit", 93_000), (1, 3, "enter", 95_000),
        (2, 0, "enter", 0), (2, 2, "enter", 10_000), (2, 2, "exit", 60_000),
        (2, -1, "visit_end", 70_000),
    ]  # fmt: skip
    return ZoneEventColumns.of(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [T0 + r[3] for r in rows]
    )


def test_dwell_pairs_each_enter_with_the_next_exit_of_its_zone() -> None:
    zone, dwell = enter_exit_dwell_s(_walk_events())
    assert sorted(zip(zone.tolist(), dwell.tolist(), strict=True)) == [
        (0, 5.0), (1, 30.0), (1, 90.0), (2, 10.0), (2, 50.0)
    ]  # fmt: skip


def test_zone_table_counts_visitors_dwell_facing_and_conversion() -> None:
    purchases = PurchaseColumns.of(
        [0, 0, 1], [T0 + 50_000, T0 + 50_000, T0 + 1_000], ["dairy", "toys", "dairy"]
    )
    table = zone_table(ZONES, _walk_events(), _visits(3), purchases, k=1)
    milk = table.row("milk")
    assert (milk.visitors, milk.entries) == (2, 2)
    assert milk.median_dwell_s == pytest.approx(60.0)
    assert milk.p90_dwell_s == pytest.approx(30.0 + 0.9 * 60.0)
    assert milk.faced_share == pytest.approx(0.5)
    # Visit 1 bought dairy before it reached the milk: only visit 0 converts.
    assert milk.conversion == pytest.approx(0.5)
    assert table.row("bread").conversion == pytest.approx(0.0)
    assert table.row("door").conversion is None  # no categories
    assert table.row("till").median_dwell_s is None  # never exited


def test_zone_table_suppresses_rows_below_k() -> None:
    table = zone_table(ZONES, _walk_events(), _visits(3), k=3)
    assert not table.row("door").suppressed
    assert table.row("door").visitors == 3
    milk = table.row("milk")
    assert milk.suppressed
    assert milk.visitors is None
    assert milk.median_dwell_s is None
    assert table.n_suppressed == 3
    assert "3 zones hidden" in table.note


def test_consent_filter_drops_unconsented_visits() -> None:
    visits = _visits(3, consent=[True, False, True])
    table = zone_table(ZONES, _walk_events(), visits, k=1, consented_only=True)
    assert table.row("milk").visitors == 1
    assert table.row("milk").median_dwell_s == 30.0
    assert table.row("door").visitors == 2
    everyone = zone_table(ZONES, _walk_events(), visits, k=1)
    assert everyone.row("door").visitors == 3


def test_paths_count_transitions_routes_and_ends() -> None:
    result = paths(ZONES, _walk_events(), _visits(3), k=1)
    assert result.transitions.counts() == {
        ("door", "milk"): 2, ("milk", "bread"): 1, ("bread", "till"): 1, ("milk", "till"): 1,
        ("door", "bread"): 1,
    }  # fmt: skip
    assert result.transitions.rows[0].steps == ("door", "milk")
    assert result.routes.counts() == {
        ("door", "milk", "bread", "till"): 1,
        ("door", "milk", "till"): 1,
    }
    assert result.visit_ends.counts() == {("till",): 2, ("bread",): 1}
    hidden = paths(ZONES, _walk_events(), _visits(3), k=2)
    assert hidden.transitions.counts() == {("door", "milk"): 2}
    assert hidden.transitions.n_suppressed == 4
    assert hidden.routes.counts() == {}
    assert hidden.routes.n_suppressed == 2


def test_week_hours_use_the_store_time_zone() -> None:
    # Monday 2026-07-06 23:30 UTC is Tuesday 01:30 in Berlin (CEST) and Monday 19:30 in New York.
    start = int(datetime(2026, 7, 6, 23, 30, tzinfo=UTC).timestamp() * 1000)
    visits = VisitColumns.of([0], [start], [start + 60_000], [True])
    assert week_hours(visits, "Europe/Berlin", k=1).visits[1, 1] == 1
    assert week_hours(visits, "America/New_York", k=1).visits[0, 19] == 1
    # Winter: 2026-01-05 (Monday) 23:30 UTC is 00:30 Tuesday in Berlin (CET, +1).
    winter = int(datetime(2026, 1, 5, 23, 30, tzinfo=UTC).timestamp() * 1000)
    visits = VisitColumns.of([0], [winter], [winter], [True])
    assert week_hours(visits, "Europe/Berlin", k=1).visits[1, 0] == 1
    assert week_hours(visits, "Europe/Berlin", k=2).suppressed[1, 0]


def test_visit_lengths_and_returning_visitors_count_consented_people() -> None:
    visits = VisitColumns.of(
        [0, 0, 1, 2, 2, 3],
        [T0] * 6,
        [T0 + m * 60_000 for m in (3, 12, 12, 25, 70, 8)],
        [True, True, True, True, True, False],
    )
    lengths = visit_lengths(visits, k=1)
    assert lengths.visits.tolist()[:7] == [1, 1, 2, 1, 0, 0, 1]
    assert lengths.median_min == pytest.approx(12.0)
    returning = returning_visitors(visits, k=1)
    assert (returning.visitors, returning.returning) == (3, 2)  # visitor 3 has no consent
    assert returning.share == pytest.approx(2 / 3)
    assert returning_visitors(visits, k=2).suppressed  # one one-time visitor would be exposed


def test_facing_heatmap_places_each_facing_at_the_last_estimate_before_it() -> None:
    grid = CellGrid(4.0, 2.0)
    t = [0, 1000, 2000, 0, 1000]
    visit = [0, 0, 0, 1, 1]
    x = [0.5, 1.5, 2.5, 3.5, 3.5]
    fx, fy, found = positions_at([1500, 500, 0], [0, 1, 2], t, x, [0.5] * 5, visit)
    assert found.tolist() == [True, True, False]
    assert fx[:2].tolist() == [1.5, 3.5]
    heat = facing_heatmap(grid, ("milk",), [0, 0], fx[:2], fy[:2], [0, 1], k=1)
    assert heat.moments[0, 0].tolist() == [0, 1, 0, 1]
    assert heat.shown("milk")[0, 1] == 1.0
    assert facing_heatmap(grid, ("milk",), [0, 0], fx[:2], fy[:2], [0, 1], k=2).n_suppressed == 2


def test_chunked_hold_in_any_chunk_order_equals_the_grouped_hold() -> None:
    rng = np.random.default_rng(11)
    n_chunks = 60
    chunk_visit = rng.integers(0, 8, n_chunks)
    chunk_t = np.sort(rng.integers(0, 10**7, n_chunks))  # distinct visits interleave in time
    chunk_t += np.arange(n_chunks) * 200_000  # chunks of a visit never overlap
    sizes = rng.integers(1, 20, n_chunks)
    dt = np.concatenate([np.cumsum(rng.integers(0, 7000, s)) - 0 for s in sizes])
    dt = dt - np.repeat(dt[np.cumsum(sizes) - sizes], sizes)  # each chunk starts at dt 0
    shuffled = rng.permutation(n_chunks)
    offsets = np.cumsum(sizes) - sizes
    dt_shuffled = np.concatenate([dt[offsets[c] : offsets[c] + sizes[c]] for c in shuffled])
    hold = hold_seconds_chunked(
        dt_shuffled, chunk_t[shuffled], sizes[shuffled], chunk_visit[shuffled], max_gap_s=5.0
    )
    t, visit = chunk_point_columns(
        dt_shuffled, chunk_t[shuffled], sizes[shuffled], chunk_visit[shuffled]
    )
    grouped = np.lexsort((t, visit))
    expected = hold_seconds(t[grouped], visit[grouped], max_gap_s=5.0)
    np.testing.assert_allclose(hold[grouped], expected)
    assert hold.sum() > 0


def test_daily_rollups_add_up_to_the_heatmap_of_all_days() -> None:
    rng = np.random.default_rng(5)
    grid = CellGrid(6.0, 4.0)
    days = []
    for _ in range(3):
        visit = np.repeat(np.arange(6), 20)
        t = np.tile(np.arange(20) * 1000, 6)
        days.append((rng.uniform(0, 6, visit.size), rng.uniform(0, 4, visit.size), visit, t))
    owners = rng.integers(0, 4, (3, 6))  # the same 4 people come back on several days
    whole = PresenceAccumulator(grid, 4)
    combined = PresenceAccumulator(grid, 4)
    for (x, y, visit, t), owner in zip(days, owners, strict=True):
        hold = hold_seconds(t, visit)
        whole.add(x, y, hold, owner[visit])
        day = PresenceAccumulator(grid, 4)
        day.add(x, y, hold, owner[visit])
        combined.add_rollup(day.rollup())
    expected, got = whole.result(k=3), combined.result(k=3)
    np.testing.assert_allclose(got.seconds, expected.seconds)
    np.testing.assert_array_equal(got.visitors, expected.visitors)
    assert got.visitors.max() <= 4  # a returning person is counted once, not once a day


def test_events_naming_an_unknown_visit_are_refused_with_a_reason() -> None:
    stray = ZoneEventColumns.of([0, 7], [1, 1], ["enter", "exit"], [T0, T0 + 1000])
    with pytest.raises(ValueError, match="visit number 7 is not one of the 3 visits"):
        zone_table(ZONES, stray, _visits(3))
    with pytest.raises(ValueError, match="visit number 7"):
        paths(ZONES, stray, _visits(3))
    with pytest.raises(ValueError, match="unknown kind"):
        ZoneEventColumns.of([0], [1], ["wander"], [T0])
