"""Each campaign's figures and uplift from what the server stored, through ``triggers.measure``.

Exposed shoppers are those an offer of the campaign was issued to (app offers sent, signage shown
for them); the hold-out are those the server logged as "would have got it" (status ``held_out``).
A shopper converts when a basket of theirs (any store: loyalty data) holds the campaign's promoted
SKU within ``window_ms`` after their first offer or hold-out entry — offers' ``issued_ms`` and a
till's ``t_ms`` are both wall-clock times. A redemption's order value is the total of the
shopper's first basket after the offer within the window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.schemas.commerce import CampaignUplift, UpliftInterval
from server.tables import Campaign, Offer
from server.tables import Purchase as PurchaseRow
from triggers import IssuedOffer, Purchase, Response, campaign_report

DAY_MS = 86_400_000
# What a shop-floor offer can be credited with: a purchase within a week.
DEFAULT_WINDOW_MS = 7 * DAY_MS


def _promoted_sku(offer: Offer) -> str | None:
    sku = offer.content.get("promoted_sku")
    return sku if isinstance(sku, str) and sku else None


def _order_value(
    offer: Offer, baskets: dict[str, list[tuple[int, float]]], window_ms: int
) -> float:
    for t_ms, total in baskets.get(offer.customer_id, ()):
        if offer.issued_ms < t_ms <= offer.issued_ms + window_ms:
            return total
    return 0.0


def store_uplift(
    session: Session, store_id: int, window_ms: int = DEFAULT_WINDOW_MS
) -> list[CampaignUplift]:
    """One report per campaign of the store that issued (or held out) at least one offer."""
    offers = session.scalars(
        select(Offer).where(Offer.store_id == store_id, Offer.campaign_id.is_not(None))
    ).all()
    shoppers = {o.customer_id for o in offers}
    lines = session.scalars(
        select(PurchaseRow).where(PurchaseRow.customer_id.in_(shoppers)).order_by(PurchaseRow.t_ms)
    ).all()
    purchases = [Purchase(p.customer_id, p.sku, max(1, round(p.quantity)), p.price, p.t_ms,
                          p.basket_id) for p in lines]  # fmt: skip
    totals: dict[tuple[str, str, int], float] = defaultdict(float)
    for p in lines:
        totals[(p.customer_id, p.basket_id, p.t_ms)] += p.quantity * p.price
    baskets: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (customer_id, _basket, t_ms), total in totals.items():
        baskets[customer_id].append((t_ms, total))
    issued, responses = [], []
    for o in offers:
        campaign = str(o.campaign_id)
        issued.append(IssuedOffer(campaign, o.customer_id, o.issued_ms, _promoted_sku(o),
                                  held_out=o.status == "held_out"))  # fmt: skip
        if o.opened_ms is not None:
            responses.append(Response(campaign, o.customer_id, "open", o.opened_ms))
        if o.redeemed_ms is not None:
            value = _order_value(o, baskets, window_ms)
            responses.append(Response(campaign, o.customer_id, "redeem", o.redeemed_ms, value))
    names = {
        int(campaign_id): str(name)
        for campaign_id, name in session.execute(
            select(Campaign.id, Campaign.name).where(Campaign.store_id == store_id)
        )
    }
    promoted = {o.campaign_id: _promoted_sku(o) for o in offers}
    reports = []
    for campaign_id in sorted({int(o.campaign_id) for o in offers if o.campaign_id is not None}):
        report = campaign_report(str(campaign_id), issued, responses, purchases, window_ms)
        interval = None if report.uplift is None else UpliftInterval(**asdict(report.uplift))
        reports.append(CampaignUplift(
            campaign_id=campaign_id, name=names.get(campaign_id, ""),
            promoted_sku=promoted.get(campaign_id), delivered=report.delivered,
            opened=report.opened, redeemed=report.redeemed,
            conversion_rate=report.conversion_rate,
            average_order_value=report.average_order_value,
            treated_shoppers=report.treated_shoppers, holdout_shoppers=report.holdout_shoppers,
            uplift=interval, verdict=report.verdict, method=report.method,
        ))  # fmt: skip
    return reports
