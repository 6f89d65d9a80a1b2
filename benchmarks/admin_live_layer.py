"""How many live shopper positions the admin page can draw: SVG versus canvas rendering.

The server's live feed (`/ws/live`) sends one `position` frame per shopper per second; a busy store
has hundreds of shoppers and the server is built for 5,000 connections. This drives the built admin
page in Debian's headless Chromium against a stand-in API and live feed, sends N positions (one per
shopper) followed by a marker event, and times until the marker is on the page and two animation
frames have passed (so the positions are applied and painted). The first round draws N new
shoppers; the next nine move all of them (median reported). Wall time on loopback, with Playwright's
animation-frame polling (±17 ms). Needs `make admin` and /usr/bin/chromium.

    python benchmarks/admin_live_layer.py
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Page, sync_playwright
from websockets.sync.server import ServerConnection, serve

from aislecast.bench import format_table

DIST = Path(__file__).resolve().parents[1] / "server" / "admin" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FLOOR_W_M = 60.0
FLOOR_H_M = 40.0
SHOPPER_COUNTS = (100, 1000, 5000)
MOVE_ROUNDS = 9
RENDERERS = ("svg", "canvas")
SEED = 7

API: dict[str, Any] = {
    "/api/auth/me": {"id": 1, "email": "bench@example.com", "role": "staff", "active": True},
    "/api/stores": [{"id": 1, "name": "Bench store", "timezone": "UTC", "created_ms": 0}],
    "/api/stores/1/floors": [
        {
            "id": 1,
            "store_id": 1,
            "name": "Hall",
            "width_m": FLOOR_W_M,
            "height_m": FLOOR_H_M,
            "image_type": None,
            "created_ms": 0,
        }
    ],
    "/api/stores/1/zones": [],
    "/api/stores/1/beacons": [],
    "/api/stores/1/screens": [],
    "/openapi.json": {"paths": {}},
}


class _PageAndApi(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path not in API:
            super().do_GET()
            return
        body = json.dumps(API[path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LiveFeed:
    """The stand-in /ws/live: holds the page's connection so rounds can be sent to it."""

    def __init__(self) -> None:
        self.connection: ServerConnection | None = None
        self.ready = threading.Event()

    def handle(self, connection: ServerConnection) -> None:
        connection.recv()  # the page's hello
        self.connection = connection
        self.ready.set()
        connection.wait_closed()

    def send_round(self, frames: list[str]) -> None:
        assert self.connection is not None
        for frame in frames:
            self.connection.send(frame)


def positions(rng: np.random.Generator, n: int, t_ms: int) -> list[str]:
    xy = rng.uniform((1.0, 1.0), (FLOOR_W_M - 1, FLOOR_H_M - 1), size=(n, 2))
    heading = rng.uniform(0.0, 360.0, size=n)
    return [
        json.dumps(
            {
                "type": "position",
                "shopper": f"s{i:05d}",
                "t_ms": t_ms,
                "x": float(x),
                "y": float(y),
                "heading_deg": float(h),
                "accuracy_m": 1.5,
                "zone_id": None,
            }
        )
        for i, ((x, y), h) in enumerate(zip(xy, heading, strict=True))
    ]


def timed_round(page: Page, feed: LiveFeed, frames: list[str], marker: str) -> float:
    """Seconds from the first frame sent to the marker shown and painted."""
    event = {"type": "zone_event", "shopper": "bench", "kind": "enter", "zone_id": marker}
    start = time.perf_counter()
    feed.send_round([*frames, json.dumps({**event, "t_ms": 0, "dwell_s": 0.0})])
    page.wait_for_function(
        "m => document.querySelector('#live-feed li')?.textContent.includes(m)", arg=marker
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return time.perf_counter() - start


def measure(base_url: str, ws_url: str, feed: LiveFeed) -> dict[tuple[str, int], list[float]]:
    """{(renderer, shoppers): [first draw s, move s, move s, ...]}, the renderers taking turns
    at each size so that load from elsewhere on the machine falls on both alike."""
    rng = np.random.default_rng(SEED)
    results: dict[tuple[str, int], list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.add_init_script("sessionStorage.setItem('aislecast.token', 'bench')")
        for n in SHOPPER_COUNTS:
            for renderer in RENDERERS:
                feed.ready.clear()
                page.goto(f"{base_url}/index.html?ws={ws_url}&live={renderer}")
                page.locator(".floor-plan").wait_for()
                page.get_by_role("tab", name="Live").click()
                feed.ready.wait(timeout=10)
                page.wait_for_function("() => document.body.innerText.includes('Live: 0')")
                first = timed_round(page, feed, positions(rng, n, 0), f"{renderer}-{n}-draw")
                moves = [
                    timed_round(page, feed, positions(rng, n, r), f"{renderer}-{n}-move-{r}")
                    for r in range(1, MOVE_ROUNDS + 1)
                ]
                results[renderer, n] = [first, *moves]
        browser.close()
    return results


def main() -> None:
    if not (DIST / "index.html").exists():
        raise SystemExit("build the page first: make admin")
    http = ThreadingHTTPServer(("127.0.0.1", 0), partial(_PageAndApi, directory=str(DIST)))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    feed = LiveFeed()
    ws = serve(feed.handle, "127.0.0.1", 0)
    threading.Thread(target=ws.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{http.server_address[1]}"
    ws_url = f"ws://127.0.0.1:{ws.socket.getsockname()[1]}"
    timings = measure(base_url, ws_url, feed)
    http.shutdown()
    ws.shutdown()

    rows = []
    for n in SHOPPER_COUNTS:
        svg_first, svg_move = timings["svg", n][0], statistics.median(timings["svg", n][1:])
        canvas_first = timings["canvas", n][0]
        canvas_move = statistics.median(timings["canvas", n][1:])
        rows.append(
            [
                n,
                f"{svg_first * 1000:.0f}",
                f"{svg_move * 1000:.0f}",
                f"{n / svg_move:,.0f}",
                f"{canvas_first * 1000:.0f}",
                f"{canvas_move * 1000:.0f}",
                f"{n / canvas_move:,.0f}",
                f"{svg_move / canvas_move:.2f}",
            ]
        )
    print(
        format_table(
            [
                "shoppers",
                "svg first draw ms",
                "svg move ms",
                "svg positions/s",
                "canvas first draw ms",
                "canvas move ms",
                "canvas positions/s",
                "svg/canvas move",
            ],
            rows,
        )
    )
    top = SHOPPER_COUNTS[-1]
    svg_top = statistics.median(timings["svg", top][1:])
    canvas_top = statistics.median(timings["canvas", top][1:])
    print(
        f"admin_live: shoppers={top} svg_move={svg_top * 1000:.0f}ms "
        f"canvas_move={canvas_top * 1000:.0f}ms svg_vs_canvas={svg_top / canvas_top:.2f}"
    )


if __name__ == "__main__":
    main()
