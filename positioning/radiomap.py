"""A radio map from survey walks, and a matcher that turns a fingerprint into a position.

Survey walks carry waypoints; a fingerprint's position is interpolated linearly in time between
the waypoints around the moment it was heard. The map is a matrix of reference fingerprints
(rows) by radio source (columns, Wi-Fi BSSIDs and beacon ids alike), with ``MISSING_DBM`` where a
source was not heard. Each row remembers its walk, so a walk can be left out of its own map by a
row mask (``RadioMap.without``) instead of a rebuild.

Matching (weighted k-nearest neighbours): the distance between a query and a reference is the
mean absolute RSSI difference over the sources either of them heard, an unheard source counting
as ``MISSING_DBM``, each source weighted by exp((louder of the two levels − MISSING_DBM) /
``STRENGTH_SCALE_DB``): a strong source is heard in every scan within a few dB, a weak one comes
and goes, and with equal weights the many weak sources of a scan outvote the few strong ones.
The fix is the weighted mean of the k nearest references; its uncertainty is
their weighted spread plus ``FIX_FLOOR_SIGMA_M`` (references are themselves interpolated). The
fusion also gets the candidates themselves, so it can keep several places alive when the best
matches disagree.

Place-independent sources (a beacon the surveyor carries, a phone hotspot) are found from the
data: a fixed transmitter is only heard near its strongest level close to where it stands, so a
source heard within ``NEAR_PEAK_DB`` of its strongest RSSI at places more than
``PLACE_INDEPENDENT_SPAN_M`` apart, or whose level differs no more between far-apart places than
between close ones, does not tell where the phone is, and is dropped. (The surveyor's beacon in
the recordings advertises under a shared iBeacon identity with changing MACs, so it is found by
its behaviour, per MAC, not by name.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from positioning.readings import Reading
from positioning.scans import Fingerprint, ScanAssembler
from positioning.walkfile import Walk, Waypoint

# RSSI standing for "not heard": a little under the weakest level phones report (≈ −100 dBm).
MISSING_DBM = -105.0
# Neighbours averaged into a fix: enough to smooth single-reference noise, few enough not to
# pull the fix toward the middle of the survey.
K_NEAREST = 6
# Candidates handed to the fusion as a multi-modal likelihood: enough to keep two or three
# alike-sounding places alive, few enough not to dilute them with weak matches (24 measured
# 0.2 m worse on the median).
K_CANDIDATES = 12
# Irreducible fix uncertainty, m: interpolated reference positions and ±5 dB RSSI noise.
FIX_FLOOR_SIGMA_M = 3.0
# Distance in dB that halves a candidate's weight relative to the best one; ≈ the RSSI noise
# averaged over ≈ 10 sources.
CANDIDATE_TEMPERATURE_DB = 1.5
# The distance's weights grow e-fold every this many dB of a source's louder level (the
# weighting above); None in ``RadioMap``: equal weights, the distance before session 12. 10 dB
# measured better than 20 dB and than equal weights on the k-NN fix of site1's recordings
# (site2's was worse), and better on the fused tracker's median and p90 on both seed sets
# (docs/positioning.md, "Session 12").
STRENGTH_SCALE_DB = 10.0
# A query needs this many sources in common with the map to be matched at all.
MIN_COMMON_SOURCES = 3
# Place-independence test: within NEAR_PEAK_DB of its strongest level a fixed source is within a
# few times its closest distance; heard that strong over more than SPAN it moves with the phone.
NEAR_PEAK_DB = 8.0
PLACE_INDEPENDENT_SPAN_M = 60.0
MIN_OBSERVATIONS_FOR_TEST = 8
# Pair test: "close" is within one fix's error, "far" beyond a BLE beacon's useful range.
CLOSE_PAIR_M = 5.0
FAR_PAIR_M = 30.0
MIN_PAIRS = 5
# Under this far-minus-close RSSI difference the level carries no place information (RSSI noise
# alone gives ≈ 4 dB mean |Δ| at any distance; a fixed beacon adds ≥ 3 dB from 5 m to 30 m).
MIN_CONTRAST_DB = 1.0
# Pairwise test cost is quadratic: a sample of this many readings is plenty.
MAX_OBSERVATIONS_FOR_TEST = 400
# Kernel likelihood (``RadioMap.log_likelihood``): bandwidth of the spatial smoothing of each
# source's RSSI, m — about the distance over which indoor RSSI decorrelates.
KERNEL_BANDWIDTH_M = 3.0
# RSSI scatter about the smoothed level, dB (body shadowing, phone orientation, multipath).
KERNEL_RSSI_SIGMA_DB = 6.0
# Pseudo-count (in kernel weight) of the prior "weakly heard, rarely" far from any reference:
# level PRIOR_RSSI_DBM heard with probability PRIOR_HEARD.
PRIOR_WEIGHT = 0.3
PRIOR_RSSI_DBM = -95.0
PRIOR_HEARD = 0.05
# Sources in one scan are not independent witnesses (shared body shadow, same scan, co-located
# access points): the summed log-likelihood is divided by (sources / EFFECTIVE_SOURCES).
EFFECTIVE_SOURCES = 4.0
# Propagation model per source (``RadioMap.model_log_likelihood``), which reaches places no
# survey walk passed: the source stands at the centroid of the references that heard it
# strongest (weights exp((r − r_max)/T)), its level falls off as P₁ − 10·n·log₁₀(d).
SOURCE_CENTROID_TEMPERATURE_DB = 4.0
SOURCE_PATH_LOSS_EXPONENT = 2.5
SOURCE_MODEL_SIGMA_DB = 7.0
MIN_REFERENCES_FOR_MODEL = 4


@dataclass(frozen=True)
class RadioFix:
    """A position from one fingerprint: the k-NN fix, its 1σ radius, and weighted candidates."""

    t_ms: int
    heard_ms: int
    x: float
    y: float
    sigma_m: float
    candidates_xy: NDArray[np.float64]  # (k, 2)
    candidate_weights: NDArray[np.float64]  # (k,), sum 1


@dataclass(frozen=True)
class SurveyFingerprint:
    """A fingerprint from a survey walk with its interpolated position."""

    walk: str
    x: float
    y: float
    fingerprint: Fingerprint


def interpolate_position(waypoints: Sequence[Waypoint], t_ms: int) -> tuple[float, float] | None:
    """Linear interpolation between waypoints; None outside their time span."""
    if not waypoints or t_ms < waypoints[0].t_ms or t_ms > waypoints[-1].t_ms:
        return None
    times = [w.t_ms for w in waypoints]
    x = float(np.interp(t_ms, times, [w.x for w in waypoints]))
    y = float(np.interp(t_ms, times, [w.y for w in waypoints]))
    return x, y


def fingerprints_of(readings: Iterable[Reading], ignored: frozenset[str]) -> list[Fingerprint]:
    """Every fingerprint a walk's readings make (same assembly as the live tracker)."""
    assembler = ScanAssembler(ignored)
    prints = [fp for r in readings for fp in assembler.push(r)]
    return prints + assembler.flush()


