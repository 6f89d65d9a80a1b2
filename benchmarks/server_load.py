"""Server load: simulated phones on 127.0.0.1, one frame a second each, against one server process.

Variants side by side, at each connection count:
- ``echo``: a bare FastAPI websocket that answers every frame with a tiny ack (the ceiling);
- ``readings``: the real ``/ws/shopper``, each phone sending a batch of 50 accelerometer and 50
  gyroscope samples (50 Hz) and 8 beacon readings a second, answered by ``readings_ack`` (batch
  validated and stored; positioning not wired yet, so this is the server's own share of
  batch → position);
- ``fixes``: the real ``/ws/shopper`` with ready fixes, answered by ``position``.

Reports latency p50/p99 (send → answer), frames lost (no answer within 5 s), server CPU (cores used)
and memory per connection. Closing line: ``server: conns=N p99=X.Xms lost=0 vs_echo=X.XX`` for the
readings variant at the largest count (``vs_echo`` = its p99 over the echo's p99).

    python benchmarks/server_load.py [--conns 100 1000] [--seconds 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from aislecast.bench import format_table

# A phone answered later than this counts as lost (the app would have moved on).
ANSWER_TIMEOUT_S = 5.0
# Connections are opened in waves so the benchmark measures steady load, not a connect storm.
CONNECT_WAVE = 100
# The first second of each phone warms pools and caches: it is not counted in the latency.
WARMUP_TICKS = 1
IMU_HZ = 50
BEACONS_HEARD = 8
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LevelResult:
    variant: str
    conns: int
    frames: int
    lost: int
    p50_ms: float
    p99_ms: float
    server_cores: float
    rss_per_conn_kb: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def readings_frame(t0_ms: int, rng: np.random.Generator) -> str:
    """One second of sensing: 50 Hz accelerometer and gyroscope, a few beacons (column series)."""
    t_ms = [t0_ms + i * 1000 // IMU_HZ for i in range(IMU_HZ)]
    accel = rng.normal([0.0, 0.0, 9.81], 0.8, (IMU_HZ, 3))
    gyro = rng.normal(0.0, 0.05, (IMU_HZ, 3))
    frame = {
        "type": "readings",
        "accel": {"t_ms": t_ms, **{axis: accel[:, i].tolist() for i, axis in enumerate("xyz")}},
        "gyro": {"t_ms": t_ms, **{axis: gyro[:, i].tolist() for i, axis in enumerate("xyz")}},
        "beacons": {
            "t_ms": [t0_ms + 500] * BEACONS_HEARD,
            "beacon_id": [f"B_1_{b}_AA" for b in range(BEACONS_HEARD)],
            "rssi_dbm": rng.uniform(-95, -60, BEACONS_HEARD).tolist(),
            "tx_power_dbm": [-59.0] * BEACONS_HEARD,
        },
    }
    return json.dumps(frame)


def fix_frame(t_ms: int, rng: np.random.Generator) -> str:
    x, y = rng.uniform(1, 39), rng.uniform(1, 19)
    return json.dumps({"type": "fix", "t_ms": t_ms, "x": x, "y": y, "heading_deg": 90.0,
                       "accuracy_m": 1.5})  # fmt: skip


def seed_shoppers(database_url: str, n: int) -> tuple[int, list[str]]:
    """A store with N customers, straight into the database; their app tokens."""
    from server.clock import now_ms
    from server.database import Database, upgrade_to_head
    from server.seed import seed_store

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = {"name": "Bench", "width_m": 40, "height_m": 20, "zones": [], "beacons": [],
                 "screens": []}  # fmt: skip
        (root / "store.json").write_text(json.dumps(store))
        rows = "".join(f"b{i},male,30,,location_analytics\n" for i in range(n))
        (root / "customers.csv").write_text("customer_id,gender,age,tier,consents\n" + rows)
        database = Database.connect(database_url)
        upgrade_to_head(database.engine)
        report = seed_store(database, root, now_ms())
        database.dispose()
    return report.store_id, [report.app_tokens[f"b{i}"] for i in range(n)]


@contextlib.contextmanager
def server_process(mode: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", mode, "--port", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{mode} server did not start")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_phone(url: str, hello: str | None) -> ClientConnection:
    ws = await connect(f"{url}/ws/shopper", open_timeout=30, max_size=2**20)
    if hello is not None:
        await ws.send(hello)
        await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S)
    return ws


async def phone_loop(ws: ClientConnection, frame: str, phase_s: float, seconds: float,
                     latencies: list[float]) -> int:  # fmt: skip
    """Send one frame a second at this phone's phase; return how many answers never came."""
    lost = 0
    start = time.monotonic() + phase_s
    for tick in range(int(seconds)):
        await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
        sent = time.perf_counter()
        await ws.send(frame)
        try:
            await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S)
        except TimeoutError:
            lost += 1
            continue
        if tick >= WARMUP_TICKS:
            latencies.append((time.perf_counter() - sent) * 1000.0)
    return lost


