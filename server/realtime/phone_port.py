"""The phone port: ``/ws/shopper`` and ``/ws/screen`` served by picows on a port of their own,
in the app's process and event loop (``AISLECAST_PHONE_PORT``; docs/deploy.md). The same
handlers as on uvicorn's port run on it (``ShopperConnection``, ``serve_screen``): only the
transport under ``FramedSocket`` differs, at about half uvicorn's cost a frame (docs/server.md,
"Session 8: picows").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from picows import WSUpgradeRequest, ws_create_server

from server.realtime.framed_socket import FramedSocket
from server.realtime.limits import TRANSPORT_MAX_FRAME_BYTES
from server.realtime.picows_transport import SHUTDOWN_GRACE_S, PicowsSocket, Serve
from server.realtime.screen import serve_screen
from server.realtime.shopper import ShopperConnection
from server.runtime import Runtime

# uvicorn's keepalive, kept (its ws_ping_interval and ws_ping_timeout): a phone that vanished
# without a close (walked out of the Wi-Fi) is found within 40 s and its slot freed.
PING_IDLE_S = 20.0
PING_REPLY_S = 20.0


def phone_routes(runtime: Runtime) -> dict[str, Serve]:
    """Path → what serves a socket on it; any other path is refused with HTTP 404."""

    async def shopper(socket: FramedSocket) -> None:
        await ShopperConnection(socket, runtime).run()

    async def screen(socket: FramedSocket) -> None:
        await serve_screen(socket, runtime)

    return {"/ws/shopper": shopper, "/ws/screen": screen}


class PhonePort:
    """The picows server and the sockets it holds; ``close`` ends both."""

    def __init__(self, server: asyncio.Server, sockets: set[PicowsSocket]) -> None:
        self.server = server
        self.sockets = sockets

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening, send every socket close 1012 and wait (``SHUTDOWN_GRACE_S`` at most)
        for their handlers to finish, then cancel what is left."""
        self.server.close()
        tasks = [s.task for s in list(self.sockets) if s.task is not None]
        for socket in list(self.sockets):
            socket.shut_down()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.server.wait_closed()


def listener_factory(
    routes: dict[str, Serve], sockets: set[PicowsSocket]
) -> Callable[[WSUpgradeRequest], PicowsSocket | None]:
    def listener(request: WSUpgradeRequest) -> PicowsSocket | None:
        path = request.path.split(b"?", 1)[0].decode("latin-1")
        serve = routes.get(path)
        return None if serve is None else PicowsSocket(serve, sockets)  # None: 404

    return listener


async def start_phone_port(runtime: Runtime, host: str, port: int) -> PhonePort:
    """Listen on ``host:port`` (0: a free port) in the running loop."""
    sockets: set[PicowsSocket] = set()
    server = await ws_create_server(
        listener_factory(phone_routes(runtime), sockets),
        host,
        port,
        max_frame_size=TRANSPORT_MAX_FRAME_BYTES,  # larger: close 1009, as uvicorn's ws_max_size
        enable_auto_ping=True,
        auto_ping_idle_timeout=PING_IDLE_S,
        auto_ping_reply_timeout=PING_REPLY_S,
        # Several worker processes each listen on the port; the kernel spreads the phones.
        reuse_port=True,
        # uvicorn's backlog: a store's phones reconnecting at once (Wi-Fi back) are not refused.
        backlog=2048,
    )
    return PhonePort(server, sockets)
