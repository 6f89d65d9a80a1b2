"""Tempering of the scan likelihood, fitted per map from its own survey.

The "projected+gp" scan likelihood the particles are weighed by is

    log L(p) = a·log knn(p) + b·log ⌊exp(Dγ(p) − max)⌋,
    Dγ(p) = Σⱼ [−(zⱼ − μⱼ(p))²/2vⱼ(p) − ½·log vⱼ(p)] / max(1, n / EFFECTIVE_SOURCES)^γ,

with knn the k-NN candidates' mixture read at the reference nearest p, ⌊·⌋ the 5 % outlier
floor and n the scan's sources. The hand-set rule is a = b = ½ (scans 2 s apart err alike) and
γ = 1 (the sources of one scan share the body's shadow). ``fit_tempering`` instead chooses
(a, b, γ) on a grid so that L, normalised over the floor's field cells, is a calibrated
predictive distribution of where a scan was heard: it maximises the held-out log score

    Σ_scans log [ L(true cell) / Σ_cells L(cell) ]

by K-fold cross-validation *within the survey*: the survey walks are split into folds, each
fold's scans are scored against the radio map and GP field built without that fold, at the
scans' own interpolated survey positions. The outer outlier floor is a guard against a bad scan
killing the truth, not part of the prediction, so it is left out of the score. The fit only
ever reads the radio map it is given: pass the map without a held-out walk and that walk takes
no part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from positioning import particles as pf
from positioning.radiofield import RadioField
from positioning.radiomap import EFFECTIVE_SOURCES, MISSING_DBM, RadioMap
from positioning.scans import Fingerprint
from positioning.walkable import WalkableGrid

Array = NDArray[np.float64]

# The grid searched. a = 0 lets the fit drop the k-NN term; a and b span a tenth to three
# times a full Gaussian; γ from √n-discounting to the 1/n rule.
KNN_POWERS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
FIELD_POWERS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
SOURCE_DISCOUNTS = (0.5, 0.75, 1.0)
# Folds of survey walks, and held-out scans scored per fold (a random subsample: the score's
# noise at 60 scans per fold is far below the differences between grid points, and each fold
# costs one field build).
FOLDS = 2
SCANS_PER_FOLD = 60
# Fewer held-out scans than this (a survey of one walk): keep the hand-set rule.
MIN_SCANS = 10


@dataclass(frozen=True)
class Tempering:
    """Powers on the k-NN mixture (a) and the field term (b), and the source discount γ."""

    knn_power: float = 0.5
    field_power: float = 0.5
    source_discount: float = 1.0


# The hand-set rule (RADIO_POWER on both terms, sources discounted 1/n).
FIXED = Tempering()


@dataclass(frozen=True)
class ScanTerms:
    """One held-out scan's two terms at every field cell, and its true cell."""

    log_knn: Array  # (cells,) log of the floored k-NN mixture at the nearest reference
    field_sum: Array  # (cells,) the field's log-likelihood summed over sources (γ = 0)
    sources: int
    true_cell: int


def scan_terms(
    field: RadioField, radio_map: RadioMap, fingerprint: Fingerprint, x: float, y: float
) -> ScanTerms | None:
    """The terms of a scan heard at (x, y), by a map and field that never saw it."""
    fix = radio_map.match(fingerprint)
    cells = field.cells_xy
    field_sum = field.log_likelihood(fingerprint, cells[:, 0], cells[:, 1], source_discount=0.0)
    if fix is None or field_sum is None:
        return None
    near_x, near_y = radio_map.nearest_reference(cells[:, 0], cells[:, 1])
    knn = pf.radio_likelihood(
        near_x, near_y, fix.candidates_xy, fix.candidate_weights, pf.RADIO_KERNEL_M
    )
    sources = len(field.known_sources(fingerprint)[0])
    true_cell = int(field.cell_of(np.array([x]), np.array([y]))[0])
    return ScanTerms(np.log(knn), field_sum, sources, true_cell)


