"""Server load: simulated phones on 127.0.0.1, one frame a second each, against one server process.

The phones are the simulator's (``simulate live``'s load mode): ``DISTINCT_VISITS`` visits in the
demo store are planned and sensed once up front (``simulator.live.load_cast``), phone i streams
visit i mod K as ``readings`` frames (``simulator.wire``), their times shifted to the wall clock as
``LivePhone`` shifts them, sent as the simulator's phone sends them by default (``LiveSettings``):
binary frames (MessagePack, raw little-endian columns: ``simulator.wire.binary_readings_frame``,
~10 KB), the hello asking for one answer frame a batch (``answers: position``). The server's
stores are seeded from the demo store's ``store.json`` (its floor, zones, screens and 35
beacons), so positions come from simulated beacon readings. A frame is one second of the phone:
50 Hz accelerometer, gyroscope, magnetometer and rotation vector (200 samples), every beacon
advertisement heard (~55–100) and the odd Wi-Fi scan: ~10 KB binary, ~16 KB as JSON text.

Variants side by side, at each connection count:
- ``echo``: a bare FastAPI websocket that answers every frame with a tiny ack (the ceiling);
- ``readings``: the real ``/ws/shopper`` in the demo store, each phone's batches run through the
  store's batched tracker (``server.batch_tracking``, the default) and answered once it has run
  by the batch's ``position`` frame carrying ``accepted`` (a ``readings_ack`` when the batch has
  no position), so the latency is batch → position;
- ``readings-bin``: the same binary batches with the hello's default answers: a ``readings_ack``
  (the latency's end), then the ``position`` frame (two frames a batch, as before session 5);
- ``readings-json``: the same batches as JSON text (~16 KB) with the default answers, the path of
  apps that send JSON: its figure stays reported on a closing line of its own;
- ``per_shopper``: the same with ``AISLECAST_TRACKER=per_shopper`` (a particle-filter ``Tracker``
  per shopper), up to ``--per-shopper-max`` connections (beyond, it only piles up timeouts);
- ``stored``: the same batches in the demo store without its beacons (no tracker: validated and
  stored only), the server's own share of the readings path;
- ``fixes``: the real ``/ws/shopper`` with ready fixes (the visits' true poses, as
  ``LiveSettings.send_fixes`` phones send them), answered by ``position``.

The phones run in several client processes (asyncio + ``websockets`` each, frames encoded to
bytes or text before the clock starts) so the load generator is not the bottleneck; their CPU is
reported beside the server's. Reports latency p50/p99 (send → answer), frames lost (no answer
within 5 s), server CPU (cores used), client CPU and memory per connection. Then the accuracy of
the batched and the per-shopper tracker on simulated walks in the demo store (same frames
through both, as the server converts them), with their CPU per batch. Closing line:
``server: conns=N p99=X.Xms lost=0 vs_echo=X.XX`` for the readings (batched) variant at the
largest count (``vs_echo`` = its p99 over the echo's p99), and for the variants that ran,
``server-bin: ...`` (``readings-bin``) and ``server-json: ...`` (``readings-json``), the same
figures for their own frames.

``--servers uvicorn granian`` runs each variant under each server in turn (the same app; granian:
one worker, its ``st`` runtime with one Rust thread, uvloop; ``pip install granian``, not a
dependency; ``uvicorn+picows``: uvicorn with the picows phone port, ``AISLECAST_PHONE_PORT``, the
phones connecting to it); the table gains ``loop cores``, the CPU of the thread running the event
loop (and ``loop µs/batch``, that CPU over the frames answered: the part of a batch a faster
transport can cut), and the second server's closing lines carry its name (``server-granian: ...``).

Each level starts once the server is quiet (the last level's phones have left; ``--no-settle``:
at once) and says why phones failed to connect, if any did.

    python benchmarks/server_load.py [--conns 100 1000 5000] [--seconds 10] [--database-url URL]
        [--servers uvicorn uvicorn+picows granian] [--timeline] [--no-settle]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# Run as ``python benchmarks/server_load.py``, this folder leads sys.path and its triggers.py and
# zones.py would hide the packages the server imports: drop the folder first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from aislecast.bench import (  # noqa: E402
    format_table,
    process_tree,
    scored_answers,
    serve_granian,
    server_cpu_seconds,
)
from simulator.live import FIX_ACCURACY_M, LiveCast, load_cast, wall_ms  # noqa: E402
from simulator.store import Store, store_to_dict  # noqa: E402
from simulator.wire import Frame, binary_readings_frame, fix_frame, readings_frames  # noqa: E402

# A phone answered later than this counts as lost (the app would have moved on).
ANSWER_TIMEOUT_S = 5.0
# Connections are opened in waves so the benchmark measures steady load, not a connect storm.
CONNECT_WAVE = 100
# A level starts once the server is quiet: under this share of a core for QUIET_SPAN_S. Right
# after a level its phones' visits are still ending (each one's buffers written), and phones of
# the next level connecting then waited over ANSWER_TIMEOUT_S for their welcome (400 of 5,000
# counted lost after a 3,000 level, docs/server.md, "Session 9").
QUIET_CORES = 0.15
QUIET_SPAN_S = 1.0
QUIET_WAIT_MAX_S = 120.0
# The first second of each phone warms pools and caches: it is not counted in the latency.
WARMUP_TICKS = 1
REPO_ROOT = Path(__file__).resolve().parents[1]
# Distinct simulated visits (K), shared by the phones: sensing costs ~3 ms per phone-second, so
# thousands of phones cannot each have their own (each still has its own tracker row).
DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
# Client processes: one per this many phones (at least one), so no client saturates a core.
PHONES_PER_CLIENT = 1250


@dataclass
class LevelResult:
    server: str
    variant: str
    conns: int
    frames: int
    lost: int
    p50_ms: float
    p99_ms: float
    server_cores: float
    client_cores: float
    rss_per_conn_kb: float
    server_us_per_batch: float  # server CPU time over the frames answered
    loop_cores: float  # the event loop's thread alone (it holds the GIL when it runs Python)

    @property
    def loop_us_per_batch(self) -> float:
        """The event loop thread's CPU time over the frames answered (server cores → loop)."""
        if not self.server_cores:
            return float("nan")
        return self.server_us_per_batch * self.loop_cores / self.server_cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def simulated_cast(seconds: float) -> LiveCast:
    """The demo store and ``DISTINCT_VISITS`` visits, sensed for ``seconds`` (load mode)."""
    return load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds)  # fmt: skip


