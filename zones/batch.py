"""The detector's batch form: many shoppers' estimates at once, the same events as the loop.

1. Drop unusable rows, group rows by shopper (stable, so arrival order holds within a shopper) and
   drop late rows with a segmented running maximum of time.
2. Geometry in two vectorised calls: an STRtree ``dwithin`` query gives every (estimate, zone)
   pair near enough to hold a stay, ``contains_xy`` on the shrunk polygons marks the pairs deep
   enough to enter; a grid lookup over the view areas gives the facing candidates.
3. Per (shopper, zone) track, consecutive estimates with equal evidence form runs; Python walks
   runs, and inside a run finds the estimate that confirms an enter, fires a dwell milestone or
   ends the exit grace by bisection over the times. Facing runs are found with numpy alone.
4. Events are sorted by (arrival row, membership before facing, zone, enter before dwell), the
   order the loop emits them in.
5. With a store outline, one more vectorised ``dwithin`` finds the estimates outside the store;
   if a visit ends in the batch, the batch is cut after that estimate, the visit closed, and
   the rest processed as a new batch (visits end rarely, so this costs little).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from zones.batch_rows import Batch, IntArray, Rows, group_rows
from zones.events import ZoneEvent, ZoneEventKind
from zones.facing import bearings_to_nearest_deg, heading_gap_deg
from zones.state import Look, Presence, ShopperState

if TYPE_CHECKING:
    from zones.detector import ZoneEventDetector

_MEMBERSHIP, _FACING = 0, 1


class _EventLog:
    """Events with the sort key that reproduces the loop's order."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int, int, int]] = []
        self.events: list[ZoneEvent] = []

    def add(self, row: int, block: int, zone: int, seq: int, event: ZoneEvent) -> None:
        self.keys.append((row, block, zone, seq))
        self.events.append(event)

    def ordered(self) -> list[ZoneEvent]:
        order = sorted(range(len(self.events)), key=self.keys.__getitem__)
        return [self.events[i] for i in order]


@dataclass
class _Leaving:
    """Outside-the-store evidence of a batch and when each outside run began."""

    outside: NDArray[np.bool_]
    run_id: IntArray
    run_start_t: IntArray  # per run; a run continuing a pending leave starts at that time
    first_leave: int | None  # the position (earliest by arrival) whose estimate ends a visit

    def pending_after(self, position: int) -> int | None:
        """The pending leave time once the estimate at ``position`` has been processed."""
        return int(self.run_start_t[self.run_id[position]]) if self.outside[position] else None


def _leaving(detector: ZoneEventDetector, outline: BaseGeometry, batch: Batch) -> _Leaving:
    """Which estimates lie outside the store (beyond the exit distance) and who leaves first."""
    s = detector.settings
    radius = np.maximum(s.exit_margin_m, s.exit_accuracy_factor * batch.accuracy)
    # shapely broadcasts a per-point distance; its stubs only know a scalar one.
    points = shapely.points(batch.x, batch.y)
    outside = ~shapely.dwithin(outline, points, radius)  # type: ignore[call-overload]
    starts = np.r_[True, (batch.code[1:] != batch.code[:-1]) | (outside[1:] != outside[:-1])]
    run_id = np.cumsum(starts) - 1
    run_start_t = batch.t[starts].copy()
    present = np.flatnonzero(batch.hi > batch.lo)
    for c in present[outside[batch.lo[present]]].tolist():
        pending = batch.states[c].pending_leave_t_ms
        if pending is not None:
            run_start_t[run_id[batch.lo[c]]] = pending
    ripe = np.flatnonzero(outside & (batch.t - run_start_t[run_id] >= s.leave_grace_ms))
    first = int(ripe[np.argmin(batch.row[ripe])]) if ripe.size else None
    return _Leaving(outside, run_id, run_start_t, first)


