"""``aislecast serve``: run the trigger server (configured from the environment)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from server.realtime.limits import TRANSPORT_MAX_FRAME_BYTES
from server.realtime.ws_protocol import DEFAULT_WS, WS_PROTOCOLS, uvicorn_ws
from server.settings import settings_from_env


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(help="processes; more than one needs REDIS_URL and a shared database")
    ] = 1,
    ws: Annotated[
        str,
        typer.Option(
            envvar="AISLECAST_WS",
            help=f"websocket implementation: {', '.join(WS_PROTOCOLS)} (docs/deploy.md)",
        ),
    ] = DEFAULT_WS,
    phone_port: Annotated[
        int | None,
        typer.Option(
            envvar="AISLECAST_PHONE_PORT",
            help="also serve /ws/shopper and /ws/screen with picows on this port (docs/deploy.md)",
        ),
    ] = None,
) -> None:
    """Serve the REST API and the websockets (DATABASE_URL, REDIS_URL, AISLECAST_* from the env)."""
    if workers > 1 and settings_from_env().redis_url is None:
        # Without Redis each process only reaches its own sockets: a screen on one worker would
        # never get content triggered by a shopper on another.
        raise typer.BadParameter("more than one worker needs REDIS_URL", param_hint="--workers")
    try:
        ws_protocol = uvicorn_ws(ws)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--ws") from None
    if phone_port is not None:
        # The app reads its settings from the environment (each worker process too).
        os.environ["AISLECAST_PHONE_PORT"] = str(phone_port)
        os.environ["AISLECAST_PHONE_HOST"] = host
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws=ws_protocol,
        ws_max_size=TRANSPORT_MAX_FRAME_BYTES,
        # permessage-deflate cost the server more CPU per readings batch than the batched tracker
        # (docs/server.md); a phone's ~13 KB/s uncompressed is nothing on a store's Wi-Fi.
        ws_per_message_deflate=False,
        log_level="info",
    )
