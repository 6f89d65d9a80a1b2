"""Run the server with the test fakes wired in, as its own process (``python -m``), for the
several-process tests. Settings come from the environment like ``aislecast serve``."""

from __future__ import annotations

import os
import sys

import uvicorn

from server.app import create_app
from server.realtime.limits import TRANSPORT_MAX_FRAME_BYTES
from server.realtime.ws_protocol import uvicorn_ws
from server.settings import settings_from_env
from tests.server.fakes import fake_wiring

if __name__ == "__main__":
    port = int(sys.argv[1])
    app = create_app(settings_from_env(), fake_wiring())
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws=uvicorn_ws(os.environ.get("AISLECAST_WS")),  # as ``aislecast serve`` chooses
        ws_max_size=TRANSPORT_MAX_FRAME_BYTES,
    )
