"""A tick's batches pushed as the tick's joined columns (``checked_columns`` →
``BatchTracker.push_columns``, through ``push_jobs``' rounds) give exactly the estimates of the
batch-by-batch push (``push(rows, batches)`` of each frame decoded and checked alone).

Seeded ticks of simulated demo-store shoppers, with what a real tick holds: frames of uneven sizes
(each series cut to a random length), frames without beacons or without a gyroscope, a bad frame
among the good ones, a JSON frame among the binary ones, a shopper with two frames in one tick
(two rounds) and a shopper of another store.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from positioning import Estimate
from positioning.batch_input import SensorBatch
from positioning.batch_tracker import BatchTracker
from server import tick_readings
from server.batch_tracking import BatchJob, BatchSlot, StoreBatchTrackers, push_jobs
from server.database import Database, upgrade_to_head
from server.realtime.framed_socket import BadFrame
from server.realtime.frames import ReadingsBatch
from server.realtime.readings_binary import decode_binary_deferred, decode_binary_readings
from server.realtime.shopper import decode_shopper_frame
from server.seed import seed_store
from server.tick_readings import checked_columns, sensor_batch
from simulator.live import load_cast
from simulator.store import store_to_dict
from simulator.wire import binary_readings_frame, readings_frames
from tests.positioning.test_tick_columns import assert_same_batch

T0 = 1_790_000_000_000
SHOPPERS = 7
SECONDS = 12
VISITS = 3
SEED = 11
Frame = dict[str, Any]


@functools.cache
def visit_frames() -> tuple[Any, list[list[Frame]]]:
    """The demo store and, per visit, a readings frame a second (shared: ``varied`` copies)."""
    cast = load_cast("demo", VISITS, SEED, 2, distinct_visits=VISITS, max_visit_s=SECONDS + 4)
    frames = [[f for _, rows in windows for f in readings_frames(rows)][: SECONDS + 1]
              for _, _, windows in cast.visits]  # fmt: skip
    return cast.store, frames


def varied(frame: Frame, rng: np.random.Generator) -> Frame:
    """The frame with each series cut to a random length, and sometimes no beacons or gyro."""
    out = copy.deepcopy(frame)
    for name in ("accel", "gyro", "mag", "rotation", "beacons"):
        series = out.get(name)
        if series is None:
            continue
        keep = int(rng.integers(1, len(series["t_ms"]) + 1))
        out[name] = {key: values[:keep] for key, values in series.items()}
    for name in ("beacons", "gyro"):
        if rng.random() < 0.25:
            out.pop(name, None)
    return out


def broken(frame: Frame) -> Frame:
    out = copy.deepcopy(frame)
    out["accel"]["x"][0] = float("nan")
    return out


@pytest.fixture
def stores(tmp_path: Path) -> tuple[StoreBatchTrackers, list[int]]:
    """Two demo stores seeded from the simulator's store (their beacons and floor)."""
    store, _ = visit_frames()
    folder = tmp_path
    database = Database.connect(f"sqlite:///{folder / 'tick.sqlite3'}")
    upgrade_to_head(database.engine)
    ids = []
    for k in range(2):
        root = folder / f"store{k}"
        root.mkdir()
        (root / "store.json").write_text(json.dumps(store_to_dict(store)))
        ids.append(seed_store(database, root, T0, issue_tokens=False).store_id)
    return StoreBatchTrackers(database), ids


@pytest.mark.parametrize("mixed", [False, True])
def test_a_tick_pushed_as_joined_columns_gives_the_batch_by_batch_estimates(
    stores: tuple[StoreBatchTrackers, list[int]], mixed: bool
) -> None:
    """Binary frames of one store: exactly the reference's estimates. ``mixed`` (a JSON frame,
    a shopper twice, another store): to 1e-12 — the JSON batch joins the round after the
    binary ones, and a fix's last bits depend on its row's place in the beacon products."""
    trackers, (first_store, other_store) = stores
    _, frames = visit_frames()
    rng = np.random.default_rng(SEED)
    # The tick's path: a row per shopper in the store's tracker (the last in the other store).
    store_of = [first_store] * (SHOPPERS - 1) + [other_store if mixed else first_store]
    slots = []
    for store_id in store_of:
        store = trackers.store_batch(store_id)
        assert store is not None
        slots.append(BatchSlot(store, trackers.runner))
    # The reference: a tracker per store, each frame decoded and checked alone, pushed as batches.
    reference: dict[int, BatchTracker] = {}
    for store_id in (first_store, other_store):
        radio = trackers.store_batch(store_id).radio  # type: ignore[union-attr]
        reference[store_id] = BatchTracker(radio.beacon_map, radio.grid,
                                           trackers.settings.weinberg_k)  # fmt: skip
    reference_rows = [reference[s].add() for s in store_of]
    assert reference_rows == [slot.row for slot in slots]
    pushed = refused = placed = 0
    for second in range(SECONDS):
        # (shopper, frame, as JSON): shopper 0 sends two frames in every other tick.
        plan: list[tuple[int, Frame, bool]] = []
        for i in range(SHOPPERS):
            frame = varied(frames[i % VISITS][second], rng)
            plan.append((i, frame, mixed and i == 2))
        if mixed and second % 2:
            plan.append((0, varied(frames[0][second + 1], rng), False))
        bad = int(rng.integers(1, SHOPPERS))
        plan[bad] = (bad, broken(plan[bad][1]), False)
        jobs = []
        for i, frame, as_json in plan:
            if as_json:
                batch: Any = decode_shopper_frame(json.dumps(frame))
                assert isinstance(batch, ReadingsBatch)
                jobs.append(BatchJob(slots[i], batch, None, T0, ""))  # type: ignore[arg-type]
            else:
                data = binary_readings_frame(frame)
                jobs.append(BatchJob(slots[i], decode_binary_deferred(data), None, T0, data))  # type: ignore[arg-type]  # fmt: skip
        got = push_jobs(jobs)
        expected = expected_estimates(reference, store_of, reference_rows, plan)
        for ours, theirs in zip(got, expected, strict=True):
            if theirs is None:
                assert isinstance(ours, BadFrame)
                refused += 1
            else:
                assert_same_estimates(ours, theirs, exactly=not mixed)
                pushed += 1
                placed += len(theirs)
    assert refused == SECONDS
    assert pushed > SHOPPERS * (SECONDS - 2)
    assert placed > pushed // 2  # most batches gave an estimate to compare


