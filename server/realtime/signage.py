"""What a screen is told: its playlist and what it shows now. Content only, never who it is for."""

from __future__ import annotations

from typing import Any

from server.tables import Screen


def screen_state_frame(screen: Screen, now_ms: int) -> dict[str, Any]:
    """The ``state`` frame: sent on register, on reconnect and whenever staff change the screen."""
    current = screen.current
    if current is not None and int(current.get("until_ms") or 0) <= now_ms:
        current = None  # the pushed content has run its time; the screen is back on its playlist
    return {
        "type": "state",
        "screen_id": screen.id,
        "zone_id": screen.zone_id,
        "playlist": screen.playlist,
        "current": current,
    }


def content_frame(play_id: str, content: dict[str, Any], until_ms: int | None) -> dict[str, Any]:
    """The ``content`` frame: show this now, until ``until_ms``, then return to the playlist."""
    return {"type": "content", "play_id": play_id, "content": content, "until_ms": until_ms}


def screen_live_frame(
    screen_id: str,
    online: bool,
    playing: dict[str, Any] | None,
    last_played: dict[str, Any] | None,
    now_ms: int,
) -> dict[str, Any]:
    """The ``screen`` frame on the staff live feed: is the screen connected, and what it shows.

    ``playing`` is pushed content in the ``current`` shape (``play_id``, ``content``, ``until_ms``)
    or None while the screen loops its playlist; ``last_played`` is its latest proof of play.
    """
    return {
        "type": "screen",
        "screen_id": screen_id,
        "online": online,
        "playing": playing,
        "last_played": last_played,
        "t_ms": now_ms,
    }