def visit_frames(
    cast: LiveCast, fixes: bool, now_ms: int, binary: bool = False
) -> list[tuple[str | bytes, ...]]:
    """Per visit, its frames as JSON text (``binary``: readings as binary frames), one a second,
    the visit's start moved to ``now_ms``: ``readings`` of each window, or a ``fix`` at the
    window's last true pose."""
    out = []
    for _cid, trajectory, windows in cast.visits:
        offset_ms = now_ms - trajectory.start_ms  # LivePhone.offset_ms at speed 1
        frames: list[Frame] = []
        for t1, rows in windows:
            if fixes:
                x, y, heading = trajectory.pose_at(np.array([float(t1 - 1)]))
                pose = float(x[0]), float(y[0]), float(heading[0])
                frames.append(fix_frame(t1 - 1 + offset_ms, *pose, FIX_ACCURACY_M))
            else:
                frames += readings_frames(rows, offset_ms)
        encode = binary_readings_frame if binary else json.dumps
        out.append(tuple(encode(frame) for frame in frames))
    return out


def seed_shoppers(database_url: str, n: int, layout: Store) -> tuple[dict[str, int], list[str]]:
    """The phones' store twice (with and without its beacons) and N customers, straight into the
    database; the store id per variant and the customers' app tokens."""
    from server.clock import now_ms
    from server.database import Database, upgrade_to_head
    from server.seed import seed_store

    database = Database.connect(database_url)
    upgrade_to_head(database.engine)
    stores: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = store_to_dict(layout)
        without = {**store, "name": f"{store['name']} without beacons", "beacons": []}
        (root / "store.json").write_text(json.dumps(without))
        rows = "".join(f"b{i},male,30,,location_analytics\n" for i in range(n))
        (root / "customers.csv").write_text("customer_id,gender,age,tier,consents\n" + rows)
        report = seed_store(database, root, now_ms())
        stores["stored"] = report.store_id
        (root / "customers.csv").unlink()
        (root / "store.json").write_text(json.dumps(store))
        beacon_store = seed_store(database, root, now_ms()).store_id
        for variant in ("readings", "per_shopper", "fixes", "readings-bin", "readings-json"):
            stores[variant] = beacon_store
    database.dispose()
    return stores, [report.app_tokens[f"b{i}"] for i in range(n)]