def assert_same_estimates(
    ours: list[Estimate] | Exception, theirs: list[Estimate], exactly: bool
) -> None:
    assert isinstance(ours, list)
    if exactly:
        assert ours == theirs  # the same numbers in the same order: bit for bit
        return
    assert [e.t_ms for e in ours] == [e.t_ms for e in theirs]
    for a, b in zip(ours, theirs, strict=True):
        ours_numbers = [a.x, a.y, a.heading_deg, a.accuracy_m]
        theirs_numbers = [b.x, b.y, b.heading_deg, b.accuracy_m]
        np.testing.assert_allclose(ours_numbers, theirs_numbers, rtol=0, atol=1e-12)


def expected_estimates(
    reference: dict[int, BatchTracker], store_of: list[int], rows: list[int],
    plan: list[tuple[int, Frame, bool]],
) -> list[list[Estimate] | None]:  # fmt: skip
    """Per job: the reference's estimates (None: a bad frame), pushed store by store in rounds
    of one batch a shopper, as ``push_jobs`` does."""
    out: list[list[Estimate] | None] = [None] * len(plan)
    batches: list[SensorBatch | None] = []
    for _, frame, as_json in plan:
        try:
            if as_json:
                batch = decode_shopper_frame(json.dumps(frame))
                assert isinstance(batch, ReadingsBatch)
            else:
                batch = decode_binary_readings(binary_readings_frame(frame))
            batches.append(sensor_batch(batch))
        except BadFrame:
            batches.append(None)
    for store_id, tracker in reference.items():
        todo = [k for k, (i, _, _) in enumerate(plan)
                if store_of[i] == store_id and batches[k] is not None]  # fmt: skip
        while todo:
            seen: set[int] = set()
            now, later = [], []
            for k in todo:
                (later if plan[k][0] in seen else now).append(k)
                seen.add(plan[k][0])
            found = tracker.push([rows[plan[k][0]] for k in now],
                                 [batches[k] for k in now])  # type: ignore[misc]  # fmt: skip
            for k, estimates in zip(now, found, strict=True):
                out[k] = estimates
            todo = later
    return out


def test_the_joined_columns_cut_back_give_each_frames_batch() -> None:
    _, frames = visit_frames()
    rng = np.random.default_rng(SEED + 1)
    tick = [varied(frames[k % VISITS][k // VISITS], rng) for k in range(3 * VISITS)]
    tick[4] = broken(tick[4])
    data = [binary_readings_frame(f) for f in tick]
    checked = checked_columns([decode_binary_deferred(d) for d in data])
    assert isinstance(checked.outcome[4], BadFrame)
    good = [k for k in range(len(tick)) if k != 4]
    assert [checked.outcome[k] for k in good] == list(range(len(good)))
    for k in good:
        ours = checked.columns.batch(checked.outcome[k])  # type: ignore[arg-type]
        assert_same_batch(ours, sensor_batch(decode_binary_readings(data[k])))


def test_a_tick_of_only_bad_frames_gives_empty_columns() -> None:
    data = binary_readings_frame(broken(visit_frames()[1][0][0]))
    checked = checked_columns([decode_binary_deferred(data)] * 3)
    assert len(checked.columns) == 0
    assert all(isinstance(o, BadFrame) for o in checked.outcome)


def test_a_failing_bulk_check_falls_back_to_each_frame_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, frames = visit_frames()
    data = [binary_readings_frame(f) for f in (frames[0][1], broken(frames[1][1]), frames[2][1])]
    deferred = [decode_binary_deferred(d) for d in data]
    together = checked_columns(deferred)

    def failing(_frames: object) -> None:
        raise RuntimeError("a bug in the bulk check")

    monkeypatch.setattr(tick_readings, "_checked_columns", failing)
    alone = checked_columns(deferred)
    assert [isinstance(o, BadFrame) for o in alone.outcome] == [False, True, False]
    assert [o for o in alone.outcome if isinstance(o, int)] == [0, 1]
    for k in (0, 1):
        ours, theirs = alone.columns.batch(k), together.columns.batch(k)
        np.testing.assert_array_equal(ours.accel.xyz, theirs.accel.xyz)
        np.testing.assert_array_equal(ours.beacon_rssi_dbm, theirs.beacon_rssi_dbm)
