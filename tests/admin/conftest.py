"""Browser fixtures: Debian's Chromium driven by Playwright, the built page, the fake server, and a
page that fails its test on any console error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from tests.admin.fake_sockets import ScriptedSocketServer, running
from tests.admin.fake_store import STAFF_EMAIL, STAFF_PASSWORD, FakeStore, serve

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "server" / "admin" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for a closed network and a root user: without the background ones Chromium keeps dialling
# Google's services, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The screen the page is built for (issue 8): a common laptop.
VIEWPORT = {"width": 1366, "height": 768}
# Set to a folder (docs/img) to keep the screenshots the tests take; `make screenshots` does.
SCREENSHOT_DIR = os.environ.get("AISLECAST_SCREENSHOTS")


@pytest.fixture(scope="session")
def dist() -> Path:
    if not (DIST / "index.html").exists():
        pytest.fail("the admin page is not built: run `make admin` (make test does it)")
    return DIST


# Package scope, not session: Playwright's sync API keeps its event loop running in this thread
# while it is open, and the server tests after these call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run `make chromium` (make test does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def expected_console_errors() -> list[str]:
    """Parts of console errors a test provokes on purpose (Chromium logs every 4xx response)."""
    return []


@contextmanager
def checked_page(browser: Browser, expected_console_errors: list[str]) -> Iterator[Page]:
    """A fresh 1366×768 page; fails if the page logs a console error or throws while open."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        expected = any(part in message.text for part in expected_console_errors)
        if message.type == "error" and not expected:
            problems.append(f"console error: {message.text}")

    def on_page_error(error: Error) -> None:
        problems.append(f"uncaught: {error.message}")

    opened.on("console", on_console)
    opened.on("pageerror", on_page_error)
    yield opened
    context.close()
    assert problems == [], "the page reported errors"


@pytest.fixture
def page(browser: Browser, site: str, expected_console_errors: list[str]) -> Iterator[Page]:
    """Depends on ``site`` so the page closes before the server it talks to stops (a request
    cut off by the server going away is not the page's error)."""
    with checked_page(browser, expected_console_errors) as opened:
        yield opened


@pytest.fixture
def fake_store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def site(dist: Path, fake_store: FakeStore) -> Iterator[str]:
    with serve(dist, fake_store) as base_url:
        yield base_url


def screenshot(page: Page, name: str) -> None:
    """Keeps a screenshot for docs/admin.md when AISLECAST_SCREENSHOTS names a folder."""
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"))


@pytest.fixture
def live_feed() -> Iterator[tuple[ScriptedSocketServer, str]]:
    """A stand-in /ws/live (the page opens it on the Live and the Beacons & screens tabs): the
    scripted server and its ws:// base for the page's ``?ws=``."""
    scripted = ScriptedSocketServer()
    with running(scripted) as ws_base:
        yield scripted, ws_base


def log_in(page: Page, base_url: str, query: str = "") -> None:
    page.goto(f"{base_url}/index.html{query}")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("img.floor-plan").wait_for()


@dataclass
class PlanView:
    """Turns floor metres into page pixels through where the plan image is drawn on screen."""

    page: Page
    width_m: float
    height_m: float

    def box(self) -> dict[str, float]:
        box = self.page.locator("img.floor-plan").bounding_box()
        assert box is not None, "the floor plan is not on screen"
        return box

    def metres_per_pixel(self) -> float:
        return self.width_m / self.box()["width"]

    def pixel(self, x_m: float, y_m: float) -> tuple[float, float]:
        box = self.box()
        # +y is north, up the screen: pixel rows grow downwards from the plan's north edge.
        return (
            box["x"] + x_m / self.width_m * box["width"],
            box["y"] + (self.height_m - y_m) / self.height_m * box["height"],
        )

    def metres(self, px: float, py: float) -> tuple[float, float]:
        box = self.box()
        return (
            (px - box["x"]) / box["width"] * self.width_m,
            self.height_m - (py - box["y"]) / box["height"] * self.height_m,
        )

    def click(self, x_m: float, y_m: float) -> None:
        px, py = self.pixel(x_m, y_m)
        self.page.mouse.move(px, py, steps=4)
        self.page.mouse.click(px, py)


@pytest.fixture
def plan(page: Page, fake_store: FakeStore) -> PlanView:
    return PlanView(page, fake_store.width_m, fake_store.height_m)