@contextlib.contextmanager
def server_process(mode: str, server: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The server on a free port; yields the phones' websocket URL (``+picows``: the phone
    port's) and its process id."""
    port = free_port()
    phone_port = free_port() if server.endswith("+picows") else None
    if phone_port is not None:
        env = {**env, "AISLECAST_PHONE_PORT": str(phone_port)}
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            mode,
            "--port",
            str(port),
            "--server",
            server,
        ],
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
        yield f"ws://127.0.0.1:{phone_port or port}", process.pid
    finally:
        tree = process_tree(process.pid)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # granian's worker can outlive SIGTERM by minutes, waiting on the app's idle AnyIO
            # worker threads (docs/server.md, "Session 6: the transport under Granian").
            for pid in reversed(tree):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(timeout=30)


def rss_kb(pid: int) -> int:
    """Resident memory of the server's process tree (granian: its supervisor and worker)."""
    return sum(_rss_kb(p) for p in process_tree(pid))


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_phone(url: str, hello: str | None) -> ClientConnection:
    # No keepalive pings: they measure nothing here and a server that falls minutes behind would
    # have them time out and close the phones mid-run.
    ws = await connect(f"{url}/ws/shopper", open_timeout=60, max_size=2**20, ping_interval=None)
    if hello is not None:
        await ws.send(hello)
        await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S)
    return ws


async def answer(ws: ClientConnection, kind: str) -> None:
    """Read frames until the answer of this kind (skipping the positions of the last batch);
    ``accepted``: the frame acknowledging a readings batch, a ``readings_ack`` or the ``position``
    carrying its fields."""
    if kind == "accepted":
        while "accepted" not in json.loads(await ws.recv()):
            pass
        return
    while json.loads(await ws.recv())["type"] != kind:
        pass


async def streaming_phone(ws: ClientConnection, frames: Sequence[str | bytes], answer_kind: str,
                          phase_s: float,
                          latencies: list[tuple[float, float]]) -> int:  # fmt: skip
    """Send one frame a second at this phone's phase whatever the answers, as the app streams
    (``simulator.live.LivePhone``: a receiver task of its own); each answer is matched to the
    oldest frame not yet answered. Return how many frames were not answered within
    ``ANSWER_TIMEOUT_S``. A server that falls behind gets more frames, not fewer."""
    sent: list[float] = []
    sent_wall: list[float] = []
    answered: list[float] = []

    async def receive() -> None:
        while len(answered) < len(frames):
            await answer(ws, answer_kind)
            answered.append(time.perf_counter())

    receiver = asyncio.create_task(receive())
    start = time.monotonic() + phase_s
    try:
        for tick, frame in enumerate(frames):
            await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
            if receiver.done():
                break  # the connection closed: the rest are never sent, so never answered
            sent.append(time.perf_counter())
            sent_wall.append(time.time())
            await ws.send(frame)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(receiver), ANSWER_TIMEOUT_S)
    except ConnectionClosed:
        pass
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
    found, lost = scored_answers(sent, answered[: len(sent)], ANSWER_TIMEOUT_S, WARMUP_TICKS)
    latencies += [(sent_wall[i], latency * 1000.0) for i, latency in found]
    return lost + len(frames) - len(sent)


