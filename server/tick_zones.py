"""A runner call's zone events: one detector call per store and round, not one per estimate.

The estimates of a call are dealt into rounds holding at most one estimate per shopper, each
shopper's in their order (calls by job, then by time within the job): almost always a single
round. A round goes to the store detector's ``update_many`` (``zones``' batch form, equal to its
per-estimate loop), and since a shopper has one estimate a round, each event belongs to the
estimate of the shopper it names. A detector without ``update_many`` (a test's fake) is called
per estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from positioning import Estimate
from server.pipeline import ShopperPipeline, ZoneEventSource, detector_lock
from zones import ZoneEvent

# (job, estimate) positions of one call
Slot = tuple[int, int]


def tick_zone_events(
    pipelines: Sequence[ShopperPipeline], estimates: Sequence[Sequence[Estimate]]
) -> list[list[list[ZoneEvent]] | Exception]:
    """Per job, the events of each of its estimates, or the error that failed its store's call."""
    out: list[list[list[ZoneEvent]] | Exception] = [[[] for _ in e] for e in estimates]
    stores: dict[int, list[int]] = {}
    for i, pipeline in enumerate(pipelines):
        if pipeline.detector is not None and estimates[i]:
            stores.setdefault(id(pipeline.detector), []).append(i)
    for members in stores.values():
        first = pipelines[members[0]]
        assert first.detector is not None
        try:
            with detector_lock(first.shopper.store_id):
                found = _store_events(first.detector, pipelines, estimates, members)
        except Exception as error:
            for i in members:
                out[i] = error
            continue
        for i in members:
            out[i] = found[i]
    return out


def _store_events(
    detector: ZoneEventSource,
    pipelines: Sequence[ShopperPipeline],
    estimates: Sequence[Sequence[Estimate]],
    members: Sequence[int],
) -> dict[int, list[list[ZoneEvent]]]:
    found: dict[int, list[list[ZoneEvent]]] = {i: [[] for _ in estimates[i]] for i in members}
    update_many = getattr(detector, "update_many", None)
    shopper_ids = [pipelines[i].shopper.customer_id for i in members]
    if update_many is not None and _one_round(shopper_ids, estimates, members):
        # The usual tick (each shopper one batch, one estimate): no rounds to deal.
        owner = dict(zip(shopper_ids, (found[i][0] for i in members), strict=True))
        for event in update_many(shopper_ids, [estimates[i][0] for i in members]):
            owner[event.shopper_id].append(event)
        return found
    for round_ in rounds(shopper_ids, [len(estimates[i]) for i in members]):
        slots = [(members[j], k) for j, k in round_]
        ids = [pipelines[i].shopper.customer_id for i, _ in slots]
        rows = [estimates[i][k] for i, k in slots]
        if update_many is None:
            for (i, k), shopper_id, row in zip(slots, ids, rows, strict=True):
                found[i][k] = detector.update(shopper_id, row)
            continue
        owner = {shopper_id: found[i][k] for (i, k), shopper_id in zip(slots, ids, strict=True)}
        for event in update_many(ids, rows):
            owner[event.shopper_id].append(event)
    return found


def _one_round(
    shopper_ids: Sequence[str], estimates: Sequence[Sequence[Estimate]], members: Sequence[int]
) -> bool:
    """Whether every member job has one estimate and no shopper has two jobs."""
    return all(len(estimates[i]) == 1 for i in members) and len(set(shopper_ids)) == len(members)


def rounds(shopper_ids: Sequence[str], counts: Sequence[int]) -> list[list[Slot]]:
    """Jobs' estimates (``counts[j]`` of job j, for shopper ``shopper_ids[j]``) as rounds of
    (job, estimate) with each shopper at most once a round and in their own order.

    >>> rounds(["ann", "bob", "ann"], [1, 2, 1])
    [[(0, 0), (1, 0)], [(2, 0), (1, 1)]]
    """
    queues: dict[str, list[Slot]] = {}
    for j, (shopper_id, n) in enumerate(zip(shopper_ids, counts, strict=True)):
        queues.setdefault(shopper_id, []).extend((j, k) for k in range(n))
    depth = max((len(q) for q in queues.values()), default=0)
    return [[q[r] for q in queues.values() if r < len(q)] for r in range(depth)]
