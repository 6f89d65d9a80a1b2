"""A real websocket server for browser tests that records what the page sends and lets the test send
frames back: the stand-in for the server's /ws/screen and /ws/live until issue 6 is merged."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

Frame = dict[str, Any]


class ScriptedSocketServer:
    """Every frame received goes on ``received`` as (path, frame); ``on_frame`` may answer it."""

    def __init__(self, on_frame: Callable[[ServerConnection, Frame], None] | None = None) -> None:
        self.received: queue.Queue[tuple[str, Frame]] = queue.Queue()
        self.connections: list[ServerConnection] = []
        self.on_frame = on_frame
        self.lock = threading.Lock()

    def handle(self, connection: ServerConnection) -> None:
        with self.lock:
            self.connections.append(connection)
        path = connection.request.path if connection.request else ""
        try:
            for message in connection:
                frame = json.loads(message)
                self.received.put((path, frame))
                if self.on_frame:
                    self.on_frame(connection, frame)
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.connections.remove(connection)

    def send_all(self, frame: Frame) -> None:
        with self.lock:
            targets = list(self.connections)
        for connection in targets:
            connection.send(json.dumps(frame))

    def drop_all(self) -> None:
        """Closes every connection as a restarting server would."""
        with self.lock:
            targets = list(self.connections)
        for connection in targets:
            connection.close()

    def next_frame(self, kind: str, timeout_s: float = 5.0) -> Frame:
        """The next received frame whose ``type`` is ``kind`` (others are skipped)."""
        while True:
            _, frame = self.received.get(timeout=timeout_s)
            if frame.get("type") == kind:
                return frame


@contextmanager
def running(scripted: ScriptedSocketServer) -> Iterator[str]:
    """Runs the server on a free port of 127.0.0.1; yields its ws:// base URL."""
    server: Server = serve(scripted.handle, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        thread.join()
