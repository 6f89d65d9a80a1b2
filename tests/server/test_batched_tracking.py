"""The store-level batched tracker behind real websockets: several simulated shoppers at once.

Each shopper walks the demo supermarket from the entrance to a different shelf (``simulator``);
their phones stream reading batches concurrently, so the server's runner takes several shoppers'
batches into one vectorised call.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from positioning import FloorPlan, WalkableGrid
from positioning.batch_tracker import BatchTracker
from server.batch_tracking import StoreBatchTrackers, sensor_batch
from server.database import Database
from server.realtime.frames import ReadingsBatch
from server.wiring import core_wiring
from simulator import SimulatedPhone, demo_store, walk_windows
from simulator.phone import make_phone_profile
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.scanners import ScannerSettings
from simulator.store import Store as SimStore
from simulator.walking import Stop, Trajectory, build_trajectory, make_gait
from tests.server.harness import LiveServer, Phone, Staff, Store, eventually, now_ms, settings_for
from tests.server.test_positioning_wired import readings_frame, seed_demo_store

SHELVES = ["zone-G1W2", "zone-G4E1", "zone-G7W1"]
# Beacons and steps through the batched EKF (no particle layer, no Wi-Fi): measured on these
# walks median ≈ 2–3 m; the bounds catch a tracker that lost or swapped its shoppers.
MEDIAN_ERROR_BOUND_M = 5.0
P90_ERROR_BOUND_M = 9.0


def shelf_walk(store: SimStore, shelf_id: str, seed: int, start_ms: int) -> tuple[Trajectory, Any]:
    """From the entrance to the shelf, five seconds there; the phone's windows of readings."""
    rng = np.random.default_rng(seed)
    shelf = next(z for z in store.zones if z.id == shelf_id)
    spot = shelf.polygon.centroid
    entrance = store.entrances[0]
    route = RouteGrid.build(store.floor_plan().walkable).route((entrance.x, entrance.y),
                                                               (spot.x, spot.y))  # fmt: skip
    stop = Stop(spot.x, spot.y, shelf.facing_deg, 5.0, "browse", shelf.id)
    trajectory = build_trajectory((entrance.x, entrance.y), [(route, stop)], make_gait(rng),
                                  start_ms, rng)  # fmt: skip
    environment = RadioEnvironment.for_store(store, seed)
    phone = SimulatedPhone(make_phone_profile(rng), store, environment, ScannerSettings(),
                           start_ms, rng)  # fmt: skip
    return trajectory, [readings_frame(rows) for _, rows in walk_windows(trajectory, phone)]


def more_shoppers(staff: Staff, store: Store, n: int) -> list[Store]:
    """``n`` further customers with app tokens, as ``Store`` views for ``Phone.hello``."""
    ids = [f"walker-{uuid.uuid4().hex[:6]}" for _ in range(n)]
    rows = "".join(f"{c},female,30,gold,location_analytics\n" for c in ids)
    csv = "customer_id,gender,age,tier,consents\n" + rows
    staff.ok("POST", "/api/customers/import", files={"file": ("c.csv", csv)})
    out = []
    for customer_id in ids:
        token = staff.ok("POST", "/api/tokens", json={"kind": "app", "customer_id": customer_id})
        out.append(dataclasses.replace(store, customer_id=customer_id, app_token=token["token"]))
    return out


def stream(phone: Phone, frames: list[dict[str, Any] | str | bytes]) -> list[dict[str, Any]]:
    """Send each frame after the previous one's answer; the positions (and errors) received."""
    received: list[dict[str, Any]] = []
    for frame in frames:
        phone.send(frame)
        while True:
            answer = phone.recv()
            received.append(answer)
            if answer["type"] in ("readings_ack", "error"):
                break
    received += phone.nothing_more({"position"}, 0.5)
    return received


@pytest.fixture(scope="module")
def batched(database_url: str) -> Iterator[tuple[LiveServer, StoreBatchTrackers]]:
    database = Database.connect(database_url)
    wiring = core_wiring(database, "batched")
    assert isinstance(wiring.tracker_for, StoreBatchTrackers)
    with LiveServer(settings_for(database_url, phone_port=0), wiring) as server:
        yield server, wiring.tracker_for
    database.dispose()


