"""The live layer and the signage player in a real browser, against stand-in websocket servers."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.server import ServerConnection

from tests.admin.conftest import PlanView, log_in, screenshot
from tests.admin.fake_sockets import Frame, ScriptedSocketServer, running
from tests.admin.fake_store import STAFF_TOKEN, FakeStore

SCREEN_TOKEN = "screen-token-123"
HOUSE_ITEM = {"content_id": "house-1", "title": "Fresh bread every morning", "duration_s": 30}
OFFER = {
    "content_id": "offer-7",
    "title": "Cheddar: 2 for 1",
    "body": "At the cheese counter today",
}
# The promise: pushed content is on screen within a second of the push.
PUSH_TO_SCREEN_MS = 1000


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not drawn"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def position(shopper: str, x: float, y: float, heading_deg: float, accuracy_m: float) -> Frame:
    """A position on /ws/live as the server sends it (docs/protocol.md)."""
    return {
        "type": "position",
        "shopper": shopper,
        "t_ms": 1_700_000_000_000,
        "x": x,
        "y": y,
        "heading_deg": heading_deg,
        "accuracy_m": accuracy_m,
        "zone_id": None,
    }


def test_live_shopper_is_drawn_where_the_feed_says(
    page: Page,
    site: str,
    plan: PlanView,
    fake_store: FakeStore,
    live_feed: tuple[ScriptedSocketServer, str],
) -> None:
    scripted, ws_base = live_feed
    fake_store.add_zone("dairy", "Dairy", [[17, 12], [27, 12], [27, 18], [17, 18]])
    log_in(page, site, f"?ws={ws_base}")
    page.get_by_role("tab", name="Live").click()
    hello = scripted.next_frame("hello")
    assert hello == {"type": "hello", "token": STAFF_TOKEN, "store_id": 1}

    scripted.send_all({"type": "welcome", "store_id": 1})
    scripted.send_all(position("a1b2c3", 12.0, 8.0, heading_deg=90.0, accuracy_m=2.0))
    dot = page.locator(".shopper-dot")
    expect(dot).to_have_count(1)
    expect(page.locator("#live-status")).to_have_text("Live: 1 shopper on this floor.")
    tolerance_m = 1.5 * plan.metres_per_pixel()
    x, y = plan.metres(*centre(page, ".shopper-dot"))
    assert (x, y) == (pytest.approx(12.0, abs=tolerance_m), pytest.approx(8.0, abs=tolerance_m))
    # The accuracy circle spans 2 m either side; the heading arrow points north (up) 1.5 m.
    circle = page.locator(".shopper-accuracy").bounding_box()
    assert circle is not None
    assert circle["width"] * plan.metres_per_pixel() == pytest.approx(4.0, abs=3 * tolerance_m)
    arrow = page.locator(".shopper-heading").bounding_box()
    assert arrow is not None
    _, arrow_tip_y = plan.metres(arrow["x"], arrow["y"])
    assert arrow_tip_y == pytest.approx(9.5, abs=3 * tolerance_m)

    scripted.send_all(position("a1b2c3", 20.0, 15.0, heading_deg=0.0, accuracy_m=1.0))
    scripted.send_all(
        {
            "type": "zone_event",
            "shopper": "a1b2c3",
            "kind": "enter",
            "zone_id": "dairy",
            "t_ms": 1_700_000_000_000,
            "dwell_s": 0.0,
        }
    )
    expect(page.locator("#live-feed li")).to_have_count(1)
    # The feed names the zone as staff named it, not by its id.
    expect(page.locator("#live-feed li")).to_contain_text("a1b2c3: enter Dairy")
    expect(dot).to_have_count(1)  # the same shopper moved; no second dot
    page.wait_for_function(
        "() => { const b = document.querySelector('.shopper-dot').getBoundingClientRect();"
        f" return Math.abs(b.x + b.width / 2 - {plan.pixel(20.0, 15.0)[0]}) < 2; }}"
    )
    screenshot(page, "live")
    page.goto("about:blank")


def test_only_shoppers_on_the_floor_being_viewed_are_drawn(
    page: Page, site: str, fake_store: FakeStore, live_feed: tuple[ScriptedSocketServer, str]
) -> None:
    scripted, ws_base = live_feed
    viewed = fake_store.floor["id"]
    log_in(page, site, f"?ws={ws_base}")
    page.get_by_role("tab", name="Live").click()
    scripted.next_frame("hello")
    scripted.send_all({"type": "welcome", "store_id": 1})
    upstairs = {**position("up", 12.0, 8.0, 0.0, 1.0), "floor_id": viewed + 1}
    here = {**position("here", 20.0, 15.0, 0.0, 1.0), "floor_id": viewed}
    scripted.send_all(upstairs)
    scripted.send_all(here)
    expect(page.locator(".shopper-dot")).to_have_count(1)
    expect(page.locator("#live-status")).to_have_text("Live: 1 shopper on this floor.")
    expect(page.locator('.shopper-dot[data-shopper="up"]')).to_have_count(0)


def signage_script(playlist: list[Frame], current: list[Frame | None]) -> ScriptedSocketServer:
    """Answers a screen's register with its state, as the server does; ``current`` holds what the
    screen should be showing now, changed by the test between connections."""

    def on_frame(connection: ServerConnection, frame: Frame) -> None:
        if frame["type"] == "register":
            state = {"type": "state", "screen_id": "s1", "zone_id": None, "playlist": playlist}
            connection.send(json.dumps({**state, "current": current[0]}))

    return ScriptedSocketServer(on_frame)


def test_player_shows_a_pushed_offer_at_once_and_reports_its_play(page: Page, site: str) -> None:
    scripted = signage_script([HOUSE_ITEM], [None])
    with running(scripted) as ws_base:
        page.goto(f"{site}/screen.html?token={SCREEN_TOKEN}&ws={ws_base}")
        assert scripted.next_frame("register") == {"type": "register", "token": SCREEN_TOKEN}
        stage = page.locator("#stage")
        expect(stage).to_contain_text(HOUSE_ITEM["title"])
        expect(stage).to_have_attribute("data-source", "playlist")

        shown_for_ms = 1500
        pushed_ms = int(time.time() * 1000)
        until_ms = pushed_ms + shown_for_ms
        scripted.send_all(
            {"type": "content", "play_id": "p-1", "content": OFFER, "until_ms": until_ms}
        )
        expect(stage).to_contain_text(OFFER["title"], timeout=PUSH_TO_SCREEN_MS)
        expect(stage).to_have_attribute("data-source", "pushed")
        screenshot(page, "player-offer")

        # The house item shown before the server's playlist came, the interrupted playlist item,
        # then the offer once its time is up.
        plays = [scripted.next_frame("played", timeout_s=5) for _ in range(3)]
        assert [p["content_id"] for p in plays] == ["house-welcome", "house-1", "offer-7"]
        assert "play_id" not in plays[1]
        offer_play = plays[2]
        assert offer_play["content_id"] == "offer-7"
        assert offer_play["play_id"] == "p-1"
        # On screen within a second of the push, and until the server's until_ms (one clock here;
        # a browser timer may fire a little late, never early).
        assert pushed_ms <= offer_play["started_ms"] <= pushed_ms + PUSH_TO_SCREEN_MS
        ended_ms = offer_play["started_ms"] + offer_play["duration_ms"]
        assert until_ms - 5 <= ended_ms <= until_ms + 1000
        expect(stage).to_contain_text(HOUSE_ITEM["title"])
        expect(stage).to_have_attribute("data-source", "playlist")
        page.goto("about:blank")  # leave before the stand-in server stops, or the page retries


def test_player_registers_again_after_the_server_drops_it_and_shows_its_current_content(
    page: Page, site: str
) -> None:
    current: list[Frame | None] = [None]
    scripted = signage_script([HOUSE_ITEM], current)
    with running(scripted) as ws_base:
        page.goto(f"{site}/screen.html?token={SCREEN_TOKEN}&zone=dairy&ws={ws_base}")
        first = scripted.next_frame("register")
        assert first["zone_id"] == "dairy"
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        expect(page.locator("#stage")).to_contain_text(HOUSE_ITEM["title"])
        # While it was away a shopper faced it: the server's state says what runs now.
        until_ms = int(time.time() * 1000) + 5000
        current[0] = {"play_id": "p-9", "content": {"title": "Espresso week"}, "until_ms": until_ms}
        scripted.drop_all()
        # The first retry comes within FIRST_RETRY_MS (0.5 s); allow the browser its own slack.
        again = scripted.next_frame("register", timeout_s=5)
        assert again == first
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        expect(page.locator("#stage")).to_contain_text("Espresso week")
        expect(page.locator("#stage")).to_have_attribute("data-source", "pushed")
        page.goto("about:blank")


def test_player_without_a_token_says_how_to_configure_it(page: Page, site: str) -> None:
    page.goto(f"{site}/screen.html")
    expect(page.locator("#status")).to_contain_text("token")
    expect(page.locator("#stage")).to_contain_text("Welcome")
