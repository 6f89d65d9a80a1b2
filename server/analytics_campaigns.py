"""Campaign results per campaign and per zone, from the offers table (issue 9).

The maths is ``triggers.measure.campaign_report`` (uplift over the hold-out with Newcombe's
interval and its verdict sentence); this module only reads offers, their opens and redemptions,
and the shoppers' purchases. A purchase counts when the shopper bought the promoted product
within ``ATTRIBUTION_WINDOW_MS`` after their first offer (or hold-out ghost) of the campaign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.tables import Campaign, Offer, Product, Purchase
from triggers.measure import CampaignReport, IssuedOffer, Response, campaign_report
from triggers.profiles import Purchase as ShopperPurchase
from zones.analytics.grid import suppression_note

# A week: a weekly shopper's next basket after the offer (triggers.measure compares the rates
# of buying the promoted product in this window after the first offer).
ATTRIBUTION_WINDOW_MS = 7 * 86_400_000
# An order belongs to a redemption when the basket was paid within this long after it.
REDEMPTION_BASKET_MS = 3_600_000
_SENT = ("delivered", "acked", "opened", "redeemed")


@dataclass(frozen=True)
class CampaignRow:
    """One campaign (``zone_id`` None) or one campaign in one zone; figures None if suppressed."""

    campaign_id: int
    name: str
    zone_id: str | None
    shoppers: int
    exposed_app: int | None
    exposed_signage: int | None
    report: CampaignReport | None
    suppressed: bool

    @property
    def purchases(self) -> int | None:
        """Exposed shoppers who bought the promoted product within the window."""
        if self.report is None or self.report.uplift is None:
            return None
        return round(self.report.uplift.treated_rate * self.report.treated_shoppers)


@dataclass(frozen=True)
class CampaignTable:
    rows: tuple[CampaignRow, ...]
    k: int

    @property
    def n_suppressed(self) -> int:
        return sum(row.suppressed for row in self.rows)

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "rows")


def _issued(offer: Offer) -> IssuedOffer:
    promoted = offer.content.get("promoted_sku") if isinstance(offer.content, dict) else None
    return IssuedOffer(
        str(offer.campaign_id), offer.customer_id, offer.issued_ms,
        promoted if isinstance(promoted, str) else None, held_out=offer.status == "held_out",
    )  # fmt: skip


def _responses(
    offers: Sequence[Offer], baskets: dict[str, list[tuple[int, float]]]
) -> list[Response]:
    out = []
    for offer in offers:
        if offer.opened_ms is not None:
            out.append(Response(str(offer.campaign_id), offer.customer_id, "open", offer.opened_ms))
        if offer.redeemed_ms is not None:
            value = next(
                (total for t, total in baskets.get(offer.customer_id, ())
                 if offer.redeemed_ms <= t <= offer.redeemed_ms + REDEMPTION_BASKET_MS),
                0.0,
            )  # fmt: skip
            out.append(
                Response(str(offer.campaign_id), offer.customer_id, "redeem", offer.redeemed_ms,
                         value)
            )  # fmt: skip
    return out


def _row(
    campaign: Campaign,
    zone_id: str | None,
    offers: Sequence[Offer],
    purchases: Sequence[ShopperPurchase],
    baskets: dict[str, list[tuple[int, float]]],
    k: int,
) -> CampaignRow:
    shoppers = len({o.customer_id for o in offers})
    if shoppers < k:
        return CampaignRow(campaign.id, campaign.name, zone_id, shoppers, None, None, None, True)
    report = campaign_report(
        str(campaign.id), [_issued(o) for o in offers], _responses(offers, baskets), purchases,
        ATTRIBUTION_WINDOW_MS,
    )  # fmt: skip
    app = sum(o.channel == "app" and o.status in _SENT for o in offers)
    signage = sum(o.channel == "signage" and o.status != "held_out" for o in offers)
    return CampaignRow(campaign.id, campaign.name, zone_id, shoppers, app, signage, report, False)


def campaign_table(
    session: Session, store_id: int, from_ms: int, to_ms: int, k: int
) -> CampaignTable:
    """Per campaign with offers issued in the range, then per zone of each campaign."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.store_id == store_id, Offer.issued_ms >= from_ms, Offer.issued_ms < to_ms,
               Offer.campaign_id.is_not(None))
        .order_by(Offer.issued_ms)
    ).all()  # fmt: skip
    shoppers = list({o.customer_id for o in offers})
    lines = (
        session.execute(
            select(Purchase, Product.category)
            .join(Product, Product.sku == Purchase.sku, isouter=True)
            .where(Purchase.customer_id.in_(shoppers), Purchase.t_ms >= from_ms,
                   Purchase.t_ms < to_ms + ATTRIBUTION_WINDOW_MS)
            .order_by(Purchase.t_ms)
        ).all()
        if shoppers
        else []
    )  # fmt: skip
    purchases = [
        ShopperPurchase(p.customer_id, p.sku, int(p.quantity), p.price, p.t_ms, p.basket_id,
                        category or "")
        for p, category in lines
    ]  # fmt: skip
    totals: dict[tuple[str, str], list[float]] = {}
    for p, _ in lines:
        totals.setdefault((p.customer_id, p.basket_id), [float(p.t_ms), 0.0])[1] += (
            p.quantity * p.price
        )
    baskets: dict[str, list[tuple[int, float]]] = {}
    for (customer, _), (t, total) in totals.items():
        baskets.setdefault(customer, []).append((int(t), total))
    campaigns = {
        c.id: c for c in session.scalars(select(Campaign).where(Campaign.store_id == store_id))
    }
    rows = []
    for campaign_id in sorted({o.campaign_id for o in offers if o.campaign_id in campaigns}):
        mine = [o for o in offers if o.campaign_id == campaign_id]
        campaign = campaigns[campaign_id]
        rows.append(_row(campaign, None, mine, purchases, baskets, k))
        for zone_id in sorted({o.zone_id for o in mine if o.zone_id is not None}):
            in_zone = [o for o in mine if o.zone_id == zone_id]
            rows.append(_row(campaign, zone_id, in_zone, purchases, baskets, k))
    return CampaignTable(tuple(rows), k)