def _process(
    detector: ZoneEventDetector, batch: Batch, leaving: _Leaving | None
) -> list[ZoneEvent]:
    log = _EventLog()
    _membership(detector, batch, log)
    _facing(detector, batch, log)
    # Kept times never fall below a shopper's last time, so each one's newest is its last row.
    present = np.flatnonzero(batch.hi > batch.lo)
    last = batch.hi[present] - 1
    for c, t_last, p in zip(present.tolist(), batch.t[last].tolist(), last.tolist(), strict=True):
        state = batch.states[c]
        state.last_t_ms = t_last
        state.in_visit = True
        if leaving is not None:
            state.pending_leave_t_ms = leaving.pending_after(p)
    return log.ordered()


def detect_batch(
    detector: ZoneEventDetector,
    shopper_ids: ArrayLike,
    t_ms: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    heading_deg: ArrayLike,
    accuracy_m: ArrayLike,
) -> list[ZoneEvent]:
    """See ``ZoneEventDetector.update_batch``.

    With a store outline, a visit that ends mid-batch splits the batch after the estimate that
    ended it: the shopper's later rows then start a new visit, as they would one at a time.
    """
    rows = Rows.of(shopper_ids, t_ms, x, y, heading_deg, accuracy_m)
    outline = detector.outline
    events: list[ZoneEvent] = []
    while len(rows):
        grouping = group_rows(detector, rows)
        if grouping is None:
            detector.unusable_estimates += len(rows)
            break
        if outline is None or grouping.batch.t.size == 0:
            events += _process(detector, grouping.commit(detector), None)
            break
        leaving = _leaving(detector, outline, grouping.batch)
        if leaving.first_leave is None:
            events += _process(detector, grouping.commit(detector), leaving)
            break
        # Process up to and including the leaving estimate, close that visit, go on after it.
        first = grouping.batch
        end = int(first.row[leaving.first_leave]) + 1
        leaver = first.names[int(first.code[leaving.first_leave])]
        head = group_rows(detector, rows.cut(0, end))
        assert head is not None  # the leaving estimate itself is usable
        batch = head.commit(detector)
        events += _process(detector, batch, _leaving(detector, outline, batch))
        state = detector.shoppers[leaver]
        assert state.pending_leave_t_ms is not None  # its leave ripened on this last row
        detector.shoppers[leaver] = ShopperState(state.last_t_ms, in_visit=False)
        events += detector.close_visit(leaver, state, state.pending_leave_t_ms, state.last_t_ms)
        rows = rows.cut(end, len(rows))
    return events


class _Track:
    """Replays one (shopper, zone) membership machine over runs of equal evidence."""

    def __init__(
        self, detector: ZoneEventDetector, batch: Batch, times: list[int], code: int, zone: int
    ) -> None:
        self.s = detector.settings
        self.zone_id = detector.prepared.zone_ids[zone]
        self.name = batch.names[code]
        self.state: ShopperState = batch.states[code]
        self.zone, self.times, self.rows = zone, times, batch.row

    def _emit(
        self, log: _EventLog, pos: int, seq: int, kind: ZoneEventKind, t: int, dwell_ms: int
    ) -> None:
        event = ZoneEvent(kind, self.name, self.zone_id, t, dwell_ms / 1000.0)
        log.add(int(self.rows[pos]), _MEMBERSHIP, self.zone, seq, event)

    def far(self, first: int, last: int, log: _EventLog) -> None:
        """Positions first..last are out evidence."""
        self.state.pending_enter.pop(self.zone, None)
        stay = self.state.inside.get(self.zone)
        if stay is None:
            return
        if stay.pending_exit_t_ms is None:
            stay.pending_exit_t_ms = self.times[first]
        pending = stay.pending_exit_t_ms
        q = bisect_left(self.times, pending + self.s.exit_grace_ms, first, last + 1)
        if q <= last:
            self._emit(log, q, 0, "exit", pending, pending - stay.enter_t_ms)
            del self.state.inside[self.zone]

    def near(self, first: int, last: int, entering: bool, log: _EventLog) -> None:
        """Positions first..last are near evidence (and in evidence when ``entering``)."""
        stay = self.state.inside.get(self.zone)
        if stay is None:
            if not entering:
                self.state.pending_enter.pop(self.zone, None)
                return
            first_in = self.state.pending_enter.get(self.zone, self.times[first])
            q = bisect_left(self.times, first_in + self.s.enter_confirm_ms, first, last + 1)
            if q > last:
                self.state.pending_enter[self.zone] = first_in
                return
            self.state.pending_enter.pop(self.zone, None)
            stay = self.state.inside[self.zone] = Presence(first_in)
            self._emit(log, q, 0, "enter", first_in, 0)
            first = q
        stay.pending_exit_t_ms = None
        while True:
            target = stay.enter_t_ms + self.s.milestone_ms(stay.next_milestone)
            q = bisect_left(self.times, target, first, last + 1)
            if q > last:
                return
            stay_ms = self.times[q] - stay.enter_t_ms
            stay.next_milestone = self.s.milestones_passed(stay_ms, stay.next_milestone)
            self._emit(log, q, 1, "dwell", self.times[q], stay_ms)
            first = q + 1


