"""Pack a run of position estimates into bytes, and back.

Layout, little-endian, 16 bytes a point (numpy structured dtype below): ``dt_ms`` uint32 since the
chunk's ``t_start_ms`` (49 days of range), ``x``/``y`` float32 metres (sub-millimetre resolution
across 2 km), ``heading_cdeg`` uint16 hundredths of a degree, ``accuracy_cm`` uint16 centimetres
(655 m ceiling, clipped). 100 M points ≈ 1.6 GB before compression. Columns, not rows, so analytics
(issue 9) can ``np.frombuffer`` a chunk and histogram it without Python loops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from positioning import Estimate

POINT_DTYPE = np.dtype(
    [
        ("dt_ms", "<u4"),
        ("x", "<f4"),
        ("y", "<f4"),
        ("heading_cdeg", "<u2"),
        ("accuracy_cm", "<u2"),
    ]
)
MAX_ACCURACY_CM = np.iinfo(np.uint16).max


# An estimate as a plain row (t_ms, x, y, heading_deg, accuracy_m): a tuple of numbers, which the
# garbage collector stops tracking at its first pass, where an ``Estimate`` is walked by every
# pass for as long as it waits in a buffer (a minute; docs/server.md, "After session 8").
PointRow = tuple[int, float, float, float, float]


def point_row(e: Estimate) -> PointRow:
    return (e.t_ms, e.x, e.y, e.heading_deg, e.accuracy_m)


def pack_estimates(estimates: Sequence[Estimate], t_start_ms: int) -> bytes:
    return pack_rows([point_row(e) for e in estimates], t_start_ms)


def pack_rows(rows: Sequence[PointRow], t_start_ms: int) -> bytes:
    points = np.zeros(len(rows), dtype=POINT_DTYPE)
    if not rows:
        return points.tobytes()
    t_ms, x, y, heading, accuracy = zip(*rows, strict=True)
    points["dt_ms"] = np.array(t_ms, dtype=np.int64) - t_start_ms
    points["x"] = x
    points["y"] = y
    points["heading_cdeg"] = np.round(np.mod(heading, 360.0) * 100) % 36000
    points["accuracy_cm"] = np.clip(np.round(np.array(accuracy) * 100), 0, MAX_ACCURACY_CM)
    return points.tobytes()


def unpack_points(payload: bytes) -> NDArray[np.void]:
    """The structured array of a chunk (fields as in ``POINT_DTYPE``), zero-copy."""
    return np.frombuffer(payload, dtype=POINT_DTYPE)


def unpack_estimates(payload: bytes, t_start_ms: int) -> list[Estimate]:
    points = unpack_points(payload)
    return [
        Estimate(
            t_ms=t_start_ms + int(p["dt_ms"]),
            x=float(p["x"]),
            y=float(p["y"]),
            heading_deg=float(p["heading_cdeg"]) / 100.0,
            accuracy_m=float(p["accuracy_cm"]) / 100.0,
        )
        for p in points
    ]
