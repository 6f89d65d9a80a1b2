"""What the websocket transport costs the server per frame, for each server and implementation.

One server process per implementation, serving the same FastAPI app, no permessage-deflate:
uvicorn's ``ws=`` (``websockets``, the legacy protocol; ``websockets-sansio``, what ``auto``
picks with websockets installed and ``aislecast serve`` names; ``wsproto``) on uvloop; Granian
(Rust: frames parsed and written by its runtime threads, the app on a Python event loop; one
worker, ``st`` runtime with one thread, or ``mt`` with two; uvloop or asyncio); picows (Cython
frame callbacks on uvloop, no ASGI: ``asgi`` is its frame callback answering, ``framed`` the
phone port's transport, ``server.realtime.picows_transport``). Phones like the real
ones: each sends a frame at its own phase ``--rate`` times a second (a 10 KB binary frame like
``readings-bin``, or a 16 KB JSON text frame like ``readings``) and waits for the two answers a
readings frame gets (``readings_ack`` then ``position``, small JSON text). Three endpoints, from
the floor up:

- ``asgi``: the ASGI receive/send callables, no Starlette (what the transport alone costs);
- ``starlette``: Starlette's ``WebSocket`` as ``FramedSocket`` used it before session 5
  (``receive()``, ``len(text.encode())`` for the size limit, ``send_text(json.decode())``);
- ``framed``: today's ``FramedSocket`` (``receive_data`` and ``send``), as the shopper socket runs.

The servers are all up at once; each cell runs against each implementation in turn, seconds
apart, so machine load hits them alike, and again each round. The table gives each cell's median
over the rounds of the server's CPU time (user + system, from /proc, all threads of its process
tree) over the frames answered, and in brackets the event loop thread's share (the thread that
runs the app; it bounds the GIL-held time from above only for uvicorn: Granian's Rust threads
take the GIL too). First, the app alone in process (no socket, no server), best of the rounds.

    python benchmarks/ws_transport.py [--phones 1000] [--rate 2] [--seconds 6] [--rounds 3]
        [--impls sansio granian picows]

Closing line: ``ws_transport: websockets=XXus sansio=XXus wsproto=XXus best=NAME``
(the ``framed`` endpoint, both frame kinds averaged; an implementation without it is left out).
wsproto and granian must be installed to measure them (``pip install wsproto granian``; not
dependencies).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402
import msgspec  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from aislecast.bench import format_table, serve_granian, server_cpu_seconds  # noqa: E402
from server.realtime.asgi_transport import StarletteTransport  # noqa: E402
from server.realtime.framed_socket import FramedSocket  # noqa: E402
from server.realtime.limits import MAX_FRAME_BYTES, TokenBucket  # noqa: E402

# Short names in the table and closing line → (server, its setting): uvicorn's ``ws=`` names, or
# granian's runtime (``st``/``mt`` and its Rust threads) and event loop.
IMPLEMENTATIONS = {
    "websockets": ("uvicorn", "websockets"),
    "sansio": ("uvicorn", "websockets-sansio"),
    "wsproto": ("uvicorn", "wsproto"),
    "granian": ("granian", "st 1 uvloop"),
    "granian-mt2": ("granian", "mt 2 uvloop"),
    "granian-asyncio": ("granian", "st 1 asyncio"),
    # picows is no ASGI server: ``asgi`` is its own frame callback answering (the transport's
    # floor), ``framed`` the phone port's ``PicowsSocket`` under ``FramedSocket``.
    "picows": ("picows", "uvloop"),
    # picows on uvloop's own transports, not aiofastnet's (which picows uses when installed).
    "picows-uvloop": ("picows", "uvloop native"),
}
# Endpoint → its path (a mounted ASGI app answers below its prefix).
ENDPOINTS = {"asgi": "/asgi/", "starlette": "/starlette", "framed": "/framed"}
ACK = {"type": "readings_ack", "accepted": 268, "positioning": "server"}
POSITION = {"type": "position", "t_ms": 1795505354850, "x": 12.345678, "y": 3.14159,
            "heading_deg": 123.456, "accuracy_m": 2.5, "zone_id": "dairy"}  # fmt: skip
# A binary readings frame is ~10 KB, its JSON form ~16 KB of ASCII (benchmarks/server_load.py).
FRAMES: dict[str, str | bytes] = {
    "bin": bytes(range(256)) * 40,
    "json": msgspec.json.encode({"type": "readings", "pad": "x" * 16_000}).decode(),
}
_JSON = msgspec.json.Encoder()
CONNECT_WAVE = 100


async def raw_echo(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                   send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:  # fmt: skip
    """The floor: the ASGI callables themselves, two small text answers per frame."""
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    ack, position = _JSON.encode(ACK).decode(), _JSON.encode(POSITION).decode()
    while (await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": ack})
        await send({"type": "websocket.send", "text": position})


async def starlette_echo(websocket: WebSocket) -> None:
    """``FramedSocket.receive_data`` and ``send`` before session 5, inlined."""
    bucket, lock = TokenBucket(rate=1e9, burst=1e9), asyncio.Lock()
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        assert bucket.allow(time.monotonic())
        text = message.get("text")
        size = len(message.get("bytes") or b"") if text is None else len(text.encode("utf-8"))
        assert size <= MAX_FRAME_BYTES
        for answer in (ACK, POSITION):
            async with lock:
                await websocket.send_text(_JSON.encode(answer).decode())


async def framed_echo(websocket: WebSocket) -> None:
    """Today's ``FramedSocket``, as the shopper socket receives and answers."""
    framed = FramedSocket(StarletteTransport(websocket))
    framed.bucket.rate = framed.bucket.burst = 1e9  # the benchmark's pace is not a flood
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await framed.receive_data(binary=True)
            await framed.send(ACK)
            await framed.send(POSITION)


