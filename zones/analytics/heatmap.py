"""Presence and facing heatmaps: seconds spent per square-metre cell, from position columns.

Each estimate holds its cell until the visit's next estimate: its weight is ``min(t[i+1] - t[i],
max_gap_s)`` and the visit's last estimate weighs nothing. The cap stops a phone that went quiet
(pocket, dead zone) from painting one cell for minutes. Total mass therefore equals the visits'
total capped time. Everything is bincount over flat columns: no Python per point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from zones.analytics.grid import DEFAULT_K_ANONYMITY, CellGrid, suppression_note

# 1 Hz is the tracker's rate; gaps up to 5 s are ordinary jitter and keep full weight. A longer
# silence is not known presence: the estimate before it only counts for 5 s.
DEFAULT_MAX_GAP_S = 5.0
# The presence matrix of (visitor, cell) booleans stays under this many cells; beyond it distinct
# visitors are counted by sorting keys instead (slower, no large allocation).
MAX_SEEN_MATRIX_CELLS = 400_000_000

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def hold_seconds(
    t_ms: ArrayLike, visit: ArrayLike, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> FloatArray:
    """Seconds each estimate holds its place: ``min(t[i+1] - t[i], cap)`` within a visit, else 0.

    Points must be grouped by visit and in time order inside each visit.
    """
    t = np.asarray(t_ms, dtype=np.int64)
    v = np.asarray(visit)
    if t.shape != v.shape:
        raise ValueError(f"t_ms and visit differ in length ({t.size} vs {v.size})")
    if not max_gap_s > 0:
        raise ValueError(f"max_gap_s must be positive, got {max_gap_s}")
    hold = np.zeros(t.size, dtype=np.float64)
    if t.size < 2:
        return hold
    gap_ms = np.diff(t)
    same_visit = v[1:] == v[:-1]
    if np.any(same_visit & (gap_ms < 0)):
        raise ValueError("positions must be in time order within each visit")
    hold[:-1] = np.where(same_visit, np.minimum(gap_ms, max_gap_s * 1000.0), 0.0) / 1000.0
    return hold


def chunk_point_columns(
    dt_ms: ArrayLike, chunk_t_start_ms: ArrayLike, chunk_n_points: ArrayLike, chunk_visit: ArrayLike
) -> tuple[IntArray, IntArray]:
    """Absolute ``t_ms`` and visit per point of packed chunks laid end to end (a row a chunk)."""
    n = np.asarray(chunk_n_points, dtype=np.int64)
    dt = np.asarray(dt_ms)
    if int(n.sum()) != dt.size:
        raise ValueError(f"chunks hold {int(n.sum())} points but {dt.size} were given")
    t = np.repeat(np.asarray(chunk_t_start_ms, dtype=np.int64), n) + dt
    return t, np.repeat(np.asarray(chunk_visit, dtype=np.int64), n)


def hold_seconds_chunked(
    dt_ms: ArrayLike,
    chunk_t_start_ms: ArrayLike,
    chunk_n_points: ArrayLike,
    chunk_visit: ArrayLike,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> FloatArray:
    """``hold_seconds`` of packed chunks laid end to end in ANY chunk order (as a database scan
    by time returns them): points inside a chunk are diffed in place, and only each chunk's last
    point looks up the visit's next chunk, a sort of chunks rather than of points."""
    dt = np.asarray(dt_ms, dtype=np.int64)
    n = np.asarray(chunk_n_points, dtype=np.int64)
    t_start = np.asarray(chunk_t_start_ms, dtype=np.int64)
    visit = np.asarray(chunk_visit, dtype=np.int64)
    if int(n.sum()) != dt.size:
        raise ValueError(f"chunks hold {int(n.sum())} points but {dt.size} were given")
    if np.any(n <= 0):
        raise ValueError("every chunk must hold at least one point")
    if not max_gap_s > 0:
        raise ValueError(f"max_gap_s must be positive, got {max_gap_s}")
    ends = np.cumsum(n) - 1
    first_t = t_start + dt[ends - n + 1]
    last_t = t_start + dt[ends]
    order = np.lexsort((t_start, visit))
    has_next = visit[order][1:] == visit[order][:-1]
    next_gap = np.zeros(n.size, dtype=np.int64)
    next_gap[order[:-1][has_next]] = first_t[order[1:][has_next]] - last_t[order[:-1][has_next]]
    gap_ms = np.empty(dt.size, dtype=np.int64)
    gap_ms[:-1] = np.diff(dt)
    gap_ms[ends] = next_gap
    if np.any(gap_ms < 0):
        raise ValueError(
            "positions must be in time order within each visit, chunks not overlapping"
        )
    return np.minimum(gap_ms, int(max_gap_s * 1000)) / 1000.0


