"""What one more answer frame costs the server: a readings frame answered by one frame or by two.

A readings batch is answered by ``readings_ack`` then its ``position`` frame(s) (docs/protocol.md).
Would one combined frame pay? A bare FastAPI websocket served as ``aislecast serve`` serves it
(uvicorn, websockets, no permessage-deflate) receives the phones' ~16 KB frames and answers each
through the shopper socket's ``FramedSocket.send``: with the ack alone (``one``), the ack then a
position (``two``), or the ack carrying the position (``combined``). Phones send a frame, wait for
its answer(s), send the next. The variants run round by round against the same server process, so
machine load hits them alike; the table gives the best round's server CPU (user + system, from
/proc) per frame.

    python benchmarks/answer_sends.py [--phones 50] [--frames 400] [--rounds 5]

Closing line: ``answer_sends: one=XX.Xus two=XX.Xus combined=XX.Xus extra_frame=XX.Xus``.
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
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from server.realtime.asgi_transport import StarletteTransport  # noqa: E402
from server.realtime.framed_socket import FramedSocket  # noqa: E402

ACK = {"type": "readings_ack", "accepted": 268, "positioning": "server"}
POSITION = {"type": "position", "t_ms": 1795505354850, "x": 12.345678, "y": 3.14159,
            "heading_deg": 123.456, "accuracy_m": 2.5, "zone_id": "dairy"}  # fmt: skip
VARIANTS = {"one": 1, "two": 2, "combined": 1}  # variant: frames answered per frame
# A readings frame's size (benchmarks/server_load.py: ~16 KB of JSON).
FRAME = json.dumps({"type": "readings", "pad": "x" * 16_000})


def app() -> FastAPI:
    server = FastAPI()

    @server.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def answer(websocket: WebSocket, variant: str) -> None:
        # the shopper socket's send: its lock, msgspec
        framed = FramedSocket(StarletteTransport(websocket))
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()
                if variant == "combined":
                    await framed.send({**ACK, "positions": [POSITION]})
                    continue
                await framed.send(ACK)
                if variant == "two":
                    await framed.send(POSITION)

    def route(variant: str) -> Callable[[WebSocket], Awaitable[None]]:
        async def endpoint(websocket: WebSocket) -> None:
            await answer(websocket, variant)

        return endpoint

    for variant in VARIANTS:
        server.add_api_websocket_route(f"/{variant}", route(variant))
    return server


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def phones(url: str, n: int, frames: int, answers: int) -> None:
    async def phone() -> None:
        async with connect(url, max_size=2**20, ping_interval=None) as ws:
            for _ in range(frames):
                await ws.send(FRAME)
                for _ in range(answers):
                    await ws.recv()

    await asyncio.gather(*(phone() for _ in range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--frames", type=int, default=400, help="per phone and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        uvicorn.run(app(), host="127.0.0.1", port=args.serve, log_level="warning",
                    ws_max_size=2**20, ws_per_message_deflate=False)  # fmt: skip
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)],
                              env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})  # fmt: skip
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        best = {v: float("inf") for v in VARIANTS}
        count = args.phones * args.frames
        for _ in range(args.rounds):
            for variant, answers in VARIANTS.items():
                url = f"ws://127.0.0.1:{port}/{variant}"
                before = cpu_seconds(server.pid)
                asyncio.run(phones(url, args.phones, args.frames, answers))
                best[variant] = min(best[variant], (cpu_seconds(server.pid) - before) / count)
    finally:
        server.terminate()
        server.wait(timeout=30)
    us = {v: 1e6 * s for v, s in best.items()}
    print(format_table(["answer", "frames sent a batch", "server µs/frame (best round)"],
                       [[v, VARIANTS[v] if v != "combined" else "1 (ack with positions)",
                         f"{us[v]:.1f}"] for v in VARIANTS]))  # fmt: skip
    print(
        f"answer_sends: one={us['one']:.1f}us two={us['two']:.1f}us "
        f"combined={us['combined']:.1f}us extra_frame={us['two'] - us['one']:.1f}us"
    )


if __name__ == "__main__":
    main()
