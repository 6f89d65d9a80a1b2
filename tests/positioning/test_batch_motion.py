"""The batched step detector and heading filter find what the per-shopper ones find."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
import pytest

from positioning.batch_input import SensorBatch, Series3, motion_samples
from positioning.batch_motion import BatchMotion
from positioning.heading import HeadingFilter
from positioning.readings import AccelReading, GyroReading, Reading, RotationVectorReading
from positioning.steps import StepDetector
from tests.positioning.synthetic import walk_readings

PATHS = [
    [(2.0, 2.0), (30.0, 2.0), (30.0, 15.0)],
    [(5.0, 18.0), (5.0, 3.0), (25.0, 3.0), (25.0, 12.0)],
    [(40.0, 10.0), (10.0, 10.0)],
]


def _reference(readings: list[Reading]) -> list[tuple[int, float, float | None]]:
    """(t, feature, heading) of each step, the way ``Tracker`` feeds its detector and filter."""
    steps, heading = StepDetector(), HeadingFilter()
    out = []
    for r in sorted(readings, key=lambda r: r.t_ms):  # stable: accel, gyro, rotation at ties
        if isinstance(r, RotationVectorReading):
            heading.on_rotation_vector(r.t_ms, r.x, r.y, r.z)
        elif isinstance(r, GyroReading):
            heading.on_gyro(r.t_ms, r.x, r.y, r.z)
        elif isinstance(r, AccelReading):
            step = steps.push(r.t_ms, r.x, r.y, r.z)
            if step is not None:
                out.append((step.t_ms, step.weinberg_feature, heading.heading_rad))
    return out


def _series(readings: list[Reading], kind: type) -> Series3:
    rows = [r for r in readings if isinstance(r, kind)]
    return Series3.of([r.t_ms for r in rows], [r.x for r in rows], [r.y for r in rows],
                      [r.z for r in rows])  # type: ignore[attr-defined]  # fmt: skip


def _batches(readings: list[Reading], start_ms: int, period_ms: int) -> list[SensorBatch]:
    """Cut a walk into batches of ``period_ms`` (the first one ``start_ms`` long)."""
    end = max(r.t_ms for r in readings)
    edges = [readings[0].t_ms - 1, readings[0].t_ms + start_ms]
    while edges[-1] < end:
        edges.append(edges[-1] + period_ms)
    out = []
    for lo, hi in itertools.pairwise(edges):
        part = [r for r in readings if lo < r.t_ms <= hi]
        out.append(SensorBatch(hi, _series(part, AccelReading), _series(part, GyroReading),
                               _series(part, RotationVectorReading)))  # fmt: skip
    return out


def _run_batched(per_row: list[list[SensorBatch]]) -> list[list[tuple[int, float, float]]]:
    """Round j pushes every row's j-th batch (rows with fewer batches drop out) through one
    ``BatchMotion``; each row's (t, feature, heading) of its steps."""
    motion = BatchMotion(len(per_row))
    found: list[list[tuple[int, float, float]]] = [[] for _ in per_row]
    for round_ in range(max(len(b) for b in per_row)):
        rows = np.array([i for i, b in enumerate(per_row) if round_ < len(b)])
        steps = motion.run(motion_samples(rows, [per_row[i][round_] for i in rows]))
        for r, t, feature, heading in zip(steps.row, steps.t_ms, steps.feature,
                                          steps.heading_rad, strict=True):  # fmt: skip
            found[rows[r]].append((int(t), float(feature), float(heading)))
    return found


def _assert_same_steps(batched: list[tuple[int, float, float]],
                       reference: list[tuple[int, float, float | None]]) -> None:  # fmt: skip
    """Same step times, features to 1e-12 and headings (the same angle) to 1e-9."""
    assert [t for t, *_ in batched] == [t for t, *_ in reference]
    for (_, f, h), (_, f_ref, h_ref) in zip(batched, reference, strict=True):
        assert math.isclose(f, f_ref, abs_tol=1e-12)
        assert h_ref is not None
        assert abs(math.remainder(h - h_ref, 2 * math.pi)) < 1e-9


def test_steps_and_headings_equal_the_per_shopper_detector_and_filter() -> None:
    walks = [walk_readings(path, seed)[0] for seed, path in enumerate(PATHS)]
    # Different batch phases and lengths per shopper: rows are not aligned in time.
    per_row = [_batches(w, 300 + 250 * i, 1000 - 100 * i) for i, w in enumerate(walks)]
    for walk, batched in zip(walks, _run_batched(per_row), strict=True):
        reference = _reference(walk)
        assert len(reference) >= 15  # a real walk, with turns
        _assert_same_steps(batched, reference)


