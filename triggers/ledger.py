"""The cap ledger: which offers each shopper got, and each campaign's issued/redeemed totals.

Pure state. :func:`triggers.decide.decide` only reads it; the caller records a decision with
:meth:`CapLedger.record` (and redemptions with :meth:`CapLedger.record_redemption`) and persists
it with :meth:`to_dict`. A hold-out "would have got it" counts against the shopper's caps like
a real offer, so both arms of the A/B test see the same rhythm of offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from triggers.profiles import DAY_MS

if TYPE_CHECKING:  # decide imports the ledger; the ledger only needs the type
    from triggers.decide import Decision

# Entries older than this are dropped when a shopper gets a new one: caps look back one day and
# recommendation variety two weeks; a month leaves room for both.
HISTORY_DAYS = 30


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    t_ms: int
    campaign_id: str
    store_day: int  # the store-local date as an ordinal, for per-day caps
    visit_id: str | None = None
    channels: tuple[str, ...] = ()
    sku: str | None = None
    held_out: bool = False


@dataclass(frozen=True, slots=True)
class ShopperTally:
    """What the caps need to know about one shopper today, in one pass over the entries."""

    today: int
    this_visit: int
    last_t_ms: int | None
    per_campaign_today: dict[str, int]


class CapLedger:
    def __init__(self) -> None:
        self.by_shopper: dict[str, list[LedgerEntry]] = {}
        self.issued: dict[str, int] = {}
        self.redeemed: dict[str, int] = {}

    def entries(self, shopper_id: str) -> list[LedgerEntry]:
        return self.by_shopper.get(shopper_id, [])

    def tally(self, shopper_id: str, store_day: int, visit_id: str | None) -> ShopperTally:
        today = this_visit = 0
        last: int | None = None
        per_campaign: dict[str, int] = {}
        for e in self.by_shopper.get(shopper_id, ()):
            if last is None or e.t_ms > last:
                last = e.t_ms
            if e.store_day == store_day:
                today += 1
                per_campaign[e.campaign_id] = per_campaign.get(e.campaign_id, 0) + 1
            if visit_id is not None and e.visit_id == visit_id:
                this_visit += 1
        return ShopperTally(today, this_visit, last, per_campaign)

    def offered_skus_since(self, shopper_id: str, since_ms: int) -> dict[str, int]:
        """sku → last time it was offered (or held out) to the shopper since ``since_ms``."""
        skus: dict[str, int] = {}
        for e in self.by_shopper.get(shopper_id, ()):
            if e.sku is not None and e.t_ms >= since_ms:
                skus[e.sku] = max(e.t_ms, skus.get(e.sku, e.t_ms))
        return skus

    def add(self, shopper_id: str, entry: LedgerEntry) -> None:
        kept = [
            e
            for e in self.by_shopper.get(shopper_id, ())
            if e.t_ms >= entry.t_ms - HISTORY_DAYS * DAY_MS
        ]
        kept.append(entry)
        self.by_shopper[shopper_id] = kept
        if not entry.held_out:
            self.issued[entry.campaign_id] = self.issued.get(entry.campaign_id, 0) + 1

    def record(self, decision: Decision) -> None:
        """Record a :class:`triggers.decide.Decision` (its offer or its hold-out ghost)."""
        entry = decision.ledger_entry()
        if entry is not None:
            self.add(decision.occasion.shopper_id, entry)

    def record_redemption(self, campaign_id: str) -> None:
        self.redeemed[campaign_id] = self.redeemed.get(campaign_id, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_shopper": {
                s: [asdict(e) for e in entries] for s, entries in self.by_shopper.items()
            },
            "issued": dict(self.issued),
            "redeemed": dict(self.redeemed),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> CapLedger:
        ledger = cls()
        for shopper, entries in body.get("by_shopper", {}).items():
            ledger.by_shopper[shopper] = [
                LedgerEntry(**{**e, "channels": tuple(e.get("channels", ()))}) for e in entries
            ]
        ledger.issued = dict(body.get("issued", {}))
        ledger.redeemed = dict(body.get("redeemed", {}))
        return ledger
