"""``FramedSocket``'s transport over a Starlette ``WebSocket`` (uvicorn's port: ``/ws/shopper``,
``/ws/screen``, ``/ws/live`` as routes of the FastAPI app)."""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState


class StarletteTransport:
    """Each frame in and each answer out calls the ASGI ``receive``/``send`` under the
    ``WebSocket`` directly, while Starlette's state says the socket is connected: its wrappers
    add a state check and, for ``send``, two coroutine layers that only watch for an HTTP
    response, per frame (docs/server.md, "Session 5: the websocket transport"). Anything else
    (accept, close, a socket already closed either way) goes through Starlette, so errors and
    state transitions stay Starlette's.
    """

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        # The server's ASGI callables, as Starlette keeps them (no public accessor).
        self._asgi_receive = websocket._receive
        self._asgi_send = websocket._send

    async def accept(self) -> None:
        await self.websocket.accept()

    async def send(self, text: bytes) -> None:
        websocket = self.websocket
        if websocket.application_state is not WebSocketState.CONNECTED:
            await websocket.send_text(text.decode())  # Starlette raises as it always did
            return
        try:
            await self._asgi_send({"type": "websocket.send", "text": text.decode()})
        except OSError:
            # As ``WebSocket.send``: the server found the client gone (1006: abnormal).
            websocket.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(code=1006) from None

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)

    async def receive(self) -> str | bytes:
        """``WebSocket.receive`` for a connected socket, its state kept as Starlette keeps it."""
        websocket = self.websocket
        if websocket.client_state is not WebSocketState.CONNECTED:
            message = await websocket.receive()  # Starlette raises (or connects) as it always did
        else:
            message = await self._asgi_receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text: str | None = message.get("text")
            if text is not None:
                return text
            data: bytes | None = message.get("bytes")
            return b"" if data is None else data
        if kind == "websocket.disconnect":
            websocket.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(message.get("code", 1000))
        expected = '"websocket.receive" or "websocket.disconnect"'
        raise RuntimeError(f"Expected ASGI message {expected}, but got {kind!r}")
