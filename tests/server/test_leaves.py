"""Disconnects written together (``server.realtime.leaves``): one worker call and one commit for
the connections that closed in the same turn, every visit's buffers and last sighting kept, and a
leave whose rows fail failing alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from positioning import Estimate
from server.database import Database
from server.pipeline import PipelineWiring, Shopper, ShopperPipeline
from server.realtime.leaves import LeaveBatcher
from server.store_snapshot import SnapshotCache
from server.tables import Customer, PositionChunk, RawReadingBatch, Store, Visit
from tests.server.harness import raw_frames_of
from tests.server.test_tick import _Tracked, frame

T0 = 1_790_000_000_000
LEFT_MS = T0 + 60_000


def seeded_shoppers(database: Database, n: int) -> list[Shopper]:
    with database.session() as session:
        store = Store(name="s", timezone="UTC", created_ms=T0)
        session.add(store)
        session.flush()
        for k in range(n):
            session.add(Customer(id=f"c{k}", gender="female", tier="", consents="", cap_ledger={}))
            session.flush()
            session.add(Visit(id=f"v{k}", store_id=store.id, customer_id=f"c{k}", started_ms=T0,
                              last_seen_ms=T0, app_version="1", consents=""))  # fmt: skip
        return [Shopper(f"c{k}", store.id, f"v{k}", frozenset()) for k in range(n)]


def buffered(database: Database, shoppers: list[Shopper], frames: int) -> list[ShopperPipeline]:
    """A pipeline per shopper holding ``frames`` raw frames and as many positions, not yet
    written (fewer than a write's worth)."""
    tracked = _Tracked()
    wiring = PipelineWiring(tracker_for=lambda _store, _customer: tracked)
    snapshots = SnapshotCache(database)
    lines = [ShopperPipeline(s, database, wiring, snapshots) for s in shoppers]
    for line in lines:
        line.raw_readings._write_at = frames + 1  # (the staggered first write may be smaller)
        for k in range(frames):
            t_ms = T0 + 1000 * k
            line.raw_readings.add(frame(t_ms), f'{{"t": {t_ms}}}')
            line.positions.extend([Estimate(t_ms, 1.0 + k, 2.0, 90.0, 1.5)])
    return lines


async def leave_together(
    batcher: LeaveBatcher, lines: list[ShopperPipeline]
) -> list[BaseException | None]:
    return await asyncio.gather(
        *(batcher.leave(line, LEFT_MS) for line in lines), return_exceptions=True
    )


def test_shoppers_who_leave_together_are_written_in_one_call_with_all_they_buffered(
    database: Database,
) -> None:
    shoppers = seeded_shoppers(database, 40)
    lines = buffered(database, shoppers, frames=3)
    batcher = LeaveBatcher()
    assert asyncio.run(leave_together(batcher, lines)) == [None] * len(lines)
    assert batcher.calls == 1
    assert all(line.raw_readings.pending() == line.positions.pending() == 0 for line in lines)
    with database.session() as session:
        frames = raw_frames_of(session.scalars(select(RawReadingBatch)).all())
        assert sorted(f.frame for f in frames) == sorted(
            f'{{"t": {T0 + 1000 * k}}}' for _ in shoppers for k in range(3)
        )
        chunks = session.scalars(select(PositionChunk)).all()
        assert sorted((c.visit_id, c.n_points) for c in chunks) == sorted(
            (s.visit_id, 3) for s in shoppers
        )
        seen = dict(session.execute(select(Visit.id, Visit.last_seen_ms)).all())
        assert seen == {s.visit_id: LEFT_MS for s in shoppers}


def test_a_leave_whose_rows_fail_fails_alone(database: Database) -> None:
    shoppers = seeded_shoppers(database, 3)
    ghost = Shopper("ghost", shoppers[0].store_id, "no-such-visit", frozenset())
    lines = buffered(database, [shoppers[0], ghost, shoppers[1]], frames=2)
    batcher = LeaveBatcher()
    good, failed, other = asyncio.run(leave_together(batcher, lines))
    assert good is None
    assert other is None
    assert isinstance(failed, Exception)
    with database.session() as session:
        rows = session.scalars(select(RawReadingBatch)).all()
        assert {r.visit_id for r in rows} == {shoppers[0].visit_id, shoppers[1].visit_id}
        assert len(raw_frames_of(rows)) == 4
        seen = dict(session.execute(select(Visit.id, Visit.last_seen_ms)).all())
        assert seen == {shoppers[0].visit_id: LEFT_MS, shoppers[1].visit_id: LEFT_MS,
                        shoppers[2].visit_id: T0}  # fmt: skip


@pytest.mark.parametrize("waves", [2, 5])
def test_leaves_that_arrive_while_a_call_runs_go_in_the_next(
    database: Database, waves: int
) -> None:
    shoppers = seeded_shoppers(database, 4 * waves)
    lines = buffered(database, shoppers, frames=1)
    batcher = LeaveBatcher()

    async def in_waves() -> list[BaseException | None]:
        tasks = []
        for w in range(waves):
            tasks += [asyncio.create_task(batcher.leave(line, LEFT_MS))
                      for line in lines[4 * w : 4 * w + 4]]  # fmt: skip
            await asyncio.sleep(0.05)  # the first call runs meanwhile
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert asyncio.run(in_waves()) == [None] * len(lines)
    assert 2 <= batcher.calls <= waves
    with database.session() as session:
        assert len(raw_frames_of(session.scalars(select(RawReadingBatch)).all())) == len(lines)
