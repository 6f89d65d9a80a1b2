"""Server-side positioning end to end: a simulated phone streams reading batches to the real server.

The simulator (``demo_store``, ``SimulatedPhone``, ``walk_windows``) makes the readings a phone
would sense walking from the entrance to a shelf; the server (``core_wiring``: the positioning
tracker, the zone detector, triggers) answers with positions and offers over a real socket.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from positioning import AccelReading, BeaconReading, GyroReading, WifiReading
from positioning.readings import beacon_id_of
from positioning.walkfile import (
    ACCELEROMETER,
    BEACON,
    GYROSCOPE,
    MAGNETIC_FIELD,
    ROTATION_VECTOR,
    WIFI,
    WalkRow,
)
from server.realtime.frames import ReadingsBatch
from server.tracking import batch_readings
from simulator import SimulatedPhone, demo_store, walk_windows
from simulator.phone import make_phone_profile
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.scanners import ScannerSettings
from simulator.store import Store as SimStore
from simulator.walking import Stop, Trajectory, build_trajectory, make_gait
from tests.server.harness import (
    LiveServer,
    Phone,
    Staff,
    Store,
    add_campaign,
    now_ms,
    settings_for,
)

SEED = 7
SHELF = "zone-G1W2"  # fruit & vegetables, in the first aisle
# The grocery aisles as one department zone. The tracker's estimates claim ≥ 3 m accuracy
# (positioning's ACCURACY_FLOOR_M) and the detector lets an estimate enter only zones at least
# that wide (ZoneSettings.enter_accuracy_ratio), so a 1 m shelf strip is out of reach of
# server-side positioning today; a department is not.
AISLES = {"id": "aisles", "name": "Grocery aisles", "kind": "area", "categories": ["grocery"],
          "polygon": [[3, 11.5], [42, 11.5], [42, 25], [3, 25]]}  # fmt: skip
# Beacons and steps only (no Wi-Fi survey on the server): the error measured on this walk is
# median 3.6 m, p90 5.4 m per shopper (batched: about 2 m, 3 m); the bounds leave room for other
# machines' float order, not for a tracker that lost the shopper.
MEDIAN_ERROR_BOUND_M = 5.0
P90_ERROR_BOUND_M = 8.0
MOTION_SERIES = {ACCELEROMETER: "accel", GYROSCOPE: "gyro", MAGNETIC_FIELD: "mag",
                 ROTATION_VECTOR: "rotation"}  # fmt: skip


@dataclass
class SimulatedVisit:
    store: SimStore
    trajectory: Trajectory
    phone: SimulatedPhone


def simulated_visit(start_ms: int) -> SimulatedVisit:
    """From the entrance to the shelf, then five seconds browsing it."""
    store = demo_store(0)
    rng = np.random.default_rng(SEED)
    shelf = next(z for z in store.zones if z.id == SHELF)
    spot = shelf.polygon.centroid
    entrance = store.entrances[0]
    route = RouteGrid.build(store.floor_plan().walkable).route((entrance.x, entrance.y),
                                                               (spot.x, spot.y))  # fmt: skip
    stop = Stop(spot.x, spot.y, shelf.facing_deg, 5.0, "browse", shelf.id)
    gait = make_gait(rng)
    trajectory = build_trajectory((entrance.x, entrance.y), [(route, stop)], gait, start_ms, rng)
    environment = RadioEnvironment.for_store(store, SEED)
    profile = make_phone_profile(rng)
    phone = SimulatedPhone(profile, store, environment, ScannerSettings(), start_ms, rng)
    return SimulatedVisit(store, trajectory, phone)


def readings_frame(rows: list[WalkRow]) -> dict[str, Any]:
    """One window of a phone's rows as the app's ``readings`` frame (docs/protocol.md)."""
    frame: dict[str, Any] = {"type": "readings"}
    for row in rows:
        if row.kind in MOTION_SERIES:
            series = frame.setdefault(MOTION_SERIES[row.kind], {"t_ms": [], "x": [], "y": [],
                                                                "z": []})  # fmt: skip
            for key, value in zip(("x", "y", "z"), row.values[:3], strict=True):
                series[key].append(value)
        elif row.kind == BEACON:
            beacon_uuid, major, minor, tx_power, rssi, _range, mac, _t = row.values
            series = frame.setdefault("beacons", {"t_ms": [], "beacon_id": [], "rssi_dbm": [],
                                                  "tx_power_dbm": []})  # fmt: skip
            series["beacon_id"].append(beacon_id_of(str(beacon_uuid), major, minor, str(mac)))
            series["rssi_dbm"].append(rssi)
            series["tx_power_dbm"].append(tx_power)
        elif row.kind == WIFI:
            _ssid, bssid, rssi, _mhz, last_seen_ms = row.values
            series = frame.setdefault("wifi", {"t_ms": [], "bssid": [], "rssi_dbm": [],
                                               "last_seen_ms": []})  # fmt: skip
            series["bssid"].append(bssid)
            series["rssi_dbm"].append(rssi)
            series["last_seen_ms"].append(last_seen_ms)
        else:
            continue  # ground-truth waypoints never reach the server
        series["t_ms"].append(row.t_ms)
    return frame


def seed_demo_store(staff: Staff, store: SimStore, customer_id: str = "demo-walker") -> Store:
    """The demo store's floor, beacons, the shelf and the aisles, a shopper and a campaign."""
    tag = uuid.uuid4().hex[:8]
    created = staff.ok("POST", "/api/stores", json={"name": f"Demo {tag}"})
    base = f"/api/stores/{created['id']}"
    floor = staff.ok("POST", f"{base}/floors", json={"name": "ground", "width_m": store.width_m,
                                                       "height_m": store.height_m})  # fmt: skip
    for beacon in store.beacons:
        body = {"id": beacon.id, "floor_id": floor["id"], "x": beacon.x, "y": beacon.y,
                "tx_power_dbm": beacon.tx_power_dbm}  # fmt: skip
        staff.ok("POST", f"{base}/beacons", json=body)
    shelf = next(z for z in store.zones if z.id == SHELF)
    shelf_doc = {"id": shelf.id, "name": shelf.name, "kind": shelf.kind,
                 "polygon": [list(p) for p in shelf.polygon.exterior.coords[:-1]],
                 "categories": list(shelf.categories), "facing_deg": shelf.facing_deg,
                 "view_distance_m": shelf.view_distance_m}  # fmt: skip
    for zone in (shelf_doc, AISLES):
        staff.ok("POST", f"{base}/zones", json={**zone, "floor_id": floor["id"]})
    # The per-shopper tracker is seeded by the shopper: the same walk, every run.
    staff.ok("POST", "/api/customers/import", files={"file": ("c.csv",
             f"customer_id,gender,age,tier,consents\n{customer_id},female,34,gold,"
             "location_analytics;personalised_offers;signage\n")})  # fmt: skip
    token = staff.ok("POST", "/api/tokens", json={"kind": "app", "customer_id": customer_id})
    return Store(created["id"], floor["id"], SHELF, "", "", customer_id, token["token"], "")


