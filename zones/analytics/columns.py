"""The plain column inputs of the analytics: visits, zone events, purchases (no database here).

Visits are numbered ``0..n-1``; events and purchases name their visit by that number. Visitors
(people) are numbered too, so k-anonymity and returning visitors count people, not stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from zones.events import ZoneEventKind

KIND_CODES: dict[ZoneEventKind, int] = {
    "enter": 0,
    "exit": 1,
    "dwell": 2,
    "facing": 3,
    "visit_end": 4,
}
ENTER, EXIT, DWELL, FACING, VISIT_END = (KIND_CODES[k] for k in KIND_CODES)


def _ints(values: Sequence[int] | NDArray[np.integer]) -> NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class VisitColumns:
    """One entry per visit. ``location_consent``: the app declared ``location_analytics``."""

    visitor: NDArray[np.int64]
    started_ms: NDArray[np.int64]
    ended_ms: NDArray[np.int64]
    location_consent: NDArray[np.bool_]

    @classmethod
    def of(
        cls,
        visitor: Sequence[int],
        started_ms: Sequence[int],
        ended_ms: Sequence[int],
        location_consent: Sequence[bool],
    ) -> VisitColumns:
        visits = cls(
            _ints(visitor), _ints(started_ms), _ints(ended_ms), np.asarray(location_consent, bool)
        )
        n = visits.visitor.size
        if not (
            visits.started_ms.size == visits.ended_ms.size == visits.location_consent.size == n
        ):
            raise ValueError("visits: every column needs one value per visit")
        if np.any(visits.ended_ms < visits.started_ms):
            raise ValueError("visits: a visit ends before it starts")
        return visits

    def __len__(self) -> int:
        return int(self.visitor.size)

    def check_visit_numbers(self, visit: NDArray[np.int64], what: str) -> None:
        """Refuse events or purchases that name a visit these columns do not hold."""
        if visit.size and (visit.min() < 0 or visit.max() >= len(self)):
            bad = int(visit.min()) if visit.min() < 0 else int(visit.max())
            raise ValueError(f"{what}: visit number {bad} is not one of the {len(self)} visits")

    def counted(self, consented_only: bool) -> NDArray[np.bool_]:
        """Visits a view may count: all (anonymous, k-suppressed aggregates) or consented only."""
        return self.location_consent.copy() if consented_only else np.ones(len(self), bool)


@dataclass(frozen=True)
class ZoneEventColumns:
    """One entry per zone event; ``zone`` indexes the zone list (-1 for ``visit_end``)."""

    visit: NDArray[np.int64]
    zone: NDArray[np.int64]
    kind: NDArray[np.int64]
    t_ms: NDArray[np.int64]

    @classmethod
    def of(
        cls, visit: Sequence[int], zone: Sequence[int], kind: Sequence[str], t_ms: Sequence[int]
    ) -> ZoneEventColumns:
        unknown = sorted(set(kind) - set(KIND_CODES))
        if unknown:
            raise ValueError(f"zone events: unknown kind(s) {unknown}")
        codes = [KIND_CODES[k] for k in kind]  # type: ignore[index]
        events = cls(_ints(visit), _ints(zone), _ints(codes), _ints(t_ms))
        if not (events.zone.size == events.kind.size == events.t_ms.size == events.visit.size):
            raise ValueError("zone events: every column needs one value per event")
        return events

    def select(self, mask: NDArray[np.bool_]) -> ZoneEventColumns:
        return ZoneEventColumns(self.visit[mask], self.zone[mask], self.kind[mask], self.t_ms[mask])


@dataclass(frozen=True)
class PurchaseColumns:
    """One entry per purchased line: which visit, when, and the product's category."""

    visit: NDArray[np.int64]
    t_ms: NDArray[np.int64]
    category: NDArray[np.str_]

    @classmethod
    def of(
        cls, visit: Sequence[int], t_ms: Sequence[int], category: Sequence[str]
    ) -> PurchaseColumns:
        purchases = cls(_ints(visit), _ints(t_ms), np.asarray(category, dtype=np.str_))
        if not (purchases.visit.size == purchases.t_ms.size == purchases.category.size):
            raise ValueError("purchases: every column needs one value per purchase")
        return purchases

    @classmethod
    def empty(cls) -> PurchaseColumns:
        return cls.of([], [], [])
