"""Durability and scale-out: a restarted server keeps offers, sequence numbers and caps; two real
server processes sharing PostgreSQL and Redis deliver across each other."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.server.fakes import campaign_document, fake_wiring
from tests.server.harness import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    LiveServer,
    Phone,
    Staff,
    add_campaign,
    free_port,
    now_ms,
    postgres_database,
    seed_store,
    settings_for,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


def app_open() -> dict[str, object]:
    return {"type": "event", "kind": "app_open", "t_ms": now_ms()}


def test_a_restart_keeps_offers_sequence_numbers_and_caps(database_url: str) -> None:
    settings = settings_for(database_url)
    with LiveServer(settings, fake_wiring()) as live:
        staff = Staff(live.http_url)
        store = seed_store(staff)
        add_campaign(staff, store, campaign_document("app_open", "once"))
        with Phone.connect(live.ws_url) as phone:
            phone.hello(store)
            phone.send(app_open())
            first = phone.recv_type("offer")
        staff.http.close()
    with LiveServer(settings, fake_wiring()) as live:  # a new process' worth of state
        with Phone.connect(live.ws_url) as phone:
            phone.hello(store)  # a fresh install: everything unacked is replayed
            assert phone.recv_type("offer")["id"] == first["id"]
            phone.send(app_open())
            assert phone.nothing_more({"offer"}) == []  # the cap of 1 survived the restart
        staff = Staff(live.http_url)
        add_campaign(staff, store, campaign_document("app_open", "next"))
        with Phone.connect(live.ws_url) as phone:
            phone.hello(store, last_seen_seq=first["seq"])
            phone.send(app_open())
            second = phone.recv_type("offer")
        staff.http.close()
    assert second["seq"] == first["seq"] + 1
    assert second["content"] == {"title": "next"}


@contextlib.contextmanager
def server_process(port: int, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.server.serve_with_fakes", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, "server process died on start"
            assert time.monotonic() < deadline, "server process did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def two_processes() -> Iterator[tuple[str, str]]:
    with postgres_database() as database_url:
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "AISLECAST_REDIS_PREFIX": f"aislecast-test-{uuid.uuid4().hex[:8]}:",
            "AISLECAST_SECRET_KEY": "shared-secret",
            "AISLECAST_ADMIN_EMAIL": ADMIN_EMAIL,
            "AISLECAST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        with server_process(free_port(), env) as a, server_process(free_port(), env) as b:
            yield a, b


def test_a_screen_on_one_process_gets_content_for_a_shopper_on_another(
    two_processes: tuple[str, str],
) -> None:
    url_a, url_b = two_processes
    staff = Staff(url_a)
    store = seed_store(staff)
    add_campaign(staff, store, campaign_document("near_screen", "Cross-process", channel="signage"))
    with connect(url_a.replace("http", "ws") + "/ws/screen", open_timeout=10) as screen:
        screen.send(json.dumps({"type": "register", "token": store.screen_token}))
        assert json.loads(screen.recv(timeout=10))["type"] == "state"
        with Phone.connect(url_b.replace("http", "ws")) as phone:
            phone.hello(store)
            phone.send({"type": "fix", "t_ms": now_ms(), "x": 25, "y": 5, "heading_deg": 90,
                        "accuracy_m": 1.0})  # fmt: skip
            content = json.loads(screen.recv(timeout=10))
    assert content["type"] == "content"
    assert content["content"] == {"title": "Cross-process"}
    staff.http.close()


def test_sequence_numbers_stay_unique_when_two_processes_issue_at_once(
    two_processes: tuple[str, str],
) -> None:
    staff = Staff(two_processes[0])
    store = seed_store(staff)
    add_campaign(staff, store, campaign_document("app_open", "n1", cap=1000))
    per_process = 15
    received: dict[str, list[int]] = {}

    def shop_on(url: str) -> None:
        with Phone.connect(url.replace("http", "ws")) as phone:
            phone.hello(store)
            for _ in range(per_process):
                phone.send(app_open())
            seen: list[int] = []
            while len(seen) < 2 * per_process:  # each socket gets the shopper's offers from both
                seen.append(phone.recv_type("offer")["seq"])
            received[url] = seen

    threads = [threading.Thread(target=shop_on, args=(url,)) for url in two_processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    offers = staff.ok("GET", f"/api/stores/{store.id}/offers")
    seqs = sorted(o["seq"] for o in offers)
    assert seqs == list(range(1, 2 * per_process + 1))
    for seen in received.values():
        assert sorted(seen) == seqs  # every offer once, none twice, on both sockets
    staff.http.close()
