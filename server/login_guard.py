"""Slows password guessing: after too many failed logins for one email, refuse for a while.

Per process and in memory: with several processes an attacker gets the allowance once per process,
which still turns millions of guesses into dozens. Time is passed in.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

# Ten failures in fifteen minutes is more than a person mistyping and far less than a guesser needs.
MAX_FAILURES = 10
WINDOW_MS = 15 * 60 * 1000


@dataclass
class LoginGuard:
    max_failures: int = MAX_FAILURES
    window_ms: int = WINDOW_MS
    _failures: dict[str, deque[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked_for_ms(self, email: str, now_ms: int) -> int:
        """How long this email must wait before trying again (0: it may try now)."""
        with self._lock:
            recent = self._recent(email, now_ms)
            if len(recent) < self.max_failures:
                return 0
            return recent[0] + self.window_ms - now_ms

    def failed(self, email: str, now_ms: int) -> None:
        with self._lock:
            self._recent(email, now_ms).append(now_ms)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)

    def _recent(self, email: str, now_ms: int) -> deque[int]:
        recent = self._failures.setdefault(email, deque())
        while recent and recent[0] <= now_ms - self.window_ms:
            recent.popleft()
        return recent