async def phone_loop(ws: ClientConnection, frames: Sequence[str | bytes], answer_kind: str,
                     phase_s: float,
                     latencies: list[tuple[float, float]]) -> int:  # fmt: skip
    """``--closed-loop``: send one frame a second at this phone's phase, but never before the
    last frame's answer (a phone behind its schedule sends at once, so a server that falls
    behind gets fewer frames: sessions 1–9's load); return how many answers never came."""
    lost = 0
    start = time.monotonic() + phase_s
    for tick, frame in enumerate(frames):
        await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
        sent, sent_wall = time.perf_counter(), time.time()
        try:
            await ws.send(frame)
            await asyncio.wait_for(answer(ws, answer_kind), ANSWER_TIMEOUT_S)
        except TimeoutError:
            lost += 1
            continue
        except ConnectionClosed:
            return lost + len(frames) - tick  # the rest never had an answer
        if tick >= WARMUP_TICKS:
            latencies.append((sent_wall, (time.perf_counter() - sent) * 1000.0))
    return lost


ANSWERS = {"echo": "ack", "readings": "accepted", "per_shopper": "accepted",
           "stored": "accepted", "fixes": "position", "readings-bin": "accepted",
           "readings-json": "accepted"}  # fmt: skip
# How each variant's phones send readings: as binary frames, and what their hello asks for
# (``answers``; None: the default, a readings_ack then the positions). The others: JSON text.
BINARY_VARIANTS = {"readings": "position", "per_shopper": "position", "stored": "position",
                   "readings-bin": None}  # fmt: skip


@dataclass(frozen=True)
class ClientJob:
    """One client process's share of the phones: phone ``i`` of the level is ``phones[k]``; it
    sends ``frames[i % len(frames)]`` (its visit's, one a second)."""

    url: str
    variant: str
    n: int
    phones: tuple[int, ...]
    hellos: tuple[str | None, ...]
    frames: tuple[tuple[str | bytes, ...], ...]
    closed_loop: bool = False  # phones wait for each answer (``phone_loop``), else stream


async def client_level(
    job: ClientJob, barrier: object
) -> tuple[list[tuple[float, float]], int, float]:
    """Connect this client's phones, wait for every client, stream; latencies, lost, CPU s."""
    opened: list[ClientConnection | BaseException] = []
    for wave in range(0, len(job.hellos), CONNECT_WAVE):
        opened += await asyncio.gather(
            *(open_phone(job.url, h) for h in job.hellos[wave : wave + CONNECT_WAVE]),
            return_exceptions=True,
        )
    # A phone that could not connect loses every frame it would have sent: say why.
    failed = Counter(type(ws).__name__ for ws in opened if not isinstance(ws, ClientConnection))
    if failed:
        print(f"  {sum(failed.values())} phones did not connect: {dict(failed)}", file=sys.stderr)
    phones = [(i, ws) for i, ws in zip(job.phones, opened, strict=True)
              if isinstance(ws, ClientConnection)]  # fmt: skip
    frames = job.frames
    connected = {i for i, _ in phones}
    unconnected = sum(len(frames[i % len(frames)]) for i in job.phones if i not in connected)
    await asyncio.to_thread(barrier.wait)  # type: ignore[attr-defined]
    cpu = time.process_time()
    latencies: list[tuple[float, float]] = []
    phone = phone_loop if job.closed_loop else streaming_phone
    lost = await asyncio.gather(*(
        phone(ws, frames[i % len(frames)], ANSWERS[job.variant], i / job.n, latencies)
        for i, ws in phones
    ))  # fmt: skip
    cpu = time.process_time() - cpu
    await asyncio.gather(*(ws.close() for _, ws in phones), return_exceptions=True)
    return latencies, sum(lost) + unconnected, cpu


