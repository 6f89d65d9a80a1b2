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
# too): at 5,000 phones 65,000–140,000 objects, 15–70 ms, once the connections stopped holding
# their last frame (350,000 and 150–240 ms before; docs/server.md, "After session 8"). 10^4
# measured 600 µs/batch against 531 at 5·10^4 (docs/server.md).
SERVING_GC_YOUNG_THRESHOLD = 50_000


def tune_gc_for_serving(young_threshold: int) -> None:
    """Freeze what exists (it lives as long as the process) and raise the young threshold; the
    older generations keep Python's ratios."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
