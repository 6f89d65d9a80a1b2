"""A stand-in for the Aislecast server in browser tests: one real HTTP server that serves the built
page and a small in-memory version of the REST routes the page calls, with the same paths, JSON
shapes and FastAPI-style 4xx error bodies (``{"detail": "reason"}`` or a list of ``{loc, msg}``).

It exists until the real server (issue 6) is merged; it is not a model of the server's rules beyond
the few the tests need to see the page react to.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "correct horse battery"
STAFF_TOKEN = "test-staff-token"


def plan_png(width_m: float, height_m: float, px_per_m: int = 20) -> bytes:
    """A floor plan picture: walls, a grid every 5 m and shelf blocks, drawn with matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Rectangle

    figure = plt.figure(figsize=(width_m * px_per_m / 100, height_m * px_per_m / 100), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width_m)
    axes.set_ylim(0, height_m)
    axes.axis("off")
    axes.add_patch(Rectangle((0, 0), width_m, height_m, fill=False, linewidth=4, color="#444"))
    for x in range(5, int(width_m), 5):
        axes.axvline(x, color="#ddd", linewidth=0.8)
    for y in range(5, int(height_m), 5):
        axes.axhline(y, color="#ddd", linewidth=0.8)
    for shelf_x in range(4, int(width_m) - 4, 6):
        axes.add_patch(Rectangle((shelf_x, 6), 1.2, height_m - 12, color="#bbb"))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _invalid(field_name: str, message: str) -> tuple[int, dict[str, Any]]:
    return 422, {"detail": [{"loc": ["body", field_name], "msg": message, "type": "value_error"}]}


