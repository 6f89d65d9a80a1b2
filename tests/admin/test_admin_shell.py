"""The admin page around the map: logging in, beacons and screens, and the tablet layout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.admin.conftest import PlanView, log_in, screenshot
from tests.admin.fake_sockets import ScriptedSocketServer
from tests.admin.fake_store import STAFF_EMAIL, FakeStore, plan_png, serve


def test_wrong_password_is_refused_beside_the_form_and_right_one_opens_the_store(
    page: Page, site: str, expected_console_errors: list[str]
) -> None:
    expected_console_errors.append("status of 401")
    page.goto(f"{site}/index.html")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator('#login-form [data-error-for="form"]')).to_have_text(
        "wrong email or password"
    )
    screenshot(page, "login")
    log_in(page, site)
    expect(page.locator("#store-select")).to_have_value("1")
    expect(page.locator("#floor-select option")).to_have_text(["Ground floor"])
    expect(page.locator("#whoami")).to_contain_text(STAFF_EMAIL)


def test_session_survives_a_reload(page: Page, site: str) -> None:
    log_in(page, site)
    page.reload()
    page.locator("img.floor-plan").wait_for()
    expect(page.locator("#login-view")).to_be_hidden()


def test_dragging_a_beacon_saves_its_new_position_in_metres(
    page: Page,
    site: str,
    plan: PlanView,
    fake_store: FakeStore,
    live_feed: tuple[ScriptedSocketServer, str],
) -> None:
    fake_store.add_beacon("beacon-a", 5.0, 5.0)
    fake_store.add_screen("screen-1", "Cheese screen", 30.0, 20.0, online=True)
    log_in(page, site, f"?ws={live_feed[1]}")
    page.get_by_role("tab", name="Beacons & screens").click()
    expect(page.locator("#screen-rows tr")).to_have_count(1)
    expect(page.locator("#screen-rows tr")).to_contain_text("online")
    expect(page.locator("#beacon-rows tr")).to_contain_text("5.00, 5.00")

    with page.expect_response(lambda r: r.url.endswith("/beacons/beacon-a")):
        page.mouse.move(*plan.pixel(5.0, 5.0))
        page.mouse.down()
        page.mouse.move(*plan.pixel(9.0, 12.0), steps=10)
        page.mouse.up()
    expect(page.locator(".beacon-marker")).to_have_count(1)
    tolerance_m = 1.5 * plan.metres_per_pixel()
    moved = fake_store.sent("PATCH", "/api/stores/1/beacons/beacon-a")
    assert len(moved) == 1
    assert moved[0]["x"] == pytest.approx(9.0, abs=tolerance_m)
    assert moved[0]["y"] == pytest.approx(12.0, abs=tolerance_m)
    expect(page.locator("#beacon-rows tr")).to_contain_text(
        f"{moved[0]['x']:.2f}, {moved[0]['y']:.2f}"
    )
    screenshot(page, "devices")


def test_screen_state_pushed_on_the_live_feed_shows_on_its_row_and_marker(
    page: Page, site: str, fake_store: FakeStore, live_feed: tuple[ScriptedSocketServer, str]
) -> None:
    scripted, ws_base = live_feed
    fake_store.add_screen("screen-1", "Cheese screen", 30.0, 20.0)
    log_in(page, site, f"?ws={ws_base}")
    page.get_by_role("tab", name="Beacons & screens").click()
    assert scripted.next_frame("hello")["store_id"] == 1
    row = page.locator("#screen-rows tr", has_text="Cheese screen")
    marker = page.locator(".screen-marker")
    expect(row.locator(".screen-state")).to_have_text("offline")
    expect(marker).to_have_attribute("data-state", "offline")
    scripted.send_all({"type": "welcome", "store_id": 1})
    offer = {"play_id": "p1", "content": {"title": "Cheddar: 2 for 1"},
             "until_ms": int(time.time() * 1000) + 60_000}  # fmt: skip
    scripted.send_all({"type": "screen", "screen_id": "screen-1", "online": True,
                       "playing": offer, "last_played": None, "t_ms": 1})  # fmt: skip
    expect(row.locator(".screen-state")).to_have_text("online")
    expect(row.locator(".screen-playing")).to_have_text("Cheddar: 2 for 1")
    expect(marker).to_have_attribute("data-state", "online")
    expect(marker).to_have_attribute(
        "title", "screen Cheese screen: online, showing “Cheddar: 2 for 1”"
    )
    screenshot(page, "screen-state")
    scripted.send_all({"type": "screen", "screen_id": "screen-1", "online": False,
                       "playing": None, "last_played": None, "t_ms": 2})  # fmt: skip
    expect(row.locator(".screen-state")).to_have_text("offline")
    expect(row.locator(".screen-playing")).to_have_text("playlist")
    expect(marker).to_have_attribute("data-state", "offline")


def test_on_a_tablet_the_panel_sits_under_the_map(browser: Browser, dist: Path) -> None:
    fake_store = FakeStore()
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    try:
        with serve(dist, fake_store) as site:
            log_in(page, site)
            map_box = page.locator("#map").bounding_box()
            panel_box = page.locator("#panel").bounding_box()
            assert map_box is not None
            assert panel_box is not None
            assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1
            assert map_box["width"] == pytest.approx(768, abs=20)
            screenshot(page, "tablet")
    finally:
        context.close()


def test_player_link_carries_a_fresh_screen_token(
    page: Page, site: str, fake_store: FakeStore, live_feed: tuple[ScriptedSocketServer, str]
) -> None:
    fake_store.add_screen("screen-1", "Cheese screen", 30.0, 20.0)
    log_in(page, site, f"?ws={live_feed[1]}")
    page.get_by_role("tab", name="Beacons & screens").click()
    page.get_by_role("button", name="Player link").click()
    address = page.get_by_label("Player address of Cheese screen")
    expect(address).to_have_value(f"{site}/screen.html?token=issued-screen-token")
    issued = fake_store.sent("POST", "/api/tokens")
    assert issued == [
        {
            "kind": "screen",
            "store_id": 1,
            "screen_id": "screen-1",
            "label": "player of Cheese screen",
        }
    ]


def test_screen_joins_a_zone_and_a_beacon_is_removed(
    page: Page, site: str, fake_store: FakeStore, live_feed: tuple[ScriptedSocketServer, str]
) -> None:
    fake_store.add_zone("cheese-front", "Cheese front", [[10, 10], [20, 10], [20, 14], [10, 14]])
    fake_store.add_screen("screen-1", "Cheese screen", 15.0, 15.0)
    fake_store.add_beacon("beacon-a", 5.0, 5.0)
    # A zone list slower than the screens (a loaded server) must still reach the screen's row.
    fake_store.delays_s[("GET", "/api/stores/1/zones")] = 1.0
    log_in(page, site, f"?ws={live_feed[1]}")
    page.get_by_role("tab", name="Beacons & screens").click()
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        page.get_by_label("Zone of Cheese screen").select_option("cheese-front", timeout=10_000)
    assert fake_store.screens["screen-1"]["zone_id"] == "cheese-front"
    # The table is drawn again from the server's answer, with the zone chosen.
    expect(page.get_by_label("Zone of Cheese screen")).to_have_value("cheese-front")

    page.locator("#beacon-rows tr", has_text="beacon-a").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.locator("#beacon-rows tr")).to_have_count(0)
    expect(page.locator(".beacon-marker")).to_have_count(0)
    assert fake_store.beacons == {}


def test_new_floor_takes_its_size_in_metres_and_its_uploaded_plan(
    page: Page,
    site: str,
    fake_store: FakeStore,
    tmp_path: Path,
    expected_console_errors: list[str],
) -> None:
    expected_console_errors.append("status of 422")
    plan_file = tmp_path / "mezzanine.png"
    plan_file.write_bytes(plan_png(60.0, 20.0))
    log_in(page, site)
    page.get_by_role("tab", name="Store & floor").click()
    form = page.locator("#floor-form")
    form.get_by_label("Name").fill("Mezzanine")
    form.get_by_label("Width").fill("0")
    form.get_by_label("Height").fill("20")
    form.get_by_role("button", name="Create floor").click()
    expect(form.locator('[data-error-for="width_m"]')).to_have_text(
        "Input should be greater than 0"
    )

    form.get_by_label("Width").fill("60")
    form.get_by_label("Plan image").set_input_files(plan_file)
    form.get_by_role("button", name="Create floor").click()
    expect(page.locator("#floor-select")).to_have_value("101")
    assert fake_store.sent("POST", "/api/stores/1/floors")[-1] == {
        "name": "Mezzanine",
        "width_m": 60,
        "height_m": 20,
    }
    assert fake_store.uploads[101] == plan_file.read_bytes()
    # The plan is drawn 60 m wide and 20 m high: three times as wide as high on screen. The old
    # floor's image is swapped out meanwhile, so wait in the page for the drawn one (fails on
    # timeout if it never gets that shape).
    page.wait_for_function(
        """() => {
            const img = document.querySelector("img.floor-plan");
            const box = img && img.getBoundingClientRect();
            return box && box.height > 0 && Math.abs(box.width / box.height - 3) < 0.03;
        }"""
    )
