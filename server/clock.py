"""The server's one clock. Pure cores never read time; the server passes ``now_ms`` into them."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