@dataclass
class PresenceHeatmap:
    """Seconds and distinct visitors per cell; ``shown_s`` is NaN where k-anonymity hides a cell."""

    grid: CellGrid
    seconds: FloatArray  # (ny, nx)
    visitors: IntArray  # (ny, nx)
    k: int
    off_floor_s: float
    suppressed: NDArray[np.bool_] = field(init=False)
    shown_s: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.suppressed = (self.visitors > 0) & (self.visitors < self.k)
        self.shown_s = np.where(self.suppressed, np.nan, self.seconds)

    @property
    def n_suppressed(self) -> int:
        return int(self.suppressed.sum())

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "cells")

    def seconds_per_m2(self) -> FloatArray:
        return self.shown_s / self.grid.cell_area_m2


@dataclass(frozen=True)
class PresenceRollup:
    """A closed period's presence, small enough to store: seconds per cell and the distinct
    (visitor, cell) pairs as keys ``visitor * n_cells + cell`` (what k-anonymity needs to count
    people across periods without double-counting a returning shopper)."""

    seconds: FloatArray  # flat, one per cell
    visitor_cells: IntArray
    off_floor_s: float


class PresenceAccumulator:
    """Adds position columns day by day (or chunk by chunk), so a month never sits in memory.

    ``visitor`` per point indexes ``0..n_visitors-1`` (a person, not a visit: k counts people).
    """

    def __init__(self, grid: CellGrid, n_visitors: int) -> None:
        self.grid = grid
        self.n_visitors = int(n_visitors)
        self.seconds = np.zeros(grid.n_cells, dtype=np.float64)
        self.off_floor_s = 0.0
        self._use_matrix = self.n_visitors * grid.n_cells <= MAX_SEEN_MATRIX_CELLS
        self._seen = np.zeros((self.n_visitors if self._use_matrix else 0, grid.n_cells), bool)
        self._seen_keys: list[IntArray] = []

    def add(self, x: ArrayLike, y: ArrayLike, hold_s: ArrayLike, visitor: ArrayLike) -> None:
        cell = self.grid.cell_of(x, y)
        hold = np.asarray(hold_s, dtype=np.float64)
        who = np.asarray(visitor, dtype=np.int64)
        if not (cell.shape == hold.shape == who.shape):
            raise ValueError("x, y, hold_s and visitor must have one value per point")
        if who.size and (who.min() < 0 or who.max() >= self.n_visitors):
            raise ValueError(f"visitor indices must lie in [0, {self.n_visitors})")
        on_floor = cell >= 0
        if not on_floor.all():
            self.off_floor_s += float(hold[~on_floor].sum())
            cell, hold, who = cell[on_floor], hold[on_floor], who[on_floor]
        self.seconds += np.bincount(cell, weights=hold, minlength=self.grid.n_cells)
        if self._use_matrix:
            self._seen[who, cell] = True
        else:
            self._seen_keys.append(np.unique(who * self.grid.n_cells + cell))

    def add_rollup(self, rollup: PresenceRollup) -> None:
        """Add a stored period; its visitor numbers must be this accumulator's."""
        if rollup.seconds.size != self.grid.n_cells:
            raise ValueError(f"rollup has {rollup.seconds.size} cells, grid {self.grid.n_cells}")
        self.seconds += rollup.seconds
        self.off_floor_s += rollup.off_floor_s
        who, cell = np.divmod(rollup.visitor_cells, self.grid.n_cells)
        if who.size and who.max() >= self.n_visitors:
            raise ValueError(f"rollup names visitor {int(who.max())} beyond {self.n_visitors}")
        if self._use_matrix:
            self._seen[who, cell] = True
        else:
            self._seen_keys.append(rollup.visitor_cells)

    def rollup(self) -> PresenceRollup:
        if self._use_matrix:
            keys: IntArray = np.flatnonzero(self._seen).astype(np.int64)
        elif self._seen_keys:
            keys = np.unique(np.concatenate(self._seen_keys))
        else:
            keys = np.zeros(0, dtype=np.int64)
        return PresenceRollup(self.seconds.copy(), keys, self.off_floor_s)

    def visitors_per_cell(self) -> IntArray:
        if self._use_matrix:
            return self._seen.sum(axis=0, dtype=np.int64)
        keys = np.unique(np.concatenate(self._seen_keys)) if self._seen_keys else np.zeros(0, int)
        return np.bincount(keys % self.grid.n_cells, minlength=self.grid.n_cells)

    def result(self, k: int = DEFAULT_K_ANONYMITY) -> PresenceHeatmap:
        return PresenceHeatmap(
            grid=self.grid,
            seconds=self.grid.as_image(self.seconds).astype(np.float64),
            visitors=self.grid.as_image(self.visitors_per_cell()).astype(np.int64),
            k=k,
            off_floor_s=self.off_floor_s,
        )