def client_process(job: ClientJob, barrier: object, results: object) -> None:
    results.put(asyncio.run(client_level(job, barrier)))  # type: ignore[attr-defined]


def run_level(url: str, pid: int, server: str, variant: str, n: int, seconds: float,
              store_id: int, tokens: list[str], cast: LiveCast,
              timeline: bool = False, settle: bool = True,
              closed_loop: bool = False) -> LevelResult:  # fmt: skip
    import multiprocessing

    if settle:
        settled_s = wait_until_quiet(pid)
        print(f"  {server} {variant} {n}: server quiet after {settled_s:.1f} s", file=sys.stderr)
    rss_idle = rss_kb(pid)
    answers = BINARY_VARIANTS.get(variant)
    hellos = [
        None if variant == "echo" else json.dumps({
            "type": "hello", "token": tokens[i], "store_id": store_id, "app_version": "bench",
            "consents": ["location_analytics"], **({"answers": answers} if answers else {})})
        for i in range(n)
    ]  # fmt: skip
    clients = max(1, round(n / PHONES_PER_CLIENT))
    # Encoded before the clock starts, the visits' times from now on (as the old frames were).
    frames = tuple(visit_frames(cast, variant == "fixes", wall_ms(), variant in BINARY_VARIANTS))
    sent = sum(len(frames[i % len(frames)]) for i in range(n))
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()
    jobs = [ClientJob(url, variant, n, tuple(range(k, n, clients)),
                      tuple(hellos[k::clients]), frames, closed_loop)
            for k in range(clients)]  # fmt: skip
    processes = [context.Process(target=client_process, args=(job, barrier, results))
                 for job in jobs]  # fmt: skip
    for process in processes:
        process.start()
    barrier.wait(timeout=600)  # every phone connected
    cpu_before, wall_before = server_cpu_seconds(pid), time.monotonic()
    # A client that died (it prints why) counts all its phones' frames as lost.
    deadline = time.monotonic() + seconds + 10 * ANSWER_TIMEOUT_S + 60
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(results.get(timeout=max(1.0, deadline - time.monotonic())))
        except queue.Empty:
            outcomes.append(([], sum(len(frames[i % len(frames)]) for i in job.phones), 0.0))
    wall = time.monotonic() - wall_before
    server_cpu_s, loop_cpu_s = (a - b for a, b in zip(server_cpu_seconds(pid), cpu_before,
                                                      strict=True))  # fmt: skip
    cores = server_cpu_s / wall
    rss_loaded = rss_kb(pid)
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    latencies = [pair for found, _, _ in outcomes for pair in found]
    ms = np.array([ms for _, ms in latencies]) if latencies else np.array([float("nan")])
    if timeline and latencies:
        began = min(t for t, _ in latencies)
        print(f"{server} {variant} {n}: second 0 began at {began:.3f} (Unix s)")
        print(format_table(["second", "answered", "p50 ms", "p99 ms", "max ms"],
                           timeline_rows(latencies)))  # fmt: skip
    lost = sum(lost for _, lost, _ in outcomes)
    answered = sent - lost
    return LevelResult(server, variant, n, sent, lost, float(np.percentile(ms, 50)),
                       float(np.percentile(ms, 99)), cores, sum(cpu for *_, cpu in outcomes) / wall,
                       (rss_loaded - rss_idle) / n,
                       server_cpu_s * 1e6 / answered if answered else float("nan"),
                       loop_cpu_s / wall)  # fmt: skip


