"""Shoppers' disconnects written together: one worker call and one transaction for every
connection that closed meanwhile (``LeaveBatcher``).

A disconnect writes what the visit still buffers (positions, raw frames) and its last sighting
(it may resume, ``VISIT_RESUME_WINDOW_MS``). A store's phones can drop together — the Wi-Fi, a
load test's end — and a worker call with two commits each queued thousands of them in the thread
pool ahead of the next phones' welcomes: after 3,000 phones left, welcomes came later than 5 s
(docs/server.md, "Session 9"). Batched, the disconnects of one event-loop turn are one call and
one commit, as a tick's readings are (``server.batch_tracking``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from anyio import to_thread

from server.batch_tracking import BatchSlot
from server.pipeline import ShopperPipeline
from server.visit_log import VisitWrites

log = logging.getLogger(__name__)


def leave_writes(pipeline: ShopperPipeline, now_ms: int) -> VisitWrites:
    """The shopper's row leaves the store's batched tracker; what the visit buffers and its last
    sighting, as rows (the buffers are emptied)."""
    if isinstance(pipeline.tracker, BatchSlot):
        pipeline.tracker.close()
    writes = VisitWrites()
    writes.add_chunk(pipeline.positions)
    writes.add_raw(pipeline.raw_readings)
    writes.last_seen.append((pipeline.shopper.visit_id, now_ms))
    return writes


def write_leaves(leaves: Sequence[tuple[ShopperPipeline, int]]) -> list[Exception | None]:
    """Every leave's rows in one transaction per database; if it fails, each leave's on its own
    (one bad row fails its own leave). Per leave, None or the error that kept its rows out."""
    shares = [leave_writes(pipeline, now_ms) for pipeline, now_ms in leaves]
    by_database: dict[int, list[int]] = {}
    for i, (pipeline, _) in enumerate(leaves):
        by_database.setdefault(id(pipeline.database), []).append(i)
    errors: list[Exception | None] = [None] * len(leaves)
    for members in by_database.values():
        database = leaves[members[0]][0].database
        try:
            with database.session() as session:
                VisitWrites.joined([shares[i] for i in members]).write(session)
            continue
        except Exception:
            log.exception("the commit of %d leaves failed; they go one by one", len(members))
        for i in members:
            try:
                with database.session() as session:
                    shares[i].write(session)
            except Exception as error:
                errors[i] = error
    return errors


@dataclass
class _Queue:
    pending: list[tuple[ShopperPipeline, int, asyncio.Future[None]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class LeaveBatcher:
    """Disconnects from the event loop in, one worker call for all that are pending out."""

    def __init__(self) -> None:
        # One queue per event loop (a test may run several servers on one runtime's wiring).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )
        self.calls = 0  # worker calls so far (for the tests)

    async def leave(self, pipeline: ShopperPipeline, now_ms: int) -> None:
        """Return once the visit's buffers and last sighting are written (raises what failed
        this leave's rows)."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[None] = loop.create_future()
        queue.pending.append((pipeline, now_ms, future))
        if queue.task is None or queue.task.done():
            queue.task = loop.create_task(self._drain(queue))
        await future

    async def _drain(self, queue: _Queue) -> None:
        while queue.pending:
            await asyncio.sleep(0)  # one turn: disconnects read meanwhile join
            taken, queue.pending = queue.pending, []
            self.calls += 1
            try:
                errors = await to_thread.run_sync(write_leaves, [(p, t) for p, t, _ in taken])
            except BaseException as error:
                for _, _, future in taken:
                    if not future.done():
                        future.set_exception(
                            error if isinstance(error, Exception) else RuntimeError("cancelled")
                        )
                raise
            for (_, _, future), failed in zip(taken, errors, strict=True):
                if future.done():
                    continue
                if failed is None:
                    future.set_result(None)
                else:
                    future.set_exception(failed)
