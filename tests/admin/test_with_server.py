"""The admin page and the player against the real server (issue 6) in a real browser.

The server is started in-process (``create_app`` under uvicorn on a free port, SQLite in a temporary
folder) with the built page mounted at /admin, as ``server/app.py`` mounts it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from server import app as server_app
from server import settings as settings_module
from server.realtime.ws_protocol import uvicorn_ws
from simulator.live import LivePhone, LiveSettings, Persona, shopper_url
from simulator.walking import Gait, Stop, Trajectory, build_trajectory
from tests.admin.conftest import PlanView, checked_page
from tests.admin.fake_store import plan_png

ADMIN_EMAIL = "admin@aislecast.test"
ADMIN_PASSWORD = "correct horse battery"
FLOOR_W_M = 40.0
FLOOR_H_M = 30.0


class RunningServer:
    """The real server in a background thread, with the built page at /admin."""

    def __init__(self, database_url: str, dist: Path) -> None:
        settings = settings_module.Settings(
            database_url=database_url,
            secret_key="admin-page-test",
            bootstrap_admin_email=ADMIN_EMAIL,
            bootstrap_admin_password=ADMIN_PASSWORD,
        )
        app = server_app.create_app(settings)
        assert dist == server_app.ADMIN_DIST, "the server mounts the page it was built into"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        # The websocket implementation ``aislecast serve`` chooses (AISLECAST_WS).
        ws = uvicorn_ws(os.environ.get("AISLECAST_WS"))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws=ws)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.token = self.call(
            "POST", "/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )["token"]
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def call(self, method: str, path: str, body: Any = None, csv: bytes | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if csv is not None:
            boundary = "aislecast-test-boundary"
            data = (
                (
                    f"--{boundary}\r\n"
                    'Content-Disposition: form-data; name="file"; filename="x.csv"\r\n'
                    "Content-Type: text/csv\r\n\r\n"
                ).encode()
                + csv
                + f"\r\n--{boundary}--\r\n".encode()
            )
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        with urllib.request.urlopen(request) as response:
            text = response.read()
        return json.loads(text) if text else None


@pytest.fixture
def real_server(dist: Path, tmp_path: Path) -> Iterator[RunningServer]:
    with RunningServer(f"sqlite:///{tmp_path / 'aislecast.sqlite3'}", dist) as running:
        yield running


@pytest.fixture
def page(
    browser: Browser, real_server: RunningServer, expected_console_errors: list[str]
) -> Iterator[Page]:
    """The checked page, closed before the real server stops."""
    with checked_page(browser, expected_console_errors) as opened:
        yield opened


def log_in(page: Page, running: RunningServer) -> None:
    page.goto(f"{running.url}/admin/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("#workspace").wait_for()


def create_store_and_floor(page: Page, tmp_path: Path) -> None:
    page.locator("#store-form").get_by_label("Name").fill("Demo store")
    page.locator("#store-form").get_by_role("button", name="Create store").click()
    expect(page.locator("#store-select option")).to_have_count(1)
    plan_file = tmp_path / "plan.png"
    plan_file.write_bytes(plan_png(FLOOR_W_M, FLOOR_H_M))
    floor = page.locator("#floor-form")
    floor.get_by_label("Name").fill("Ground floor")
    floor.get_by_label("Width").fill(str(FLOOR_W_M))
    floor.get_by_label("Height").fill(str(FLOOR_H_M))
    floor.get_by_label("Plan image").set_input_files(plan_file)
    floor.get_by_role("button", name="Create floor").click()
    page.locator("img.floor-plan").wait_for()


def test_zone_drawn_on_an_uploaded_plan_is_found_through_rest_after_a_reload(
    page: Page, real_server: RunningServer, tmp_path: Path
) -> None:
    log_in(page, real_server)
    create_store_and_floor(page, tmp_path)
    plan = PlanView(page, FLOOR_W_M, FLOOR_H_M)
    page.get_by_role("tab", name="Zones").click()
    page.get_by_role("button", name="Draw rectangle").click()
    plan.click(10.0, 10.0)
    plan.click(20.0, 12.0)
    form = page.locator("#zone-form")
    form.get_by_label("Name").fill("Cheese shelf")
    form.get_by_label("Kind").select_option("shelf")
    form.get_by_label("Facing direction").fill("90")
    form.get_by_label("Viewing distance").fill("2.5")
    form.get_by_role("button", name="Save zone").click()
    expect(page.locator("#zone-saved")).to_have_text("Saved (version 1)")

    page.reload()
    expect(page.locator(".zone-label")).to_have_text(["Cheese shelf"])
    (zone,) = real_server.call("GET", "/api/stores/1/zones")
    tolerance_m = 1.5 * plan.metres_per_pixel()
    assert zone["kind"] == "shelf"
    assert zone["facing_deg"] == 90.0
    assert zone["view_distance_m"] == 2.5
    xs = sorted(p[0] for p in zone["polygon"])
    ys = sorted(p[1] for p in zone["polygon"])
    assert xs[0] == pytest.approx(10.0, abs=tolerance_m)
    assert xs[-1] == pytest.approx(20.0, abs=tolerance_m)
    assert ys[0] == pytest.approx(10.0, abs=tolerance_m)
    assert ys[-1] == pytest.approx(12.0, abs=tolerance_m)


def test_a_shopper_fixing_positions_moves_a_dot_on_the_live_map(
    page: Page, real_server: RunningServer, tmp_path: Path
) -> None:
    log_in(page, real_server)
    create_store_and_floor(page, tmp_path)
    real_server.call(
        "POST",
        "/api/customers/import",
        csv=b"customer_id,gender,age,tier,consents\nc1,female,34,gold,location_analytics\n",
    )
    app_token = real_server.call("POST", "/api/tokens", {"kind": "app", "customer_id": "c1"})[
        "token"
    ]
    page.get_by_role("tab", name="Live").click()
    expect(page.locator("#live-status")).to_contain_text("Live")
    plan = PlanView(page, FLOOR_W_M, FLOOR_H_M)
    tolerance_m = 1.5 * plan.metres_per_pixel()
    hello = {
        "type": "hello",
        "token": app_token,
        "store_id": 1,
        "app_version": "test",
        "consents": ["location_analytics"],
    }
    with connect(f"ws://127.0.0.1:{real_server.port}/ws/shopper") as phone:
        phone.send(json.dumps(hello))
        assert json.loads(phone.recv(timeout=10))["type"] == "welcome"
        for x_m in (8.0, 12.0, 16.0):
            fix = {"type": "fix", "t_ms": int(time.time() * 1000), "x": x_m, "y": 7.0}
            phone.send(json.dumps({**fix, "heading_deg": 0.0, "accuracy_m": 1.5}))
            assert json.loads(phone.recv(timeout=10))["type"] == "position"
            target_px = plan.pixel(x_m, 7.0)[0]
            page.wait_for_function(
                "px => { const d = document.querySelector('.shopper-dot');"
                " if (!d) return false; const b = d.getBoundingClientRect();"
                " return Math.abs(b.x + b.width / 2 - px) < 2; }",
                arg=target_px,
            )
            box = page.locator(".shopper-dot").bounding_box()
            assert box is not None
            _, y_m = plan.metres(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            assert y_m == pytest.approx(7.0, abs=tolerance_m)
    page.goto("about:blank")


def test_player_opened_from_its_link_registers_and_shows_online(
    page: Page, real_server: RunningServer, tmp_path: Path
) -> None:
    log_in(page, real_server)
    create_store_and_floor(page, tmp_path)
    page.get_by_role("tab", name="Beacons & screens").click()
    page.get_by_role("button", name="Add screen at centre").click()
    expect(page.locator("#screen-rows tr")).to_have_count(1)
    page.get_by_role("button", name="Player link").click()
    link = page.locator(".player-link input").input_value()

    player = page.context.new_page()
    player.goto(link)
    expect(player.locator("body")).to_have_attribute("data-connection", "online")
    expect(player.locator("#stage")).to_contain_text("Welcome")
    page.reload()
    page.get_by_role("tab", name="Beacons & screens").click()
    expect(page.locator("#screen-rows tr").first).to_contain_text("online")
    player.goto("about:blank")
    page.goto("about:blank")


DAY_MS = 86_400_000


def seed_customers(running: RunningServer) -> None:
    """Four customers: who bought cheese when, their ages, and their consents."""
    now = int(time.time() * 1000)
    running.call("POST", "/api/products/import", csv=b"sku,name,category,price\n"
                 b"brie,Brie,cheese,4.0\nmilk,Milk,dairy,1.0\n")  # fmt: skip
    running.call("POST", "/api/customers/import", csv=b"customer_id,gender,age,tier,consents\n"
                 b"ann,female,25,gold,personalised_offers\n"
                 b"bob,male,45,,personalised_offers\n"
                 b"cat,female,35,,personalised_offers\n"
                 b"dan,other,30,,\n")  # fmt: skip
    lines = "".join(
        f"b-{who},{who},{now - days * DAY_MS},{sku},1,2.0\n"
        for who, days, sku in (("ann", 3, "brie"), ("bob", 40, "brie"), ("cat", 2, "milk"),
                               ("dan", 1, "brie"))
    )  # fmt: skip
    header = "basket_id,customer_id,t_ms,sku,quantity,price\n"
    running.call("POST", "/api/purchases/import", csv=(header + lines).encode())


def test_editing_a_campaigns_audience_changes_the_preview_count_to_the_servers(
    page: Page, real_server: RunningServer
) -> None:
    """The count on the page is the server's answer for the document the form sends: ann bought
    cheese 3 days ago, bob 40 days ago, dan yesterday but without consent to personal offers."""
    store = real_server.call("POST", "/api/stores", {"name": "Cheese shop"})
    floor = {"name": "Ground floor", "width_m": FLOOR_W_M, "height_m": FLOOR_H_M}
    real_server.call("POST", f"/api/stores/{store['id']}/floors", floor)
    seed_customers(real_server)
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data_json) if r.url.endswith("/campaigns/preview") else None,
    )
    log_in(page, real_server)
    page.get_by_role("tab", name="Campaigns").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Cheese lovers")
    form.get_by_label("Title").fill("Brie: 20% off")
    preview = page.locator("#campaign-preview")
    expect(preview).to_have_text("4 customers (0 in the store now)")  # no audience: anyone

    def server_count() -> int:
        reply = real_server.call("POST", f"/api/stores/{store['id']}/campaigns/preview", sent[-1])
        return int(reply["count"])

    page.get_by_role("button", name="Add condition").click()
    form.get_by_label("category").fill("cheese")
    form.get_by_label("within days").fill("30")
    expect(preview).to_have_text("1 customer (0 in the store now)")  # ann
    assert sent[-1]["document"]["audience"] == {"bought": {"category": "cheese", "within_days": 30}}
    assert server_count() == 1
    form.get_by_label("within days").fill("60")
    expect(preview).to_have_text("2 customers (0 in the store now)")  # ann and bob
    assert server_count() == 2
    page.get_by_role("button", name="Add condition").click()
    form.get_by_label("Condition", exact=True).nth(1).select_option("age")
    form.get_by_label("to age").fill("40")
    expect(preview).to_have_text("1 customer (0 in the store now)")  # bob is 45
    assert server_count() == 1
    page.goto("about:blank")


# The screen hangs on the north wall; a shopper sees it standing south of it, looking north.
SCREEN_WALL = [[18.0, 27.0], [22.0, 27.0], [22.0, 28.0], [18.0, 28.0]]
VIEWING_SPOT = (20.0, 24.5)


def walk_up_to_the_screen(start_ms: int) -> Trajectory:
    """From the entrance straight north to the viewing spot, then 8 s looking at the screen."""
    path = np.array([[20.0, 3.0], VIEWING_SPOT])
    stop = Stop(*VIEWING_SPOT, facing_deg=90.0, dwell_s=8.0, activity="screen")
    gait = Gait(speed_mps=1.2, step_length_m=0.7, step_accel_mps2=2.0)
    return build_trajectory((20.0, 3.0), [(path, stop)], gait, start_ms, np.random.default_rng(8))


def test_the_player_switches_to_an_offer_when_a_simulated_shopper_faces_its_screen(
    browser: Browser, real_server: RunningServer, expected_console_errors: list[str]
) -> None:
    """A simulated phone (simulator.live.LivePhone over /ws/shopper) walks up to the screen and
    faces it; the player shows the signage campaign's content and reports its play.

    The phone sends ready fixes (an app that positions itself, ``LiveSettings.send_fixes``), not
    sensor readings: the store has no beacons, and the server's positioning from readings is a
    metre or two off, too loose to stand in a 4 m viewing strip facing the right way every run.
    """
    store = real_server.call("POST", "/api/stores", {"name": "Screen shop"})
    base = f"/api/stores/{store['id']}"
    size = {"width_m": FLOOR_W_M, "height_m": FLOOR_H_M}
    floor = real_server.call("POST", f"{base}/floors", {"name": "Ground", **size})
    real_server.call("POST", f"{base}/zones", {
        "id": "screen-wall", "floor_id": floor["id"], "name": "Screen wall", "kind": "screen",
        "polygon": SCREEN_WALL, "facing_deg": 90.0, "view_distance_m": 4.0})  # fmt: skip
    real_server.call("POST", f"{base}/screens", {
        "id": "screen-1", "floor_id": floor["id"], "zone_id": "screen-wall", "name": "North wall",
        "x": 20.0, "y": 27.5, "facing_deg": 270.0,
        "playlist": [{"content_id": "house-1", "title": "Welcome", "duration_s": 30}]})  # fmt: skip
    offer = {"title": "Brie: 20% off", "body": "At the cheese counter"}
    campaign = real_server.call("POST", f"{base}/campaigns", {
        "name": "Brie at the screen", "status": "active",
        "document": {"context": {"event": "facing", "zone_ids": ["screen-wall"]},
                     "channel": "signage", "content": offer}})  # fmt: skip
    real_server.call("POST", "/api/customers/import", csv=b"customer_id,gender,age,tier,consents\n"
                     b"eve,female,41,,location_analytics;signage\n")  # fmt: skip
    app_token = real_server.call("POST", "/api/tokens", {"kind": "app", "customer_id": "eve"})
    screen_token = real_server.call("POST", "/api/tokens",
                                    {"kind": "screen", "store_id": store["id"],
                                     "screen_id": "screen-1"})  # fmt: skip

    with (
        checked_page(browser, expected_console_errors) as staff,
        checked_page(browser, expected_console_errors) as player,
    ):
        log_in(staff, real_server)
        staff.get_by_role("tab", name="Beacons & screens").click()
        row = staff.locator("#screen-rows tr", has_text="North wall")
        expect(row.locator(".screen-state")).to_have_text("offline")
        player.goto(f"{real_server.url}/screen?token={screen_token['token']}")
        expect(player.locator("body")).to_have_attribute("data-connection", "online")
        expect(player.locator("#stage")).to_contain_text("Welcome")
        # Pushed on the live feed: no reload, and well before the panel's 10 s lookup.
        expect(row.locator(".screen-state")).to_have_text("online")

        persona = Persona("eve", app_token["token"], ("location_analytics", "signage"), {})
        trajectory = walk_up_to_the_screen(int(time.time() * 1000))
        seconds = range(trajectory.start_ms + 1000, trajectory.end_ms + 1000, 1000)
        phone = LivePhone(
            0, persona, trajectory, [(t1, []) for t1 in seconds], store["id"],
            shopper_url(real_server.url), LiveSettings(speed=2.0, send_fixes=True), {}, seed=8,
        )  # fmt: skip
        walking = threading.Thread(target=lambda: asyncio.run(phone.run()))
        walking.start()
        try:
            expect(player.locator("#stage")).to_contain_text("Brie: 20% off", timeout=20_000)
            expect(player.locator("#stage")).to_have_attribute("data-source", "pushed")
            expect(row.locator(".screen-playing")).to_have_text("Brie: 20% off")
        finally:
            walking.join(timeout=30)
        assert phone.stats.errors == []
        assert "screen-wall" in phone.stats.zones_seen

        def played_offer() -> list[dict[str, Any]]:
            offers = real_server.call("GET", f"{base}/offers")
            return [o for o in offers if o["campaign_id"] == campaign["id"] and
                    o["status"] == "acked"]  # fmt: skip

        # Proof of play comes when the offer leaves the screen (its 15 s are up).
        deadline = time.monotonic() + 30
        while not played_offer() and time.monotonic() < deadline:
            time.sleep(0.5)
        (shown,) = played_offer()
        assert shown["channel"] == "signage"
        assert shown["screen_id"] == "screen-1"
        screen = real_server.call("GET", f"{base}/screens/screen-1")
        assert screen["last_played"]["play_id"] == shown["id"]
        expect(row.locator(".screen-playing")).to_have_text("playlist")
        player.goto("about:blank")
        expect(row.locator(".screen-state")).to_have_text("offline")
        staff.goto("about:blank")