def survey_fingerprints(
    walk: Walk, ignored: frozenset[str] = frozenset()
) -> list[SurveyFingerprint]:
    """A survey walk's fingerprints placed on the floor by its waypoints."""
    waypoints = sorted(walk.waypoints, key=lambda w: w.t_ms)
    placed = []
    for fp in fingerprints_of(walk.readings, ignored):
        xy = interpolate_position(waypoints, fp.heard_ms)
        if xy is not None:
            placed.append(SurveyFingerprint(walk.name, xy[0], xy[1], fp))
    return placed


def spatial_contrast_db(obs: NDArray[np.float64]) -> float | None:
    """Mean |ΔRSSI| between readings far apart minus between readings close together, dB.

    ``obs`` rows are (rssi, x, y). A fixed transmitter's level depends on place: close readings
    agree better than far ones (contrast of several dB). One that travels with the phone shows
    no contrast. None when there are too few close or far pairs to tell.
    """
    gap = np.hypot(obs[:, None, 1] - obs[None, :, 1], obs[:, None, 2] - obs[None, :, 2])
    diff = np.abs(obs[:, None, 0] - obs[None, :, 0])
    upper = np.triu(np.ones(gap.shape, dtype=bool), 1)
    close = upper & (gap < CLOSE_PAIR_M)
    far = upper & (gap > FAR_PAIR_M)
    if close.sum() < MIN_PAIRS or far.sum() < MIN_PAIRS:
        return None
    return float(diff[far].mean() - diff[close].mean())


def place_independent_sources(survey: Sequence[SurveyFingerprint]) -> frozenset[str]:
    """Beacons whose level does not depend on where the phone is (see the module notes).

    Only beacons are tested: Wi-Fi access points in open atria are legitimately heard at similar
    levels across long spans, and hotspots that travel are rare in survey data.
    """
    heard: dict[str, list[tuple[float, float, float]]] = {}
    for s in survey:
        for source, rssi in s.fingerprint.rssi_dbm.items():
            if _looks_like_beacon(source):
                heard.setdefault(source, []).append((rssi, s.x, s.y))
    return frozenset(
        s for s, obs in heard.items() if moves_with_phone(np.asarray(obs, dtype=float))
    )


