"""``PipelineWiring.tracker_for`` on a store-level ``positioning.batch_tracker.BatchTracker``.

Each connected shopper gets a row (``BatchSlot``) in their store's batched tracker, which shares
``StoreTrackers.radio()`` — the store's beacons and walkable floor — with the per-shopper path.
The shopper's socket hands each validated batch to the process's ``BatchRunner`` and awaits the
answer; the runner takes every batch pending at that moment, of every store, into one worker-
thread call: per store one ``BatchTracker.push`` (a few numpy calls for all its shoppers), then
each shopper's zones and triggers (``ShopperPipeline.on_batch_estimates``), then one database
transaction for every buffer that filled up. While that call runs, the next batches queue; the
next call takes them all. So the work per call grows with the load and the number of calls, thread
hops and commits per second does not.

Fixes (positions the app computed, ``FixJob``) take the same road without the push: their zone
events go with the store's detector call, their rows with the tick's commit, their decisions after
it — one thread hop and commit for every pending fix rather than one each.

A shopper's failing batch (an exception in its own pipeline) fails that shopper's frame only; a
failing store-wide push is retried shopper by shopper so one batch cannot take the others' down.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from anyio import to_thread

from positioning import Estimate, TrackerSettings
from positioning.batch_input import TickColumns
from positioning.batch_tracker import BatchTracker
from server.database import Database
from server.pipeline import PipelineStep, Positioned, ShopperPipeline, write_tick
from server.realtime.framed_socket import BadFrame
from server.realtime.frames import ReadingsBatch
from server.realtime.readings_binary import BinaryReadings
from server.tick_readings import checked_columns, sensor_batch
from server.tick_zones import tick_zone_events
from server.tracking import StoreRadio, StoreTrackers
from server.visit_log import RawFrameCompressor
from zones import ZoneEvent

log = logging.getLogger(__name__)

# A runner call starts at least this long after the previous one ended. A call has a fixed cost F
# (the motion loop runs over ≈ 150 sample columns whatever the number of shoppers), so under load
# a call takes every batch of the last d + MIN_TICK_S seconds (d: the previous call's length) and
# the fixed cost stays ≤ F / (d + MIN_TICK_S) of a core; the gap is the event loop's, to read
# frames. A batch after a quiet spell (the last call ended longer ago) runs at once.
MIN_TICK_S = 0.02


@dataclass
class StoreBatch:
    """One store's batched tracker (for one version of its beacons and floor) and its lock."""

    radio: StoreRadio
    tracker: BatchTracker
    lock: threading.Lock = field(default_factory=threading.Lock)


class BatchSlot:
    """The pipeline's ``PositionSource`` for one shopper: a row in the store's batched tracker."""

    def __init__(self, store: StoreBatch, runner: BatchRunner) -> None:
        self.store = store
        self.runner = runner
        self.closed = False
        with store.lock:
            self.row = store.tracker.add()

    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        """One batch on its own (the synchronous path; sockets go through ``BatchRunner``)."""
        with self.store.lock:
            return self.store.tracker.push([self.row], [sensor_batch(batch)])[0]

    def close(self) -> None:
        """The shopper left: their row is cleared and given back (idempotent)."""
        with self.store.lock:
            if not self.closed:
                self.closed = True
                self.store.tracker.remove(self.row)


@dataclass
class BatchJob:
    """One shopper's batch, waiting for the next runner call (``slot`` None: a store without
    beacons, where the batch is only stored and acknowledged). A JSON frame's batch is checked;
    a binary frame's numbers are checked by the tick, with the tick's other binary frames
    (``push_jobs``), which sets ``columns`` — the tick's joined columns, the batch being number
    ``column`` of them — or fails the job with the frame's ``BadFrame``."""

    slot: BatchSlot | None
    batch: ReadingsBatch | BinaryReadings
    pipeline: ShopperPipeline
    now_ms: int
    frame_text: str | bytes  # the frame as received: JSON text, or a binary frame's bytes
    columns: TickColumns | None = None  # the arrays for the tracker, once a tick has made them
    column: int = 0

    def tick_columns(self) -> tuple[TickColumns, int]:
        """The columns holding this batch, and its index in them (a JSON frame's: its own)."""
        if self.columns is None:
            assert isinstance(self.batch, ReadingsBatch)  # a binary frame's is set by the tick
            self.columns, self.column = TickColumns.of([sensor_batch(self.batch)]), 0
        return self.columns, self.column

    def positioned(
        self, estimates: Sequence[Estimate], zone_events: Sequence[Sequence[ZoneEvent]]
    ) -> Positioned:
        """The tick's per-shopper step for this batch (``ShopperPipeline.on_tick_batch``)."""
        return self.pipeline.on_tick_batch(
            self.batch, estimates, zone_events, self.now_ms, self.frame_text
        )


