""" "Who would get this now": the customers a campaign's audience selects at the server's time.

The audience is triggers' own rule (``Campaign.from_dict`` → ``AudienceRule.matches``) against each
customer's purchase history, and the consents are the ones ``triggers.decide`` checks before it
reads anyone's data: a personalised campaign (an audience or a recommendation) needs
``personalised_offers``, a signage-only campaign needs ``signage``. Customers are the retailer's
loyalty data (they carry no store); "in the store now" counts those of them with an open visit to
this store seen within the visit resume window (a visit's last sighting is written at its hello and
at each disconnect, so a shopper connected for longer than the window is not counted).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.pipeline import ProfileRecord, PurchaseRecord
from server.tables import Customer, Product, Purchase, Visit
from server.trigger_decisions import shopper_profile
from server.visit_log import VISIT_RESUME_WINDOW_MS
from triggers import Campaign


@dataclass(frozen=True, slots=True)
class PreviewCount:
    count: int  # customers the audience selects now, with the consents the campaign needs
    in_store: int  # of those, how many are in this store now
    customers: int  # customers on file, before audience and consent
    needs_consent: tuple[str, ...]  # the consents a customer must have given to be counted


def required_consents(campaign: Campaign) -> frozenset[str]:
    """The consents ``triggers.decide`` requires of a shopper for this campaign."""
    needs = set()
    if campaign.personalised:
        needs.add("personalised_offers")
    if campaign.channel == "signage":
        needs.add("signage")
    return frozenset(needs)


def _consents(stored: str) -> frozenset[str]:
    return frozenset(c for c in stored.split(";") if c)


def _purchases_by_customer(
    session: Session, customer_ids: set[str]
) -> dict[str, list[PurchaseRecord]]:
    rows = session.execute(
        select(Purchase, Product.category).join(Product, Product.sku == Purchase.sku, isouter=True)
    ).all()
    by_customer: dict[str, list[PurchaseRecord]] = defaultdict(list)
    for p, category in rows:
        if p.customer_id in customer_ids:
            by_customer[p.customer_id].append(
                PurchaseRecord(
                    p.customer_id, p.sku, p.quantity, p.price, p.t_ms, p.basket_id, category or ""
                )
            )
    return by_customer


def _in_store(session: Session, store_id: int, now_ms: int) -> set[str]:
    """Customers with an open visit to this store, last seen within the resume window."""
    return set(
        session.scalars(
            select(Visit.customer_id).where(
                Visit.store_id == store_id,
                Visit.ended_ms.is_(None),
                Visit.last_seen_ms >= now_ms - VISIT_RESUME_WINDOW_MS,
            )
        )
    )


def preview_count(
    session: Session, store_id: int, document: dict[str, Any], now_ms: int
) -> PreviewCount:
    """Count the customers ``document`` (a validated campaign document) would reach now."""
    campaign = Campaign.from_dict({"id": "preview", **document})
    needs = required_consents(campaign)
    customers = session.scalars(select(Customer)).all()
    consenting = [c for c in customers if needs <= _consents(c.consents)]
    if campaign.audience is None:
        selected = {c.id for c in consenting}
    else:
        audience = campaign.audience
        purchases = _purchases_by_customer(session, {c.id for c in consenting})
        selected = {
            c.id
            for c in consenting
            if audience.matches(
                shopper_profile(
                    ProfileRecord(
                        c.id,
                        c.gender,
                        c.age,
                        c.tier,
                        _consents(c.consents),
                        tuple(purchases.get(c.id, ())),
                    )
                ),
                now_ms,
            )
        }
    return PreviewCount(
        count=len(selected),
        in_store=len(selected & _in_store(session, store_id, now_ms)),
        customers=len(customers),
        needs_consent=tuple(sorted(needs)),
    )