def log_scores(terms: list[ScanTerms], pairs: bool = False) -> dict[Tempering, float]:
    """Mean held-out log score, nats per scan, of every grid point (a, b, γ).

    ``pairs``: terms come as consecutive scans of one walk (2k, 2k + 1); each pair is scored as
    the filter uses it — the product of both tempered likelihoods, at the second scan's true
    cell — so powers that treat scans erring alike as independent are penalised.
    """
    scores: dict[Tempering, float] = {}
    powers = np.asarray(KNN_POWERS)[:, None]
    for gamma in SOURCE_DISCOUNTS:
        floored = [
            np.log(pf.tempered(t.field_sum / max(1.0, t.sources / EFFECTIVE_SOURCES) ** gamma))
            for t in terms
        ]
        for b in FIELD_POWERS:
            total = np.zeros(len(KNN_POWERS))
            logits = [
                powers * t.log_knn[None, :] + b * f[None, :]
                for t, f in zip(terms, floored, strict=True)
            ]
            if pairs:
                logits = [p + q for p, q in zip(logits[::2], logits[1::2], strict=True)]
            cells = [t.true_cell for t in terms[1::2]] if pairs else [t.true_cell for t in terms]
            for logit, cell in zip(logits, cells, strict=True):  # (powers, cells)
                total += logit[:, cell] - logsumexp(logit, axis=1)
            for a, s in zip(KNN_POWERS, total / max(1, len(cells)), strict=True):
                scores[Tempering(float(a), b, gamma)] = float(s)
    return scores


def held_out_terms(
    radio_map: RadioMap,
    grid: WalkableGrid | None,
    folds: int = FOLDS,
    scans_per_fold: int = SCANS_PER_FOLD,
    seed: int = 0,
    pairs: bool = False,
) -> list[ScanTerms]:
    """Terms of scans of each fold of survey walks, scored by the map and field without it;
    ``pairs``: half as many scans, each followed by the same walk's next scan (both kept
    only if both can be scored)."""
    rng = np.random.default_rng(seed)
    walks = np.unique(radio_map.walks.astype(str))
    rng.shuffle(walks)
    terms: list[ScanTerms] = []
    for fold in np.array_split(walks, folds):
        if len(fold) == 0 or len(fold) == len(walks):
            continue
        rest = radio_map.without(list(fold))
        field = RadioField(rest, grid)
        in_fold = np.isin(radio_map.walks.astype(str), fold)
        if pairs:
            # References keep their walk's time order: row r + 1 is the next scan of r's walk.
            same = in_fold[:-1] & (radio_map.walks[:-1] == radio_map.walks[1:])
            rows = np.flatnonzero(same)
            size = min(scans_per_fold // 2, len(rows))
        else:
            rows = np.flatnonzero(in_fold)
            size = min(scans_per_fold, len(rows))
        picked = np.sort(rng.choice(rows, size=size, replace=False))
        groups = [[r, r + 1] for r in picked] if pairs else [[r] for r in picked]
        for group in groups:
            scored = [reference_terms(field, rest, radio_map, int(r)) for r in group]
            if all(t is not None for t in scored):
                terms += [t for t in scored if t is not None]
    return terms


def reference_terms(
    field: RadioField, rest: RadioMap, radio_map: RadioMap, row: int
) -> ScanTerms | None:
    """``scan_terms`` of reference ``row`` of ``radio_map`` by a map and field without it."""
    x, y = radio_map.positions[row]
    return scan_terms(field, rest, reference_fingerprint(radio_map, row), float(x), float(y))


def reference_fingerprint(radio_map: RadioMap, row: int) -> Fingerprint:
    """A map reference as the scan it was (its heard sources; ignored ones dropped)."""
    levels = radio_map.rssi[row]
    heard = np.flatnonzero(levels > MISSING_DBM)
    return Fingerprint(0, 0, {radio_map.sources[c]: float(levels[c]) for c in heard})


def fit_tempering(
    radio_map: RadioMap,
    grid: WalkableGrid | None,
    folds: int = FOLDS,
    scans_per_fold: int = SCANS_PER_FOLD,
    seed: int = 0,
    pairs: bool = False,
) -> Tempering:
    """The grid point with the best held-out log score; the fixed rule when too few scans.
    ``pairs``: scored on consecutive scan pairs (``log_scores``)."""
    terms = held_out_terms(radio_map, grid, folds, scans_per_fold, seed, pairs)
    if len(terms) < MIN_SCANS:
        return FIXED
    scores = log_scores(terms, pairs)
    return max(scores, key=lambda k: scores[k])
