"""/ws/live carries what the admin page needs: each position's floor, each screen's state."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.server.fakes import campaign_document
from tests.server.harness import (
    RECV_TIMEOUT_S,
    LiveServer,
    Phone,
    Staff,
    Store,
    add_campaign,
    now_ms,
    seed_store,
)


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


@contextlib.contextmanager
def live_feed(live: LiveServer, admin: Staff, store: Store) -> Iterator[ClientConnection]:
    with connect(f"{live.ws_url}/ws/live", open_timeout=10) as feed:
        feed.send(json.dumps({"type": "hello", "token": admin.token, "store_id": store.id}))
        assert recv(feed)["type"] == "welcome"
        yield feed


@contextlib.contextmanager
def screen(live: LiveServer, store: Store) -> Iterator[ClientConnection]:
    with connect(f"{live.ws_url}/ws/screen", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "register", "token": store.screen_token}))
        assert recv(ws, "state")["screen_id"] == store.screen_id
        yield ws


def recv(ws: ClientConnection, kind: str | None = None) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=RECV_TIMEOUT_S))
        if kind is None or frame["type"] == kind:
            return frame


def test_positions_and_zone_events_name_their_floor(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    upper = admin.ok("POST", f"/api/stores/{store.id}/floors",
                     json={"name": "upper", "width_m": 40, "height_m": 20})  # fmt: skip
    with live_feed(live, admin, store) as feed, Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send({"type": "fix", "t_ms": now_ms(), "x": 5, "y": 5, "heading_deg": 0,
                    "accuracy_m": 2.0})  # fmt: skip
        ground_position = recv(feed, "position")
        ground_event = recv(feed, "zone_event")
        phone.send({"type": "fix", "t_ms": now_ms(), "x": 30, "y": 15, "heading_deg": 0,
                    "accuracy_m": 2.0, "floor_id": upper["id"]})  # fmt: skip
        upper_position = recv(feed, "position")
    assert ground_position["floor_id"] == ground_event["floor_id"] == store.floor_id
    assert upper_position["floor_id"] == upper["id"]
    assert (upper_position["x"], upper_position["y"]) == (30, 15)


def test_staff_see_a_screen_come_online_play_an_offer_and_go_offline(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    add_campaign(admin, store, campaign_document("near_screen", "Espresso week", channel="signage"))
    with live_feed(live, admin, store) as feed:
        with screen(live, store) as ws, Phone.connect(live.ws_url) as phone:
            online = recv(feed, "screen")
            assert (online["screen_id"], online["online"], online["playing"]) == (
                store.screen_id, True, None)  # fmt: skip
            phone.hello(store)
            phone.send({"type": "fix", "t_ms": now_ms(), "x": 25, "y": 5, "heading_deg": 85,
                        "accuracy_m": 1.0})  # fmt: skip
            content = recv(ws, "content")
            pushed = recv(feed, "screen")
            assert pushed["online"] is True
            assert pushed["playing"] == {"play_id": content["play_id"],
                                         "content": {"title": "Espresso week"},
                                         "until_ms": content["until_ms"]}  # fmt: skip
            ws.send(json.dumps({"type": "played", "content_id": "espresso",
                                "play_id": content["play_id"], "started_ms": now_ms(),
                                "duration_ms": 15_000}))  # fmt: skip
            back = recv(feed, "screen")
            assert back["playing"] is None  # the offer left the screen: playlist again
            assert back["last_played"]["play_id"] == content["play_id"]
            assert store.customer_id not in json.dumps([online, pushed, back])
        offline = recv(feed, "screen")
    assert (offline["screen_id"], offline["online"]) == (store.screen_id, False)


def test_a_staff_change_to_a_screen_reaches_the_live_feed(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    with live_feed(live, admin, store) as feed, screen(live, store):
        recv(feed, "screen")
        admin.ok("PATCH", f"/api/stores/{store.id}/screens/{store.screen_id}",
                 json={"playlist": [{"content_id": "house-2", "duration_s": 5}]})  # fmt: skip
        changed = recv(feed, "screen")
    assert (changed["online"], changed["playing"]) == (True, None)
