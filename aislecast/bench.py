"""Small helpers shared by the benchmark scripts: a plain-text table and CPU timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
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
