"""Frames the simulated phone sends: the protocol's column format (docs/protocol.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from positioning.walkfile import (
    ACCELEROMETER,
    BEACON,
    GYROSCOPE,
    MAGNETIC_FIELD,
    ROTATION_VECTOR,
    WAYPOINT,
    WIFI,
    WalkRow,
)
from server.realtime.frames import SHOPPER_FRAME, ReadingsBatch
from simulator import demo_store
from simulator.customers import make_customer_base
from simulator.phone import walk_windows
from simulator.purchases import offer_category, respond_to_offer
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.run import FIRST_VISIT_MS, SimulationSettings, simulate_visit
from simulator.wire import (
    MAX_SAMPLES_PER_FRAME,
    ack_frame,
    event_frame,
    hello_frame,
    readings_frames,
    samples_in,
)

T0 = 1795485141000
UUID = "fda50693-a4e2-4fb1-afcf-c6eb07647825"


def protocol_example_rows() -> list[WalkRow]:
    """The rows behind the readings example of docs/protocol.md (one sample of each kind)."""
    return [
        WalkRow(T0, ACCELEROMETER, (0.12, 0.31, 9.79, 3)),
        WalkRow(T0, MAGNETIC_FIELD, (22.1, -5.3, -40.2, 3)),
        WalkRow(T0, GYROSCOPE, (0.01, -0.02, 0.0, 3)),
        WalkRow(T0, ROTATION_VECTOR, (0.01, 0.02, 0.71, 3)),
        WalkRow(T0 + 20, ACCELEROMETER, (0.10, 0.30, 9.81, 3)),
        WalkRow(T0 + 500, BEACON, (UUID, 10, 7, -59, -71, 3.1, "C4:AA", T0 + 500)),
        WalkRow(T0 + 500, WIFI, ("shop", "aa:bb:cc:dd:ee:ff", -63, 2412, T0 + 200)),
        WalkRow(T0 + 900, WAYPOINT, (12.0, 5.0)),
    ]


def test_rows_become_the_protocol_column_series() -> None:
    [frame] = readings_frames(protocol_example_rows())
    assert frame["type"] == "readings"
    assert frame["accel"] == {"t_ms": [T0, T0 + 20], "x": [0.12, 0.10], "y": [0.31, 0.30],
                              "z": [9.79, 9.81]}  # fmt: skip
    assert frame["mag"] == {"t_ms": [T0], "x": [22.1], "y": [-5.3], "z": [-40.2]}
    assert frame["rotation"] == {"t_ms": [T0], "x": [0.01], "y": [0.02], "z": [0.71]}
    assert frame["beacons"] == {
        "t_ms": [T0 + 500],
        "beacon_id": [f"{UUID.upper()}_10_7_C4:AA"],
        "rssi_dbm": [-71],
        "tx_power_dbm": [-59],
    }
    assert frame["wifi"] == {"t_ms": [T0 + 500], "bssid": ["aa:bb:cc:dd:ee:ff"],
                             "rssi_dbm": [-63], "last_seen_ms": [T0 + 200]}  # fmt: skip
    # The ground truth never goes on the wire; the accuracy flag is not in the protocol.
    assert "waypoint" not in json.dumps(frame).lower()
    assert samples_in(frame) == 7
    assert isinstance(SHOPPER_FRAME.validate_python(frame), ReadingsBatch)


def test_offset_moves_every_time_including_wifi_last_seen() -> None:
    [frame] = readings_frames(protocol_example_rows(), offset_ms=1000)
    assert frame["accel"]["t_ms"] == [T0 + 1000, T0 + 1020]
    assert frame["wifi"]["last_seen_ms"] == [T0 + 1200]
    assert frame["beacons"]["t_ms"] == [T0 + 1500]


def test_nothing_sendable_gives_no_frame_and_long_windows_split() -> None:
    assert readings_frames([WalkRow(T0, WAYPOINT, (1.0, 2.0))]) == []
    rows = [WalkRow(T0 + k, ACCELEROMETER, (0.0, 0.0, 9.8, 3)) for k in range(4500)]
    frames = readings_frames(rows)
    assert [samples_in(f) for f in frames] == [MAX_SAMPLES_PER_FRAME, MAX_SAMPLES_PER_FRAME, 500]
    assert frames[1]["accel"]["t_ms"][0] == T0 + MAX_SAMPLES_PER_FRAME
    for frame in frames:
        SHOPPER_FRAME.validate_python(frame)


def test_other_frames_match_the_protocol_examples() -> None:
    hello = hello_frame("tok", 3, "2.4.1", ("location_analytics", "signage"), 41)
    assert hello == {
        "type": "hello", "token": "tok", "store_id": 3, "app_version": "2.4.1",
        "consents": ["location_analytics", "signage"], "last_seen_seq": 41,
    }  # fmt: skip
    assert event_frame("app_open", T0) == {"type": "event", "kind": "app_open", "t_ms": T0}
    opened = event_frame("offer_opened", T0, "6f1e")
    assert opened["offer_id"] == "6f1e"
    assert ack_frame(45) == {"type": "ack", "seq": 45}
    for frame in (hello, opened, ack_frame(45)):
        SHOPPER_FRAME.validate_python(frame)


def test_a_simulated_walk_streams_frames_the_server_accepts() -> None:
    """One minute of a real simulated visit: every frame passes the server's own schema, one
    frame per second, and the samples sent equal the sendable rows."""
    store = demo_store(3)
    categories = sorted({c for z in store.zones for c in z.categories})
    customers = make_customer_base(categories, 50, FIRST_VISIT_MS, 3)
    grid = RouteGrid.build(store.floor_plan().walkable)
    environment = RadioEnvironment.for_store(store, 3)
    _cid, trajectory, phone = simulate_visit(
        store, grid, environment, customers, 0, 3, SimulationSettings(max_stops=1)
    )
    windows = 0
    for t1, rows in walk_windows(trajectory, phone):
        frames = readings_frames(rows)
        assert len(frames) == 1
        batch = SHOPPER_FRAME.validate_python(frames[0])
        assert isinstance(batch, ReadingsBatch)
        assert batch.accel is not None
        assert len(batch.accel.t_ms) == 50
        assert max(batch.accel.t_ms) < t1
        assert samples_in(frames[0]) == sum(r.kind != WAYPOINT for r in rows)
        windows += 1
        if windows == 60:
            break
    assert windows == 60


def test_purchase_model_depends_on_affinity_and_discount() -> None:
    """Over many seeded shoppers the redemption rate follows the documented model."""
    n = 4000

    def redeem_rate(affinity: float, discount: float) -> float:
        rng = np.random.default_rng(11)
        return float(
            np.mean(
                [
                    respond_to_offer(affinity, discount, rng).redeem_after_s is not None
                    for _ in range(n)
                ]
            )
        )

    # P(redeem) = p_open·(p_b + (1 − p_b)·p_convert): a = 0 → 0.25·(0.05 + 0.95·0.1) = 0.036;
    # a = 0.8 → 0.65·(0.29 + 0.71·0.42) = 0.382.
    assert redeem_rate(0.0, 0.0) == pytest.approx(0.25 * (0.05 + 0.95 * 0.1), abs=0.01)
    assert redeem_rate(0.8, 0.0) == pytest.approx(0.65 * (0.29 + 0.71 * 0.42), abs=0.025)
    assert redeem_rate(0.0, 0.3) > 2 * redeem_rate(0.0, 0.0)
    response = respond_to_offer(0.8, 0.0, np.random.default_rng(1))
    assert response.p_offered == pytest.approx(0.29 + 0.65 * 0.71 * 0.42)
    assert response.uplift > 0
    # The redemption rate is the model's P(buy | offered), and every opener who would have
    # bought anyway redeems: the uplift over the baseline is what the offer caused.
    assert redeem_rate(0.8, 0.0) < response.p_offered
    assert offer_category({"sku": "S1"}, {"S1": "coffee"}) == "coffee"
    assert offer_category({"category": "tea", "sku": "S1"}, {"S1": "coffee"}) == "tea"
    assert offer_category({"title": "x"}, {}) is None