def test_a_rows_state_does_not_leak_into_its_neighbours() -> None:
    walk = walk_readings(PATHS[0], 1)[0]
    batches = _batches(walk, 1000, 1000)
    alone, crowded = BatchMotion(1), BatchMotion(3)
    steps_alone, steps_crowded = 0, 0
    for batch in batches:
        steps_alone += len(alone.run(motion_samples(np.array([0]), [batch])).t_ms)
        # Row 1 gets the same batches; rows 0 and 2 get nothing (or a still phone).
        still = SensorBatch(
            batch.latest_ms,
            Series3(batch.accel.t_ms, np.tile([0, 0, 9.8], (len(batch.accel.t_ms), 1))),
        )
        result = crowded.run(motion_samples(np.array([0, 1, 2]), [still, batch, SensorBatch(0)]))
        assert set(result.row.tolist()) <= {1}
        steps_crowded += len(result.t_ms)
    assert steps_alone == steps_crowded > 10
    assert np.isnan(crowded.heading_rad(np.array([0, 2]))).all()
    assert crowded.heading_rad(np.array([1]))[0] == alone.heading_rad(np.array([0]))[0]


def _frame_series(frame: dict, name: str) -> Series3:
    s = frame.get(name)
    return (
        Series3.of([], [], [], []) if s is None else Series3.of(s["t_ms"], s["x"], s["y"], s["z"])
    )


def test_simulated_phones_give_the_same_steps_batched_as_one_by_one() -> None:
    """The simulator's phones (gait, hand sway, sensor noise) through both, a batch a second."""
    from simulator import demo_store, walk_windows
    from simulator.customers import make_customer_base
    from simulator.radio import RadioEnvironment
    from simulator.routes import RouteGrid
    from simulator.run import FIRST_VISIT_MS, SimulationSettings, simulate_visit
    from simulator.wire import readings_frames

    store = demo_store(0)
    categories = sorted({c for z in store.zones for c in z.categories})
    customers = make_customer_base(categories, 10, FIRST_VISIT_MS, 0)
    routes, environment = (
        RouteGrid.build(store.floor_plan().walkable),
        RadioEnvironment.for_store(store, 0),
    )
    walks = []
    for index in range(3):
        _, trajectory, phone = simulate_visit(store, routes, environment, customers, index, 0,
                                              SimulationSettings(max_stops=1))  # fmt: skip
        walks.append(
            [f for _, rows in walk_windows(trajectory, phone) for f in readings_frames(rows)]
        )
    names = ("accel", "gyro", "rotation")
    per_row = [[SensorBatch(0, *(_frame_series(frame, n) for n in names)) for frame in frames]
               for frames in walks]  # fmt: skip
    found = _run_batched(per_row)
    for frames, batched in zip(walks, found, strict=True):
        readings: list[Reading] = []
        for frame in frames:
            for name, kind in (("accel", AccelReading), ("gyro", GyroReading),
                               ("rotation", RotationVectorReading)):  # fmt: skip
                s = frame.get(name)
                if s is not None:
                    readings += [
                        kind(*v) for v in zip(s["t_ms"], s["x"], s["y"], s["z"], strict=True)
                    ]
        reference = _reference(readings)
        assert len(reference) >= 20
        _assert_same_steps(batched, reference)


def _reference_fed_by_batch(batches: list[SensorBatch]) -> list[tuple[int, float, float | None]]:
    """``Tracker``'s way: each batch merged (accel, gyro, rotation at ties) in arrival order, a
    sample older than its sensor's latest dropped."""
    steps, heading = StepDetector(), HeadingFilter()
    latest: dict[str, int] = {}
    out = []
    for batch in batches:
        series = (("accel", batch.accel), ("gyro", batch.gyro), ("rotation", batch.rotation))
        streams = [[(int(t), name, *xyz) for t, xyz in zip(s.t_ms, s.xyz.tolist(), strict=True)]
                   for name, s in series]  # fmt: skip
        for t, name, x, y, z in heapq.merge(*streams, key=lambda sample: sample[0]):
            if t < latest.get(name, t):
                continue
            latest[name] = t
            if name == "rotation":
                heading.on_rotation_vector(t, x, y, z)
            elif name == "gyro":
                heading.on_gyro(t, x, y, z)
            elif (step := steps.push(t, x, y, z)) is not None:
                out.append((step.t_ms, step.weinberg_feature, heading.heading_rad))
    return out


def _window(readings: list[Reading], lo: int, hi: int) -> SensorBatch:
    part = [r for r in readings if lo <= r.t_ms < hi]
    return SensorBatch(hi, _series(part, AccelReading), _series(part, GyroReading),
                       _series(part, RotationVectorReading))  # fmt: skip


