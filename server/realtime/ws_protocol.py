"""Which of uvicorn's websocket implementations serves the sockets (``AISLECAST_WS``).

``websockets-sansio`` is named, not left to uvicorn's ``auto`` (which picks it today while the
websockets package is installed), because it measured cheapest per frame: ≈ 60 µs a readings
frame with its two answers against ≈ 80–85 for the legacy ``websockets`` one and ≈ 95–110 for
``wsproto`` (docs/server.md, "Session 5: the websocket transport").
"""

from __future__ import annotations

# ``AISLECAST_WS`` → uvicorn's ``ws=``; the others to compare, or to fall back on (docs/deploy.md).
WS_PROTOCOLS = {
    "websockets-sansio": "websockets-sansio",
    "wsproto": "wsproto",  # needs the wsproto package, which is not a dependency
    "websockets": "websockets",  # uvicorn's legacy one, deprecated
}
DEFAULT_WS = "websockets-sansio"


def uvicorn_ws(name: str | None) -> str:
    """uvicorn's ``ws=`` for an ``AISLECAST_WS`` value (None or empty: ``DEFAULT_WS``)."""
    choice = name or DEFAULT_WS
    if choice not in WS_PROTOCOLS:
        raise ValueError(f"AISLECAST_WS={choice!r}: expected one of {', '.join(WS_PROTOCOLS)}")
    return WS_PROTOCOLS[choice]
