"""Item-to-item co-purchase recommendations over baskets (scipy.sparse).

With B the baskets × items 0/1 matrix, C = BᵀB counts the baskets holding both items i and j,
n_i = C_ii the baskets holding i, N the number of baskets:

    lift(i, j)   = C_ij · N / (n_i · n_j)      (> 1: bought together more than by chance)
    cosine(i, j) = C_ij / √(n_i · n_j)

Each item keeps its strongest ``neighbours`` partners with at least ``min_co_baskets`` shared
baskets, so a recommendation is a few dict lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import blake2b
from typing import Literal

import numpy as np
import scipy.sparse as sp

from triggers.profiles import Product, Purchase

# Pairs seen together in fewer baskets are noise: one odd basket gives a huge lift.
MIN_CO_BASKETS = 3
# Partners kept per item: far more than an offer ever needs, small enough to stay in memory.
NEIGHBOURS_PER_ITEM = 20
# Variety: draw among this many best fresh candidates, weighted by score.
VARIETY_POOL = 3
# A product offered to the shopper within this many days is not offered again while others remain.
VARIETY_LOOKBACK_DAYS = 14


@dataclass(frozen=True, slots=True)
class RecommenderSettings:
    measure: Literal["lift", "cosine"] = "lift"
    min_co_baskets: int = MIN_CO_BASKETS
    neighbours: int = NEIGHBOURS_PER_ITEM
    seed: int = 0


class CoPurchaseModel:
    """Co-purchase partners per sku: ``neighbours[sku]`` = ((partner, score), ...) best first."""

    def __init__(
        self,
        neighbours: Mapping[str, tuple[tuple[str, float], ...]],
        category_of: Mapping[str, str],
        settings: RecommenderSettings,
        baskets: int,
    ) -> None:
        self.neighbours = neighbours
        self.category_of = category_of
        self.settings = settings
        self.baskets = baskets

    @classmethod
    def from_columns(
        cls,
        basket_ids: np.ndarray,
        skus: np.ndarray,
        catalogue: Mapping[str, Product],
        settings: RecommenderSettings = RecommenderSettings(),
    ) -> CoPurchaseModel:
        """Build from two parallel columns (one purchase line each)."""
        basket_codes = np.unique(basket_ids, return_inverse=True)[1].ravel()
        item_names, item_codes = np.unique(skus, return_inverse=True)
        n_baskets, n_items = int(basket_codes.max(initial=-1)) + 1, len(item_names)
        ones = np.ones(len(basket_codes), dtype=np.float32)
        b = sp.csr_matrix((ones, (basket_codes, item_codes.ravel())), shape=(n_baskets, n_items))
        b.sum_duplicates()
        b.data[:] = 1.0  # a basket either holds the item or not
        co = (b.T @ b).tocoo()
        baskets_with = np.asarray(b.sum(axis=0)).ravel()
        keep = (co.row != co.col) & (co.data >= settings.min_co_baskets)
        rows, cols, together = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
        expected = baskets_with[rows].astype(np.float64) * baskets_with[cols]
        if settings.measure == "lift":
            score = together * n_baskets / expected
        else:
            score = together / np.sqrt(expected)
        neighbours = _top_per_row(rows, cols, score, settings.neighbours, item_names)
        category_of = {
            str(s): catalogue[str(s)].category for s in item_names if str(s) in catalogue
        }
        return cls(neighbours, category_of, settings, n_baskets)

    @classmethod
    def from_purchases(
        cls,
        purchases: Iterable[Purchase],
        catalogue: Mapping[str, Product],
        settings: RecommenderSettings = RecommenderSettings(),
    ) -> CoPurchaseModel:
        lines = [(p.basket_id, p.sku) for p in purchases]
        baskets = np.array([b for b, _ in lines], dtype=object).astype(str)
        skus = np.array([s for _, s in lines], dtype=object).astype(str)
        return cls.from_columns(baskets, skus, catalogue, settings)

    def score(self, sku: str, partner: str) -> float:
        return dict(self.neighbours.get(sku, ())).get(partner, 0.0)

    def related(
        self,
        anchors: Sequence[str],
        categories: Iterable[str] = (),
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """Partners of the anchors, best first (a partner of several anchors keeps its best
        score), limited to ``categories`` when given, never an anchor or an excluded sku."""
        allowed = frozenset(categories)
        banned = set(exclude) | set(anchors)
        best: dict[str, float] = {}
        for anchor in anchors:
            for partner, s in self.neighbours.get(anchor, ()):
                if partner in banned:
                    continue
                if allowed and self.category_of.get(partner) not in allowed:
                    continue
                if s > best.get(partner, 0.0):
                    best[partner] = s
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))

    def choose(
        self,
        ranked: Sequence[tuple[str, float]],
        recently_offered: Mapping[str, int],
        variety_key: str,
    ) -> str | None:
        """One sku with variety: never one offered recently while a fresh one remains; among the
        best ``VARIETY_POOL`` fresh ones, a score-weighted draw fixed by ``variety_key`` (so the
        same visit gets the same answer and the next visit may get another)."""
        if not ranked:
            return None
        fresh = [c for c in ranked if c[0] not in recently_offered]
        if not fresh:
            return min(ranked, key=lambda c: (recently_offered[c[0]], -c[1]))[0]
        pool = fresh[:VARIETY_POOL]
        total = sum(s for _, s in pool)
        digest = blake2b(f"{self.settings.seed}\x1f{variety_key}".encode(), digest_size=8).digest()
        target = int.from_bytes(digest, "big") / 2**64 * total
        for sku, s in pool:
            target -= s
            if target < 0:
                return sku
        return pool[-1][0]


def _top_per_row(
    rows: np.ndarray, cols: np.ndarray, score: np.ndarray, k: int, names: np.ndarray
) -> dict[str, tuple[tuple[str, float], ...]]:
    """Keep each row's ``k`` best columns: sort by (row, −score, col), rank within row."""
    if len(rows) == 0:
        return {}
    order = np.lexsort((cols, -score, rows))
    rows, cols, score = rows[order], cols[order], score[order]
    starts = np.searchsorted(rows, rows, side="left")
    keep = np.arange(len(rows)) - starts < k
    rows, cols, score = rows[keep], cols[keep], score[keep]
    bounds = np.flatnonzero(np.diff(rows)) + 1
    neighbours: dict[str, tuple[tuple[str, float], ...]] = {}
    names_list = [str(n) for n in names]
    firsts = rows[np.r_[0, bounds]]
    for r_cols, r_scores, row in zip(
        np.split(cols, bounds), np.split(score, bounds), firsts, strict=True
    ):
        neighbours[names_list[int(row)]] = tuple(
            (names_list[int(c)], float(s)) for c, s in zip(r_cols, r_scores, strict=True)
        )
    return neighbours
