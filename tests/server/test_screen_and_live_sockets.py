"""/ws/screen and /ws/live over real sockets: signage content, proof of play, the staff feed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.database import Database
from server.tables import Offer, Play, Screen
from tests.server.fakes import campaign_document
from tests.server.harness import (
    RECV_TIMEOUT_S,
    LiveServer,
    Phone,
    Staff,
    Store,
    add_campaign,
    eventually,
    now_ms,
    seed_store,
)


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


@contextlib.contextmanager
def socket_to(
    live: LiveServer, path: str, port_kind: str = "uvicorn"
) -> Iterator[ClientConnection]:
    with connect(f"{live.url_of(port_kind)}{path}", open_timeout=10) as ws:
        yield ws


def send(ws: ClientConnection, frame: dict[str, Any]) -> None:
    ws.send(json.dumps(frame))


def recv(ws: ClientConnection, kind: str | None = None) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=RECV_TIMEOUT_S))
        if kind is None or frame["type"] == kind:
            return frame


def facing_the_screen(phone: Phone) -> None:
    phone.send({"type": "fix", "t_ms": now_ms(), "x": 25, "y": 5, "heading_deg": 85,
                "accuracy_m": 1.0})  # fmt: skip


def database_of(live: LiveServer) -> Database:
    return Database.connect(live.server.config.app.state.runtime.settings.database_url)


def test_a_screen_registers_and_gets_its_playlist(
    live: LiveServer, store: Store, port_kind: str
) -> None:
    with socket_to(live, "/ws/screen", port_kind) as ws:
        send(ws, {"type": "register", "token": store.screen_token, "zone_id": store.screen_zone})
        state = recv(ws)
    assert state["type"] == "state"
    assert state["screen_id"] == store.screen_id
    assert state["playlist"][0]["content_id"] == "house-1"
    assert state["current"] is None


def test_a_screen_in_the_wrong_zone_or_with_a_bad_token_is_refused(
    live: LiveServer, store: Store
) -> None:
    for frame in (
        {"type": "register", "token": store.screen_token, "zone_id": "shelf-coffee"},
        {"type": "register", "token": store.app_token},
    ):
        with socket_to(live, "/ws/screen") as ws:
            send(ws, frame)
            error = recv(ws)
            assert error["code"] == "unauthorized"
            with pytest.raises(ConnectionClosed):
                recv(ws)


def test_facing_a_screen_pushes_content_without_personal_data_and_play_is_recorded(
    live: LiveServer, store: Store, admin: Staff, port_kind: str
) -> None:
    campaign = add_campaign(
        admin, store, campaign_document("near_screen", "Espresso week", channel="signage")
    )
    url = live.url_of(port_kind)  # the screen and the phone both on it
    with socket_to(live, "/ws/screen", port_kind) as screen, Phone.connect(url) as phone:
        send(screen, {"type": "register", "token": store.screen_token})
        recv(screen, "state")
        phone.hello(store)
        facing_the_screen(phone)
        content = recv(screen, "content")
        assert content["content"] == {"title": "Espresso week"}
        assert set(content) == {"type", "play_id", "content", "until_ms"}
        assert store.customer_id not in json.dumps(content)
        send(screen, {"type": "played", "content_id": "espresso", "play_id": content["play_id"],
                      "started_ms": now_ms(), "duration_ms": 15000})  # fmt: skip
        assert recv(screen, "played_ack")["content_id"] == "espresso"
        assert phone.nothing_more({"offer"}) == []  # signage goes to the screen, not the app
    database = database_of(live)
    with database.session() as session:
        offer = session.get(Offer, content["play_id"])
        assert offer is not None
        assert (offer.campaign_id, offer.channel, offer.status) == (campaign, "signage", "acked")
        plays = session.scalars(select(Play).where(Play.offer_id == offer.id)).all()
        assert [p.duration_ms for p in plays] == [15000]
    database.dispose()


def test_a_reconnecting_screen_gets_the_content_it_should_be_showing(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("near_screen", "Still on", channel="signage"))
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        facing_the_screen(phone)
        phone.send({"type": "ack", "seq": 1})  # round-trip: the step above has been processed
        phone.recv_type("error")
    with socket_to(live, "/ws/screen") as screen:
        send(screen, {"type": "register", "token": store.screen_token})
        state = recv(screen, "state")
    assert state["current"]["content"] == {"title": "Still on"}
    assert state["current"]["until_ms"] > now_ms()


def test_staff_change_to_a_screen_reaches_it_at_once(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    with socket_to(live, "/ws/screen") as screen:
        send(screen, {"type": "register", "token": store.screen_token})
        recv(screen, "state")
        admin.ok("PATCH", f"/api/stores/{store.id}/screens/{store.screen_id}",
                 json={"playlist": [{"content_id": "house-2", "duration_s": 5}]})  # fmt: skip
        state = recv(screen, "state")
    assert [item["content_id"] for item in state["playlist"]] == ["house-2"]
    database = database_of(live)

    def offline() -> bool:
        with database.session() as session:
            row = session.get(Screen, (store.id, store.screen_id))
            return row is not None and row.online is False

    assert eventually(offline), "the screen should be marked offline after it disconnects"
    database.dispose()


def test_a_bad_proof_of_play_is_refused_and_the_screen_stays_connected(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    with socket_to(live, "/ws/screen") as screen:
        send(screen, {"type": "register", "token": store.screen_token})
        recv(screen, "state")
        send(screen, {"type": "played", "content_id": "x", "started_ms": now_ms(),
                      "duration_ms": -1})  # fmt: skip
        assert recv(screen, "error")["code"] == "bad_frame"
        send(screen, {"type": "played", "content_id": "x", "play_id": "not-ours",
                      "started_ms": now_ms(), "duration_ms": 10})  # fmt: skip
        assert recv(screen, "error")["code"] == "not_found"
        started = now_ms()
        send(screen, {"type": "played", "content_id": "house-1", "started_ms": started,
                      "duration_ms": 10_000})  # fmt: skip
        assert recv(screen, "played_ack")["content_id"] == "house-1"
        seen_by_staff = admin.ok("GET", f"/api/stores/{store.id}/screens/{store.screen_id}")
    assert seen_by_staff["online"] is True
    expected = {"content_id": "house-1", "play_id": None, "started_ms": started,
                "duration_ms": 10_000}  # fmt: skip
    assert seen_by_staff["last_played"] == expected


def test_the_live_feed_shows_anonymised_positions_and_events(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    with socket_to(live, "/ws/live") as feed, Phone.connect(live.ws_url) as phone:
        send(feed, {"type": "hello", "token": admin.token, "store_id": store.id})
        assert recv(feed)["type"] == "welcome"
        phone.hello(store)
        phone.send({"type": "fix", "t_ms": now_ms(), "x": 5, "y": 5, "heading_deg": 0,
                    "accuracy_m": 2.0})  # fmt: skip
        position = recv(feed, "position")
        event = recv(feed, "zone_event")
    assert (position["x"], position["y"], position["zone_id"]) == (5, 5, "shelf-coffee")
    assert (event["kind"], event["zone_id"]) == ("enter", "shelf-coffee")
    assert position["shopper"] == event["shopper"]
    assert store.customer_id not in json.dumps([position, event])


def test_offers_reach_the_live_feed_without_the_shopper(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    campaign = add_campaign(admin, store, campaign_document("app_open", "n1"))
    with socket_to(live, "/ws/live") as feed, Phone.connect(live.ws_url) as phone:
        send(feed, {"type": "hello", "token": admin.token, "store_id": store.id})
        recv(feed, "welcome")
        phone.hello(store)
        phone.send({"type": "event", "kind": "app_open", "t_ms": now_ms()})
        offer = recv(feed, "offer")
    assert offer["campaign_id"] == campaign
    assert offer["channel"] == "app"
    assert "shopper" not in offer
    assert store.customer_id not in json.dumps(offer)


def test_shoppers_without_analytics_consent_stay_off_the_live_feed(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    with socket_to(live, "/ws/live") as feed, Phone.connect(live.ws_url) as phone:
        send(feed, {"type": "hello", "token": admin.token, "store_id": store.id})
        recv(feed, "welcome")
        phone.hello(store, consents=["personalised_offers"])
        phone.send({"type": "fix", "t_ms": now_ms(), "x": 5, "y": 5, "heading_deg": 0,
                    "accuracy_m": 2.0})  # fmt: skip
        phone.recv_type("position")
        with pytest.raises(TimeoutError):
            feed.recv(timeout=0.5)


def test_staff_of_another_store_cannot_watch_this_one(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    other = admin.ok("POST", "/api/stores", json={"name": "Other"})
    admin.ok("POST", "/api/users", json={"email": "other@x.test", "password": "password-other",
                                          "role": "staff", "store_ids": [other["id"]]})  # fmt: skip
    outsider = Staff(live.http_url, "other@x.test", "password-other")
    with socket_to(live, "/ws/live") as feed:
        send(feed, {"type": "hello", "token": outsider.token, "store_id": store.id})
        error = recv(feed)
        assert error["code"] == "unauthorized"
    outsider.http.close()