def presence_heatmap(
    grid: CellGrid,
    t_ms: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    visit: ArrayLike,
    visitor_of_visit: ArrayLike,
    k: int = DEFAULT_K_ANONYMITY,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> PresenceHeatmap:
    """The heatmap of one batch of points (grouped by visit, time-ordered within a visit)."""
    visits = np.asarray(visit, dtype=np.int64)
    owners = np.asarray(visitor_of_visit, dtype=np.int64)
    accumulator = PresenceAccumulator(grid, int(owners.max()) + 1 if owners.size else 0)
    accumulator.add(x, y, hold_seconds(t_ms, visits, max_gap_s), owners[visits])
    return accumulator.result(k)


def positions_at(
    t_query_ms: ArrayLike,
    visit_query: ArrayLike,
    t_ms: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    visit: ArrayLike,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Where each queried visit stood at each queried time: its last estimate at or before it.

    Points grouped by visit, time-ordered within. Returns x, y and ``found`` (False when the visit
    had no estimate yet at that time).
    """
    t = np.asarray(t_ms, dtype=np.int64)
    v = np.asarray(visit, dtype=np.int64)
    tq = np.asarray(t_query_ms, dtype=np.int64)
    vq = np.asarray(visit_query, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if t.size == 0 or tq.size == 0:
        empty = np.zeros(tq.size)
        return empty, empty.copy(), np.zeros(tq.size, bool)
    t_min = min(int(t.min()), int(tq.min()))
    span = max(int(t.max()), int(tq.max())) - t_min + 1
    # One sortable key per (visit, time): visit * span + time since the earliest point.
    key = v * span + (t - t_min)
    order = np.argsort(key, kind="stable")
    position = np.searchsorted(key[order], vq * span + (tq - t_min), side="right") - 1
    found = position >= 0
    hit = order[np.clip(position, 0, None)]
    found &= v[hit] == vq
    return np.where(found, xs[hit], np.nan), np.where(found, ys[hit], np.nan), found


@dataclass
class FacingHeatmap:
    """Per zone, facing moments per cell where the shopper stood; k-suppressed like presence."""

    grid: CellGrid
    zone_ids: tuple[str, ...]
    moments: IntArray  # (n_zones, ny, nx)
    visitors: IntArray  # (n_zones, ny, nx)
    k: int
    suppressed: NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        self.suppressed = (self.visitors > 0) & (self.visitors < self.k)

    @property
    def n_suppressed(self) -> int:
        return int(self.suppressed.sum())

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "cells")

    def shown(self, zone_id: str) -> FloatArray:
        i = self.zone_ids.index(zone_id)
        return np.where(self.suppressed[i], np.nan, self.moments[i].astype(np.float64))


def facing_heatmap(
    grid: CellGrid,
    zone_ids: tuple[str, ...],
    facing_zone: ArrayLike,
    facing_x: ArrayLike,
    facing_y: ArrayLike,
    facing_visitor: ArrayLike,
    k: int = DEFAULT_K_ANONYMITY,
) -> FacingHeatmap:
    """Count facing events by (zone, cell of where the shopper stood); see ``positions_at``."""
    cell = grid.cell_of(np.asarray(facing_x, dtype=np.float64), np.asarray(facing_y, np.float64))
    return facing_heatmap_of_cells(grid, zone_ids, facing_zone, cell, facing_visitor, k)


def facing_heatmap_of_cells(
    grid: CellGrid,
    zone_ids: tuple[str, ...],
    facing_zone: ArrayLike,
    facing_cell: ArrayLike,
    facing_visitor: ArrayLike,
    k: int = DEFAULT_K_ANONYMITY,
) -> FacingHeatmap:
    """``facing_heatmap`` of moments already placed in cells (-1: off the floor)."""
    zone = np.asarray(facing_zone, dtype=np.int64)
    who = np.asarray(facing_visitor, dtype=np.int64)
    cell = np.asarray(facing_cell, dtype=np.int64)
    keep = (cell >= 0) & (zone >= 0)
    zone, who, cell = zone[keep], who[keep], cell[keep]
    n = len(zone_ids) * grid.n_cells
    slot = zone * grid.n_cells + cell
    moments = np.bincount(slot, minlength=n)
    pairs = np.unique(np.stack([slot, who], axis=1), axis=0) if slot.size else np.zeros((0, 2), int)
    visitors = np.bincount(pairs[:, 0], minlength=n)
    shape = (len(zone_ids), grid.ny, grid.nx)
    return FacingHeatmap(
        grid, tuple(zone_ids), moments.reshape(shape), visitors.reshape(shape).astype(np.int64), k
    )
