"""Random frames at a live /ws/shopper: every one is answered, none closes the connection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.harness import LiveServer, Phone, Staff, Store, now_ms, seed_store

FRAME_TYPES = ["hello", "readings", "fix", "event", "ack", "bye", "nonsense"]
FIELD_NAMES = ["t_ms", "x", "y", "heading_deg", "accuracy_m", "seq", "kind", "offer_id",
               "accel", "beacons", "floor_id", "token", "store_id"]  # fmt: skip
# Frames that succeed quietly (an ack of an acked offer) have no answer; the rest do.
ANSWERED = {"error", "position", "readings_ack", "event_ack", "bye_ack"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(FRAME_TYPES)},
    optional=dict.fromkeys(FIELD_NAMES, json_values),
)


@pytest.fixture(scope="module")
def fuzz_store(admin: Staff) -> Store:
    return seed_store(admin)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(frames, min_size=1, max_size=5))
def test_random_frames_get_answers_and_never_close_the_connection(
    live: LiveServer, fuzz_store: Store, batch: list[dict[str, Any]]
) -> None:
    with Phone.connect(live.ws_url) as phone:
        phone.hello(fuzz_store)
        for frame in batch:
            if frame["type"] == "bye":  # a valid bye ends the visit; keep the connection's test
                frame["type"] = "nonsense"
            phone.send(json.dumps(frame, allow_nan=True))
        # The connection is still usable after all of them: a fix still gets its position.
        phone.send({"type": "fix", "t_ms": now_ms(), "x": 39.0, "y": 19.0, "heading_deg": 1.0,
                    "accuracy_m": 1.0})  # fmt: skip
        while True:
            answer = phone.recv()
            assert answer["type"] in ANSWERED | {"offer"}, answer
            if answer["type"] == "position" and answer["x"] == 39.0 and answer["y"] == 19.0:
                break
