"""Small helpers shared by the benchmark scripts: a plain-text table and CPU timing."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into ``docs/``).

    >>> print(format_table(["a", "b"], [[1, 2.5]]))
    | a | b |
    |---|---|
    | 1 | 2.5 |
    """
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cpu_timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` and return its result with the process CPU seconds it took."""
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def _stat_cpu_seconds(stat: Path) -> float:
    """User + system CPU seconds from a ``/proc/.../stat`` file (fields 14 and 15)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, parents first (a server that forks its worker: granian)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            with contextlib.suppress(OSError):
                queue += [int(child) for child in (task / "children").read_text().split()]
    return found


def server_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of a server process tree: all its threads, and its event loop's thread alone.

    The loop runs on the main thread of the last process of the tree (uvicorn: the process
    itself; granian: its worker, the supervisor idles); its CPU bounds the GIL-held time from
    above, the rest (granian's Rust threads, the tick thread) runs beside it.
    """
    tree = process_tree(pid)
    total = sum(_stat_cpu_seconds(Path(f"/proc/{p}/stat")) for p in tree)
    return total, _stat_cpu_seconds(Path(f"/proc/{tree[-1]}/task/{tree[-1]}/stat"))


def serve_granian(target: str, port: int, runtime_mode: str, runtime_threads: int,
                  loop: str) -> None:  # fmt: skip
    """Serve the ASGI app factory ``target`` ("module:function") with granian, one worker.

    Backlog and backpressure raised to 16,384: granian's backpressure (default backlog/workers
    = 1,024) caps the connections served at once, and a websocket holds its slot while open.
    Granian is optional (``pip install granian``), imported only here.
    """
    from granian import Granian
    from granian.constants import Interfaces, Loops, RuntimeModes
    from granian.log import LogLevels

    Granian(target, address="127.0.0.1", port=port, interface=Interfaces.ASGI, workers=1,
            factory=True, runtime_mode=RuntimeModes(runtime_mode), runtime_threads=runtime_threads,
            loop=Loops(loop), backlog=16_384, backpressure=16_384, websockets=True,
            log_level=LogLevels.warning).serve()  # fmt: skip


def scored_answers(
    sent: Sequence[float], answered: Sequence[float], timeout_s: float, warmup: int
) -> tuple[list[tuple[int, float]], int]:
    """A streaming phone's frames matched to its answers in order (the server answers one
    connection's frames in the order they came): ``sent[i]`` and ``answered[i]`` are frame i's
    send and answer times (s, one clock; ``answered`` may be shorter: the last frames were not
    answered). Returns (frame index, latency s) for each frame after the first ``warmup`` that
    was answered within ``timeout_s``, and how many frames were not (late or never), as the
    closed-loop phone counts them.

    >>> scored_answers([0.0, 1.0, 2.0], [0.5, 7.0], timeout_s=5.0, warmup=0)
    ([(0, 0.5)], 2)
    """
    if len(answered) > len(sent):
        raise ValueError(f"{len(answered)} answers for {len(sent)} frames")
    latencies: list[tuple[int, float]] = []
    lost = len(sent) - len(answered)
    for i, (out, back) in enumerate(zip(sent, answered, strict=False)):
        latency = back - out
        if latency > timeout_s:
            lost += 1
        elif i >= warmup:
            latencies.append((i, latency))
    return latencies, lost
