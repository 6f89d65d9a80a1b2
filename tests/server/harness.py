"""Real servers on free ports, real databases, and a staff client, for the server tests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import uvicorn
from websockets.sync.client import ClientConnection, connect

from server.app import create_app
from server.pipeline import PipelineWiring
from server.raw_frames_codec import StoredFrame, stored_frames
from server.realtime.limits import TRANSPORT_MAX_FRAME_BYTES
from server.realtime.ws_protocol import uvicorn_ws
from server.settings import Settings
from server.tables import RawReadingBatch

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "admin@aislecast.test"
ADMIN_PASSWORD = "correct horse battery"
# Long enough for a slow CI machine; a frame that takes longer is a bug, not a slow box.
RECV_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A uniquely named database on the local PostgreSQL, dropped afterwards."""
    name = f"aislecast_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(database_url: str, redis_url: str | None = None, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"aislecast-test-{uuid.uuid4().hex[:8]}:",
        secret_key="test-secret",
        bootstrap_admin_email=ADMIN_EMAIL,
        bootstrap_admin_password=ADMIN_PASSWORD,
        **extra,
    )


class LiveServer:
    """``create_app`` under a real uvicorn in a background thread, on a free port."""

    def __init__(self, settings: Settings, wiring: PipelineWiring | None = None) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings, wiring),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws=uvicorn_ws(os.environ.get("AISLECAST_WS")),  # as ``aislecast serve`` chooses
            ws_max_size=TRANSPORT_MAX_FRAME_BYTES,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def phone_ws_url(self) -> str:
        """The picows phone port (the settings' ``phone_port``; 0 picks a free one)."""
        phones = self.server.config.app.state.phone_port
        assert phones is not None, "this server's settings have no phone_port"
        return f"ws://127.0.0.1:{phones.port}"

    def url_of(self, port_kind: str) -> str:
        """``uvicorn``: the app's own port; ``picows``: the phone port."""
        return self.phone_ws_url if port_kind == "picows" else self.ws_url

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class Staff:
    """A logged-in REST client."""

    def __init__(self, base_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD):
        self.http = httpx.Client(base_url=base_url, timeout=10.0)
        response = self.http.post("/api/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        self.token: str = response.json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None


@dataclass
class Store:
    """A store with a floor, a shelf zone with a screen in front of it, one customer and tokens."""

    id: int
    floor_id: int
    shelf_zone: str
    screen_zone: str
    screen_id: str
    customer_id: str
    app_token: str
    screen_token: str


def seed_store(
    staff: Staff, consents: str = "location_analytics;personalised_offers;signage"
) -> Store:
    tag = uuid.uuid4().hex[:8]
    store = staff.ok(
        "POST", "/api/stores", json={"name": f"Store {tag}", "timezone": "Europe/Paris"}
    )
    floor = staff.ok(
        "POST", f"/api/stores/{store['id']}/floors",
        json={"name": "ground", "width_m": 40, "height_m": 20},
    )  # fmt: skip
    base = f"/api/stores/{store['id']}"
    for zone_id, kind, x0 in (("shelf-coffee", "shelf", 0), ("screen-front", "screen", 20)):
        staff.ok(
            "POST", f"{base}/zones",
            json={
                "id": zone_id, "floor_id": floor["id"], "name": zone_id, "kind": kind,
                "polygon": [[x0, 0], [x0 + 10, 0], [x0 + 10, 10], [x0, 10]],
                "categories": ["coffee"], "facing_deg": 90, "view_distance_m": 3,
            },
        )  # fmt: skip
    staff.ok(
        "POST", f"{base}/screens",
        json={
            "id": "screen-1", "floor_id": floor["id"], "zone_id": "screen-front",
            "name": "Entrance",
            "x": 25, "y": 11, "facing_deg": 270,
            "playlist": [{"content_id": "house-1", "title": "Welcome", "duration_s": 10}],
        },
    )  # fmt: skip
    customer_id = f"c-{tag}"
    csv = f"customer_id,gender,age,tier,consents\n{customer_id},female,34,gold,{consents}\n"
    report = staff.ok(
        "POST", "/api/customers/import", files={"file": ("customers.csv", csv, "text/csv")}
    )
    assert report["errors"] == []
    app_token = staff.ok("POST", "/api/tokens", json={"kind": "app", "customer_id": customer_id})
    screen_token = staff.ok(
        "POST", "/api/tokens",
        json={"kind": "screen", "store_id": store["id"], "screen_id": "screen-1"},
    )  # fmt: skip
    return Store(
        store["id"], floor["id"], "shelf-coffee", "screen-front", "screen-1", customer_id,
        app_token["token"], screen_token["token"],
    )  # fmt: skip


def add_campaign(
    staff: Staff, store: Store, document: dict[str, Any], name: str | None = None
) -> int:
    campaign = staff.ok(
        "POST", f"/api/stores/{store.id}/campaigns",
        json={"name": name or f"campaign {uuid.uuid4().hex[:6]}", "status": "active",
              "document": document},
    )  # fmt: skip
    return int(campaign["id"])


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Phone:
    """A shopper app over a real websocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    @contextlib.contextmanager
    def connect(cls, server_ws_url: str) -> Iterator[Phone]:
        with connect(f"{server_ws_url}/ws/shopper", open_timeout=10) as ws:
            yield cls(ws)

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        """A dict as JSON text; text as it is; bytes as a binary frame."""
        self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    def recv(self, timeout: float = RECV_TIMEOUT_S) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return frame

    def recv_type(self, kind: str, timeout: float = RECV_TIMEOUT_S) -> dict[str, Any]:
        """The next frame of this type, skipping others (positions, acks)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, deadline - time.monotonic()))
            if frame["type"] == kind:
                return frame

    def nothing_more(self, kinds: set[str], wait_s: float = 0.5) -> list[dict[str, Any]]:
        """Frames of these types that arrive within ``wait_s`` (should usually be none)."""
        seen = []
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.recv(left)
            except TimeoutError:
                break
            if frame["type"] in kinds:
                seen.append(frame)
        return seen

    def hello(self, store: Store, last_seen_seq: int | None = None, **extra: Any) -> dict[str, Any]:
        frame = {
            "type": "hello", "token": store.app_token, "store_id": store.id,
            "app_version": "1.0.0",
            "consents": ["location_analytics", "personalised_offers", "signage"],
            "last_seen_seq": last_seen_seq, **extra,
        }  # fmt: skip
        self.send(frame)
        return self.recv_type("welcome")


def eventually(check: Any, timeout_s: float = 10.0) -> Any:
    """Poll ``check()`` until it returns something truthy (work the server does after a close)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def raw_frames_of(rows: Iterable[RawReadingBatch]) -> list[StoredFrame]:
    """Every frame the ``reading_batches`` rows hold, row by row (a row is a segment of frames)."""
    return [
        frame
        for r in rows
        for frame in stored_frames(r.t_first_ms, r.t_last_ms, r.n_readings, r.payload)
    ]