def place_independent_columns(
    sources: Sequence[str], rssi: NDArray[np.float32], positions: NDArray[np.float64]
) -> frozenset[str]:
    """``place_independent_sources`` on a map matrix (references × sources)."""
    moving = set()
    for col, source in enumerate(sources):
        if not _looks_like_beacon(source):
            continue
        heard = rssi[:, col] > MISSING_DBM
        if heard.sum() < MIN_OBSERVATIONS_FOR_TEST:
            continue
        obs = np.column_stack([rssi[heard, col], positions[heard]]).astype(float)
        if moves_with_phone(obs):
            moving.add(source)
    return frozenset(moving)


def moves_with_phone(obs: NDArray[np.float64]) -> bool:
    """The test on one source's readings, rows (rssi, x, y)."""
    if len(obs) < MIN_OBSERVATIONS_FOR_TEST:
        return False
    arr = obs[:MAX_OBSERVATIONS_FOR_TEST]
    near = arr[arr[:, 0] >= arr[:, 0].max() - NEAR_PEAK_DB, 1:]
    span = float(np.linalg.norm(near.max(axis=0) - near.min(axis=0)))
    contrast = spatial_contrast_db(arr)
    return span > PLACE_INDEPENDENT_SPAN_M or (contrast is not None and contrast < MIN_CONTRAST_DB)


def _looks_like_beacon(source: str) -> bool:
    """Beacon ids hold '_' (uuid_major_minor_mac) or are plain names; BSSIDs are aa:bb:…:ff."""
    return "_" in source or ":" not in source