def wait_until_quiet(pid: int) -> float:
    """Seconds until the server used under ``QUIET_CORES`` of a core for ``QUIET_SPAN_S``
    (at most ``QUIET_WAIT_MAX_S``)."""
    start = time.monotonic()
    while time.monotonic() - start < QUIET_WAIT_MAX_S:
        before = server_cpu_seconds(pid)[0]
        time.sleep(QUIET_SPAN_S)
        if server_cpu_seconds(pid)[0] - before < QUIET_CORES * QUIET_SPAN_S:
            break
    return time.monotonic() - start


def timeline_rows(latencies: Sequence[tuple[float, float]]) -> list[list[object]]:
    """Per second of sending (from the first counted frame): frames answered, p50, p99, max:
    whether a tail is a moment (a pause, a burst) or the whole run."""
    sent = np.array([t for t, _ in latencies])
    ms = np.array([m for _, m in latencies])
    second = (sent - sent.min()).astype(int)
    rows: list[list[object]] = []
    for k in range(int(second.max()) + 1):
        these = ms[second == k]
        if these.size:
            rows.append([k, these.size, f"{np.percentile(these, 50):.1f}",
                         f"{np.percentile(these, 99):.1f}", f"{these.max():.1f}"])  # fmt: skip
    return rows


async def echo_socket(websocket: WebSocket) -> None:
    """The ceiling: accept, and answer every frame with a tiny ack, nothing else."""
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
            await websocket.send_text('{"type":"ack"}')


def echo_app() -> FastAPI:
    """``echo_socket`` on uvicorn's port, and with ``AISLECAST_PHONE_PORT`` the same answers from
    picows on that port (its frame callback: the picows transport's floor)."""
    phone_port = os.environ.get("AISLECAST_PHONE_PORT")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not phone_port:
            yield
            return
        server = await picows_echo(int(phone_port))
        try:
            yield
        finally:
            server.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_websocket_route("/ws/shopper", echo_socket)
    return app


