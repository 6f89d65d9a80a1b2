"""The batched runner's tick after the push (``finish_tick``) against each shopper on their own.

Simulated shoppers walk the demo store (its zones and screens, two signage campaigns); their
noisy estimates go once through ``ShopperPipeline.on_batch_estimates`` one job at a time with
every occasion decided (the obvious path), and once through ``finish_tick`` in ticks of several
shoppers: one batched zone detector call per store, one commit for the tick's rows, decisions only
where a campaign is filed under the occasion. Answers and database rows must be the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from positioning import Estimate
from server.batch_tracking import BatchJob, BatchRunner, FixJob, finish_tick, process_jobs
from server.database import Database
from server.pipeline import (
    DecisionRequest,
    DecisionResult,
    PipelineStep,
    PipelineWiring,
    Positioned,
    Shopper,
    ShopperPipeline,
    UnknownFloor,
)
from server.raw_frames_codec import decode_frame
from server.realtime.frames import ReadingsBatch
from server.seed import seed_store
from server.store_snapshot import SnapshotCache
from server.store_zones import BATCH_MIN_ROWS, StoreZoneDetectors
from server.tables import Base, Customer, Offer, PositionChunk, RawReadingBatch, Visit, ZoneEventRow
from server.tick_zones import rounds, tick_zone_events
from server.trigger_decisions import TriggersDecider
from server.visit_log import (
    Compressed,
    PositionBuffer,
    RawFrame,
    RawFrameCompressor,
    VisitWrites,
    open_visit,
)
from simulator import demo_store
from simulator.live import load_cast
from simulator.store import store_to_dict
from tests.server.fakes import BoxZones
from tests.server.harness import raw_frames_of
from tests.server.test_parts import seeded_shopper
from triggers import CapLedger
from zones import ZoneEvent
from zones.detector import ZoneEventDetector
from zones.model import Zone

T0 = 1_790_000_000_000
SHOPPERS = 16
SECONDS = 75  # past a full position chunk (60 estimates) and the first dwell milestones
VISITS = 3
SEED = 5
CONSENTS = frozenset({"location_analytics", "personalised_offers", "signage"})
CAMPAIGNS = [
    {"name": "Screen welcome", "status": "active", "document": {
        "context": {"event": "near_screen"}, "channel": "signage", "holdout_share": 0.3,
        "content": {"title": "Fresh this week"}}},
    {"name": "Screen spotlight", "status": "active", "document": {
        "context": {"event": "facing", "zone_kinds": ["screen"]}, "channel": "signage",
        "content": {"title": "Today's offers"}}},
    {"name": "Lingering", "status": "active", "document": {
        "context": {"event": "dwell", "min_dwell_s": 10}, "channel": "app",
        "content": {"title": "Take your time"}}},
]  # fmt: skip


@dataclass
class Job:
    shopper: int
    estimates: list[Estimate]
    now_ms: int


def walks(rows: int) -> list[list[Job]]:
    """Ticks of ``rows`` jobs: each shopper's estimate of each second (the batched tracker's
    noise), in time order. Shopper 1 has two estimates a job; shopper 0 sends every other job
    together with the next one, in the same tick (a second batch before the first's answer)."""
    cast = load_cast("demo", VISITS, SEED, 3, distinct_visits=VISITS, max_visit_s=SECONDS + 2)
    rng = np.random.default_rng(SEED)
    phase = rng.integers(0, 1000, SHOPPERS)
    jobs: list[Job] = []
    for s in range(SECONDS):
        for i in range(SHOPPERS):
            trajectory = cast.visits[i % VISITS][1]
            offsets = [0, 500] if i == 1 else [0]
            t = [int(T0 + phase[i] + 1000 * s + o) for o in offsets]
            x, y, heading = trajectory.pose_at(trajectory.start_ms + np.array(t, float) - T0)
            estimates = [
                Estimate(t[k], float(x[k] + rng.normal(0, 1.5)), float(y[k] + rng.normal(0, 1.5)),
                         float(heading[k] + rng.normal(0, 15)) % 360.0, 2.1)
                for k in range(len(t))
            ]  # fmt: skip
            jobs.append(Job(i, estimates, t[-1] + 40))
    jobs.sort(key=lambda j: j.estimates[-1].t_ms)
    ticks: list[list[Job]] = []
    held: Job | None = None
    for job in jobs:
        if job.shopper == 0 and held is None:
            held = job  # goes with shopper 0's next job
            continue
        if len(ticks) == 0 or len(ticks[-1]) >= rows:
            ticks.append([])
        if job.shopper == 0 and held is not None:
            ticks[-1].append(held)
            held = None
        ticks[-1].append(job)
    return ticks


def emptied(database: Database) -> None:
    """No rows, and ids counting from 1 again (campaign ids decide who is held out)."""
    tables = Base.metadata.sorted_tables
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:  # SQLite hands out max(id) + 1
            for table in reversed(tables):
                connection.execute(table.delete())


def seed(database: Database, folder: Path) -> tuple[int, list[Shopper]]:
    emptied(database)
    (folder / "store.json").write_text(json.dumps(store_to_dict(demo_store(0))))
    (folder / "campaigns.json").write_text(json.dumps(CAMPAIGNS))
    rows = "".join(f"s{i},female,30,gold,{';'.join(sorted(CONSENTS))}\n" for i in range(SHOPPERS))
    (folder / "customers.csv").write_text("customer_id,gender,age,tier,consents\n" + rows)
    store_id = seed_store(database, folder, T0, issue_tokens=False).store_id
    with database.session() as session:
        visits = [
            open_visit(session, f"s{i}", store_id, "t", CONSENTS, T0) for i in range(SHOPPERS)
        ]
    return store_id, [Shopper(f"s{i}", store_id, v.id, CONSENTS) for i, v in enumerate(visits)]


class _Tracked:
    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        raise NotImplementedError  # the estimates come from the test


def pipelines(database: Database, shoppers: list[Shopper], decide: Any) -> list[ShopperPipeline]:
    tracked = _Tracked()
    wiring = PipelineWiring(
        decide=decide,
        tracker_for=lambda _store, _customer: tracked,
        zone_detector_for=StoreZoneDetectors(database),
    )
    snapshots = SnapshotCache(database)
    return [ShopperPipeline(s, database, wiring, snapshots) for s in shoppers]


def frame(t_ms: int) -> ReadingsBatch:
    return ReadingsBatch.model_validate(
        {"type": "readings", "accel": {"t_ms": [t_ms], "x": [0.0], "y": [0.0], "z": [9.8]}}
    )


def answers(step: PipelineStep | Exception) -> tuple[Any, ...]:
    assert isinstance(step, PipelineStep), step
    return (
        [(p.estimate.t_ms, p.zone_id) for p in step.positions],
        step.zone_events,
        [
            (o.seq, o.channel, o.campaign_id, o.screen_id, o.zone_id, o.content, o.until_ms)
            for o in step.offers
        ],
        step.readings_accepted,
    )


def stored(database: Database) -> dict[str, Any]:
    """What the visits left in the database, by customer (ids and uuids left out)."""
    with database.session() as session:
        who = dict(session.execute(select(Visit.id, Visit.customer_id)).all())
        events = session.scalars(select(ZoneEventRow).order_by(ZoneEventRow.id)).all()
        chunks = session.scalars(select(PositionChunk).order_by(PositionChunk.id)).all()
        raw = session.scalars(select(RawReadingBatch).order_by(RawReadingBatch.id)).all()
        offers = session.scalars(select(Offer).order_by(Offer.customer_id, Offer.seq)).all()
        ledgers = session.execute(select(Customer.id, Customer.cap_ledger)).all()
        return {
            "events": [(who[e.visit_id], e.zone_id, e.kind, e.t_ms, e.dwell_s) for e in events],
            "chunks": sorted(
                (
                    who[c.visit_id],
                    c.floor_id,
                    c.t_start_ms,
                    c.t_end_ms,
                    c.n_points,
                    bytes(c.payload),
                )
                for c in chunks
            ),
            # Frame by frame: how a visit's frames are grouped into rows may differ.
            "raw": sorted(
                (who[r.visit_id], f.t_first_ms, f.t_last_ms, f.n_readings)
                for r in raw
                for f in raw_frames_of([r])
            ),
            "offers": [
                (
                    o.customer_id,
                    o.seq,
                    o.campaign_id,
                    o.channel,
                    o.screen_id,
                    o.zone_id,
                    o.occasion,
                    o.status,
                    o.content,
                    o.issued_ms,
                )
                for o in offers
            ],
            "ledgers": {c: ledger_entries(ledger, who) for c, ledger in ledgers},
        }


def ledger_entries(stored: dict[str, Any] | None, visits: dict[str, str]) -> list[Any]:
    """A stored cap ledger's entries, visits by customer (a decision that chose nothing stores
    the ledger it read: the same entries, normalised)."""
    ledger = CapLedger.from_dict(stored or {})
    return [
        (s, e.t_ms, e.campaign_id, e.store_day, visits[e.visit_id or ""], e.channels, e.held_out)
        for s, entries in ledger.by_shopper.items()
        for e in entries
    ]


class Counted:
    """The real decision, counting its calls; without ``could_offer`` every occasion is decided."""

    def __init__(self, database: Database, skip_hopeless: bool) -> None:
        self.decider = TriggersDecider(database)
        self.calls = 0
        if skip_hopeless:
            self.could_offer = self.decider.could_offer

    def __call__(self, request: DecisionRequest) -> DecisionResult:
        self.calls += 1
        return self.decider(request)


def run_one_by_one(database: Database, folder: Path, ticks: list[list[Job]]) -> tuple[Any, ...]:
    _, shoppers = seed(database, folder)
    decide = Counted(database, skip_hopeless=False)
    lines = pipelines(database, shoppers, decide)
    out = [answers(lines[j.shopper].on_batch_estimates(frame(j.now_ms), j.estimates, j.now_ms))
           for tick in ticks for j in tick]  # fmt: skip
    for line in lines:
        line.flush_buffers()
    return out, stored(database), decide.calls


def run_in_ticks(database: Database, folder: Path, ticks: list[list[Job]]) -> tuple[Any, ...]:
    _, shoppers = seed(database, folder)
    decide = Counted(database, skip_hopeless=True)
    lines = pipelines(database, shoppers, decide)
    out = []
    for tick in ticks:
        jobs = [BatchJob(None, frame(j.now_ms), lines[j.shopper], j.now_ms, "") for j in tick]
        out += [answers(step) for step in finish_tick(jobs, [j.estimates for j in tick])]
    for line in lines:
        line.flush_buffers()
    return out, stored(database), decide.calls


@pytest.mark.parametrize("rows", [SHOPPERS + 1, 5])
def test_a_tick_answers_and_writes_what_each_shopper_alone_would(
    rows: int, database: Database, tmp_path: Path
) -> None:
    assert (rows >= BATCH_MIN_ROWS) == (rows > SHOPPERS)  # the detector's batch form, its loop
    ticks = walks(rows)
    assert any(len({j.shopper for j in t}) < len(t) for t in ticks)  # a shopper twice in a tick
    expected_answers, expected_rows, every_occasion = run_one_by_one(database, tmp_path, ticks)
    got_answers, got_rows, hopeful = run_in_ticks(database, tmp_path, ticks)
    assert got_answers == expected_answers
    assert got_rows == expected_rows
    # The walk covers what could go wrong: every kind of event, offers and hold-outs, chunks.
    kinds = {e[2] for e in expected_rows["events"]}
    assert {"enter", "exit", "dwell", "facing"} <= kinds
    statuses = {o[7] for o in expected_rows["offers"]}
    assert {"issued", "held_out"} <= statuses
    assert {o[3] for o in expected_rows["offers"]} == {"app", "signage"}
    assert any(c[4] == 60 for c in expected_rows["chunks"])
    # Occasions no campaign is filed under (entering an aisle or a shelf, facing a shelf) were
    # not decided, and the equal answers and rows above show nothing was lost by it.
    assert 0 < hopeful < every_occasion


class BatchFormOnly:
    """A store detector whose ``update_many`` always takes the batch form."""

    def __init__(self, zones: list[Zone]) -> None:
        self.detector = ZoneEventDetector(zones)

    def update(self, shopper_id: str, estimate: Estimate) -> list[ZoneEvent]:
        return self.detector.update(shopper_id, estimate)

    def update_many(self, shopper_ids: list[str], estimates: list[Estimate]) -> list[ZoneEvent]:
        columns = zip(*((e.t_ms, e.x, e.y, e.heading_deg, e.accuracy_m) for e in estimates),
                      strict=True)  # fmt: skip
        return self.detector.update_batch(shopper_ids, *columns)

    def end_visit(self, shopper_id: str, t_ms: int) -> list[ZoneEvent]:
        return self.detector.end_visit(shopper_id, t_ms)


@pytest.mark.parametrize("form", ["batch", "fake_without_update_many"])
def test_tick_zone_events_follow_each_shopper_in_order_like_the_loop(
    form: str, tmp_path: Path
) -> None:
    """A shopper in two jobs of a tick, several estimates a job: each event on its estimate."""
    zone = Zone.from_coords("z", "Z", "shelf", [[0, 0], [4, 0], [4, 3], [0, 3]])
    inside, outside = (2.0, 1.5), (20.0, 20.0)
    plan = [  # (shopper, first second, positions a second apart)
        ("ann", 0, [inside, inside, inside]),
        ("bob", 0, [inside, inside, inside, inside, outside]),
        ("ann", 3, [inside, *[outside] * 7]),  # out for longer than the exit grace
    ]
    jobs = [
        [Estimate(T0 + 1000 * (t0 + k), x, y, 0.0, 0.5) for k, (x, y) in enumerate(points)]
        for _, t0, points in plan
    ]
    loop = ZoneEventDetector([zone])
    expected = [[loop.update(who, e) for e in estimates]
                for (who, _, _), estimates in zip(plan, jobs, strict=True)]  # fmt: skip
    source: Any = BatchFormOnly([zone]) if form == "batch" else BoxZones({"z": (0, 0, 4, 3, 90)})
    if form != "batch":
        boxes = BoxZones({"z": (0, 0, 4, 3, 90)})
        expected = [[boxes.update(who, e) for e in estimates]
                    for (who, _, _), estimates in zip(plan, jobs, strict=True)]  # fmt: skip
    database = Database.connect(f"sqlite:///{tmp_path / 'unused.sqlite3'}")  # never opened
    wiring = PipelineWiring(zone_detector_for=lambda _store: source)
    lines = [ShopperPipeline(Shopper(who, 1, f"v-{who}", frozenset()), database, wiring,
                             SnapshotCache(database)) for who, _, _ in plan]  # fmt: skip
    assert tick_zone_events(lines, jobs) == expected
    kinds = [e.kind for job in expected for events in job for e in events]
    assert {"enter", "exit"} <= set(kinds)


def test_rounds_hold_each_shopper_once_in_their_order() -> None:
    assert rounds(["ann", "bob", "ann"], [1, 2, 1]) == [[(0, 0), (1, 0)], [(2, 0), (1, 1)]]
    assert rounds([], []) == []


def test_core_inserts_write_the_rows_orm_objects_did(database: Database) -> None:
    shopper = seeded_shopper(database)
    with database.session() as session:
        session.add(Visit(id="v2", store_id=shopper.store_id, customer_id="c1", started_ms=T0,
                          last_seen_ms=T0, app_version="1", consents=""))  # fmt: skip
    rng = np.random.default_rng(3)
    estimates = [Estimate(T0 + 1000 * k, *rng.uniform(0, 30, 2), 90.0, 2.0) for k in range(7)]
    events = [ZoneEvent("enter", "c1", "z1", T0, 0.0), ZoneEvent("dwell", "c1", "z1", T0 + 9, 9.0),
              ZoneEvent("visit_end", "c1", None, T0 + 20, 0.0)]  # fmt: skip
    buffer = PositionBuffer("v1", shopper.store_id, floor_id=None)
    buffer.extend(estimates[::-1])  # out of order: the chunk is sorted by time
    writes = VisitWrites()
    writes.add_zone_events(shopper, events)
    writes.add_chunk(buffer)
    with database.session() as session:
        writes.write(session)
    obvious = PositionBuffer("v2", shopper.store_id, floor_id=None)
    obvious.extend(estimates)
    with database.session() as session:  # the ORM objects the server wrote before
        for e in events:
            session.add(ZoneEventRow(visit_id="v2", store_id=shopper.store_id, zone_id=e.zone_id,
                                     kind=e.kind, t_ms=e.t_ms, dwell_s=e.dwell_s))  # fmt: skip
        row = obvious.take_chunk()
        assert row is not None
        session.add(PositionChunk(**{**row, "visit_id": "v2"}))

    def rows(visit_id: str) -> tuple[list[Any], list[Any], int | None]:
        with database.session() as session:
            zone_rows = session.scalars(select(ZoneEventRow).where(ZoneEventRow.visit_id ==
                                        visit_id).order_by(ZoneEventRow.id)).all()  # fmt: skip
            chunk_rows = session.scalars(
                select(PositionChunk).where(PositionChunk.visit_id == visit_id)
            ).all()
            visit = session.get(Visit, visit_id)
            assert visit is not None
            return (
                [(z.store_id, z.zone_id, z.kind, z.t_ms, z.dwell_s) for z in zone_rows],
                [
                    (c.store_id, c.floor_id, c.t_start_ms, c.t_end_ms, c.n_points, bytes(c.payload))
                    for c in chunk_rows
                ],
                visit.ended_ms,
            )

    new, old = rows("v1"), rows("v2")
    assert new[:2] == old[:2]
    assert len(new[0]) == 3
    assert new[1][0][4] == 7
    assert new[2] == T0 + 20  # the visit_end closed the visit


def test_a_shopper_whose_rows_cannot_be_written_fails_alone(database: Database) -> None:
    """The tick's commit fails (a zone event of a visit that does not exist); each shopper's rows
    then go on their own: the good shopper's frame and events survive, the bad one's frame fails."""
    good = seeded_shopper(database)
    ghost = Shopper("ghost", good.store_id, "no-such-visit", frozenset())
    tracked = _Tracked()
    wiring = PipelineWiring(
        tracker_for=lambda _store, _customer: tracked,
        zone_detector_for=lambda _store: BoxZones({"z": (0.0, 0.0, 4.0, 3.0, 90.0)}),
    )
    snapshots = SnapshotCache(database)
    lines = [ShopperPipeline(s, database, wiring, snapshots) for s in (ghost, good)]
    jobs = [BatchJob(None, frame(T0), line, T0 + 40, "") for line in lines]
    inside = [[Estimate(T0, 2.0, 1.5, 90.0, 1.0)] for _ in lines]
    failed, done = finish_tick(jobs, inside)
    assert isinstance(failed, Exception)
    assert isinstance(done, PipelineStep)
    assert [e.kind for e in done.zone_events] == ["enter", "facing"]
    with database.session() as session:
        rows = session.scalars(select(ZoneEventRow)).all()
        assert [(r.visit_id, r.kind) for r in rows] == [("v1", "enter"), ("v1", "facing")]


def test_raw_frames_of_the_good_shoppers_survive_a_failed_tick_commit(database: Database) -> None:
    """Both shoppers' raw-reading buffers fill in the tick whose commit fails (a ghost visit):
    the good shopper's frames are written on their own, none is lost with the failed commit."""
    good = seeded_shopper(database)
    ghost = Shopper("ghost", good.store_id, "no-such-visit", frozenset())
    wiring = PipelineWiring(tracker_for=lambda _store, _customer: _Tracked())
    snapshots = SnapshotCache(database)
    lines = [ShopperPipeline(s, database, wiring, snapshots) for s in (ghost, good)]
    for line in lines:  # the tick's own frame fills the buffer
        kept = [T0 + 1000 * (i + 1) for i in range(line.raw_readings.room() - 1)]
        for t_ms in kept:
            line.raw_readings.add(frame(t_ms), f'{{"t": {t_ms}}}')
    jobs = [BatchJob(None, frame(T0), line, T0 + 40, "") for line in lines]
    failed, done = finish_tick(jobs, [[Estimate(T0, 2.0, 1.5, 90.0, 1.0)] for _ in lines])
    assert isinstance(failed, Exception)
    assert isinstance(done, PipelineStep)
    with database.session() as session:
        rows = session.scalars(select(RawReadingBatch)).all()
        assert {r.visit_id for r in rows} == {good.visit_id}
        assert sorted(f.t_first_ms for f in raw_frames_of(rows)) == [T0, *kept]


# No store has this floor: a fix naming it is refused (``UnknownFloor``) without touching zones.
NO_SUCH_FLOOR = 999_999
Fix = tuple[int, Estimate, int | None, int]  # shopper, fix, floor named, now_ms


def fix_ticks(ticks: list[list[Job]]) -> list[list[Fix]]:
    """The walk as fix frames, one an estimate, in order (shopper 1 and shopper 0 send two in some
    ticks); every tenth second shopper 2's fix names a floor the store does not have."""
    return [
        [(j.shopper, e, NO_SUCH_FLOOR if j.shopper == 2 and (e.t_ms - T0) // 1000 % 10 == 3
          else None, j.now_ms) for j in tick for e in j.estimates]
        for tick in ticks
    ]  # fmt: skip


def fix_answers(step: PipelineStep | Exception) -> tuple[Any, ...]:
    return ("no such floor",) if isinstance(step, UnknownFloor) else answers(step)


def run_fixes_one_by_one(database: Database, folder: Path, ticks: list[list[Fix]]) -> Any:
    _, shoppers = seed(database, folder)
    lines = pipelines(database, shoppers, Counted(database, skip_hopeless=False))
    out = []
    for who, fix, floor, now in (f for tick in ticks for f in tick):
        try:
            out.append(answers(lines[who].on_fix(fix, now, floor)))
        except UnknownFloor as error:
            out.append(fix_answers(error))
    for line in lines:
        line.flush_buffers()
    return out, stored(database)


def run_fixes_in_ticks(database: Database, folder: Path, ticks: list[list[Fix]]) -> Any:
    _, shoppers = seed(database, folder)
    lines = pipelines(database, shoppers, Counted(database, skip_hopeless=True))
    out = []
    for tick in ticks:
        jobs = [FixJob(lines[who], fix, floor, now) for who, fix, floor, now in tick]
        out += [fix_answers(step) for step in process_jobs(jobs)]
    for line in lines:
        line.flush_buffers()
    return out, stored(database)


@pytest.mark.parametrize("rows", [SHOPPERS + 1, 5])
def test_fixes_in_a_tick_answer_and_write_what_each_fix_alone_would(
    rows: int, database: Database, tmp_path: Path
) -> None:
    """The ``fix`` frame's path through the runner (``FixJob``) against ``on_fix`` frame by
    frame: same positions, zone events, offers, refusals and rows."""
    ticks = fix_ticks(walks(rows))
    expected_answers, expected_rows = run_fixes_one_by_one(database, tmp_path, ticks)
    got_answers, got_rows = run_fixes_in_ticks(database, tmp_path, ticks)
    assert got_answers == expected_answers
    assert got_rows == expected_rows
    refused = sum(a == ("no such floor",) for a in expected_answers)
    assert 0 < refused < len(expected_answers) // 10
    assert {"enter", "exit", "dwell", "facing"} <= {e[2] for e in expected_rows["events"]}
    assert {o[3] for o in expected_rows["offers"]} == {"app", "signage"}
    assert any(c[4] == 60 for c in expected_rows["chunks"])


def test_a_quiet_shopper_in_a_failed_tick_keeps_their_answer(database: Database) -> None:
    """A shopper with nothing to write this tick (no event, no full buffer) is answered although
    the tick's commit fails for another; the failing shopper's frame fails, nothing is written."""
    good = seeded_shopper(database)
    ghost = Shopper("ghost", good.store_id, "no-such-visit", frozenset())
    tracked = _Tracked()
    wiring = PipelineWiring(
        tracker_for=lambda _store, _customer: tracked,
        zone_detector_for=lambda _store: BoxZones({"z": (0.0, 0.0, 4.0, 3.0, 90.0)}),
    )
    snapshots = SnapshotCache(database)
    lines = [ShopperPipeline(s, database, wiring, snapshots) for s in (ghost, good)]
    jobs = [BatchJob(None, frame(T0), line, T0 + 40, "") for line in lines]
    where = [[Estimate(T0, 2.0, 1.5, 90.0, 1.0)], [Estimate(T0, 20.0, 20.0, 90.0, 1.0)]]
    failed, quiet = finish_tick(jobs, where)
    assert isinstance(failed, Exception)
    assert isinstance(quiet, PipelineStep)
    assert quiet.zone_events == []
    assert [p.estimate for p in quiet.positions] == where[1]
    with database.session() as session:
        assert session.scalars(select(ZoneEventRow)).all() == []


# ---- the tick's short ways ---------------------------------------------------------------------


def positioned_state(line: ShopperPipeline, got: Positioned) -> tuple[Any, ...]:
    """Everything a ``_positioned`` call gives or leaves behind."""
    step = got.step
    return (
        [(p.estimate, p.zone_id) for p in step.positions],
        step.zone_events,
        step.offers,
        step.readings_accepted,
        step.positioning_wired,
        got.occasions,
        line.current_zone,
        line.positions.take_chunk(),
    )


@pytest.mark.parametrize("zone", [None, "z1"])
@pytest.mark.parametrize("consents", [frozenset(), CONSENTS])
@pytest.mark.parametrize("tracked", [True, False])
def test_a_quiet_batch_takes_the_short_way_to_what_the_loop_gives(
    database: Database, zone: str | None, consents: frozenset[str], tracked: bool
) -> None:
    """One estimate and no zone event (most batches of a tick): ``_positioned_quietly`` gives the
    positions, buffer, zone and (no) occasions of the general loop, shopper in a zone or not,
    with or without location consent, a tracked batch or a fix."""
    shopper = dataclasses.replace(seeded_shopper(database), consents=consents)
    wiring = PipelineWiring(tracker_for=lambda _s, _c: _Tracked() if tracked else None)
    snapshots = SnapshotCache(database)
    quick, loop = (ShopperPipeline(shopper, database, wiring, snapshots) for _ in range(2))
    earlier = Estimate(T0 - 1000, 1.0, 1.0, 0.0, 2.0)
    for line in (quick, loop):
        line.current_zone = zone
        line.positions.floor_id = 1
        line.positions.extend([earlier])
    estimate = Estimate(T0, 2.5, 1.25, 90.0, 2.1)
    assert positioned_state(quick, quick._positioned([estimate], [[]], T0)) == positioned_state(
        loop, loop._positioned_each([estimate], [[]], T0)
    )


class RecordingCompressor(RawFrameCompressor):
    """Records what the tick queues and when it wakes the thread (which never runs)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def submit(self, frame: RawFrame) -> None:
        self.calls.append("submit")

    def submit_later(self, frame: RawFrame) -> None:
        self.calls.append("queued")

    def wake(self) -> None:
        self.calls.append("wake")


def test_a_tick_queues_its_raw_frames_then_wakes_the_compressor_once(database: Database) -> None:
    """A wake-up per frame made the compressor thread ask for the GIL in the middle of the tick,
    once per shopper: the frames are queued, then the thread is woken once."""
    shopper = seeded_shopper(database)
    wiring = PipelineWiring(tracker_for=lambda _store, _customer: _Tracked())
    snapshots = SnapshotCache(database)
    compressor = RecordingCompressor()
    lines = [ShopperPipeline(shopper, database, wiring, snapshots) for _ in range(3)]
    for line in lines:
        line.raw_readings.compressor = compressor
    jobs = [BatchJob(None, frame(T0), line, T0 + 40, b"\x81") for line in lines]
    steps = finish_tick(jobs, [[Estimate(T0, 2.0, 1.5, 90.0, 1.0)] for _ in lines])
    assert all(isinstance(step, PipelineStep) for step in steps)
    assert compressor.calls == ["queued"] * 3 + ["wake"]
    assert [line.raw_readings.pending() for line in lines] == [1, 1, 1]


def test_the_compressor_thread_compresses_every_raw_frame_of_a_tick(database: Database) -> None:
    """Frames queued without a wake-up each are all compressed by the thread after the tick's
    single wake-up (none is left for the flush), tick after tick."""
    shopper = seeded_shopper(database)
    wiring = PipelineWiring(tracker_for=lambda _store, _customer: _Tracked())
    snapshots = SnapshotCache(database)
    compressor = RawFrameCompressor()
    lines = [ShopperPipeline(shopper, database, wiring, snapshots) for _ in range(5)]
    for line in lines:
        line.raw_readings.compressor = compressor
    for tick in range(3):
        t_ms = T0 + 1000 * tick
        jobs = [BatchJob(None, frame(t_ms), line, t_ms + 40, f'{{"n": {tick}}}') for line in lines]
        finish_tick(jobs, [[Estimate(t_ms, 2.0, 1.5, 90.0, 1.0)] for _ in lines])
        frames = [f for line in lines for f in line.raw_readings._frames[-1:]]
        deadline = time.monotonic() + 30
        while any(not isinstance(f.data, Compressed) for f in frames):
            assert time.monotonic() < deadline, "the compressor thread was not woken"
            time.sleep(0.01)
        assert {decode_frame(f.payload()) for f in frames} == {f'{{"n": {tick}}}'}


def test_one_runner_serves_each_event_loop_with_a_queue_of_its_own(database: Database) -> None:
    """The runner keeps one queue per event loop (a test may run several servers on one wiring),
    found quickly for the loop it served last: loops taking turns each get their answers."""
    shopper = seeded_shopper(database)
    line = ShopperPipeline(shopper, database, PipelineWiring(), SnapshotCache(database))
    runner = BatchRunner()

    async def one(t_ms: int) -> PipelineStep:
        return await runner.submit(BatchJob(None, frame(t_ms), line, t_ms + 40, "{}"))

    loops = [asyncio.new_event_loop() for _ in range(2)]
    try:
        accepted = [loops[k % 2].run_until_complete(one(T0 + k)).readings_accepted
                    for k in range(4)]  # fmt: skip
    finally:
        for loop in loops:
            loop.close()
    assert accepted == [1, 1, 1, 1]
    assert runner.calls == 4
    assert len(runner._queues) == 2