@dataclass
class FixJob:
    """One shopper's fix, waiting for the next runner call: no push (its estimate is the fix);
    its zone events, rows and decisions go with the tick's as a batch's do."""

    pipeline: ShopperPipeline
    fix: Estimate
    floor_id: int | None  # as the frame named it (None: the store's first floor)
    now_ms: int

    def estimates(self) -> list[Estimate]:
        """The fix, once its floor is known to be the store's (``UnknownFloor`` fails the job
        before the tick's zone detector sees it)."""
        self.pipeline.fix_floor(self.floor_id, self.now_ms)
        return [self.fix]

    def positioned(
        self, estimates: Sequence[Estimate], zone_events: Sequence[Sequence[ZoneEvent]]
    ) -> Positioned:
        floor_id = self.pipeline.fix_floor(self.floor_id, self.now_ms)  # cached snapshot
        return self.pipeline.on_tick_fix(floor_id, estimates, zone_events, self.now_ms)


TickJob = BatchJob | FixJob


def _push_store(store: StoreBatch, jobs: Sequence[BatchJob]) -> list[list[Estimate] | Exception]:
    """Every job of one store through its tracker: rounds of at most one batch per row."""
    results: list[list[Estimate] | Exception] = [[] for _ in jobs]
    todo = [i for i, job in enumerate(jobs) if job.slot is not None and not job.slot.closed]
    with store.lock:
        while todo:  # a phone that sent two batches before its answer: one per round, in order
            rows: set[int] = set()
            now: list[int] = []
            later: list[int] = []
            for i in todo:
                row = _row(jobs[i])
                (later if row in rows else now).append(i)
                rows.add(row)
            for i, out in zip(now, _push_rows(store.tracker, [jobs[i] for i in now]), strict=True):
                results[i] = out
            todo = later
    return results


def _row(job: BatchJob) -> int:
    assert job.slot is not None
    return job.slot.row


def _push_rows(tracker: BatchTracker, jobs: Sequence[BatchJob]) -> list[list[Estimate] | Exception]:
    """One push for all; if it fails, one push each, so only the bad batch fails."""
    try:
        order, columns = _round_columns(jobs)
        found = tracker.push_columns([_row(jobs[i]) for i in order], columns)
        out: list[list[Estimate] | Exception] = [[] for _ in jobs]
        for i, estimates in zip(order, found, strict=True):
            out[i] = estimates
        return out
    except Exception:
        if len(jobs) == 1:
            raise
        log.exception("batched push of %d shoppers failed; retrying one by one", len(jobs))
    out = []
    for job in jobs:
        try:
            columns, k = job.tick_columns()
            out.append(tracker.push_columns([_row(job)], columns.take([k]))[0])
        except Exception as error:
            out.append(error)
    return out


def _round_columns(jobs: Sequence[BatchJob]) -> tuple[list[int], TickColumns]:
    """The round's batches as one ``TickColumns``, and the jobs in its order: the tick's
    columns as they are when the round is all of them (one store, one batch a shopper: the
    usual tick), else the round's batches taken from each columns they sit in."""
    sources: dict[int, tuple[TickColumns, list[tuple[int, int]]]] = {}
    for i, job in enumerate(jobs):
        columns, k = job.tick_columns()
        entry = sources.get(id(columns))
        if entry is None:
            entry = sources[id(columns)] = (columns, [])
        entry[1].append((k, i))
    order: list[int] = []
    parts: list[TickColumns] = []
    for columns, taken in sources.values():
        taken.sort()
        picks = [k for k, _ in taken]
        order += [i for _, i in taken]
        whole = len(picks) == len(columns) and picks[-1] == len(columns) - 1
        parts.append(columns if whole else columns.take(picks))
    return order, TickColumns.joined(parts)


