"""/ws/shopper over a real socket: hello, fixes, readings, offers, acks, replay, bad frames."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from server.database import Database
from server.positions_codec import unpack_estimates
from server.realtime.limits import FRAME_BURST, MAX_FRAME_BYTES
from server.tables import Offer, PositionChunk, RawReadingBatch, Visit, ZoneEventRow
from tests.server.fakes import campaign_document, fake_wiring_with_tracker
from tests.server.harness import (
    LiveServer,
    Phone,
    Staff,
    Store,
    add_campaign,
    eventually,
    now_ms,
    raw_frames_of,
    seed_store,
    settings_for,
)


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


def fix(x: float, y: float, heading_deg: float = 0.0, **extra: object) -> dict[str, object]:
    return {"type": "fix", "t_ms": now_ms(), "x": x, "y": y, "heading_deg": heading_deg,
            "accuracy_m": 1.5, **extra}  # fmt: skip


def app_open() -> dict[str, object]:
    return {"type": "event", "kind": "app_open", "t_ms": now_ms()}


def offers_in_db(live: LiveServer, customer_id: str) -> list[Offer]:
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)
    try:
        with database.session() as session:
            query = select(Offer).where(Offer.customer_id == customer_id).order_by(Offer.seq)
            return list(session.scalars(query))
    finally:
        database.dispose()


def test_hello_with_an_unknown_token_gets_an_error_and_the_socket_closes(
    live: LiveServer, store: Store, port_kind: str
) -> None:
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.send({"type": "hello", "token": "nope", "store_id": store.id, "app_version": "1"})
        error = phone.recv()
        assert error["type"] == "error"
        assert error["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed):
            phone.recv()


def test_frames_before_hello_are_refused_and_hello_still_works(
    live: LiveServer, store: Store
) -> None:
    with Phone.connect(live.ws_url) as phone:
        phone.send(fix(1, 1))
        assert phone.recv()["code"] == "hello_first"
        welcome = phone.hello(store)
        assert welcome["positioning"] == "not_wired"
        assert welcome["visit_id"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json at all", "bad_frame"),
        ('{"type": "fix", "t_ms": 1, "x": NaN, "y": 0, "heading_deg": 0, "accuracy_m": 1}',
         "bad_frame"),
        (json.dumps({"type": "fix", "t_ms": 1, "x": 1e309, "y": 0, "heading_deg": 0,
                     "accuracy_m": 1}), "bad_frame"),
        (json.dumps({"type": "teleport"}), "bad_frame"),
        (json.dumps({"type": "ack", "seq": 1, "extra": True}), "bad_frame"),
        (json.dumps({"type": "event", "kind": "app_open", "t_ms": 5}), "bad_timestamp"),
        (json.dumps({"type": "event", "kind": "app_open", "t_ms": 4_102_444_800_000}),
         "bad_timestamp"),
        ("x" * (MAX_FRAME_BYTES + 1), "too_large"),
        (json.dumps({"type": "readings", "accel": {"t_ms": [1], "x": [0], "y": [0],
                                                   "z": [99999]}}), "bad_frame"),
        (json.dumps({"type": "readings", "gyro": {"t_ms": [1, 2], "x": [0], "y": [0, 0],
                                                  "z": [0, 0]}}), "bad_frame"),
        (json.dumps({"type": "readings", "mag": {"t_ms": [2, 1], "x": [0, 0], "y": [0, 0],
                                                 "z": [0, 0]}}), "bad_frame"),
        (json.dumps({"type": "readings"}), "bad_frame"),
        (json.dumps({"type": "readings", "beacons": {"t_ms": [5], "beacon_id": ["b"],
                                                     "rssi_dbm": [-70]}}), "bad_timestamp"),
        (json.dumps({"type": "ack", "seq": 987654}), "not_found"),
        (json.dumps({"type": "fix", "t_ms": 0, "x": 1, "y": 1, "heading_deg": 0,
                     "accuracy_m": 1, "floor_id": 0}), "bad_timestamp"),
        (json.dumps({"type": "event", "kind": "offer_opened", "t_ms": 0, "offer_id": "x"}),
         "bad_timestamp"),
    ],
    ids=["text", "nan", "infinity", "unknown-type", "unknown-field", "ancient", "future",
         "oversize", "implausible-accel", "ragged-series", "time-backwards", "empty-batch",
         "old-beacon", "unknown-ack", "old-fix", "old-event"],
)  # fmt: skip
def test_a_bad_frame_gets_an_error_with_a_reason_and_the_connection_stays_usable(
    live: LiveServer, store: Store, port_kind: str, frame: str, code: str
) -> None:
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        phone.send(frame)
        error = phone.recv_type("error")
        assert error["code"] == code
        assert error["reason"]
        phone.send(fix(35, 15))
        position = phone.recv_type("position")
        assert (position["x"], position["y"]) == (35, 15)


def test_binary_frames_are_refused_with_a_reason(
    live: LiveServer, store: Store, port_kind: str
) -> None:
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        phone.ws.send(b"\x00\x01")
        assert phone.recv()["code"] == "bad_frame"


def test_an_offer_for_an_unknown_offer_id_is_refused(live: LiveServer, store: Store) -> None:
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send({"type": "event", "kind": "offer_redeemed", "t_ms": now_ms(), "offer_id": "x"})
        assert phone.recv_type("error")["code"] == "not_found"


def test_a_fix_passes_through_as_a_position_with_its_zone(live: LiveServer, store: Store) -> None:
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send(fix(5, 5, heading_deg=180))
        position = phone.recv_type("position")
    assert position["zone_id"] == "shelf-coffee"
    assert position["heading_deg"] == 180
    assert position["accuracy_m"] == 1.5


def test_a_readings_batch_is_stored_and_acknowledged_as_not_positioned_yet(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    t = now_ms()
    batch = {
        "type": "readings",
        "accel": {"t_ms": [t + i * 20 for i in range(50)], "x": [0.1] * 50, "y": [0.2] * 50,
                  "z": [9.8] * 50},
        "beacons": {"t_ms": [t + 500], "beacon_id": ["B_1_2_AA"], "rssi_dbm": [-71]},
    }  # fmt: skip
    with Phone.connect(live.ws_url) as phone:
        welcome = phone.hello(store)
        phone.send(batch)
        ack = phone.recv_type("readings_ack")
    assert ack == {"type": "readings_ack", "accepted": 51, "positioning": "not_wired"}
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)

    def stored() -> list[tuple[int, int, int, list[dict[str, object]]]]:
        with database.session() as session:
            query = select(RawReadingBatch).where(RawReadingBatch.visit_id == welcome["visit_id"])
            return [
                (f.n_readings, f.t_first_ms, f.t_last_ms, json.loads(f.frame))
                for f in raw_frames_of(session.scalars(query))
            ]

    # Raw batches are written in groups, and when the connection ends.
    ((n, first, last, payload),) = eventually(stored)
    database.dispose()
    assert (n, first, last) == (51, t, t + 980)
    assert payload == batch  # the frame as sent


def test_walking_into_a_zone_brings_the_right_offer_once(
    live: LiveServer, store: Store, port_kind: str, admin: Staff
) -> None:
    wanted = add_campaign(
        admin, store, campaign_document("enter", "Coffee -20%", zone_id="shelf-coffee", cap=5)
    )
    add_campaign(admin, store, campaign_document("enter", "no", zone_id="elsewhere"))
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        phone.send(fix(35, 15))  # outside every zone
        phone.send(fix(5, 5))  # into the coffee shelf's zone
        offer = phone.recv_type("offer")
        phone.send(fix(6, 5))  # still inside: no new enter, so no new offer
        phone.send(fix(7, 5))
        assert phone.nothing_more({"offer"}) == []
    assert offer["campaign_id"] == wanted
    assert offer["content"] == {"title": "Coffee -20%"}
    assert offer["zone_id"] == "shelf-coffee"
    assert offer["seq"] == 1


def test_offers_are_in_the_database_before_the_app_sees_them_and_acks_are_recorded(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("app_open", "n1", cap=3))
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send(app_open())
        offer = phone.recv_type("offer")
        stored = {o.id: o for o in offers_in_db(live, store.customer_id)}
        assert offer["id"] in stored
        assert stored[offer["id"]].seq == offer["seq"]
        phone.send({"type": "ack", "seq": offer["seq"]})
        phone.send(app_open())  # a second offer, which round-trips after the ack was handled
        phone.recv_type("offer")
    assert offers_in_db(live, store.customer_id)[0].status == "acked"


def test_opened_and_redeemed_move_the_offer_forward(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("app_open", "n1"))
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send(app_open())
        offer = phone.recv_type("offer")
        for kind in ("offer_redeemed", "offer_opened"):  # a late "opened" must not move it back
            phone.send({"type": "event", "kind": kind, "t_ms": now_ms(), "offer_id": offer["id"]})
            phone.recv_type("event_ack")
    (stored,) = offers_in_db(live, store.customer_id)
    assert stored.status == "redeemed"
    assert stored.acked_ms is not None
    assert stored.opened_ms is not None
    assert stored.redeemed_ms is not None


def test_reconnect_replays_unacked_offers_once_and_never_what_the_app_saw(
    live: LiveServer, store: Store, port_kind: str, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("app_open", "n1", cap=10))
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        for _ in range(3):
            phone.send(app_open())
        seqs = [phone.recv_type("offer")["seq"] for _ in range(3)]
        phone.send({"type": "ack", "seq": seqs[0]})
        phone.send(app_open())
        phone.recv_type("offer")
    assert seqs == [1, 2, 3]
    # The app saw up to 2 (its last_seen_seq) but acked only 1: it missed 3 and the 4th.
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store, last_seen_seq=2)
        replayed = [phone.recv_type("offer")["seq"] for _ in range(2)]
        assert phone.nothing_more({"offer"}) == []
    assert replayed == [3, 4]
    # Delivered but unacked offers come again after a reconnect that did not see them …
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store, last_seen_seq=2)
        assert [phone.recv_type("offer")["seq"] for _ in range(2)] == [3, 4]
    # … and never once the app says it has seen them.
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store, last_seen_seq=4)
        assert phone.nothing_more({"offer"}) == []
    statuses = {o.seq: o.status for o in offers_in_db(live, store.customer_id)}
    assert statuses == {1: "acked", 2: "acked", 3: "acked", 4: "acked"}


def test_a_last_seen_seq_beyond_what_was_issued_does_not_block_new_offers(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("app_open", "n1"))
    with Phone.connect(live.ws_url) as phone:
        welcome = phone.hello(store, last_seen_seq=10**9)
        assert welcome["last_seq"] == 0
        phone.send(app_open())
        assert phone.recv_type("offer")["seq"] == 1


def test_a_flood_is_rate_limited_and_the_connection_recovers(
    live: LiveServer, store: Store, port_kind: str
) -> None:
    with Phone.connect(live.url_of(port_kind)) as phone:
        phone.hello(store)
        flood = 3 * int(FRAME_BURST)  # cheap frames (refused unparsed): the server keeps pace
        for _ in range(flood):
            phone.send("{")
        codes = [phone.recv_type("error")["code"] for _ in range(flood)]
        assert codes.count("rate_limited") >= flood // 3  # none without the limiter
        assert codes.count("bad_frame") >= FRAME_BURST - 1
        time.sleep(0.5)  # let the bucket refill (20 frames/s): the socket is still open and usable
        phone.send(fix(35, 15))
        assert phone.recv_type("position", timeout=5)["x"] == 35


def test_bye_ends_the_visit(live: LiveServer, store: Store, port_kind: str, admin: Staff) -> None:
    with Phone.connect(live.url_of(port_kind)) as phone:
        welcome = phone.hello(store)
        phone.send(fix(5, 5))
        phone.send({"type": "bye", "t_ms": now_ms()})
        assert phone.recv_type("bye_ack")["visit_id"] == welcome["visit_id"]
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)
    with database.session() as session:
        visit = session.get(Visit, welcome["visit_id"])
        assert visit is not None
        assert visit.ended_ms is not None
    database.dispose()
    open_visits = admin.ok("GET", f"/api/stores/{store.id}/visits", params={"open_only": True})
    assert welcome["visit_id"] not in [v["id"] for v in open_visits]
    all_visits = admin.ok("GET", f"/api/stores/{store.id}/visits")
    assert welcome["visit_id"] in [v["id"] for v in all_visits]


def stored_positions(live: LiveServer, visit_id: str) -> list[tuple[float, float]]:
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)
    try:
        with database.session() as session:
            chunks = session.scalars(
                select(PositionChunk).where(PositionChunk.visit_id == visit_id)
            ).all()
            return [(e.x, e.y) for c in chunks for e in unpack_estimates(c.payload, c.t_start_ms)]
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("consents", "stored"),
    [(["location_analytics"], [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)]), (["signage"], [])],
)
def test_positions_are_stored_packed_only_with_analytics_consent(
    live: LiveServer, store: Store, consents: list[str], stored: list[tuple[float, float]]
) -> None:
    with Phone.connect(live.ws_url) as phone:
        welcome = phone.hello(store, consents=consents)
        for x in (1, 2, 3):
            phone.send(fix(x, 1))
            phone.recv_type("position")
    # Written when the connection ends (or every minute of positions), after the socket closes.
    found = eventually(
        lambda: stored_positions(live, welcome["visit_id"]), timeout_s=3 if stored else 0.5
    )
    assert found == stored


def test_a_failing_decision_costs_its_offers_but_not_the_events_or_the_connection(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    add_campaign(admin, store, campaign_document("enter", "boom"), name="fails on purpose")
    with Phone.connect(live.ws_url) as phone:
        welcome = phone.hello(store)
        phone.send(fix(5, 5))
        assert phone.recv_type("position")["zone_id"] == "shelf-coffee"
        phone.send(fix(35, 15))
        assert phone.recv_type("position")["zone_id"] is None
        assert phone.nothing_more({"offer", "error"}) == []
    database = Database.connect(live.server.config.app.state.runtime.settings.database_url)
    with database.session() as session:
        kinds = session.scalars(
            select(ZoneEventRow.kind).where(ZoneEventRow.visit_id == welcome["visit_id"])
        ).all()
    database.dispose()
    assert sorted(kinds) == ["enter", "exit"]


def test_a_fix_on_a_floor_of_another_store_is_refused(live: LiveServer, store: Store, admin: Staff
                                                      ) -> None:  # fmt: skip
    other = seed_store(admin)
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send(fix(5, 5, floor_id=other.floor_id))
        assert phone.recv_type("error")["code"] == "not_found"
        phone.send(fix(5, 5, floor_id=store.floor_id))
        assert phone.recv_type("position")["zone_id"] == "shelf-coffee"


def test_a_held_out_offer_is_recorded_but_never_sent(
    live: LiveServer, store: Store, admin: Staff
) -> None:
    held = add_campaign(admin, store, campaign_document("app_open", "n0", holdout=True))
    sent = add_campaign(admin, store, campaign_document("app_open", "n1"))
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)
        phone.send(app_open())
        offer = phone.recv_type("offer")
        assert phone.nothing_more({"offer"}) == []
    with Phone.connect(live.ws_url) as phone:
        phone.hello(store)  # a fresh install replays what is unacked: not the held-out one
        assert phone.recv_type("offer")["id"] == offer["id"]
        assert phone.nothing_more({"offer"}) == []
    by_campaign = {o.campaign_id: o.status for o in offers_in_db(live, store.customer_id)}
    assert by_campaign == {held: "held_out", sent: "delivered"}
    assert offer["campaign_id"] == sent


def test_with_a_tracker_wired_readings_become_positions_zones_and_offers(
    database_url: str,
) -> None:
    beacons = {"B_SHELF": (5.0, 5.0), "B_DOOR": (35.0, 15.0)}
    with LiveServer(settings_for(database_url), fake_wiring_with_tracker(beacons)) as server:
        staff = Staff(server.http_url)
        store = seed_store(staff)
        add_campaign(staff, store, campaign_document("enter", "Beans", zone_id="shelf-coffee"))
        t = now_ms()
        with Phone.connect(server.ws_url) as phone:
            assert phone.hello(store)["positioning"] == "server"
            for strongest, t_ms in (("B_DOOR", t), ("B_SHELF", t + 1000)):
                phone.send({"type": "readings", "beacons": {
                    "t_ms": [t_ms, t_ms], "beacon_id": [strongest, "B_FAR"],
                    "rssi_dbm": [-60, -90]}})  # fmt: skip
            acks = [phone.recv_type("readings_ack") for _ in range(2)]
            offer = phone.recv_type("offer")
        staff.http.close()
    assert [a["positioning"] for a in acks] == ["server", "server"]
    assert offer["content"] == {"title": "Beans"}
    assert offer["zone_id"] == "shelf-coffee"
