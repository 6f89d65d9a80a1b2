"""Offers in the database: issue with a per-shopper sequence number, deliver, ack, replay.

The database is the record and the source of sequence numbers: ``customers.offer_seq`` is
incremented in the same transaction that inserts the offer (``UPDATE … RETURNING``, a row lock on
PostgreSQL and the write lock on SQLite), so two processes can never hand out the same number and a
crash cannot leave a number without its offer. An offer is committed before anyone is told about it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.tables import Customer, Offer, Screen

if TYPE_CHECKING:
    from server.pipeline import DecisionResult, Occasion, Shopper

log = logging.getLogger(__name__)

# Status only moves forward along this order. "held_out" (the control group of a campaign) is
# outside it: such offers are recorded for uplift measurement, never sent and never advanced.
STATUS_ORDER = ("issued", "delivered", "acked", "opened", "redeemed")
# An app offer not acknowledged within a day is stale: it is not replayed after that.
REPLAY_WINDOW_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class IssuedOffer:
    """A committed offer, as the handler publishes it (``customer_id`` never goes to a screen)."""

    id: str
    seq: int
    customer_id: str
    store_id: int
    channel: str
    campaign_id: int | None
    screen_id: str | None
    zone_id: str | None
    content: dict[str, Any]
    issued_ms: int
    until_ms: int | None  # signage: when the screen returns to its playlist


def app_offer_frame(offer: Offer | IssuedOffer) -> dict[str, Any]:
    """The ``offer`` frame an app receives (docs/protocol.md)."""
    return {
        "type": "offer",
        "id": offer.id,
        "seq": offer.seq,
        "campaign_id": offer.campaign_id,
        "zone_id": offer.zone_id,
        "content": offer.content,
        "issued_ms": offer.issued_ms,
    }


def load_cap_ledger(session: Session, customer_id: str) -> dict[str, Any]:
    ledger = session.scalar(select(Customer.cap_ledger).where(Customer.id == customer_id))
    return dict(ledger or {})


def next_offer_seq(session: Session, customer_id: str) -> int:
    seq = session.scalar(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(offer_seq=Customer.offer_seq + 1)
        .returning(Customer.offer_seq)
    )
    if seq is None:
        raise LookupError(f"no customer {customer_id!r}")
    return int(seq)


def issue_offers(
    session: Session,
    shopper: Shopper,
    occasion: Occasion,
    result: DecisionResult,
    now_ms: int,
) -> list[IssuedOffer]:
    """Insert the decision's offers and save its cap ledger, inside the caller's transaction."""
    session.execute(
        update(Customer)
        .where(Customer.id == shopper.customer_id)
        .values(cap_ledger=result.cap_ledger)
    )
    issued: list[IssuedOffer] = []
    for draft in result.offers:
        screen_id = draft.screen_id or occasion.screen_id
        if draft.channel == "signage" and screen_id is None:
            log.warning("dropped a signage offer of campaign %s: no screen", draft.campaign_id)
            continue
        until_ms = now_ms + round(draft.display_s * 1000) if draft.channel == "signage" else None
        offer = Offer(
            id=str(uuid.uuid4()),
            customer_id=shopper.customer_id,
            seq=next_offer_seq(session, shopper.customer_id),
            store_id=shopper.store_id,
            visit_id=shopper.visit_id,
            campaign_id=draft.campaign_id,
            channel=draft.channel,
            screen_id=screen_id if draft.channel == "signage" else None,
            zone_id=occasion.zone_id,
            occasion=occasion.kind,
            content=draft.content,
            explanation=draft.explanation[:2000],
            status="held_out" if draft.held_out else "issued",
            issued_ms=now_ms,
        )
        session.add(offer)
        if draft.held_out:
            continue
        if offer.channel == "signage" and screen_id is not None:
            session.execute(
                update(Screen)
                .where(Screen.store_id == shopper.store_id, Screen.id == screen_id)
                .values(
                    current={"play_id": offer.id, "content": offer.content, "until_ms": until_ms}
                )
            )
        issued.append(
            IssuedOffer(
                offer.id,
                offer.seq,
                offer.customer_id,
                offer.store_id,
                offer.channel,
                offer.campaign_id,
                offer.screen_id,
                offer.zone_id,
                offer.content,
                now_ms,
                until_ms,
            )
        )
    return issued


def pending_app_offers(
    session: Session, customer_id: str, after_seq: int, now_ms: int
) -> list[Offer]:
    """App offers not yet acknowledged, above ``after_seq``, in sequence order (for replay)."""
    return list(
        session.scalars(
            select(Offer)
            .where(
                Offer.customer_id == customer_id,
                Offer.channel == "app",
                Offer.seq > after_seq,
                Offer.status.in_(("issued", "delivered")),
                Offer.issued_ms >= now_ms - REPLAY_WINDOW_MS,
            )
            .order_by(Offer.seq)
        ).all()
    )


def advance_status(
    session: Session, customer_id: str, offer_id: str, status: str, now_ms: int
) -> bool:
    """Move one of the shopper's offers forward to ``status`` (never back). False if not theirs."""
    offer = session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.customer_id == customer_id)
    )
    if offer is None:
        return False
    _advance(offer, status, now_ms)
    return True


def ack_offer(session: Session, customer_id: str, seq: int, now_ms: int) -> bool:
    offer = session.scalar(select(Offer).where(Offer.customer_id == customer_id, Offer.seq == seq))
    if offer is None or offer.channel != "app":
        return False
    _advance(offer, "acked", now_ms)
    return True


def ack_through(session: Session, customer_id: str, last_seen_seq: int, now_ms: int) -> None:
    """A hello's ``last_seen_seq`` acknowledges every app offer up to it."""
    for offer in session.scalars(
        select(Offer).where(
            Offer.customer_id == customer_id,
            Offer.channel == "app",
            Offer.seq <= last_seen_seq,
            Offer.status.in_(("issued", "delivered")),
        )
    ):
        _advance(offer, "acked", now_ms)


def mark_delivered(session: Session, offer_ids: list[str], now_ms: int) -> None:
    if offer_ids:
        session.execute(
            update(Offer)
            .where(Offer.id.in_(offer_ids), Offer.status == "issued")
            .values(status="delivered", delivered_ms=now_ms)
        )


def _advance(offer: Offer, status: str, now_ms: int) -> None:
    """Set the timestamps of every step up to ``status`` that is still empty, then the status."""
    if offer.status == "held_out":
        return
    target = STATUS_ORDER.index(status)
    for step in STATUS_ORDER[1 : target + 1]:
        column = f"{step}_ms"
        if getattr(offer, column) is None:
            setattr(offer, column, now_ms)
    if STATUS_ORDER.index(offer.status) < target:
        offer.status = status
