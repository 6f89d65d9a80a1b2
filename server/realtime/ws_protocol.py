"""uvicorn's websocket protocol writing one event-loop turn's frames to a socket in one write.

A readings batch is answered by ``readings_ack`` then its ``position`` frame(s), in the same
turn. uvicorn's ``websockets-sansio`` protocol writes each frame to the transport as it is sent,
and uvloop's ``write`` is a ``send`` system call made holding the GIL: on loopback about half of
the transport's GIL-held time per frame (docs/server.md, "Session 5: the websocket transport").
Here a sent frame is only framed into the connection's outgoing buffer (websockets'
``data_to_send``), and the buffer goes out in one write at the end of the turn.

Order and completeness hold because every other write of the parent class (pong, close,
a failure's close frame, shutdown) drains the same buffer first, and the app's return (after which
uvicorn closes the transport) writes what is left. Selected with uvicorn's ``ws=`` import path
(``aislecast.commands.serve.WS_PROTOCOLS``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope
from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState


class TurnBufferedWebSocketsProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.flush_scheduled = False
        app = self.app

        async def app_then_flush(
            scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
        ) -> None:
            try:
                await app(scope, receive, send)
            finally:
                self.flush()  # before ``run_asgi`` closes the transport

        self.app = app_then_flush

    async def send(self, message: ASGISendEvent) -> None:
        await self.writable.wait()  # backpressure, as the parent waits
        if (
            message["type"] != "websocket.send"
            or self.disconnected
            or not self.handshake_complete
            or self.close_sent
            or self.initial_response is not None
        ):
            await super().send(message)  # accept, close, and every error, as uvicorn does them
            return
        try:
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                self.conn.send_binary(data)
            elif text is not None:
                self.conn.send_text(text.encode())
        except InvalidState:
            raise ClientDisconnected() from None
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write whatever frames are buffered, in one write (none if the socket is closing: its
        peer is gone, or the parent already wrote the buffer with its close)."""
        self.flush_scheduled = False
        output = self.conn.data_to_send()
        if output and not self.transport.is_closing():
            self.transport.write(b"".join(output))


# ``AISLECAST_WS`` → uvicorn's ``ws=``: ours (the default), or one of uvicorn's own, to compare or
# to fall back on if a uvicorn release changes the parent class (docs/deploy.md).
WS_PROTOCOLS = {
    "turn-buffered": f"{__name__}:{TurnBufferedWebSocketsProtocol.__name__}",
    "websockets-sansio": "websockets-sansio",
    "wsproto": "wsproto",  # needs the wsproto package, which is not a dependency
    "websockets": "websockets",  # uvicorn's legacy one, deprecated
}
DEFAULT_WS = "turn-buffered"


def uvicorn_ws(name: str | None) -> str:
    """uvicorn's ``ws=`` for an ``AISLECAST_WS`` value (None or empty: ``DEFAULT_WS``)."""
    choice = name or DEFAULT_WS
    if choice not in WS_PROTOCOLS:
        raise ValueError(f"AISLECAST_WS={choice!r}: expected one of {', '.join(WS_PROTOCOLS)}")
    return WS_PROTOCOLS[choice]
