"""Python's garbage collector set for a serving process (docs/server.md, "Frame path").

A readings frame allocates a few dozen short-lived containers (the validated columns, futures,
answer dicts). At Python's default young-generation threshold (700 net allocations) the collector
ran hundreds of times a second under load, each pass walking the frames still in flight and
promoting them, and the older generations' passes walked every connection's state: ≈ a third of
the server's CPU per batch at 1,000 phones. A higher threshold lets those objects die before any
pass sees them; freezing what startup built (modules, mappers, schemas) keeps it out of full passes.
"""

from __future__ import annotations

import gc

# Young generation: a pass after this many net container allocations. Net: frames that come and go
# cancel out, so passes follow the growth of live state, not the traffic. A pass walks every young
# object still alive, which can be several times this many (an old object's death counts down
# too): at 5,000 phones, once the server falls behind, the frames queued for the next tick (12
# tracked objects each since session 9, 50-56 before) and each connection's awaiting coroutines.
# Session 9, two alternating rounds at 3,000 and 5,000 phones (docs/server.md, "Session 9"):
# 250,000 against 50,000 cut the collector's time at 5,000 from 2.3-2.4 s to 0.2-0.4 s in 20 s
# (1-2 passes of 170-210 ms against ≈ 40 of up to 180 ms and 4 middle-generation passes of
# ≈ 330 ms), p99 1,741 / 1,787 ms against 2,216 / 1,953 (3,000: 210 / 158 against 358 / 470).
# 10^4 measured 600 µs/batch against 531 at 5·10^4 (session 3).
SERVING_GC_YOUNG_THRESHOLD = 250_000


def tune_gc_for_serving(young_threshold: int) -> None:
    """Freeze what exists (it lives as long as the process) and raise the young threshold; the
    older generations keep Python's ratios."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