@dataclass
class FakeStore:
    """The state behind the fake API; tests read ``requests`` to see what the page sent."""

    width_m: float = 40.0
    height_m: float = 30.0
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    beacons: dict[str, dict[str, Any]] = field(default_factory=dict)
    screens: dict[str, dict[str, Any]] = field(default_factory=dict)
    zone_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    campaigns: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Ages of the customers, for the campaign preview count; those in the store now.
    shopper_ages: list[int] = field(default_factory=lambda: [25, 35, 45, 60])
    in_store_ages: tuple[int, ...] = (35, 60)
    has_preview: bool = True
    # Seconds to hold back the answer to (method, path), as a slow network would.
    delays_s: dict[tuple[str, str], float] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = {"id": 1, "name": "Demo store", "timezone": "UTC", "created_ms": 0}
        self.floor = {
            "id": 7,
            "store_id": 1,
            "name": "Ground floor",
            "width_m": self.width_m,
            "height_m": self.height_m,
            "image_type": "image/png",
            "created_ms": 0,
        }
        self.plan = plan_png(self.width_m, self.height_m)
        self.floors = [self.floor]
        self.uploads: dict[int, bytes] = {}  # floor id → the plan image the page uploaded

    def add_zone(self, zone_id: str, name: str, polygon: list[list[float]], **extra: Any) -> None:
        self.zones[zone_id] = {
            "id": zone_id,
            "store_id": 1,
            "floor_id": 7,
            "version": 1,
            "name": name,
            "kind": "area",
            "polygon": polygon,
            "categories": [],
            "skus": [],
            "facing_deg": None,
            "view_distance_m": None,
            **extra,
        }
        self.remember_version(self.zones[zone_id], "create")

    def remember_version(self, zone: dict[str, Any], action: str) -> None:
        self.zone_history.setdefault(zone["id"], []).append(
            {
                "zone_id": zone["id"],
                "version": zone["version"],
                "action": action,
                "author_user_id": 1,
                "created_ms": 1_795_000_000_000 + zone["version"] * 60_000,
                "floor_id": 7,
                "document": {
                    k: v for k, v in zone.items() if k not in ("id", "store_id", "version")
                },
            }
        )

    def add_beacon(self, beacon_id: str, x: float, y: float) -> None:
        self.beacons[beacon_id] = {
            "id": beacon_id,
            "store_id": 1,
            "floor_id": 7,
            "x": x,
            "y": y,
            "tx_power_dbm": -59.0,
        }

    def add_screen(self, screen_id: str, name: str, x: float, y: float, **extra: Any) -> None:
        self.screens[screen_id] = {
            "id": screen_id,
            "store_id": 1,
            "floor_id": 7,
            "zone_id": None,
            "name": name,
            "x": x,
            "y": y,
            "facing_deg": None,
            "playlist": [],
            "current": None,
            "online": False,
            "last_seen_ms": None,
            **extra,
        }

    def sent(self, method: str, pattern: str) -> list[Any]:
        """Bodies of the requests the page made with this method to paths matching the pattern."""
        with self.lock:
            return [b for m, p, b in self.requests if m == method and re.fullmatch(pattern, p)]

    # ---- routes --------------------------------------------------------------------------------

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if (method, path) == ("POST", "/api/auth/login"):
            if body.get("email") == STAFF_EMAIL and body.get("password") == STAFF_PASSWORD:
                return 200, {"token": STAFF_TOKEN, "expires_ms": 2**40, "user": self.user()}
            return 401, {"detail": "wrong email or password"}
        if (method, path) == ("GET", "/api/auth/me"):
            return 200, self.user()
        if (method, path) == ("GET", "/api/stores"):
            return 200, [self.store]
        if (method, path) == ("GET", "/api/stores/1/floors"):
            return 200, self.floors
        if (method, path) == ("POST", "/api/stores/1/floors"):
            if not body.get("width_m", 0) > 0:
                return _invalid("width_m", "Input should be greater than 0")
            floor = {
                "id": 100 + len(self.floors),
                "store_id": 1,
                "image_type": None,
                "created_ms": 0,
                **body,
            }
            self.floors.append(floor)
            return 201, floor
        if (method, path) == ("GET", "/api/stores/1/zones"):
            return 200, list(self.zones.values())
        if (method, path) == ("POST", "/api/stores/1/zones"):
            return self.write_zone(body.get("id") or f"zone-{len(self.zones) + 1}", body)
        zone_route = re.fullmatch(
            r"/api/stores/1/zones/([\w.:\-]+)(/versions)?(?:/(\d+)/restore)?", path
        )
        if zone_route and zone_route[1] in self.zones:
            zone_id = zone_route[1]
            history = self.zone_history.get(zone_id, [])
            if zone_route[3] and method == "POST":
                wanted = next(v for v in history if v["version"] == int(zone_route[3]))
                return self.write_zone(zone_id, {**wanted["document"]}, "restore")
            if zone_route[2]:
                return 200, history
            if method == "PATCH":
                return self.write_zone(zone_id, {**self.zones[zone_id], **body})
            if method == "DELETE":
                del self.zones[zone_id]
                return 204, None
        if (method, path) == ("GET", "/api/stores/1/campaigns"):
            return 200, list(self.campaigns.values())
        if (method, path) == ("POST", "/api/stores/1/campaigns/preview"):
            selected = self.preview_ages(body["document"])
            in_store = [age for age in selected if age in self.in_store_ages]
            return 200, {"count": len(selected), "in_store": len(in_store)}
        if (method, path) == ("POST", "/api/stores/1/campaigns"):
            campaign_id = len(self.campaigns) + 1
            self.campaigns[campaign_id] = {
                "id": campaign_id,
                "store_id": 1,
                "version": 1,
                "created_ms": 0,
                "updated_ms": 0,
                "status": "draft",
                **body,
            }
            return 201, self.campaigns[campaign_id]
        if (method, path) == ("POST", "/api/tokens") and body.get("kind") == "screen":
            if body.get("screen_id") not in self.screens:
                return 404, {"detail": f"no screen {body.get('screen_id')!r}"}
            return 201, {"id": 1, "kind": "screen", "token": "issued-screen-token", **body}
        if (method, path) == ("GET", "/api/stores/1/beacons"):
            return 200, list(self.beacons.values())
        if (method, path) == ("GET", "/api/stores/1/screens"):
            return 200, list(self.screens.values())
        device_route = re.fullmatch(r"/api/stores/1/(beacons|screens)/([\w.:\-]+)", path)
        if device_route and method in ("PATCH", "DELETE"):
            devices = self.beacons if device_route[1] == "beacons" else self.screens
            if device_route[2] not in devices:
                return 404, {"detail": f"no {device_route[1][:-1]} {device_route[2]!r}"}
            if method == "DELETE":
                del devices[device_route[2]]
                return 204, None
            devices[device_route[2]].update(body)
            return 200, devices[device_route[2]]
        return 404, {"detail": f"no route {method} {path}"}

    def openapi(self) -> dict[str, Any]:
        """The part of an OpenAPI document the page reads: which optional routes exist."""
        preview = "/api/stores/{store_id}/campaigns/preview"
        return {"paths": {preview: {"post": {}}} if self.has_preview else {}}

    def preview_ages(self, document: dict[str, Any]) -> list[int]:
        """Ages of the customers whose age fits the audience (the one rule the fake knows)."""
        audience = document.get("audience") or {}
        nodes = audience.get("all", [audience])
        ages = [n["age"] for n in nodes if "age" in n]
        return [
            age
            for age in self.shopper_ages
            if all(a.get("min", 0) <= age <= a.get("max", 200) for a in ages)
        ]

    def user(self) -> dict[str, Any]:
        return {"id": 1, "email": STAFF_EMAIL, "role": "staff", "active": True, "store_ids": [1]}

    def write_zone(
        self, zone_id: str, body: dict[str, Any], action: str = "update"
    ) -> tuple[int, Any]:
        # The same two kinds of refusal as the server: a field check and a geometry check.
        if not str(body.get("name", "")).strip():
            return _invalid("name", "String should have at least 1 character")
        xs = [p[0] for p in body["polygon"]]
        ys = [p[1] for p in body["polygon"]]
        if min(xs) < 0 or min(ys) < 0 or max(xs) > self.width_m or max(ys) > self.height_m:
            reason = f"zone reaches outside floor 7 ({self.width_m} m × {self.height_m} m)"
            return 422, {"detail": reason}
        previous = self.zones.get(zone_id, {"version": 0})
        stored = {**body, "id": zone_id, "store_id": 1, "version": previous["version"] + 1}
        self.zones[zone_id] = stored
        self.remember_version(stored, action if previous["version"] else "create")
        return 200 if previous["version"] else 201, stored


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the built page; /api/... from the FakeStore."""

    server: _FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        if self.path == "/openapi.json":
            self.reply_bytes(
                200, json.dumps(self.server.fake_store.openapi()).encode(), "application/json"
            )
        elif self.path.startswith("/api/"):
            self.api("GET")
        else:
            super().do_GET()

    def do_POST(self) -> None:
        self.api("POST")

    def do_PATCH(self) -> None:
        self.api("PATCH")

    def do_PUT(self) -> None:
        self.api("PUT")

    def do_DELETE(self) -> None:
        self.api("DELETE")

    def api(self, method: str) -> None:
        store = self.server.fake_store
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        is_json = self.headers.get("Content-Type", "").startswith("application/json")
        body = json.loads(raw) if raw and is_json else None
        with store.lock:
            store.requests.append((method, path, body))
            if path == "/api/stores/1/floors/7/image" and method == "GET":
                self.reply_bytes(200, store.plan, "image/png")
                return
            image = re.fullmatch(r"/api/stores/1/floors/(\d+)/image", path)
            if image and method == "PUT":
                floor = next(f for f in store.floors if f["id"] == int(image[1]))
                # The multipart body holds the file as sent, from the PNG signature to IEND.
                start = raw.index(b"\x89PNG")
                store.uploads[floor["id"]] = raw[start : raw.index(b"IEND") + 8]
                floor["image_type"] = "image/png"
                self.reply_bytes(200, json.dumps(floor).encode(), "application/json")
                return
            if image and method == "GET" and int(image[1]) in store.uploads:
                self.reply_bytes(200, store.uploads[int(image[1])], "image/png")
                return
            public = path == "/api/auth/login"
            if not public and self.headers.get("Authorization") != f"Bearer {STAFF_TOKEN}":
                status, answer = (
                    401,
                    {"detail": "log in first: send 'Authorization: Bearer <token>'"},
                )
            else:
                status, answer = store.answer(method, path, body or {})
        time.sleep(store.delays_s.get((method, path), 0.0))
        if status == 204:
            self.send_response(204)
            self.end_headers()
            return
        self.reply_bytes(status, json.dumps(answer).encode(), "application/json")

    def reply_bytes(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    fake_store: FakeStore


@contextmanager
def serve(dist: Path, store: FakeStore) -> Iterator[str]:
    """Serves the page and the fake API on a free port of 127.0.0.1; yields the base URL."""
    server = _FakeServer(("127.0.0.1", 0), partial(_Handler, directory=str(dist)))
    server.fake_store = store
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