async def picows_echo(port: int) -> asyncio.Server:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    class Echo(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
            elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
                transport.send(WSMsgType.TEXT, b'{"type":"ack"}')

    return await ws_create_server(lambda _: Echo(), "127.0.0.1", port, max_frame_size=2**20)


# ``--servers`` → how the serve mode runs the app: uvicorn, or granian with its runtime (``st``:
# one Rust thread runs the sockets; ``mt``: a multi-threaded runtime) and event loop.
# ``uvicorn+picows``: uvicorn with the phone port (``AISLECAST_PHONE_PORT``), the phones on it.
SERVERS = {
    "uvicorn": None,
    "uvicorn+picows": None,
    "granian": "st 1 uvloop",
    "granian-mt2": "mt 2 uvloop",
}


def serve(mode: str, port: int, server: str) -> None:
    """The server side of the benchmark, run in its own process."""
    target = "server.app:create_app" if mode == "app" else "benchmarks.server_load:echo_app"
    granian = SERVERS[server]
    if granian is not None:
        runtime_mode, threads, loop = granian.split()
        serve_granian(target, port, runtime_mode, int(threads), loop)
        return
    if mode == "app":
        from server.app import create_app

        app = create_app()
    else:
        app = echo_app()

    from server.realtime.ws_protocol import uvicorn_ws

    # As ``aislecast serve`` runs it: no permessage-deflate (docs/server.md), the websocket
    # implementation from AISLECAST_WS (default websockets-sansio, docs/deploy.md).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=2**20,
                ws=uvicorn_ws(os.environ.get("AISLECAST_WS")),
                ws_per_message_deflate=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conns", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--per-shopper-max", type=int, default=1000,
                        help="largest count for the per-shopper tracker variant")  # fmt: skip
    parser.add_argument("--variants", nargs="+", default=list(ANSWERS))
    parser.add_argument("--accuracy-walks", type=int, default=6, help="0: skip the accuracy part")
    parser.add_argument("--servers", nargs="+", default=["uvicorn"], choices=list(SERVERS),
                        help="each variant runs under each, one after the other")  # fmt: skip
    parser.add_argument("--settle", action=argparse.BooleanOptionalAction, default=True,
                        help="start each level on a quiet server (--no-settle: at once, while "
                             "the last level's phones are still leaving)")  # fmt: skip
    parser.add_argument(
        "--closed-loop",
        action="store_true",
        help="phones wait for each answer before the next frame (sessions 1-9)",
    )
    parser.add_argument("--timeline", action="store_true",
                        help="print each level's latency second by second")  # fmt: skip
    parser.add_argument("--serve", choices=["app", "echo"], help=argparse.SUPPRESS)
    parser.add_argument("--server", default="uvicorn", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port, args.server)
        return
    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        cast = simulated_cast(args.seconds)
        stores, tokens = seed_shoppers(database_url, max(args.conns), cast.store)
        env = {"DATABASE_URL": database_url, "AISLECAST_MIGRATE_ON_STARTUP": "0",
               "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
        results: list[LevelResult] = []
        for variant in args.variants:
            tracker = "per_shopper" if variant == "per_shopper" else "batched"
            counts = [n for n in args.conns
                      if variant != "per_shopper" or n <= args.per_shopper_max]  # fmt: skip
            mode = "echo" if variant == "echo" else "app"
            for server in args.servers:
                served = server_process(mode, server, {**env, "AISLECAST_TRACKER": tracker})
                with served as (url, pid):
                    for n in counts:
                        store_id = stores.get(variant, 0)
                        level = run_level(url, pid, server, variant, n, args.seconds,
                                          store_id, tokens, cast, args.timeline,
                                          args.settle, args.closed_loop)  # fmt: skip
                        results.append(level)
                        print(f"  {server} {variant} {n}: p99 {results[-1].p99_ms:.1f} ms",
                              file=sys.stderr)  # fmt: skip
    print(format_table(
        ["server", "variant", "conns", "frames", "lost", "p50 ms", "p99 ms", "server cores",
         "loop cores", "server µs/batch", "loop µs/batch", "client cores", "RSS/conn KB"],
        [[r.server, r.variant, r.conns, r.frames, r.lost, f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
          f"{r.server_cores:.2f}", f"{r.loop_cores:.2f}", f"{r.server_us_per_batch:.0f}",
          f"{r.loop_us_per_batch:.0f}", f"{r.client_cores:.2f}", f"{r.rss_per_conn_kb:.0f}"]
         for r in results],
    ))  # fmt: skip
    if args.accuracy_walks > 0:
        sys.path.insert(0, str(REPO_ROOT))
        from benchmarks.tracker_accuracy import accuracy_table

        print()
        print(accuracy_table(args.accuracy_walks))
    top = max(args.conns)
    lines = {"readings": "server", "readings-bin": "server-bin", "readings-json": "server-json"}
    for server in args.servers:
        # The first server's lines keep their names; another's carry it (``server-granian: ...``).
        suffix = "" if server == args.servers[0] else f"-{server}"
        ran = [r for r in results if r.server == server]
        echo = next((r for r in ran if r.variant == "echo" and r.conns == top), None)
        for variant, label in lines.items():
            top_result = next((r for r in ran if r.variant == variant and r.conns == top), None)
            if top_result is None:
                continue
            # ``server`` counts the losses of every variant but echo, per_shopper and the other
            # two readings variants (as before they existed); those count their own.
            others = {"echo", "per_shopper", "readings-bin", "readings-json"}
            counted = ({variant} if variant in others
                       else {r.variant for r in ran} - others)  # fmt: skip
            lost = sum(r.lost for r in ran if r.variant in counted)
            vs_echo = float("nan") if echo is None else top_result.p99_ms / echo.p99_ms
            print(f"{label}{suffix}: conns={top} p99={top_result.p99_ms:.1f}ms lost={lost} "
                  f"vs_echo={vs_echo:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