async def run_level(url: str, pid: int, variant: str, n: int, seconds: float, store_id: int,
                    tokens: list[str]) -> LevelResult:  # fmt: skip
    rng = np.random.default_rng(n)
    now = time.time_ns() // 1_000_000
    rss_idle = rss_kb(pid)
    hellos = [
        None if variant == "echo" else json.dumps({
            "type": "hello", "token": tokens[i], "store_id": store_id, "app_version": "bench",
            "consents": ["location_analytics"]})
        for i in range(n)
    ]  # fmt: skip
    phones: list[ClientConnection] = []
    for wave in range(0, n, CONNECT_WAVE):
        phones += await asyncio.gather(
            *(open_phone(url, h) for h in hellos[wave : wave + CONNECT_WAVE])
        )
    make = fix_frame if variant == "fixes" else readings_frame
    frames = [make(now, rng) for _ in range(n)]
    latencies: list[float] = []
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    lost = await asyncio.gather(*(
        phone_loop(ws, frames[i], i / n, seconds, latencies) for i, ws in enumerate(phones)
    ))  # fmt: skip
    cores = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
    rss_loaded = rss_kb(pid)
    await asyncio.gather(*(ws.close() for ws in phones))
    ms = np.array(latencies) if latencies else np.array([float("nan")])
    return LevelResult(variant, n, int(seconds) * n, sum(lost),
                       float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), cores,
                       (rss_loaded - rss_idle) / n)  # fmt: skip


async def echo_socket(websocket: WebSocket) -> None:
    """The ceiling: accept, and answer every frame with a tiny ack, nothing else."""
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
            await websocket.send_text('{"type":"ack"}')


def serve(mode: str, port: int) -> None:
    """The server side of the benchmark, run in its own process."""
    if mode == "app":
        from server.app import create_app

        app = create_app()
    else:
        app = FastAPI()

        @app.get("/healthz")
        def healthz() -> dict[str, str]:
            return {"status": "ok"}

        app.add_api_websocket_route("/ws/shopper", echo_socket)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conns", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--serve", choices=["app", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port)
        return
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        store_id, tokens = seed_shoppers(database_url, max(args.conns))
        env = {"DATABASE_URL": database_url, "AISLECAST_MIGRATE_ON_STARTUP": "0"}
        results: list[LevelResult] = []
        for variant in ("echo", "readings", "fixes"):
            with server_process("echo" if variant == "echo" else "app", env) as (url, pid):
                for n in args.conns:
                    level = run_level(url, pid, variant, n, args.seconds, store_id, tokens)
                    results.append(asyncio.run(level))
    print(format_table(
        ["variant", "conns", "frames", "lost", "p50 ms", "p99 ms", "server cores", "RSS/conn KB"],
        [[r.variant, r.conns, r.frames, r.lost, f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
          f"{r.server_cores:.2f}", f"{r.rss_per_conn_kb:.0f}"] for r in results],
    ))  # fmt: skip
    top = max(args.conns)
    readings = next(r for r in results if r.variant == "readings" and r.conns == top)
    echo = next(r for r in results if r.variant == "echo" and r.conns == top)
    lost = sum(r.lost for r in results if r.variant != "echo")
    print(f"server: conns={top} p99={readings.p99_ms:.1f}ms lost={lost} "
          f"vs_echo={readings.p99_ms / echo.p99_ms:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
