"""Limits every websocket frame passes: size, rate, plausible timestamps.

Numbers sized for a phone sending one readings batch a second plus a few events and acks.
"""

from __future__ import annotations

from dataclasses import dataclass

# A batch of 50 IMU samples × 4 sensors and 40 radios is ~25 KB of JSON; 256 KB leaves room for a
# catch-up batch. Larger frames get an error frame (below the transport limit, which closes).
MAX_FRAME_BYTES = 256 * 1024
# The transport refuses anything larger outright (close code 1009): no point reading 16 MB to refuse
# it.
TRANSPORT_MAX_FRAME_BYTES = 1024 * 1024
# A phone sends ~1 batch/s plus acks and events; 20/s sustained with bursts of 40 is ten times that.
FRAMES_PER_S = 20.0
FRAME_BURST = 40.0
# A client that keeps flooding after this many refused frames in a row is cut off (close 1008).
MAX_REFUSED_IN_A_ROW = 200
# Readings can arrive late (a phone buffering through a dead spot) but not from far in the past;
# clocks of phones drift but not by minutes into the future.
MAX_PAST_MS = 10 * 60 * 1000
MAX_FUTURE_MS = 30 * 1000
# A client must introduce itself promptly; an idle unauthenticated socket is a wasted slot.
HELLO_TIMEOUT_S = 10.0


@dataclass
class TokenBucket:
    """Allow ``rate`` frames a second on average and ``burst`` at once; time is passed in."""

    rate: float = FRAMES_PER_S
    burst: float = FRAME_BURST
    tokens: float = FRAME_BURST
    last_s: float | None = None

    def allow(self, now_s: float) -> bool:
        if self.last_s is not None:
            # tokens(t) = min(burst, tokens + rate·Δt)
            self.tokens = min(self.burst, self.tokens + self.rate * max(0.0, now_s - self.last_s))
        self.last_s = now_s
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def utf8_size_over(text: str, limit: int) -> bool:
    """Whether ``text`` is more than ``limit`` bytes as UTF-8, without encoding it unless the
    answer depends on it.

    Each character is 1 to 4 bytes, so len(text) ≤ bytes ≤ 4·len(text); an ASCII string (which
    CPython knows in O(1)) is exactly len(text) bytes. Only a non-ASCII text between limit/4 and
    limit characters is encoded to count.

    >>> utf8_size_over("é" * 3, 5), utf8_size_over("é" * 3, 6), utf8_size_over("e" * 7, 6)
    (True, False, True)
    """
    characters = len(text)
    if characters > limit:
        return True
    if 4 * characters <= limit or text.isascii():
        return False
    return len(text.encode("utf-8")) > limit


def timestamp_problem(t_ms: int, now_ms: int) -> str | None:
    """Why ``t_ms`` is not a plausible time for a message received at ``now_ms`` (None if it is)."""
    if t_ms < now_ms - MAX_PAST_MS:
        return f"t_ms {t_ms} is more than {MAX_PAST_MS // 1000} s in the past"
    if t_ms > now_ms + MAX_FUTURE_MS:
        return f"t_ms {t_ms} is more than {MAX_FUTURE_MS // 1000} s in the future"
    return None
