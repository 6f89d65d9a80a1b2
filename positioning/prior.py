"""Where the shopper may be before the radio has spoken, and how the first fix takes over.

Before any radio fix the particle layer holds a prior cloud that walks with the shopper and
loses every particle whose step crosses a wall: global localisation by the floor plan alone.
Two priors: every surveyed place (where shoppers were seen walking), or all walkable floor
(``walkable_prior``: nothing but the plan). When the first fix arrives the tracker either
replaces the cloud by draws around the fix's candidates (the shape walked so far is thrown
away) or hands over (``hand_over``): the surviving cloud is weighed by the fix's likelihood —
p(place | walls walked, scan) ∝ p(place | walls walked)·p(scan | place) — and a share of fresh
draws around the candidates is mixed in, in case the prior cloud missed the truth.
"""

from __future__ import annotations

import numpy as np

from positioning import particles as pf
from positioning.radiomap import SOURCE_MODEL_SIGMA_DB, SOURCE_PATH_LOSS_EXPONENT, RadioMap
from positioning.walkable import WalkableGrid

# Share of the cloud drawn afresh around the first fix's candidates at the hand-over: the prior
# cloud is thin (2000 particles over a whole floor), so the fix must be able to start the track
# where no prior particle survived.
HANDOVER_FRESH_SHARE = 0.5


def walkable_prior(
    grid: WalkableGrid, n: int, rng: np.random.Generator
) -> tuple[pf.Array, pf.Array]:
    """``n`` points uniform over the walkable floor (a random cell each, uniform within it)."""
    cells = grid.free_cells_xy()
    pick = rng.integers(0, len(cells), n)
    half = grid.cell_m / 2.0
    x = cells[pick, 0] + rng.uniform(-half, half, n)
    y = cells[pick, 1] + rng.uniform(-half, half, n)
    return x, y


def hand_over(
    cloud: pf.ParticleCloud,
    likelihood: pf.Array,
    fresh_xy: tuple[pf.Array, pf.Array],
    rng: np.random.Generator,
) -> pf.ParticleCloud:
    """The prior cloud weighed by the first fix, resampled to make room for fresh draws.

    Returns a cloud of the same size: ``len(cloud) − m`` particles resampled from the prior
    cloud in proportion to w·L, then the ``m = len(fresh_xy[0])`` fresh ones, all of equal
    weight. The resampled particles keep their offsets and step scales (learnt against the
    walls); the fresh ones take the prior cloud's medians.
    """
    n, m = len(cloud), len(fresh_xy[0])
    w = cloud.weight * likelihood
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    idx = pf.systematic_resample(w, rng)[np.sort(rng.choice(n, n - m, replace=False))]
    return pf.ParticleCloud(
        np.concatenate([cloud.x[idx], fresh_xy[0]]),
        np.concatenate([cloud.y[idx], fresh_xy[1]]),
        np.concatenate([cloud.offset_rad[idx], np.full(m, np.median(cloud.offset_rad))]),
        np.concatenate([cloud.scale[idx], np.full(m, np.median(cloud.scale))]),
        np.full(n, 1.0 / n),
    )


def advert_log_likelihood(
    radio_map: RadioMap, source: str, rssi_dbm: float, x: pf.Array, y: pf.Array
) -> pf.Array | None:
    """log p(one advert at ``rssi_dbm`` | phone at (x, y)) under the map's propagation model of
    that source: −(z − (P₁ − 10·n·log₁₀ d))² / 2σ². None if the map has no model of it.

    Before the first Wi-Fi scan a phone may hear a beacon or two (site2: 12–20 s without a
    scan); one advert is too few for a fingerprint, but it still tells near from far.
    """
    col = radio_map.column.get(source)
    if col is None or source in radio_map.ignored_ids or not np.isfinite(radio_map.source_p1[col]):
        return None
    sx, sy = radio_map.source_xy[col]
    d = np.maximum(np.hypot(x - sx, y - sy), 1.0)
    level = radio_map.source_p1[col] - 10.0 * SOURCE_PATH_LOSS_EXPONENT * np.log10(d)
    return -0.5 * ((rssi_dbm - level) / SOURCE_MODEL_SIGMA_DB) ** 2
