"""The batch form's input: rows in arrival order, grouped by shopper with late rows dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from zones.state import ShopperState

if TYPE_CHECKING:
    from zones.detector import ZoneEventDetector

IntArray = NDArray[np.int64]


@dataclass
class Batch:
    """The usable, in-order rows of one batch, grouped by shopper (positions 0..n-1)."""

    names: list[str]  # shopper id per shopper code
    states: list[ShopperState]  # the detector's state per shopper code
    code: IntArray  # shopper code per position
    row: IntArray  # arrival row per position
    t: IntArray
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    heading: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    lo: IntArray  # positions of shopper c are lo[c]..hi[c]-1
    hi: IntArray


def segmented_previous_max(code: IntArray, t: IntArray, carried: IntArray) -> IntArray:
    """Per position, the largest time before it of the same shopper (or the carried last time)."""
    base = int(min(t.min(), carried.min()))
    rel = t - base
    span = int(rel.max()) + 1
    # Shopper-major keys keep the running maximum from leaking across shoppers.
    running = np.maximum.accumulate(code * span + rel) - code * span
    previous = np.empty_like(running)
    previous[0] = -1
    previous[1:] = running[:-1]
    previous[np.r_[True, code[1:] != code[:-1]]] = -1
    return np.maximum(previous + base, carried[code])


@dataclass
class Rows:
    """The batch's input columns, in arrival order."""

    shopper: NDArray[np.str_]
    t: IntArray
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    heading: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    t_finite: NDArray[np.bool_]

    @classmethod
    def of(cls, shopper_ids: ArrayLike, t_ms: ArrayLike, *xyha: ArrayLike) -> Rows:
        floats = [np.asarray(c, dtype=np.float64).ravel() for c in xyha]
        t_raw = np.asarray(t_ms).ravel()
        # Float times truncate like int(); NaN or infinite ones make the row unusable.
        t_finite = np.isfinite(t_raw) if t_raw.dtype.kind == "f" else np.ones(t_raw.size, bool)
        t = np.where(t_finite, t_raw, 0).astype(np.int64)
        shopper = np.asarray(shopper_ids).ravel().astype(str)
        if len({c.size for c in (shopper, t, *floats)}) != 1:
            raise ValueError("shopper_ids, t_ms, x, y, heading_deg and accuracy_m differ in length")
        x, y, heading, accuracy = floats
        return cls(shopper, t, x, y, heading, accuracy, t_finite)

    def __len__(self) -> int:
        return int(self.t.size)

    def cut(self, start: int, end: int) -> Rows:
        part = slice(start, end)
        return Rows(
            self.shopper[part],
            self.t[part],
            self.x[part],
            self.y[part],
            self.heading[part],
            self.accuracy[part],
            self.t_finite[part],
        )


@dataclass
class Grouping:
    """A grouped batch and what committing it changes in the detector."""

    batch: Batch
    unusable: int
    late: int
    new_shoppers: dict[str, ShopperState]

    def commit(self, detector: ZoneEventDetector) -> Batch:
        detector.unusable_estimates += self.unusable
        detector.late_estimates += self.late
        detector.shoppers.update(self.new_shoppers)
        return self.batch


def group_rows(detector: ZoneEventDetector, rows_in: Rows) -> Grouping | None:
    """Usable, in-order rows grouped by shopper; the detector is not touched until ``commit``."""
    s = detector.settings
    with np.errstate(invalid="ignore"):
        usable = (
            rows_in.t_finite
            & np.isfinite(rows_in.x)
            & np.isfinite(rows_in.y)
            & np.isfinite(rows_in.accuracy)
            & (rows_in.accuracy >= 0)
            & (rows_in.accuracy <= s.max_accuracy_m)
        )
    rows = np.flatnonzero(usable)
    unusable = len(rows_in) - rows.size
    if rows.size == 0:
        return None
    names, code = np.unique(rows_in.shopper[rows], return_inverse=True)
    order = np.lexsort((rows, code))
    rows, code = rows[order], code[order].astype(np.int64)
    names_list: list[str] = names.tolist()
    known = [detector.shoppers.get(n) for n in names_list]
    missing = int(rows_in.t[rows].min())  # a new shopper's first estimate is never late
    carried = np.fromiter(
        (missing if st is None else st.last_t_ms for st in known), np.int64, len(known)
    )
    t = rows_in.t[rows]
    keep = t >= segmented_previous_max(code, t, carried)
    late = keep.size - int(np.count_nonzero(keep))
    rows, code, t = rows[keep], code[keep], t[keep]
    bounds = np.searchsorted(code, np.arange(len(names_list) + 1))
    states, new_shoppers = [], {}
    for c, (name, state) in enumerate(zip(names_list, known, strict=True)):
        if state is None:
            state = new_shoppers[name] = ShopperState(last_t_ms=int(t[bounds[c]]))
        states.append(state)
    batch = Batch(
        names_list,
        states,
        code,
        rows,
        t,
        rows_in.x[rows],
        rows_in.y[rows],
        rows_in.heading[rows],
        rows_in.accuracy[rows],
        bounds[:-1],
        bounds[1:],
    )
    return Grouping(batch, unusable, late, new_shoppers)