def _membership(detector: ZoneEventDetector, batch: Batch, log: _EventLog) -> None:
    s, p = detector.settings, detector.prepared
    n_zones = max(len(p.zones), 1)
    radius = np.maximum(s.exit_margin_m, s.exit_accuracy_factor * batch.accuracy)
    pos, zone = p.near.dwithin_pairs(batch.x, batch.y, radius)
    entering = (batch.accuracy[pos] <= p.enter_max_accuracy_m[zone]) & shapely.contains_xy(
        p.inner[zone], batch.x[pos], batch.y[pos]
    )
    key = batch.code[pos] * n_zones + zone
    watched = set(key[entering].tolist())
    for c, state in enumerate(batch.states):
        if state.inside or state.pending_enter:
            watched.update(c * n_zones + j for j in (*state.inside, *state.pending_enter))
    if not watched:
        return
    watched_keys = np.fromiter(sorted(watched), dtype=np.int64)
    # Membership in the sorted keys by bisection: np.isin sorts both arrays again.
    at = np.minimum(np.searchsorted(watched_keys, key), watched_keys.size - 1)
    mask = watched_keys[at] == key
    pos, key, entering = pos[mask], key[mask], entering[mask]
    order = np.lexsort((pos, key))
    pos, key, entering = pos[order], key[order], entering[order]
    # A run starts where the track, the evidence or the contiguity of positions changes.
    starts = np.flatnonzero(
        np.r_[
            pos.size > 0,
            (key[1:] != key[:-1]) | (pos[1:] != pos[:-1] + 1) | (entering[1:] != entering[:-1]),
        ]
    )
    ends = np.append(starts[1:], pos.size)[: starts.size] - 1
    run_key, run_first, run_last = key[starts], pos[starts], pos[ends]
    run_entering = entering[starts]
    track_cut = np.searchsorted(run_key, watched_keys)
    track_end = np.searchsorted(run_key, watched_keys, side="right")
    # Python lists for the walk: indexing a numpy array per run costs a scalar object each time.
    times, lo, hi = batch.t.tolist(), batch.lo.tolist(), batch.hi.tolist()
    firsts, lasts, evidence = run_first.tolist(), run_last.tolist(), run_entering.tolist()
    for k, r0, r1 in zip(
        watched_keys.tolist(), track_cut.tolist(), track_end.tolist(), strict=True
    ):
        c, j = divmod(k, n_zones)
        cursor, end = lo[c], hi[c]
        if r1 - r0 == 1 and firsts[r0] == cursor and lasts[r0] == end - 1:
            # One near run over all of the shopper's estimates while inside, not on the way out
            # and short of the next dwell milestone: ``near`` would change nothing (the usual
            # track: a shopper standing in a zone), so no track is built.
            stay = batch.states[c].inside.get(j)
            if (
                stay is not None
                and stay.pending_exit_t_ms is None
                and times[end - 1] < stay.enter_t_ms + s.milestone_ms(stay.next_milestone)
            ):
                continue
        track = _Track(detector, batch, times, c, j)
        for r in range(r0, r1):
            first, last = firsts[r], lasts[r]
            if first > cursor:
                track.far(cursor, first - 1, log)
            track.near(first, last, evidence[r], log)
            cursor = last + 1
        if cursor < end:
            track.far(cursor, end - 1, log)