def source_models(
    rssi: NDArray[np.float32], positions: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per source: position (centroid of its strongest references) and 1 m level P₁ (NaN if
    heard by too few references). P₁ = mean over references of r + 10·n·log₁₀ d."""
    heard = rssi > MISSING_DBM
    count = heard.sum(axis=0)
    r = rssi.astype(np.float64)
    peak = np.where(heard, r, MISSING_DBM).max(axis=0, initial=MISSING_DBM)
    w = np.where(heard, np.exp((r - peak) / SOURCE_CENTROID_TEMPERATURE_DB), 0.0)
    total = w.sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    xy = (w.T @ positions) / safe[:, None]
    d = np.hypot(positions[:, 0, None] - xy[None, :, 0], positions[:, 1, None] - xy[None, :, 1])
    at_1m = np.where(
        heard, r + 10.0 * SOURCE_PATH_LOSS_EXPONENT * np.log10(np.maximum(d, 1.0)), 0.0
    )
    p1 = at_1m.sum(axis=0) / np.maximum(count, 1)
    p1[count < MIN_REFERENCES_FOR_MODEL] = np.nan
    return xy, p1


class RadioMap:
    """Reference fingerprints (rows) × sources (columns); see the module notes."""

    def __init__(
        self,
        sources: Sequence[str],
        rssi: NDArray[np.float32],
        positions: NDArray[np.float64],
        walks: Sequence[str],
        ignored_ids: frozenset[str] | None = None,
        strength_scale_db: float | None = STRENGTH_SCALE_DB,
    ) -> None:
        """``ignored_ids`` None: found from these references (``place_independent_columns``).
        ``strength_scale_db`` None: every source weighs the same in the distance."""
        if strength_scale_db is not None and not strength_scale_db > 0.0:
            raise ValueError(f"strength_scale_db must be positive or None, not {strength_scale_db}")
        self.strength_scale_db = strength_scale_db
        self.sources = list(sources)
        self.column = {s: i for i, s in enumerate(self.sources)}
        self.positions = positions
        self.walks = np.asarray(walks, dtype=object)
        self._raw = rssi
        if ignored_ids is None:
            ignored_ids = place_independent_columns(self.sources, rssi, positions)
        self.ignored_ids = ignored_ids
        masked = [self.column[s] for s in ignored_ids if s in self.column]
        if masked:
            rssi = rssi.copy()
            rssi[:, masked] = MISSING_DBM  # an ignored source is "never heard" for matching
        self.rssi = rssi
        heard = rssi > MISSING_DBM
        self._heard_count = heard.sum(axis=0)
        # Each heard level's weight in the distance (0 where not heard), and per reference the
        # weighted Σ (r − MISSING) and Σ weight over its heard sources: what a query that heard
        # none of them would differ by, and how much they count.
        self._weight = np.where(heard, self._weights_of(rssi), 0.0).astype(np.float32)
        self._strength = (self._weight * (rssi - MISSING_DBM)).sum(axis=1, dtype=np.float64)
        self._weight_sum = self._weight.sum(axis=1, dtype=np.float64)
        self.source_xy, self.source_p1 = source_models(rssi, positions)
        self._tree = cKDTree(positions) if len(positions) else None

    def __len__(self) -> int:
        return len(self.positions)

    def _weights_of(self, levels_dbm: NDArray[np.floating]) -> NDArray[np.float64]:
        """exp((level − MISSING_DBM) / scale), or 1 with equal weights."""
        if self.strength_scale_db is None:
            return np.ones(levels_dbm.shape)
        return np.exp((levels_dbm - MISSING_DBM) / self.strength_scale_db)

    @classmethod
    def from_survey(
        cls,
        survey: Sequence[SurveyFingerprint],
        ignored: frozenset[str] | None = None,
        strength_scale_db: float | None = STRENGTH_SCALE_DB,
    ) -> RadioMap:
        """The map of placed survey fingerprints; ``ignored`` None: found from them."""
        sources = sorted({k for s in survey for k in s.fingerprint.rssi_dbm})
        column = {k: i for i, k in enumerate(sources)}
        rssi = np.full((len(survey), len(sources)), MISSING_DBM, dtype=np.float32)
        for row, s in enumerate(survey):
            for k, v in s.fingerprint.rssi_dbm.items():
                if k in column:
                    rssi[row, column[k]] = max(v, MISSING_DBM)
        positions = np.array([(s.x, s.y) for s in survey], dtype=float).reshape(-1, 2)
        return cls(sources, rssi, positions, [s.walk for s in survey], ignored, strength_scale_db)

    @classmethod
    def from_walks(cls, walks: Iterable[Walk]) -> RadioMap:
        """Build from survey walks: place fingerprints, find moving sources, drop them."""
        return cls.from_survey([s for w in walks for s in survey_fingerprints(w)])

    def without(self, walk_names: Iterable[str]) -> RadioMap:
        """The map with some walks' references removed (leave-one-out without a rebuild).

        Place-independent sources are found again from the remaining references, so nothing
        of the removed walks is left in the map.
        """
        keep = ~np.isin(self.walks, list(walk_names))
        return RadioMap(
            self.sources,
            self._raw[keep],
            self.positions[keep],
            list(self.walks[keep]),
            strength_scale_db=self.strength_scale_db,
        )

    def distances_db(self, rssi_dbm: dict[str, float]) -> tuple[NDArray[np.float64], int]:
        """Weighted mean |ΔRSSI| from the query to each reference (see the module notes); how
        many query sources the map knows."""
        cols, q = self._query(rssi_dbm)
        if not cols:
            return np.full(len(self), np.inf), 0
        ref = self.rssi[:, cols].astype(np.float64)
        ref_weight = self._weight[:, cols].astype(np.float64)
        # exp is monotone: the louder level's weight is the larger of the two weights (an
        # unheard reference level weighs 0, so a query source weighs its own level's).
        weight = np.maximum(ref_weight, self._weights_of(q))
        # Σ_{query sources} w·|q − r| + Σ_{sources only the reference heard} w·(r − MISSING),
        # over the same sums of w.
        total = (weight * np.abs(ref - q)).sum(axis=1) + self._strength
        total -= (ref_weight * (ref - MISSING_DBM)).sum(axis=1)
        norm = weight.sum(axis=1) + self._weight_sum - ref_weight.sum(axis=1)
        return total / np.maximum(norm, 1.0), len(cols)

    def model_log_likelihood(
        self, fingerprint: Fingerprint, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """log p(fingerprint | phone at (x, y)) under each source's propagation model.

        log p = −Σⱼ (zⱼ − (P₁ⱼ − 10·n·log₁₀ dⱼ))² / 2σ² / max(1, |sources| / EFFECTIVE_SOURCES).
        """
        cols, q = self._query(fingerprint.rssi_dbm)
        known = [i for i, c in enumerate(cols) if np.isfinite(self.source_p1[c])]
        if len(known) < MIN_COMMON_SOURCES:
            return None
        c = np.asarray(cols)[known]
        sx, sy = self.source_xy[c, 0], self.source_xy[c, 1]
        d = np.maximum(np.hypot(x[:, None] - sx, y[:, None] - sy), 1.0)
        level = self.source_p1[c] - 10.0 * SOURCE_PATH_LOSS_EXPONENT * np.log10(d)
        terms = -0.5 * ((q[known] - level) / SOURCE_MODEL_SIGMA_DB) ** 2
        return terms.sum(axis=1) / max(1.0, len(known) / EFFECTIVE_SOURCES)

    def _query(self, rssi_dbm: dict[str, float]) -> tuple[list[int], NDArray[np.float64]]:
        cols, values = [], []
        for source, value in rssi_dbm.items():
            col = self.column.get(source)
            if col is not None and self._heard_count[col] > 0:
                cols.append(col)
                values.append(max(value, MISSING_DBM))
        return cols, np.asarray(values)

    def log_likelihood(
        self, fingerprint: Fingerprint, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """log p(fingerprint | phone at (x, y)) per point, from kernel-smoothed references.

        Per source j, with Gaussian kernel weights kᵢ(p) of the references around p:
        heard probability πⱼ(p) = (Σᵢ kᵢ·hᵢⱼ + c·π₀) / (Σᵢ kᵢ + c) and mean level
        μⱼ(p) = (Σᵢ kᵢ·hᵢⱼ·rᵢⱼ + c·r₀) / (Σᵢ kᵢ·hᵢⱼ + c) (hᵢⱼ: reference i heard j);
        log p = Σⱼ [log πⱼ − (zⱼ − μⱼ)² / 2σ²] / max(1, |sources| / EFFECTIVE_SOURCES).
        None when the map knows too few of the scan's sources.
        """
        cols, q = self._query(fingerprint.rssi_dbm)
        if len(cols) < MIN_COMMON_SOURCES or len(self) == 0:
            return None
        reach = 3.0 * KERNEL_BANDWIDTH_M
        px, py = self.positions[:, 0], self.positions[:, 1]
        near = (
            (px > x.min() - reach)
            & (px < x.max() + reach)
            & (py > y.min() - reach)
            & (py < y.max() + reach)
        )
        ref_xy = self.positions[near]
        ref = self.rssi[np.ix_(near, cols)].astype(np.float64)
        heard = ref > MISSING_DBM
        d2 = (x[:, None] - ref_xy[None, :, 0]) ** 2 + (y[:, None] - ref_xy[None, :, 1]) ** 2
        k = np.exp(-0.5 * d2 / KERNEL_BANDWIDTH_M**2)
        k_heard = k @ heard
        level = (k @ np.where(heard, ref, 0.0) + PRIOR_WEIGHT * PRIOR_RSSI_DBM) / (
            k_heard + PRIOR_WEIGHT
        )
        p_heard = (k_heard + PRIOR_WEIGHT * PRIOR_HEARD) / (k.sum(axis=1)[:, None] + PRIOR_WEIGHT)
        terms = np.log(p_heard) - 0.5 * ((q - level) / KERNEL_RSSI_SIGMA_DB) ** 2
        return terms.sum(axis=1) / max(1.0, len(cols) / EFFECTIVE_SOURCES)

    def nearest_reference(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Position of the reference nearest each point (the points themselves if the map is empty).

        Where the phone would be matched to if it stood there: k-NN can only return surveyed
        places, so a fix from an unsurveyed aisle lands on the survey nearest it.
        """
        if self._tree is None:
            return x, y
        _, idx = self._tree.query(np.column_stack([x, y]))
        return self.positions[idx, 0], self.positions[idx, 1]

    def match(self, fingerprint: Fingerprint) -> RadioFix | None:
        """Weighted k-NN fix with honest uncertainty; None when the map cannot place it."""
        if len(self) == 0:
            return None
        dist, common = self.distances_db(fingerprint.rssi_dbm)
        if common < MIN_COMMON_SOURCES:
            return None
        k = min(K_CANDIDATES, len(dist))
        order = np.argpartition(dist, k - 1)[:k]
        order = order[np.argsort(dist[order])]
        d = dist[order]
        weights = np.exp(-(d - d[0]) / CANDIDATE_TEMPERATURE_DB)
        weights /= weights.sum()
        near = order[:K_NEAREST]
        w = weights[:K_NEAREST].copy()  # exp(−(d − d_min)/T): sharper than 1/d
        w /= w.sum()
        xy = w @ self.positions[near]
        spread2 = float(w @ ((self.positions[near] - xy) ** 2).sum(axis=1))
        sigma = math.sqrt(spread2 + FIX_FLOOR_SIGMA_M**2)
        return RadioFix(
            fingerprint.t_ms,
            fingerprint.heard_ms,
            float(xy[0]),
            float(xy[1]),
            sigma,
            self.positions[order],
            weights,
        )