@pytest.fixture(scope="module", params=["batched", "per_shopper"])
def real(database_url: str, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The real cores (no wiring given), with each of the server's two trackers."""
    with LiveServer(settings_for(database_url, tracker=request.param)) as server:
        yield server


def test_simulated_readings_become_positions_near_the_truth_and_an_offer(
    real: LiveServer, request: pytest.FixtureRequest
) -> None:
    visit = simulated_visit(now_ms() - 90_000)  # the whole walk lies in the recent past
    staff = Staff(real.http_url)
    # A shopper per tracker: the other run's offer must not cap or replay into this one. The
    # per-shopper tracker keeps the seed (the customer id) this walk was measured with.
    batched = request.node.callspec.params["real"] == "batched"
    store = seed_demo_store(staff, visit.store, "demo-walker-batched" if batched else "demo-walker")
    campaign = add_campaign(staff, store, {"context": {"event": "enter", "zone_ids": ["aisles"]},
                                           "content": {"title": "Fresh this week"}})  # fmt: skip
    staff.http.close()
    positions: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    with Phone.connect(real.ws_url) as phone:
        assert phone.hello(store)["positioning"] == "server"
        sent = 0
        for _t1, rows in walk_windows(visit.trajectory, visit.phone):
            phone.send(readings_frame(rows))
            sent += 1
            time.sleep(0.06)  # under the socket's 20 frames/s
        acks = 0
        while acks < sent:  # every batch is acknowledged, then its positions and offers follow
            frame = phone.recv()
            acks += frame["type"] == "readings_ack"
            positions += [frame] if frame["type"] == "position" else []
            offers += [frame] if frame["type"] == "offer" else []
        late = phone.nothing_more({"position", "offer"}, 1.0)  # those of the last batch
        positions += [f for f in late if f["type"] == "position"]
        offers += [f for f in late if f["type"] == "offer"]
    t_ms = np.array([p["t_ms"] for p in positions], dtype=float)
    true_x, true_y, _ = visit.trajectory.pose_at(t_ms)
    errors = np.hypot(np.array([p["x"] for p in positions]) - true_x,
                      np.array([p["y"] for p in positions]) - true_y)  # fmt: skip
    assert len(positions) >= 20  # per step (per batch when batched) once a beacon placed them
    assert float(np.median(errors)) <= MEDIAN_ERROR_BOUND_M, np.round(errors, 1)
    assert float(np.percentile(errors, 90)) <= P90_ERROR_BOUND_M, np.round(errors, 1)
    assert [(o["campaign_id"], o["zone_id"]) for o in offers] == [(campaign, "aisles")]
    assert any(p["zone_id"] == "aisles" for p in positions)


def test_a_batch_is_merged_in_time_order_keeping_each_sensors_order() -> None:
    batch = ReadingsBatch.model_validate({
        "type": "readings",
        "accel": {"t_ms": [10, 20, 20], "x": [1, 2, 3], "y": [0, 0, 0], "z": [9, 9, 9]},
        "gyro": {"t_ms": [5, 20], "x": [0.1, 0.2], "y": [0, 0], "z": [0, 0]},
        "beacons": {"t_ms": [15, 20], "beacon_id": ["b1", "b2"], "rssi_dbm": [-70, -80]},
        "wifi": {"t_ms": [20], "bssid": ["ap"], "rssi_dbm": [-60], "last_seen_ms": [12]},
    })  # fmt: skip
    merged = list(batch_readings(batch))
    assert merged == [
        GyroReading(5, 0.1, 0.0, 0.0),
        AccelReading(10, 1.0, 0.0, 9.0),
        BeaconReading(15, "b1", -70.0),
        # Equal times: accel before gyro before beacons before wifi, each in the app's order.
        AccelReading(20, 2.0, 0.0, 9.0),
        AccelReading(20, 3.0, 0.0, 9.0),
        GyroReading(20, 0.2, 0.0, 0.0),
        BeaconReading(20, "b2", -80.0),
        WifiReading(20, "ap", -60.0, 12),
    ]