def _facing(detector: ZoneEventDetector, batch: Batch, log: _EventLog) -> None:
    s, p = detector.settings, detector.prepared
    if len(p.view) == 0:
        return
    sighted = np.flatnonzero(np.isfinite(batch.heading))
    vpos, vidx = p.view.contains_pairs(batch.x[sighted], batch.y[sighted])
    pos = sighted[vpos]
    zone = p.view_zone[vidx]
    ok = batch.accuracy[pos] <= p.view_distance_m[zone]
    pos, zone = pos[ok], zone[ok]
    toward = p.facing_deg[zone].copy()
    nearest = np.isnan(toward)
    if nearest.any():
        polygons = np.asarray([z.polygon for z in p.zones], dtype=object)[zone[nearest]]
        toward[nearest] = bearings_to_nearest_deg(
            polygons, batch.x[pos[nearest]], batch.y[pos[nearest]]
        )
    looking = heading_gap_deg(batch.heading[pos], toward) <= s.facing_half_angle_deg
    pos, zone = pos[looking], zone[looking]
    if pos.size == 0:
        return
    n_zones = len(p.zones)
    key = batch.code[pos] * n_zones + zone
    order = np.lexsort((pos, key))
    pos, zone, key = pos[order], zone[order], key[order]
    t = batch.t[pos]
    new_track = np.r_[True, key[1:] != key[:-1]]
    gap_break = np.r_[True, (t[1:] - t[:-1]) > s.facing_grace_ms]
    # Looks carried over from earlier estimates continue into the track's first run when recent.
    track_first = np.flatnonzero(new_track)
    carried_start = np.full(pos.size, -1, dtype=np.int64)
    carried_fired = np.zeros(pos.size, dtype=bool)
    continues = np.zeros(pos.size, dtype=bool)
    for i in track_first.tolist():
        look = batch.states[int(batch.code[pos[i]])].looks.get(int(zone[i]))
        if look is not None and int(t[i]) - look.last_t_ms <= s.facing_grace_ms:
            continues[i], carried_start[i], carried_fired[i] = True, look.start_t_ms, look.fired
    run_id = np.cumsum(new_track | gap_break) - 1
    first_of_run = np.flatnonzero(new_track | gap_break)
    start_t = np.where(continues[first_of_run], carried_start[first_of_run], t[first_of_run])
    fired_before = carried_fired[first_of_run]
    ripe = t - start_t[run_id] >= s.facing_min_ms
    # Times rise within a run, so ripeness, once reached, holds: fire at its first estimate.
    first_ripe = ripe & np.r_[True, ~ripe[:-1] | (run_id[1:] != run_id[:-1])]
    fire = first_ripe & ~fired_before[run_id]
    for i in np.flatnonzero(fire).tolist():
        name = batch.names[int(batch.code[pos[i]])]
        dwell_s = (int(t[i]) - int(start_t[run_id[i]])) / 1000.0
        event = ZoneEvent("facing", name, p.zone_ids[int(zone[i])], int(t[i]), dwell_s)
        log.add(int(batch.row[pos[i]]), _FACING, int(zone[i]), 0, event)
    # Write back each track's last run.
    last_of_track = np.r_[track_first[1:], pos.size] - 1
    run_fired = np.zeros(len(first_of_run), dtype=bool)
    np.logical_or.at(run_fired, run_id, ripe)
    for i in last_of_track.tolist():
        r = int(run_id[i])
        looks = batch.states[int(batch.code[pos[i]])].looks
        looks[int(zone[i])] = Look(
            int(start_t[r]), int(t[i]), bool(fired_before[r] or run_fired[r])
        )
