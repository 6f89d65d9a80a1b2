"""A position fix from one batch of beacon readings, for many shoppers at once (grid likelihood).

Each beacon heard in the batch gives one observation, the mean r̄_b of its readings (readings a
second apart share body shadowing and multipath: averaging them is honest, multiplying their
likelihoods is not). Against the log-distance model's RSSI E_b(c) at cell c, with an unknown
offset o common to every beacon of the batch — the phone's own RSSI offset, the shopper's body,
a store whose walls lose more than the model's exponent says — marginalised by its least-squares
value ô(c) = mean_b(r̄_b − E_b(c)):

    log p(r̄ | c) = −[Σ_b (r̄_b − E_b(c))² − (Σ_b (r̄_b − E_b(c)))² / m] / (2σ²)

over the m beacons heard. Expanded, that is four matrix products of the (shoppers × beacons)
heard mask and means with E and E² (beacons × cells), done as two, for every shopper at every
walkable cell at once. The fix is the posterior mean over the walkable cells (uniform prior), its
σ the posterior's RMS spread: honest, large where the beacons cannot tell places apart. One beacon
alone cannot place anyone without knowing the offset, so it is taken at face value (no offset).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from positioning.beacons import BeaconMap
from positioning.walkable import WalkableGrid

Array = NDArray[np.float64]

# Likelihood raster, m: the products' cost goes with the cells. 1.5 m (672 cells in the demo
# store) against 1 m (1,536): the fix 2.3× cheaper a row, the same accuracy on 16 simulated
# walks (benchmarks/tracker_accuracy.py: median 1.71 m, p90 2.51 → 2.50 m; docs/server.md,
# session 4 pushrow). A walkable strip narrower than the raster may hold no cell: the fix then
# lands beside it and the estimate is moved onto the floor (``BatchTracker.onto_floor``).
BEACON_CELL_M = 1.5
# A fix never claims better than this, m (the raster and the path-loss model's own limits).
MIN_FIX_SIGMA_M = 1.0
# Rows per matrix product: the (rows × cells) likelihood then stays in cache (0.8 MB at 1,500
# cells); 64 rows ran 12 µs a row against 17 µs at 512 (benchmarks/batch_push.py's store).
ROW_CHUNK = 64


class BeaconFixer:
    """The store's beacons against its walkable cells: ``fix`` turns readings into (x, y, σ)."""

    def __init__(self, beacon_map: BeaconMap, grid: WalkableGrid) -> None:
        self.ids = {beacon_id: i for i, beacon_id in enumerate(beacon_map.beacons)}
        free = grid.free_cells_xy()
        stride = max(1, round(BEACON_CELL_M / grid.cell_m))
        rows, cols = np.nonzero(grid.free)
        coarse = (rows % stride == stride // 2) & (cols % stride == stride // 2)
        self.cells = free[coarse] if coarse.any() else free
        self.cells_norm2 = (self.cells**2).sum(axis=1)
        model = beacon_map.model
        expected = [
            model.rssi_at(tx, np.hypot(self.cells[:, 0] - bx, self.cells[:, 1] - by))
            for bx, by, tx in beacon_map.beacons.values()
        ]
        # E (B, C) in float64: float32 ran the products 5× faster but a row's fix then depended
        # on which other rows shared its matrix product (1e-4 m), and a shopper's estimates must
        # not depend on who else is in the store.
        self.expected = np.array(expected, dtype=float).reshape(len(self.ids), len(self.cells))
        # Stacked so that two products give the log-likelihood's two terms, scaled (``fix``):
        # [2s·r̄ | −s·h] @ [E; E²] = −s·Σ(E² − 2r̄E) and [w·h | −w·Σr̄] @ [E; 1] = w·(ΣE − Σr̄).
        self.stacked = np.vstack([self.expected, self.expected**2])
        self.expected_one = np.vstack([self.expected, np.ones(len(self.cells))])
        # weight @ [x, y, |c|², 1]: the posterior's first and second moments and its total.
        self.moments = np.column_stack([self.cells, self.cells_norm2, np.ones(len(self.cells))])
        self.scale = 1.0 / (2.0 * model.sigma_db**2)

    def fix(
        self, beacon_ids: Sequence[Sequence[str]], rssi_dbm: Sequence[Array]
    ) -> tuple[NDArray[np.bool_], Array, Array, Array]:
        """Per row: (has a fix, x, y, σ) from that row's readings of known beacons."""
        n = len(beacon_ids)
        lengths = np.fromiter(map(len, beacon_ids), np.int64, n)
        rssi = np.concatenate([np.asarray(v, dtype=float) for v in rssi_dbm]) if n else np.zeros(0)
        every = list(itertools.chain.from_iterable(beacon_ids))
        return self.fix_columns(n, np.repeat(np.arange(n), lengths), every, rssi)

    def fix_columns(
        self, rows: int, reading_row: NDArray[np.int64], beacon_id: Sequence[str], rssi_dbm: Array
    ) -> tuple[NDArray[np.bool_], Array, Array, Array]:
        """``fix`` with every row's readings joined: reading i is ``beacon_id[i]`` heard at
        ``rssi_dbm[i]`` by row ``reading_row[i]`` (of ``rows``)."""
        n, b = rows, len(self.ids)
        # Index of each reading's beacon, −1 if not one of the store's (one C-level pass).
        beacon = np.fromiter(map(self.ids.get, beacon_id, itertools.repeat(-1)), np.int64,
                             len(beacon_id))  # fmt: skip
        row = np.asarray(reading_row, dtype=np.int64)
        rssi = np.asarray(rssi_dbm, dtype=float)
        use = beacon >= 0
        cell = row[use] * b + beacon[use]  # (row, beacon) flattened
        counts = np.bincount(cell, minlength=n * b).reshape(n, b).astype(float)
        sums = np.bincount(cell, weights=rssi[use], minlength=n * b).reshape(n, b).astype(float)
        heard = (counts > 0).astype(float)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        m = heard.sum(axis=1)
        has = m > 0
        x, y, sigma = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        idx = np.flatnonzero(has)
        for start in range(0, len(idx), ROW_CHUNK):
            part = idx[start : start + ROW_CHUNK]
            h, r, k = heard[part], means[part], m[part][:, None]
            # −s·[Σ(r − E)² − (Σ(r − E))²/m] = −s·Σr² − s·Σ(E² − 2rE) + (w·(ΣE − Σr))² with
            # w = √(s/m) (0 for one beacon: no offset term); −s·Σr² is the same at every cell
            # of a row, so it drops out of the posterior and is left out. The scale rides in
            # the products' left operands: two products, then two passes over the cells.
            log_l = np.hstack([(2.0 * self.scale) * r, -self.scale * h]) @ self.stacked
            w = np.sqrt(np.where(k > 1, self.scale / k, 0.0))
            offset = np.hstack([w * h, -w * r.sum(axis=1, keepdims=True)]) @ self.expected_one
            offset *= offset
            log_l += offset
            log_l -= log_l.max(axis=1, keepdims=True)
            weight = np.exp(log_l, out=log_l)
            moments = weight @ self.moments
            total = moments[:, 3]
            mean = moments[:, :2] / total[:, None]
            # RMS spread about the mean: E|c|² − |E c|², halved per axis.
            spread2 = np.maximum(0.0, moments[:, 2] / total - (mean * mean).sum(axis=1))
            x[part], y[part] = mean[:, 0], mean[:, 1]
            sigma[part] = np.maximum(np.sqrt(0.5 * spread2), MIN_FIX_SIGMA_M)
        return has, x, y, sigma
