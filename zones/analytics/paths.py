"""Paths: zone-to-zone transitions, entrance-to-checkout routes, and the zone where visits end.

A visit's path is its ``enter`` events in time order (repeats of the same zone in a row merged).
Every row carries its distinct visitors, and rows with fewer than k are suppressed and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from zones.analytics.columns import ENTER, VisitColumns, ZoneEventColumns
from zones.analytics.grid import DEFAULT_K_ANONYMITY, suppression_note
from zones.model import Zone


@dataclass(frozen=True)
class PathRow:
    """``steps`` is one zone id (an end), two (a transition) or a route; counts are visits."""

    steps: tuple[str, ...]
    visits: int
    visitors: int


@dataclass(frozen=True)
class PathTable:
    rows: tuple[PathRow, ...]  # most visits first
    n_suppressed: int
    k: int

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "rows")

    def counts(self) -> dict[tuple[str, ...], int]:
        return {row.steps: row.visits for row in self.rows}


@dataclass(frozen=True)
class Paths:
    transitions: PathTable
    routes: PathTable  # entrance ... checkout, the zones between in order
    visit_ends: PathTable  # the last zone each visit entered


def visit_sequences(
    events: ZoneEventColumns, counted: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(visit, zone) of each counted visit's enters in time order, consecutive repeats merged."""
    keep = (events.kind == ENTER) & (events.zone >= 0) & counted[events.visit]
    visit, zone, t = events.visit[keep], events.zone[keep], events.t_ms[keep]
    order = np.lexsort((t, visit))
    visit, zone = visit[order], zone[order]
    new = np.ones(visit.size, bool)
    new[1:] = (visit[1:] != visit[:-1]) | (zone[1:] != zone[:-1])
    return visit[new], zone[new]


def _table(keys: Sequence[tuple[str, ...]], owners: Sequence[int], k: int) -> PathTable:
    visits = Counter(keys)
    people: dict[tuple[str, ...], set[int]] = {}
    for key, owner in zip(keys, owners, strict=True):
        people.setdefault(key, set()).add(owner)
    rows = [
        PathRow(key, n, len(people[key]))
        for key, n in visits.most_common()
        if len(people[key]) >= k
    ]
    return PathTable(tuple(rows), len(visits) - len(rows), k)


def _transition_table(
    visit: NDArray[np.int64],
    zone: NDArray[np.int64],
    visitor: NDArray[np.int64],
    ids: NDArray[np.str_],
    k: int,
) -> PathTable:
    step = visit[1:] == visit[:-1]
    n = ids.size
    pair = (zone[:-1] * n + zone[1:])[step]
    owner = visitor[visit[1:][step]]
    if pair.size == 0:
        return PathTable((), 0, k)
    keys, visits = np.unique(pair, return_counts=True)
    owner_pairs = np.unique(np.stack([pair, owner], axis=1), axis=0)
    people = np.bincount(np.searchsorted(keys, owner_pairs[:, 0]), minlength=keys.size)
    order = np.argsort(-visits, kind="stable")
    rows = [
        PathRow((str(ids[keys[i] // n]), str(ids[keys[i] % n])), int(visits[i]), int(people[i]))
        for i in order
        if people[i] >= k
    ]
    return PathTable(tuple(rows), int(keys.size) - len(rows), k)


def paths(
    zones: Sequence[Zone],
    events: ZoneEventColumns,
    visits: VisitColumns,
    k: int = DEFAULT_K_ANONYMITY,
    consented_only: bool = False,
) -> Paths:
    ids = np.asarray([z.id for z in zones], dtype=np.str_)
    visits.check_visit_numbers(events.visit, "zone events")
    visit, zone = visit_sequences(events, visits.counted(consented_only))
    transitions = _transition_table(visit, zone, visits.visitor, ids, k)
    is_entrance = np.asarray([z.kind == "entrance" for z in zones], bool)
    is_checkout = np.asarray([z.kind == "checkout" for z in zones], bool)
    # Where each visit's run starts and ends (none at all when no visit entered a zone).
    cuts: list[int] = (
        np.flatnonzero(np.r_[True, visit[1:] != visit[:-1], True]).tolist() if visit.size else []
    )
    route_keys: list[tuple[str, ...]] = []
    route_owners: list[int] = []
    end_keys: list[tuple[str, ...]] = []
    end_owners: list[int] = []
    for a, b in pairwise(cuts):
        seq = zone[a:b]
        owner = int(visits.visitor[visit[a]])
        end_keys.append((str(ids[seq[-1]]),))
        end_owners.append(owner)
        entrances = np.flatnonzero(is_entrance[seq])
        if entrances.size:
            checkouts = np.flatnonzero(is_checkout[seq[entrances[0] :]])
            if checkouts.size:
                route = seq[entrances[0] : entrances[0] + checkouts[0] + 1]
                route_keys.append(tuple(str(ids[z]) for z in route))
                route_owners.append(owner)
    return Paths(transitions, _table(route_keys, route_owners, k), _table(end_keys, end_owners, k))