def test_shoppers_walking_at_once_each_get_positions_near_their_own_truth(
    batched: tuple[LiveServer, StoreBatchTrackers],
) -> None:
    server, trackers = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    shoppers = more_shoppers(staff, store, len(SHELVES))
    staff.http.close()
    start = now_ms() - 90_000
    walks = [
        shelf_walk(sim_store, shelf, 11 + i, start + 700 * i) for i, shelf in enumerate(SHELVES)
    ]
    received: list[list[dict[str, Any]]] = [[] for _ in walks]
    calls_before = trackers.runner.calls

    def walk(i: int) -> None:
        with Phone.connect(server.ws_url) as phone:
            assert phone.hello(shoppers[i])["positioning"] == "server"
            received[i] = stream(phone, walks[i][1])

    threads = [threading.Thread(target=walk, args=(i,)) for i in range(len(walks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    sent = sum(len(frames) for _, frames in walks)
    assert (
        trackers.runner.calls - calls_before < sent
    )  # some calls took several shoppers' batches at once
    grid = WalkableGrid.from_plan(FloorPlan.rectangle("ground", sim_store.width_m,
                                                      sim_store.height_m))  # fmt: skip
    for (trajectory, frames), answers in zip(walks, received, strict=True):
        assert sum(a["type"] == "readings_ack" for a in answers) == len(frames)
        positions = [a for a in answers if a["type"] == "position"]
        assert len(positions) >= len(frames) - 3  # one a batch once the first beacon placed it
        t_ms = np.array([p["t_ms"] for p in positions], dtype=float)
        true_x, true_y, _ = trajectory.pose_at(t_ms)
        x, y = np.array([p["x"] for p in positions]), np.array([p["y"] for p in positions])
        errors = np.hypot(x - true_x, y - true_y)
        assert float(np.median(errors)) <= MEDIAN_ERROR_BOUND_M, np.round(errors, 1)
        assert float(np.percentile(errors, 90)) <= P90_ERROR_BOUND_M, np.round(errors, 1)
        assert grid.is_free(x, y).all()  # on the floor


def test_a_bad_shoppers_batches_do_not_change_the_others_positions(
    batched: tuple[LiveServer, StoreBatchTrackers],
) -> None:
    server, trackers = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    good, bad = more_shoppers(staff, store, 2)
    staff.http.close()
    start = now_ms() - 60_000
    _, frames = shelf_walk(sim_store, SHELVES[1], 5, start)
    frames = frames[:20]
    rng = np.random.default_rng(1)
    garbage: list[dict[str, Any] | str] = []
    for i, frame in enumerate(frames):
        t = frame["accel"]["t_ms"] if "accel" in frame else [start + 1000 * i]
        t = t if i % 2 == 0 else [v - 3000 for v in t]
        # Valid frames with absurd content: 5000 m/s² shakes, a beacon at the extremes of RSSI
        # and unknown ones, time going back; and frames that fail validation.
        garbage.append({"type": "readings",
                        "accel": {"t_ms": t, "x": [5000.0] * len(t),
                                  "y": rng.uniform(-5000, 5000, len(t)).tolist(),
                                  "z": [-5000.0] * len(t)},
                        "beacons": {"t_ms": [t[0]] * 3,
                                    "beacon_id": [sim_store.beacons[0].id, "nobody", "x" * 128],
                                    "rssi_dbm": [20.0, -150.0, -60.0]}})  # fmt: skip
        garbage.append(json.dumps({"type": "readings", "accel": {"t_ms": [1], "x": [1e308]}}))
    received: dict[str, list[dict[str, Any]]] = {}

    def walk(name: str, who: Store, to_send: list[dict[str, Any] | str]) -> None:
        with Phone.connect(server.ws_url) as phone:
            phone.hello(who)
            received[name] = stream(phone, to_send)

    threads = [threading.Thread(target=walk, args=("good", good, list(frames))),
               threading.Thread(target=walk, args=("bad", bad, garbage))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert any(a["type"] == "error" for a in received["bad"])  # refused, connection kept
    assert sum(a["type"] == "readings_ack" for a in received["bad"]) == len(frames)
    # The good shopper's positions are exactly those of a tracker that never saw the bad one.
    radio = trackers.radio(store.id)
    assert radio is not None
    alone = BatchTracker(radio.beacon_map, radio.grid, trackers.settings.weinberg_k)
    row = alone.add()
    expected = [e for f in frames for e in alone.push([row], [sensor_batch(
        ReadingsBatch.model_validate(f))])[0]]  # fmt: skip
    got = [a for a in received["good"] if a["type"] == "position"]
    assert len(got) == len(expected) > 10
    for position, estimate in zip(got, expected, strict=True):
        assert position["t_ms"] == estimate.t_ms
        assert position["x"] == pytest.approx(estimate.x, abs=1e-9)
        assert position["y"] == pytest.approx(estimate.y, abs=1e-9)


def test_a_shopper_who_leaves_is_taken_out_of_the_batch(
    batched: tuple[LiveServer, StoreBatchTrackers],
) -> None:
    server, trackers = batched
    sim_store = demo_store(0)
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, sim_store)
    staff.http.close()
    _, frames = shelf_walk(sim_store, SHELVES[0], 3, now_ms() - 30_000)
    with Phone.connect(server.ws_url) as phone:
        phone.hello(store)
        stream(phone, frames[:5])
        batch = trackers.store_batch(store.id)
        assert batch is not None
        assert len(batch.tracker) == 1
        assert batch.tracker.ekf.ready.sum() == 1
    assert eventually(lambda: len(batch.tracker) == 0)
    assert batch.tracker.ekf.ready.sum() == 0  # its row forgotten, ready for the next shopper


def test_fixes_go_through_the_runner_and_a_missing_floor_fails_only_its_own_frame(
    batched: tuple[LiveServer, StoreBatchTrackers],
) -> None:
    server, trackers = batched
    staff = Staff(server.http_url)
    store = seed_demo_store(staff, demo_store(0))
    staff.http.close()
    t0 = now_ms() - 10_000
    calls = trackers.runner.calls
    answers = []
    with Phone.connect(server.ws_url) as phone:
        phone.hello(store)
        for k, floor in enumerate([None, 999_999, None]):
            phone.send({"type": "fix", "t_ms": t0 + 1000 * k, "x": 5.0, "y": 5.0,
                        "heading_deg": 90.0, "accuracy_m": 1.0, "floor_id": floor})  # fmt: skip
            answers.append(phone.recv())
    assert [a["type"] for a in answers] == ["position", "error", "position"]
    assert answers[1]["code"] == "not_found"
    assert "999999" in answers[1]["reason"]
    assert [answers[0]["t_ms"], answers[2]["t_ms"]] == [t0, t0 + 2000]
    assert trackers.runner.calls == calls + 3  # one runner call each, none in a thread of its own
