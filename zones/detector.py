"""Debounced enter, exit, dwell, facing and visit_end events from a stream of estimates.

Per (shopper, zone) the detector is a two-state machine with hysteresis in space and time:

- *in* evidence: the estimate lies ``enter_margin_m`` deep inside the polygon and its accuracy is
  at most ``enter_accuracy_ratio`` zone widths; *near*: within ``max(exit_margin_m,
  exit_accuracy_factor·accuracy_m)`` of the polygon; *out*: neither.
- outside → inside when in evidence lasts ``enter_confirm_ms`` (the enter is stamped with the
  first in estimate); inside → outside when out evidence starts and no near estimate comes back
  for ``exit_grace_ms`` (the exit is stamped with the first out estimate).
- while inside, near estimates fire each dwell milestone once.

Facing fires when a shopper stands in a zone's view area looking toward it long enough. A visit
ends (exits, then ``visit_end``) when the shopper leaves the store outline, on ``end_visit`` or on
``expire``. Estimates older than the shopper's last one are ignored (counted in
``late_estimates``), so a late or out-of-order estimate can never reopen a closed stay.

Both forms — ``update`` one estimate at a time and ``update_batch`` over arrays — produce the same
events in the same order; the batch form does the geometry in vectorised shapely calls and walks
runs of equal evidence, not single estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Polygon

from positioning.estimate import Estimate
from zones.batch import detect_batch
from zones.events import ZoneEvent
from zones.facing import bearings_to_nearest_deg, heading_gap_deg
from zones.model import Floor, Zone, ZoneError, standing_zones
from zones.prepared import PreparedZones
from zones.settings import ZoneSettings
from zones.state import Look, Presence, ShopperState


def _finite(value: object) -> bool:
    return isinstance(value, Real) and math.isfinite(value)


def usable(estimate: Estimate, settings: ZoneSettings) -> bool:
    """Whether an estimate carries a position the detector can use (finite numbers, accurate
    enough); anything else, even a non-number from a faulty tracker, is skipped, not a crash."""
    return (
        _finite(estimate.t_ms)
        and _finite(estimate.x)
        and _finite(estimate.y)
        and _finite(estimate.accuracy_m)
        and 0.0 <= estimate.accuracy_m <= settings.max_accuracy_m
    )


class ZoneEventDetector:
    """Turns each shopper's estimates into well-formed zone events.

    >>> zone = Zone.from_coords("dairy", "Dairy", "shelf", [[0, 0], [4, 0], [4, 3], [0, 3]])
    >>> detector = ZoneEventDetector([zone])
    >>> [e.kind for t in range(0, 3000, 1000)
    ...  for e in detector.update("ann", Estimate(t, 2.0, 1.5, 90.0, 1.0))]
    ['enter']
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        settings: ZoneSettings | None = None,
        outline: Polygon | MultiPolygon | None = None,
    ) -> None:
        """``outline``: the store's floor outline; given, leaving it ends the visit by itself.

        Obstacle zones are left out: nobody stands in a shelf unit, so they never have events."""
        self.settings = settings or ZoneSettings()
        self.prepared = PreparedZones(standing_zones(zones), self.settings)
        self.outline = outline
        if outline is not None:
            shapely.prepare(outline)
        self.shoppers: dict[str, ShopperState] = {}
        self.late_estimates = 0
        self.unusable_estimates = 0

    @classmethod
    def for_floor(cls, floor: Floor, settings: ZoneSettings | None = None) -> ZoneEventDetector:
        """A detector for a floor's zones that also ends visits when shoppers leave its outline."""
        return cls(floor.zones, settings, floor.outline)

    @property
    def zones(self) -> tuple[Zone, ...]:
        return self.prepared.zones

    def zone(self, zone_id: str) -> Zone:
        """The zone an event names (its kind and categories are what trigger rules read)."""
        j = self.prepared.index_of.get(zone_id)
        if j is None:
            raise ZoneError(f"zone {zone_id!r}: not watched by this detector")
        return self.prepared.zones[j]

    # ---- one estimate at a time -------------------------------------------------------------

    def update(self, shopper_id: str, estimate: Estimate) -> list[ZoneEvent]:
        """Events caused by one estimate of one shopper (estimates in arrival order)."""
        if not usable(estimate, self.settings):
            self.unusable_estimates += 1
            return []
        t = int(estimate.t_ms)
        state = self.shoppers.get(shopper_id)
        if state is None:
            state = self.shoppers[shopper_id] = ShopperState(last_t_ms=t)
        elif t < state.last_t_ms:
            self.late_estimates += 1
            return []
        state.last_t_ms = t
        state.in_visit = True
        point = shapely.Point(estimate.x, estimate.y)
        events = self._membership(shopper_id, state, estimate, point)
        events += self._facing(shopper_id, state, estimate, point)
        if self.outline is not None:
            events += self._leaving(shopper_id, state, estimate, point)
        return events

    def _leaving(
        self, shopper_id: str, state: ShopperState, estimate: Estimate, point: shapely.Point
    ) -> list[ZoneEvent]:
        s, t = self.settings, int(estimate.t_ms)
        radius = max(s.exit_margin_m, s.exit_accuracy_factor * estimate.accuracy_m)
        if shapely.dwithin(self.outline, point, radius):
            state.pending_leave_t_ms = None
            return []
        if state.pending_leave_t_ms is None:
            state.pending_leave_t_ms = t
        if t - state.pending_leave_t_ms < s.leave_grace_ms:
            return []
        self.shoppers[shopper_id] = ShopperState(state.last_t_ms, in_visit=False)
        return self.close_visit(shopper_id, state, state.pending_leave_t_ms, t)

    def _membership(
        self, shopper_id: str, state: ShopperState, estimate: Estimate, point: shapely.Point
    ) -> list[ZoneEvent]:
        s, p = self.settings, self.prepared
        radius = max(s.exit_margin_m, s.exit_accuracy_factor * estimate.accuracy_m)
        near = set(p.near.tree.query(point, predicate="dwithin", distance=radius).tolist())
        t = int(estimate.t_ms)
        events: list[ZoneEvent] = []
        for j in sorted(near | state.inside.keys() | state.pending_enter.keys()):
            zone_id = p.zone_ids[j]
            stay = state.inside.get(j)
            if stay is None:
                entering = (
                    j in near
                    and estimate.accuracy_m <= p.enter_max_accuracy_m[j]
                    and bool(p.inner[j].contains(point))
                )
                if not entering:
                    state.pending_enter.pop(j, None)
                    continue
                first_in = state.pending_enter.setdefault(j, t)
                if t - first_in < s.enter_confirm_ms:
                    continue
                del state.pending_enter[j]
                stay = state.inside[j] = Presence(first_in)
                events.append(ZoneEvent("enter", shopper_id, zone_id, first_in, 0.0))
            if j in near:
                stay.pending_exit_t_ms = None
                if t - stay.enter_t_ms >= s.milestone_ms(stay.next_milestone):
                    stay.next_milestone = s.milestones_passed(
                        t - stay.enter_t_ms, stay.next_milestone
                    )
                    events.append(
                        ZoneEvent("dwell", shopper_id, zone_id, t, (t - stay.enter_t_ms) / 1000.0)
                    )
                continue
            if stay.pending_exit_t_ms is None:
                stay.pending_exit_t_ms = t
            if t - stay.pending_exit_t_ms >= s.exit_grace_ms:
                events.append(self._exit_event(shopper_id, zone_id, stay, stay.pending_exit_t_ms))
                del state.inside[j]
        return events

    def _facing(
        self, shopper_id: str, state: ShopperState, estimate: Estimate, point: shapely.Point
    ) -> list[ZoneEvent]:
        p, s = self.prepared, self.settings
        if not _finite(estimate.heading_deg) or len(p.view) == 0:
            return []
        t = int(estimate.t_ms)
        events = []
        for view_index in sorted(p.view.tree.query(point, predicate="within").tolist()):
            j = int(p.view_zone[view_index])
            if estimate.accuracy_m > p.view_distance_m[j]:
                continue  # cannot tell which side of the shelf they stand on
            toward = p.facing_deg[j]
            if math.isnan(toward):
                xy = np.array([estimate.x])
                toward = float(
                    bearings_to_nearest_deg(p.zones[j].polygon, xy, np.array([estimate.y]))[0]
                )
            gap = float(heading_gap_deg(np.array([estimate.heading_deg]), np.array([toward]))[0])
            if gap > s.facing_half_angle_deg:
                continue
            look = state.looks.get(j)
            if look is None or t - look.last_t_ms > s.facing_grace_ms:
                look = state.looks[j] = Look(t, t)
            look.last_t_ms = t
            if not look.fired and t - look.start_t_ms >= s.facing_min_ms:
                look.fired = True
                events.append(
                    ZoneEvent(
                        "facing", shopper_id, p.zone_ids[j], t, (t - look.start_t_ms) / 1000.0
                    )
                )
        return events

    @staticmethod
    def _exit_event(shopper_id: str, zone_id: str, stay: Presence, t_ms: int) -> ZoneEvent:
        return ZoneEvent("exit", shopper_id, zone_id, t_ms, (t_ms - stay.enter_t_ms) / 1000.0)

    # ---- ends of visits ---------------------------------------------------------------------

    def end_visit(self, shopper_id: str, t_ms: int) -> list[ZoneEvent]:
        """Close every open stay (exits, in zone order) then ``visit_end``.

        A stay already on its way out is closed at its first out estimate. Unknown shoppers get
        just ``visit_end``; a visit that already ended (the shopper left the store) gets nothing.
        The shopper's last time is kept, so estimates older than the end cannot reopen the visit.
        """
        state = self.shoppers.get(shopper_id)
        if state is None:
            return [ZoneEvent("visit_end", shopper_id, None, int(t_ms), 0.0)]
        if not state.in_visit:
            return []
        end_t = max(int(t_ms), state.last_t_ms)
        self.shoppers[shopper_id] = ShopperState(end_t, in_visit=False)
        return self.close_visit(shopper_id, state, end_t, end_t)

    def close_visit(
        self, shopper_id: str, state: ShopperState, left_t_ms: int, now_t_ms: int
    ) -> list[ZoneEvent]:
        """Exits of every open stay (in zone order), then ``visit_end``.

        A stay on its way out exits at its first out estimate, any other at ``now_t_ms`` (it was
        near the zone until now); ``visit_end`` is stamped ``left_t_ms``, or the last exit if later.
        """
        events = []
        end_t = left_t_ms
        for j in sorted(state.inside):
            stay = state.inside[j]
            exit_t = stay.pending_exit_t_ms if stay.pending_exit_t_ms is not None else now_t_ms
            end_t = max(end_t, exit_t)
            events.append(self._exit_event(shopper_id, self.prepared.zone_ids[j], stay, exit_t))
        events.append(ZoneEvent("visit_end", shopper_id, None, end_t, 0.0))
        return events

    def expire(self, now_ms: int) -> list[ZoneEvent]:
        """End visits silent for ``visit_timeout_ms`` (``now_ms`` is the server's clock) and
        forget those shoppers, including ones whose visit had already ended."""
        quiet = sorted(
            shopper_id
            for shopper_id, state in self.shoppers.items()
            if now_ms - state.last_t_ms >= self.settings.visit_timeout_ms
        )
        events = []
        for shopper_id in quiet:
            events += self.end_visit(shopper_id, self.shoppers[shopper_id].last_t_ms)
            del self.shoppers[shopper_id]
        return events

    # ---- many shoppers at once --------------------------------------------------------------

    def update_batch(
        self,
        shopper_ids: ArrayLike,
        t_ms: ArrayLike,
        x: ArrayLike,
        y: ArrayLike,
        heading_deg: ArrayLike,
        accuracy_m: ArrayLike,
    ) -> list[ZoneEvent]:
        """The events of many estimates (rows in arrival order, any mix of shoppers).

        Equal, event for event, to calling ``update`` on each row in turn.
        """
        return detect_batch(self, shopper_ids, t_ms, x, y, heading_deg, accuracy_m)