def process_jobs(jobs: Sequence[TickJob]) -> list[PipelineStep | Exception]:
    """A runner call: every store's push, then the tick (every shopper's pipeline, one commit)."""
    return finish_tick(jobs, push_jobs(jobs))


def push_jobs(jobs: Sequence[TickJob]) -> list[list[Estimate] | Exception]:
    """Every store's push: each job's estimates (a fix's: the fix), or the exception that
    failed it (a fix on a floor the store does not have, a binary frame whose numbers fail:
    ``BadFrame``)."""
    estimates: list[list[Estimate] | Exception] = [[] for _ in jobs]
    _check_binary_frames(jobs, estimates)
    by_store: dict[int, tuple[StoreBatch, list[tuple[int, BatchJob]]]] = {}
    for i, job in enumerate(jobs):
        if isinstance(estimates[i], BadFrame):
            continue
        if isinstance(job, FixJob):
            try:
                estimates[i] = job.estimates()
            except Exception as error:
                estimates[i] = error
        elif job.slot is not None:
            store = job.slot.store
            entry = by_store.get(id(store))
            if entry is None:  # not ``setdefault``: a tuple and a list per job, mostly dropped
                entry = by_store[id(store)] = (store, [])
            entry[1].append((i, job))
    for store, pairs in by_store.values():
        members = [i for i, _ in pairs]
        try:
            found = _push_store(store, [job for _, job in pairs])
        except Exception as error:
            found = [error] * len(members)
        for i, out in zip(members, found, strict=True):
            estimates[i] = out
    return estimates


def _check_binary_frames(
    jobs: Sequence[TickJob], estimates: list[list[Estimate] | Exception]
) -> None:
    """The tick's binary frames checked together: a good one's job gets the tick's ``columns``
    and its place in them, a bad one's entry of ``estimates`` its ``BadFrame`` (it is neither
    pushed, stored nor accepted)."""
    binary: list[tuple[int, BatchJob, BinaryReadings]] = [
        (i, job, job.batch)
        for i, job in enumerate(jobs)
        if isinstance(job, BatchJob) and isinstance(job.batch, BinaryReadings)
    ]
    if not binary:
        return
    checked = checked_columns([frame for _, _, frame in binary])
    for (i, job, _), out in zip(binary, checked.outcome, strict=True):
        if isinstance(out, BadFrame):
            estimates[i] = out
        else:
            job.columns, job.column = checked.columns, out


def finish_tick(
    jobs: Sequence[TickJob], estimates: Sequence[list[Estimate] | Exception]
) -> list[PipelineStep | Exception]:
    """What follows the push: the zone events (one detector call per store), each shopper's
    positions, one commit for the tick's zone events and full buffers, then the decisions."""
    # A failed push's error stands; every other job's entry is replaced below (its step or the
    # error of its own part), so _NOT_YET is never returned.
    steps: list[PipelineStep | Exception] = [
        out if isinstance(out, Exception) else _NOT_YET for out in estimates
    ]
    ok = [i for i, out in enumerate(estimates) if not isinstance(out, Exception)]
    found_estimates = [out for out in estimates if not isinstance(out, Exception)]
    events = tick_zone_events([jobs[i].pipeline for i in ok], found_estimates)
    positioned: list[tuple[int, TickJob, Positioned]] = []
    try:
        for i, out, found in zip(ok, found_estimates, events, strict=True):
            job = jobs[i]
            try:
                if isinstance(found, Exception):
                    raise found
                part = job.positioned(out, found)
            except Exception as error:
                steps[i] = error
                continue
            positioned.append((i, job, part))
            steps[i] = part.step
    finally:
        _wake_compressors(jobs)  # the tick's raw frames were queued without a wake-up each
    database = jobs[0].pipeline.database
    written = write_tick(database, [(job.pipeline, part.step) for _, job, part in positioned])
    for (i, _, _), failed in zip(positioned, written, strict=True):
        if failed is not None:
            steps[i] = failed
    for i, job, part in positioned:
        if not part.occasions or isinstance(steps[i], Exception):
            continue
        try:
            part.step.offers = job.pipeline.decide(part.occasions, job.now_ms)
        except Exception as error:  # its profile could not be read: this shopper's frame fails
            steps[i] = error
    return steps


