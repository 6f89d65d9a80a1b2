"""Each campaign's figures and uplift from what the server stored, through ``triggers.measure``.

Exposed shoppers are those an offer of the campaign was issued to (app offers sent, signage shown
for them); the hold-out are those the server logged as "would have got it" (status ``held_out``).
A shopper converts when a basket of theirs holds the campaign's promoted SKU within ``window_ms``
after their first offer or hold-out entry. Offers and purchases become ``campaign_report``'s
inputs in ``server.analytics_campaigns`` (a redemption's order value: the basket it was redeemed
in); this module reads every campaign of the store, without a date range or suppression.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.analytics_campaigns import (
    ATTRIBUTION_WINDOW_MS,
    campaign_inputs,
    promoted_sku,
    read_baskets,
)
from server.schemas.commerce import CampaignUplift, UpliftInterval
from server.tables import Campaign, Offer
from triggers import campaign_report


def store_uplift(
    session: Session, store_id: int, window_ms: int = ATTRIBUTION_WINDOW_MS
) -> list[CampaignUplift]:
    """One report per campaign of the store that issued (or held out) at least one offer."""
    offers = session.scalars(
        select(Offer).where(Offer.store_id == store_id, Offer.campaign_id.is_not(None))
    ).all()
    inputs = campaign_inputs(offers, read_baskets(session, {o.customer_id for o in offers}))
    names = {
        int(campaign_id): str(name)
        for campaign_id, name in session.execute(
            select(Campaign.id, Campaign.name).where(Campaign.store_id == store_id)
        )
    }
    promoted = {o.campaign_id: promoted_sku(o) for o in offers}
    reports = []
    for campaign_id in sorted({int(o.campaign_id) for o in offers if o.campaign_id is not None}):
        report = campaign_report(str(campaign_id), *inputs, window_ms)
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