def serve_picows(port: int, aiofastnet: bool = True) -> None:
    """``raw_echo``'s answers from picows' frame callback (no coroutine per frame, no ASGI)."""
    import uvloop
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    from server.realtime.picows_transport import PicowsSocket

    ack, position = _JSON.encode(ACK), _JSON.encode(POSITION)
    sockets: set[PicowsSocket] = set()

    async def framed_answers(framed: FramedSocket) -> None:
        """``framed_echo`` on the phone port's transport (``PicowsSocket``, as the app runs)."""
        framed.bucket.rate = framed.bucket.burst = 1e9
        await framed.accept()
        while True:
            await framed.receive_data(binary=True)
            await framed.send(ACK)
            await framed.send(POSITION)

    class Echo(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
                transport.disconnect()
            elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
                transport.send(WSMsgType.TEXT, ack)
                transport.send(WSMsgType.TEXT, position)

    async def main() -> None:
        def route(request: Any) -> WSListener:
            if request.path.startswith(ENDPOINTS["framed"].encode()):
                return PicowsSocket(framed_answers, sockets)
            return Echo()

        server = await ws_create_server(route, "127.0.0.1", port, max_frame_size=2**20,
                                        use_aiofastnet=aiofastnet)  # fmt: skip
        await server.serve_forever()

    uvloop.run(main())


def app() -> FastAPI:
    server = FastAPI()

    @server.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    server.mount("/asgi", raw_echo)  # type: ignore[arg-type]
    server.add_api_websocket_route("/starlette", starlette_echo)
    server.add_api_websocket_route("/framed", framed_echo)
    return server


@contextlib.contextmanager
def server_process(impl: str) -> Iterator[tuple[str, int]]:
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen([sys.executable, __file__, "--serve", impl, "--port", str(port)],
                               env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
                               cwd=_HERE.parent)  # fmt: skip
    try:
        for _ in range(600):
            if IMPLEMENTATIONS[impl][0] == "picows":  # no HTTP: ready once it accepts
                with contextlib.suppress(OSError):
                    __import__("socket").create_connection(("127.0.0.1", port), 1).close()
                    break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError(f"{impl} server did not start")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


async def phone(ws: ClientConnection, frame: str | bytes, start: float, count: int,
                rate: float) -> int:  # fmt: skip
    """Send ``count`` frames ``1/rate`` s apart from ``start``, each answered twice; answered."""
    answered = 0
    for tick in range(count):
        await asyncio.sleep(max(0.0, start + tick / rate - time.monotonic()))
        await ws.send(frame)
        await ws.recv()
        await ws.recv()
        answered += 1
    return answered


async def level(url: str, pid: int, phones: int, rate: float, seconds: float,
                frame: str | bytes) -> tuple[float, float]:  # fmt: skip
    """Server CPU µs per frame answered, ``phones`` streaming ``frame`` for ``seconds``: all
    threads, and the event loop's thread alone."""
    opened: list[ClientConnection] = []
    for wave in range(0, phones, CONNECT_WAVE):
        opened += await asyncio.gather(*(
            connect(url, open_timeout=60, max_size=2**20, ping_interval=None)
            for _ in range(min(CONNECT_WAVE, phones - wave))
        ))  # fmt: skip
    count = max(1, round(seconds * rate))
    start = time.monotonic() + 0.2
    before = server_cpu_seconds(pid)
    answered = await asyncio.gather(*(
        phone(ws, frame, start + i / (phones * rate), count, rate) for i, ws in enumerate(opened)
    ))  # fmt: skip
    after = server_cpu_seconds(pid)
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    total, loop = (1e6 * (a - b) / sum(answered) for a, b in zip(after, before, strict=True))
    return total, loop


async def in_process_us(endpoint: str, frame: str | bytes, frames: int) -> float:
    """CPU µs per frame of the app alone (FastAPI's stack down to the endpoint), fed by ASGI
    callables that return at once: no socket, no uvicorn, no loop wake-ups."""
    inbox: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    key = "text" if isinstance(frame, str) else "bytes"
    inbox += [{"type": "websocket.receive", key: frame}] * frames
    inbox.append({"type": "websocket.disconnect", "code": 1000})
    inbox.reverse()
    sent = 0

    async def receive() -> dict[str, Any]:
        return inbox.pop()

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal sent
        sent += 1

    path = ENDPOINTS[endpoint]
    scope = {"type": "websocket", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": [], "subprotocols": [], "scheme": "ws",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "state": {},
             "asgi": {"version": "3.0", "spec_version": "2.4"}}  # fmt: skip
    start = time.process_time()
    await SERVED(scope, receive, send)
    spent = time.process_time() - start
    assert sent == 2 * frames + 1, sent  # two answers a frame, and the accept
    return 1e6 * spent / frames


SERVED = app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2.0, help="frames a second per phone")
    parser.add_argument("--seconds", type=float, default=6.0, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    installed = [impl for impl, (server, ws) in IMPLEMENTATIONS.items()
                 if importlib.util.find_spec(ws if ws == "wsproto" else server)]  # fmt: skip
    parser.add_argument("--impls", nargs="+", default=installed, help="default: those installed")
    parser.add_argument("--endpoints", nargs="+", default=list(ENDPOINTS))
    parser.add_argument("--in-process-frames", type=int, default=20_000, help="0: skip that part")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        server, setting = IMPLEMENTATIONS[args.serve]
        if server == "picows":
            serve_picows(args.port, aiofastnet=setting == "uvloop")
        elif server == "granian":
            mode, threads, loop = setting.split()
            serve_granian("benchmarks.ws_transport:app", args.port, mode, int(threads), loop)
        else:
            uvicorn.run(app(), host="127.0.0.1", port=args.port, log_level="warning",
                        loop="uvloop", ws=setting, ws_max_size=2**20,
                        ws_per_message_deflate=False)  # fmt: skip
        return
    if args.in_process_frames > 0:
        # Interleaved, best of the rounds: the figure a loaded machine adds least to.
        alone: dict[tuple[str, str], float] = {}
        for _ in range(max(3, args.rounds)):
            for endpoint in ENDPOINTS:
                for kind, frame in FRAMES.items():
                    us = asyncio.run(in_process_us(endpoint, frame, args.in_process_frames))
                    alone[endpoint, kind] = min(alone.get((endpoint, kind), us), us)
        print(format_table(
            ["endpoint", "frame", "app alone µs/frame (best round)"],
            [[endpoint, kind, f"{alone[endpoint, kind]:.2f}"]
             for endpoint in ENDPOINTS for kind in FRAMES],
        ))  # fmt: skip
        print()
    if args.rounds == 0:
        return
    cells: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    with contextlib.ExitStack() as servers:
        served = {impl: servers.enter_context(server_process(impl)) for impl in args.impls}
        for _ in range(args.rounds):
            for endpoint in args.endpoints:
                for kind, frame in FRAMES.items():
                    for impl, (url, pid) in served.items():  # side by side, seconds apart
                        if IMPLEMENTATIONS[impl][0] == "picows" and endpoint == "starlette":
                            continue
                        path = url + ENDPOINTS[endpoint]
                        us, loop_us = asyncio.run(
                            level(path, pid, args.phones, args.rate, args.seconds, frame)
                        )
                        cells.setdefault((impl, endpoint, kind), []).append((us, loop_us))
                        print(f"  {impl} {endpoint} {kind}: {us:.1f} µs (loop thread "
                              f"{loop_us:.1f})", file=sys.stderr)  # fmt: skip
    median = {key: statistics.median(us for us, _ in values) for key, values in cells.items()}
    on_loop = {key: statistics.median(us for _, us in values) for key, values in cells.items()}
    # Each cell: all threads / the event loop's thread (the part that can hold the GIL).
    print(format_table(
        ["endpoint", "frame"] + [f"{impl} µs/frame (loop thread)" for impl in args.impls],
        [[endpoint, kind] + [f"{median[cell]:.1f} ({on_loop[cell]:.1f})" if cell in median else "—"
                             for cell in ((impl, endpoint, kind) for impl in args.impls)]
         for endpoint in args.endpoints for kind in FRAMES],
    ))  # fmt: skip
    top = "framed" if "framed" in args.endpoints else args.endpoints[-1]
    score = {impl: statistics.mean(median[impl, top, kind] for kind in FRAMES)
             for impl in args.impls if (impl, top, "bin") in median}  # fmt: skip
    print("ws_transport: " + " ".join(f"{impl}={us:.0f}us" for impl, us in score.items())
          + f" best={min(score, key=score.__getitem__)}")  # fmt: skip


if __name__ == "__main__":
    main()