# The placeholder of a job whose step is not made yet (never returned, see ``finish_tick``).
_NOT_YET = PipelineStep()


def _wake_compressors(jobs: Sequence[TickJob]) -> None:
    """Wake the raw-frame compressors of the tick's jobs: the process's one, once (a run of
    jobs with the same compressor wakes it once; waking one twice is harmless)."""
    last: RawFrameCompressor | None = None
    for job in jobs:
        compressor = job.pipeline.raw_readings.compressor
        if compressor is not last:
            compressor.wake()
            last = compressor


@dataclass
class _Queue:
    pending: list[tuple[TickJob, asyncio.Future[PipelineStep]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    last_end: float = float("-inf")  # the event loop's time when the last call ended


class BatchRunner:
    """Batches from the event loop in, one worker-thread call for all that are pending out."""

    def __init__(self) -> None:
        # One queue per event loop (a test may run several servers on one wiring).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )
        self.calls = 0  # runner calls so far (for the benchmark and the tests)
        # The last loop's queue, found without the weak dictionary's Python-level lookup (a
        # weak reference and a new ``_Queue`` per job before).
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _Queue] | None = None

    def _queue(self, loop: asyncio.AbstractEventLoop) -> _Queue:
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        self._last = (weakref.ref(loop), queue)
        return queue

    async def submit(self, job: TickJob) -> PipelineStep:
        return await self.enqueue(job)

    def enqueue(self, job: TickJob) -> asyncio.Future[PipelineStep]:
        """The job into the next call; its future gets the job's step (or its exception)."""
        loop = asyncio.get_running_loop()
        queue = self._queue(loop)
        future: asyncio.Future[PipelineStep] = loop.create_future()
        queue.pending.append((job, future))
        if queue.task is None or queue.task.done():
            queue.task = loop.create_task(self._drain(queue))
        return future

    async def _drain(self, queue: _Queue) -> None:
        loop = asyncio.get_running_loop()
        while queue.pending:
            wait = queue.last_end + MIN_TICK_S - loop.time()
            await asyncio.sleep(max(wait, 0.0))  # at least one turn: batches read meanwhile join
            taken, queue.pending = queue.pending, []
            self.calls += 1
            try:
                results = await to_thread.run_sync(process_jobs, [job for job, _ in taken])
            except BaseException as error:
                queue.last_end = loop.time()
                for _, future in taken:
                    if not future.done():
                        future.set_exception(
                            error if isinstance(error, Exception) else RuntimeError("cancelled")
                        )
                raise
            queue.last_end = loop.time()
            for (_, future), result in zip(taken, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def batch_runner(tracker_for: object) -> BatchRunner | None:
    """The runner behind a wiring's ``tracker_for`` when it is the batched one."""
    return tracker_for.runner if isinstance(tracker_for, StoreBatchTrackers) else None


class StoreBatchTrackers(StoreTrackers):
    """``tracker_for``: a row per connected shopper in their store's ``BatchTracker``."""

    def __init__(self, database: Database, settings: TrackerSettings | None = None) -> None:
        super().__init__(database, settings)
        self.runner = BatchRunner()
        self._stores: dict[int, StoreBatch] = {}

    def store_batch(self, store_id: int) -> StoreBatch | None:
        """The store's batched tracker; a new one when its beacons or floor changed."""
        radio = self.radio(store_id)
        if radio is None:
            return None
        with self._lock:
            store = self._stores.get(store_id)
            if store is None or store.radio.key != radio.key:
                tracker = BatchTracker(radio.beacon_map, radio.grid, self.settings.weinberg_k)
                store = self._stores[store_id] = StoreBatch(radio, tracker)
            return store

    def __call__(self, store_id: int, customer_id: str) -> BatchSlot | None:  # type: ignore[override]
        store = self.store_batch(store_id)
        return None if store is None else BatchSlot(store, self.runner)
