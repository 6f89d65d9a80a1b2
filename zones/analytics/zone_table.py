"""The per-zone table: visitors, entries, median and p90 dwell, faced share, conversion.

Dwell is the time between an ``enter`` and the next ``exit`` of the same visit and zone; an
enter with no exit (data cut at the range's end) gives no dwell. Conversion is the share of the
visits that entered a zone in which one of the zone's categories was bought after the first entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from zones.analytics.columns import (
    ENTER,
    EXIT,
    FACING,
    PurchaseColumns,
    VisitColumns,
    ZoneEventColumns,
)
from zones.analytics.grid import DEFAULT_K_ANONYMITY, suppression_note
from zones.model import Zone

DWELL_PERCENTILE_HIGH = 90.0


@dataclass(frozen=True)
class ZoneRow:
    """Figures are None when the row is suppressed (fewer than k visitors) or have no data."""

    zone_id: str
    name: str
    visitors: int | None
    entries: int | None
    median_dwell_s: float | None
    p90_dwell_s: float | None
    faced_share: float | None
    conversion: float | None
    suppressed: bool


@dataclass(frozen=True)
class ZoneTable:
    rows: tuple[ZoneRow, ...]
    k: int

    @property
    def n_suppressed(self) -> int:
        return sum(row.suppressed for row in self.rows)

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "zones")

    def row(self, zone_id: str) -> ZoneRow:
        for row in self.rows:
            if row.zone_id == zone_id:
                return row
        raise KeyError(zone_id)


def enter_exit_dwell_s(events: ZoneEventColumns) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(zone, dwell seconds) of each enter closed by the next exit of its visit and zone."""
    keep = (events.kind == ENTER) | (events.kind == EXIT)
    ev = events.select(keep)
    # Sort by visit, zone, time; at equal time an enter (code 0) precedes its exit (code 1).
    order = np.lexsort((ev.kind, ev.t_ms, ev.zone, ev.visit))
    visit, zone, kind, t = ev.visit[order], ev.zone[order], ev.kind[order], ev.t_ms[order]
    closed = (
        (kind[:-1] == ENTER)
        & (kind[1:] == EXIT)
        & (visit[:-1] == visit[1:])
        & (zone[:-1] == zone[1:])
    )
    starts = np.flatnonzero(closed)
    return zone[starts], (t[starts + 1] - t[starts]) / 1000.0


def _distinct_per_zone(
    zone: NDArray[np.int64], who: NDArray[np.int64], n_zones: int
) -> NDArray[np.int64]:
    """Distinct ``who`` per zone: unique (zone, who) keys packed into one int64, then counted."""
    if zone.size == 0:
        return np.zeros(n_zones, np.int64)
    span = int(who.max()) + 1
    keys = np.unique(zone * span + who)
    return np.bincount(keys // span, minlength=n_zones)


def first_entries(
    events: ZoneEventColumns, n_zones: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(zone, visit, t_ms) of each visit's first entry into each zone, sorted by zone."""
    is_enter = events.kind == ENTER
    zone, visit, t = events.zone[is_enter], events.visit[is_enter], events.t_ms[is_enter]
    order = np.lexsort((t, visit, zone))
    zone, visit, t = zone[order], visit[order], t[order]
    first = np.ones(zone.size, bool)
    first[1:] = (zone[1:] != zone[:-1]) | (visit[1:] != visit[:-1])
    return zone[first], visit[first], t[first]


def _conversion(
    zone: Zone,
    entered_visit: NDArray[np.int64],
    entered_t: NDArray[np.int64],
    purchases: PurchaseColumns,
    n_visits: int,
) -> float | None:
    if not zone.categories or entered_visit.size == 0:
        return None
    of_zone = np.isin(purchases.category, np.asarray(zone.categories, dtype=np.str_))
    last_buy = np.full(n_visits, np.iinfo(np.int64).min)
    np.maximum.at(last_buy, purchases.visit[of_zone], purchases.t_ms[of_zone])
    return float(np.mean(last_buy[entered_visit] >= entered_t))


def zone_table(
    zones: Sequence[Zone],
    events: ZoneEventColumns,
    visits: VisitColumns,
    purchases: PurchaseColumns | None = None,
    k: int = DEFAULT_K_ANONYMITY,
    consented_only: bool = False,
) -> ZoneTable:
    """One row per zone, in the given zone order; obstacles (nobody stands there) get none."""
    n_zones = len(zones)
    visits.check_visit_numbers(events.visit, "zone events")
    if purchases is not None:
        visits.check_visit_numbers(purchases.visit, "purchases")
    counted = visits.counted(consented_only)
    events = events.select(counted[events.visit] & (events.zone >= 0) & (events.zone < n_zones))
    if purchases is None:
        purchases = PurchaseColumns.empty()
    purchases = PurchaseColumns(
        purchases.visit[counted[purchases.visit]],
        purchases.t_ms[counted[purchases.visit]],
        purchases.category[counted[purchases.visit]],
    )
    is_enter = events.kind == ENTER
    enter_zone, enter_visit = events.zone[is_enter], events.visit[is_enter]
    entries = np.bincount(enter_zone, minlength=n_zones)
    visitors = _distinct_per_zone(enter_zone, visits.visitor[enter_visit], n_zones)
    is_facing = events.kind == FACING
    facers = _distinct_per_zone(
        events.zone[is_facing], visits.visitor[events.visit[is_facing]], n_zones
    )
    dwell_zone, dwell_s = enter_exit_dwell_s(events)
    by_zone = np.argsort(dwell_zone, kind="stable")
    cuts = np.searchsorted(dwell_zone[by_zone], np.arange(n_zones + 1))
    first_zone, first_visit, first_t = first_entries(events, n_zones)
    first_cuts = np.searchsorted(first_zone, np.arange(n_zones + 1))
    rows = []
    for i, zone in enumerate(zones):
        if zone.is_obstacle:
            continue
        if 0 < visitors[i] < k:
            rows.append(ZoneRow(zone.id, zone.name, None, None, None, None, None, None, True))
            continue
        dwell = dwell_s[by_zone[cuts[i] : cuts[i + 1]]]
        entered = slice(first_cuts[i], first_cuts[i + 1])
        rows.append(
            ZoneRow(
                zone_id=zone.id,
                name=zone.name,
                visitors=int(visitors[i]),
                entries=int(entries[i]),
                median_dwell_s=float(np.median(dwell)) if dwell.size else None,
                p90_dwell_s=float(np.percentile(dwell, DWELL_PERCENTILE_HIGH))
                if dwell.size
                else None,
                faced_share=float(min(facers[i] / visitors[i], 1.0)) if visitors[i] else None,
                conversion=_conversion(
                    zone, first_visit[entered], first_t[entered], purchases, len(visits)
                ),
                suppressed=False,
            )
        )
    return ZoneTable(tuple(rows), k)
