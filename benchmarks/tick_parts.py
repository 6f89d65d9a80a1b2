"""The runner tick's per-batch Python, session 4's form against session 5's, side by side.

Each row is one piece of what a runner call does for every batch it serves, timed both ways in the
same process, alternating, on the same objects (thread CPU per batch, best of ``--repeats``):

- ``queue lookup``: ``BatchRunner.submit`` finding its loop's queue — the weak dictionary's
  ``setdefault(loop, _Queue())`` (a weak reference and a new ``_Queue`` every call) against the
  cached last loop (``BatchRunner._queue``).
- ``positions of a quiet batch``: ``ShopperPipeline._positioned`` for one estimate and no zone
  event — the general loop (``_positioned_each``) against ``_positioned_quietly``.
- ``raw frame row``: a buffered raw frame as its ``raw_reading_batches`` row — a dict, then the
  tuple ``insert_rows`` takes from it, against the tuple session 5's ``ReadingBuffer.take_rows``
  built (since session 9 it builds one row a buffer: ``benchmarks/tick_writes.py --segments``).
- ``raw frames handed over``: ``--rows`` frames of a tick given to a running compressor thread —
  a wake-up per frame (``submit``) against the frames queued, then one wake-up (``submit_later``,
  ``wake``); this thread's CPU only, the compressor's own work excluded, but not the GIL it takes
  (the wake-ups a tick are counted: each one is the compressor thread asking for the GIL).

    python benchmarks/tick_parts.py [--rows 200] [--repeats 7] [--batches 20000]

Closing line: ``tick_parts: before_us=X after_us=Y`` (the four pieces summed, µs per batch).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this folder leads sys.path and its zones.py/triggers.py would hide the packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from aislecast.bench import format_table  # noqa: E402
from positioning import Estimate  # noqa: E402
from server.batch_tracking import BatchRunner, _Queue  # noqa: E402
from server.database import Database, upgrade_to_head  # noqa: E402
from server.pipeline import PipelineWiring, Shopper, ShopperPipeline  # noqa: E402
from server.store_snapshot import SnapshotCache  # noqa: E402
from server.visit_log import RAW_BATCH_COLUMNS, RawFrame, RawFrameCompressor  # noqa: E402
from zones import ZoneEvent  # noqa: E402

T0_MS = 1_800_000_000_000
FRAME_BYTES = 10_000  # a binary readings frame of the simulator's phones
CONSENTS = frozenset({"location_analytics"})


class _Tracked:
    def push_batch(self, batch: Any) -> list[Estimate]:
        raise NotImplementedError


def queue_lookup(batches: int) -> tuple[Callable[[], None], Callable[[], None]]:
    loop = asyncio.new_event_loop()
    queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
        weakref.WeakKeyDictionary()
    )
    runner = BatchRunner()

    def before() -> None:
        for _ in range(batches):
            queues.setdefault(loop, _Queue())

    def after() -> None:
        for _ in range(batches):
            runner._queue(loop)

    return before, after


def quiet_positions(batches: int, folder: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    database = Database.connect(f"sqlite:///{folder}/parts.db")
    upgrade_to_head(database.engine)
    wiring = PipelineWiring(tracker_for=lambda _s, _c: _Tracked())
    shopper = Shopper("c1", 1, "v1", CONSENTS)
    line = ShopperPipeline(shopper, database, wiring, SnapshotCache(database))
    line.current_zone = "dairy"
    estimate = Estimate(T0_MS, 2.0, 1.5, 90.0, 2.1)
    estimates, events = [estimate], [list[ZoneEvent]()]

    def before() -> None:
        for _ in range(batches):
            line._positioned_each(estimates, events, T0_MS)
        line.positions.take_chunk()

    def after() -> None:
        for _ in range(batches):
            line._positioned(estimates, events, T0_MS)
        line.positions.take_chunk()

    return before, after


def raw_rows(batches: int) -> tuple[Callable[[], None], Callable[[], None]]:
    frames = [RawFrame(T0_MS + k, T0_MS + k + 999, 300, b"x") for k in range(batches)]
    for frame in frames:
        frame.payload()

    def before() -> None:
        rows = [{"visit_id": "v1", "store_id": 1, "t_first_ms": f.t_first_ms,
                 "t_last_ms": f.t_last_ms, "n_readings": f.n_readings, "payload": f.payload()}
                for f in frames]  # fmt: skip
        columns = tuple(rows[0])
        [tuple(row[c] for c in columns) for row in rows]

    def after() -> None:
        [("v1", 1, f.t_first_ms, f.t_last_ms, f.n_readings, f.payload()) for f in frames]

    assert tuple(RAW_BATCH_COLUMNS) == ("visit_id", "store_id", "t_first_ms", "t_last_ms",
                                        "n_readings", "payload")  # fmt: skip
    return before, after


class _CountedEvent(threading.Event):
    """The compressor's event, counting the wake-ups (each: the thread asks for the GIL)."""

    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def handover(
    batches: int, rows: int
) -> tuple[Callable[[], None], Callable[[], None], _CountedEvent]:
    compressor = RawFrameCompressor()
    wakes = compressor._wake = _CountedEvent()
    data = bytes(range(256)) * (FRAME_BYTES // 256)

    def frames() -> list[RawFrame]:
        return [RawFrame(T0_MS, T0_MS, 300, data) for _ in range(rows)]

    def before() -> None:
        for _ in range(batches // rows):
            for frame in frames():
                compressor.submit(frame)
            time.sleep(0.002)  # the event loop's turn between ticks

    def after() -> None:
        for _ in range(batches // rows):
            for frame in frames():
                compressor.submit_later(frame)
            compressor.wake()
            time.sleep(0.002)

    return before, after, wakes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200, help="batches a tick")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        *handed, wakes = handover(args.batches // 4, args.rows)
        pieces = {
            "queue lookup": queue_lookup(args.batches),
            "positions of a quiet batch": quiet_positions(args.batches, Path(folder)),
            "raw frame row": raw_rows(args.batches),
            "raw frames handed over": tuple(handed),
        }
        handed_frames = args.batches // 4 // args.rows * args.rows
        sizes = {"raw frames handed over": handed_frames}
        best: dict[str, list[float]] = {name: [float("inf")] * 2 for name in pieces}
        woken = [0, 0]  # compressor wake-ups, each side
        for _ in range(args.repeats):
            for name, variants in pieces.items():
                for side, run in enumerate(variants):
                    sets = wakes.sets
                    start = time.thread_time()
                    run()
                    per_batch = (time.thread_time() - start) / sizes.get(name, args.batches)
                    best[name][side] = min(best[name][side], per_batch * 1e6)
                    if name == "raw frames handed over":
                        woken[side] += wakes.sets - sets
    print(format_table(
        ["piece", "before µs/batch", "after µs/batch", "before/after"],
        [[name, f"{b:.2f}", f"{a:.2f}", f"{b / a:.1f}"] for name, (b, a) in best.items()],
    ))  # fmt: skip
    frames = handed_frames * args.repeats
    print(
        f"compressor wake-ups per tick of {args.rows}: before "
        f"{woken[0] * args.rows / frames:.1f}, after {woken[1] * args.rows / frames:.1f}"
    )
    before = sum(b for b, _ in best.values())
    after = sum(a for _, a in best.values())
    print(f"tick_parts: before_us={before:.2f} after_us={after:.2f}")


if __name__ == "__main__":
    main()