def test_gaps_resent_and_stale_batches_give_the_per_shopper_result() -> None:
    """Rows that skip seconds (gyro gaps over 1 s), resend overlapping samples, send a batch
    entirely from the past, or lose a sensor for a batch, each at its own phase."""
    walks = [walk_readings(path, seed + 3)[0] for seed, path in enumerate(PATHS)]
    per_row: list[list[SensorBatch]] = []
    for i, walk in enumerate(walks):
        t0, end = walk[0].t_ms + 137 * i, walk[-1].t_ms
        batches, lo = [], walk[0].t_ms
        for k, hi in enumerate(range(t0 + 700, end + 1000, 900 + 50 * i)):
            if k % 7 == 3 + i:  # a lost batch: the next one starts after a gap
                lo = hi
                continue
            overlap = 240 if k % 5 == 1 else 0  # resends its last 240 ms
            batches.append(_window(walk, lo - overlap, hi))
            if k % 9 == 4:  # a stale batch, entirely before the last one
                batches.append(_window(walk, lo - 600, lo - 100))
            if k % 6 == 2 + i:  # the gyroscope missing for a batch
                batches[-1] = SensorBatch(hi, batches[-1].accel, rotation=batches[-1].rotation)
            lo = hi
        per_row.append(batches)
    for batches, batched in zip(per_row, _run_batched(per_row), strict=True):
        reference = _reference_fed_by_batch(batches)
        assert len(reference) >= 15
        _assert_same_steps(batched, reference)


def test_a_series_going_back_in_time_is_refused() -> None:
    forward = Series3.of([0, 20, 40], [0, 0, 0], [0, 0, 0], [9.8, 9.8, 9.8])
    backward = Series3.of([0, 40, 20], [0, 0, 0], [0, 0, 0], [9.8, 9.8, 9.8])
    # Rows one after the other may start earlier than the previous row ended.
    motion_samples(np.array([0, 1]), [SensorBatch(40, forward), SensorBatch(40, forward)])
    with pytest.raises(ValueError, match="back in time"):
        motion_samples(np.array([0, 1]), [SensorBatch(40, forward), SensorBatch(40, gyro=backward)])


def test_thin_batches_single_samples_and_missing_sensors_give_the_per_shopper_result() -> None:
    """Rows whose batches hold a single sample per sensor, or lose one or two sensors in turn,
    next to a row with whole seconds: the merged order (one stable sort of every row's
    gyroscope and rotation-vector keys) and the flat-index gathers see empty and one-sample
    rows in every position."""
    walks = [walk_readings(path, seed + 11)[0] for seed, path in enumerate(PATHS)]
    whole = _batches(walks[0], 400, 1000)
    t0, end = walks[1][0].t_ms, walks[1][-1].t_ms
    thin = [_window(walks[1], lo, lo + 20) for lo in range(t0, end, 20)]  # ≤ 1 sample a sensor
    dropping = []
    for k, lo in enumerate(range(walks[2][0].t_ms, walks[2][-1].t_ms, 500)):
        b = _window(walks[2], lo, lo + 500)
        kept = [b.accel, b.gyro, b.rotation]
        for lost in ((), (1,), (2,), (1, 2), (0, 2))[k % 5]:
            kept[lost] = Series3.of([], [], [], [])
        dropping.append(SensorBatch(b.latest_ms, *kept))
    per_row = [whole, thin, dropping]
    assert max(len(b.gyro.t_ms) for b in thin) == 1
    for batches, batched in zip(per_row, _run_batched(per_row), strict=True):
        reference = _reference_fed_by_batch(batches)
        assert len(reference) >= 15
        _assert_same_steps(batched, reference)


def test_a_push_without_any_gyroscope_or_rotation_vector_keeps_the_headings() -> None:
    """Every row of a push without gyroscope and rotation vectors (empty merges): the steps
    still come, with the heading each row had."""
    walk = walk_readings(PATHS[0], 5)[0]
    t0 = walk[0].t_ms
    first, second = _window(walk, t0, t0 + 3000), _window(walk, t0 + 3000, t0 + 6000)
    accel_only = SensorBatch(second.latest_ms, second.accel)
    per_row = [[first, accel_only], [first, accel_only]]
    found = _run_batched(per_row)
    for batches, batched in zip(per_row, found, strict=True):
        _assert_same_steps(batched, _reference_fed_by_batch(batches))
    assert found[0] == found[1]
    assert any(t > t0 + 3000 for t, *_ in found[0])  # steps from the accelerometer-only push
