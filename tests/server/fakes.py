"""Fakes injected through ``PipelineWiring`` (not patches): stand-ins for zones and triggers.

They are deliberately trivial and test-only, for tests of the server's mechanics (sequencing,
replay, Redis); the real detector and decision live in ``zones`` and ``triggers`` and are tested
end to end in ``test_real_cores.py``. Campaign documents are triggers documents (the server
validates them with triggers), of which ``decide_from_documents`` reads only: ``context.event``,
``context.zone_ids``, ``channel``, ``content`` and ``per_shopper_per_day`` (counted per shopper
for ever, not per day). Two fake-only conventions: ``holdout_share > 0`` holds out every shopper,
and a campaign whose name starts with "fail" makes the decision raise (to test containment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from positioning import Estimate
from server.pipeline import DecisionRequest, DecisionResult, OfferDraft, PipelineWiring
from server.realtime.frames import ReadingsBatch
from zones import ZoneEvent

# Both fakes are used from the pipeline's worker threads; they hold per-shopper state only.


def campaign_document(
    event: str,
    title: str,
    *,
    zone_id: str | None = None,
    channel: Literal["app", "signage"] = "app",
    cap: int = 1,
    holdout: bool = False,
) -> dict[str, Any]:
    """A triggers campaign document with the parts the fake decision reads."""
    context: dict[str, Any] = {"event": event}
    if zone_id is not None:
        context["zone_ids"] = [zone_id]
    return {
        "context": context,
        "channel": channel,
        "content": {"title": title},
        "per_shopper_per_day": cap,
        "holdout_share": 0.5 if holdout else 0.0,
    }


def decide_from_documents(request: DecisionRequest) -> DecisionResult:
    """Offer every matching campaign up to its per-shopper cap, counted in the cap ledger."""
    counts = dict(request.cap_ledger.get("counts", {}))
    drafts = []
    for campaign in request.campaigns:
        doc = campaign["document"]
        context = doc["context"]
        if context["event"] != request.occasion.kind:
            continue
        if context.get("zone_ids") and request.occasion.zone_id not in context["zone_ids"]:
            continue
        if str(campaign["name"]).startswith("fail"):
            raise RuntimeError("this fake decision fails on purpose")
        key = str(campaign["id"])
        if counts.get(key, 0) >= int(doc.get("per_shopper_per_day", 1)):
            continue
        counts[key] = counts.get(key, 0) + 1
        drafts.append(
            OfferDraft(
                channel=doc.get("channel", "app"),
                content=doc["content"],
                campaign_id=campaign["id"],
                explanation=f"fake: {request.occasion.kind} matched campaign {key}",
                held_out=float(doc.get("holdout_share", 0.0)) > 0.0,
            )
        )
    return DecisionResult(tuple(drafts), {"counts": counts})


@dataclass
class BoxZones:
    """Fake detector: a zone is an axis-aligned box; entering emits ``enter``, then facing its
    ``facing_deg`` (± 45°) while inside emits ``facing`` once per stay; leaving emits ``exit``."""

    boxes: dict[str, tuple[float, float, float, float, float]]  # x0, y0, x1, y1, facing_deg
    inside: dict[tuple[str, str], bool] = field(default_factory=dict)
    faced: dict[tuple[str, str], bool] = field(default_factory=dict)

    def update(self, shopper_id: str, estimate: Estimate) -> list[ZoneEvent]:
        events = []
        for zone_id, (x0, y0, x1, y1, facing) in self.boxes.items():
            key = (shopper_id, zone_id)
            now_inside = x0 <= estimate.x <= x1 and y0 <= estimate.y <= y1
            if now_inside and not self.inside.get(key):
                events.append(ZoneEvent("enter", shopper_id, zone_id, estimate.t_ms))
            if not now_inside and self.inside.get(key):
                events.append(ZoneEvent("exit", shopper_id, zone_id, estimate.t_ms))
                self.faced[key] = False
            off = abs((estimate.heading_deg - facing + 180.0) % 360.0 - 180.0)
            if now_inside and off <= 45.0 and not self.faced.get(key):
                events.append(ZoneEvent("facing", shopper_id, zone_id, estimate.t_ms))
                self.faced[key] = True
            self.inside[key] = now_inside
        return events

    def end_visit(self, shopper_id: str, t_ms: int) -> list[ZoneEvent]:
        events = [
            ZoneEvent("exit", shopper_id, zone_id, t_ms)
            for (shopper, zone_id), inside in self.inside.items()
            if shopper == shopper_id and inside
        ]
        return [*events, ZoneEvent("visit_end", shopper_id, None, t_ms)]


# The seeded store (harness.seed_store): a shelf at x 0–10 and a screen's zone at x 20–30, y 0–10.
SEEDED_BOXES = {
    "shelf-coffee": (0.0, 0.0, 10.0, 10.0, 90.0),
    "screen-front": (20.0, 0.0, 30.0, 10.0, 90.0),
}


def fake_wiring() -> PipelineWiring:
    detectors: dict[int, BoxZones] = {}

    def detector_for(store_id: int) -> BoxZones:
        return detectors.setdefault(store_id, BoxZones(dict(SEEDED_BOXES)))

    return PipelineWiring(decide=decide_from_documents, zone_detector_for=detector_for)


@dataclass
class StrongestBeacon:
    """Fake tracker: the shopper stands at the beacon heard loudest in the batch, facing north."""

    beacons: dict[str, tuple[float, float]]

    def push_batch(self, batch: ReadingsBatch) -> list[Estimate]:
        if batch.beacons is None:
            return []
        heard = list(zip(batch.beacons.rssi_dbm, batch.beacons.beacon_id, batch.beacons.t_ms,
                         strict=True))  # fmt: skip
        _rssi, beacon_id, t_ms = max(heard)
        if beacon_id not in self.beacons:
            return []
        x, y = self.beacons[beacon_id]
        return [Estimate(t_ms, x, y, 90.0, 3.0)]


def fake_wiring_with_tracker(beacons: dict[str, tuple[float, float]]) -> PipelineWiring:
    wiring = fake_wiring()
    return PipelineWiring(
        decide=wiring.decide,
        zone_detector_for=wiring.zone_detector_for,
        tracker_for=lambda _store_id, _customer_id: StrongestBeacon(beacons),
    )
