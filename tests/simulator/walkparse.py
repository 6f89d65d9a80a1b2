"""A minimal reader of the recorded-walk text format, independent of the simulator's writer."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np


def parse_walk(path: Path) -> tuple[list[str], dict[str, list[list[str]]]]:
    """(header lines, {type: [[t_ms, value, ...], ...]}) of one walk file."""
    headers: list[str] = []
    rows: dict[str, list[list[str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            headers.append(line)
            continue
        fields = line.split("\t")
        rows[fields[1]].append([fields[0], *fields[2:]])
    return headers, rows


def numeric(rows: list[list[str]], columns: slice = slice(None)) -> np.ndarray:
    """The numeric columns of rows (t_ms first) as a float array."""
    return np.array([[float(v) for v in row[columns]] for row in rows])
